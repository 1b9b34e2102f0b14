//! Deliveries through the operator's forward proxy (`HERALD_OUTBOUND_PROXY`),
//! pinned to the address Herald checked: the proxy is never given a name to
//! resolve, so a name that resolved to a public address for Herald's check
//! cannot resolve to an internal one for the proxy (DNS rebinding).
//!
//! - `https://` destinations: `CONNECT <checked ip>:<port>` (hyper-util's
//!   `Tunnel`), then TLS inside the tunnel with the destination's *name* for
//!   SNI and the certificate check.
//! - `http://` destinations: the request in absolute form to the checked
//!   address, `POST http://<checked ip>:<port>/path`, with `Host: <name>`.
//!
//! reqwest cannot do either (it tunnels to, and asks for, the name), so this
//! path speaks HTTP/1.1 with hyper over one connection per delivery.

use super::http::{Response, MAX_RESPONSE_BODY};
use herald_app::model::delivery::ErrorKind;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{HeaderValue, HOST, PROXY_AUTHORIZATION};
use hyper::Uri;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;
use tower::ServiceExt as _;

/// How to reach the proxy, and the TLS settings used inside its tunnels.
#[derive(Clone)]
pub struct PinnedProxy {
    /// `http://host:port` of the proxy (credentials taken out).
    proxy: Uri,
    /// `Basic …` when the proxy URL carries credentials.
    auth: Option<HeaderValue>,
    connector: HttpConnector,
    tls: TlsConnector,
    timeout: Duration,
}

/// Why the proxy could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ProxySetupError {
    #[error("the proxy URL must be http://host:port (Herald talks to the proxy in plain HTTP)")]
    Scheme,
    #[error("the proxy URL is not usable: {0}")]
    Url(String),
    #[error("TLS settings: {0}")]
    Tls(String),
}

impl PinnedProxy {
    /// A proxy at `url` (`http://[user:pass@]host:port`); connections to it
    /// leave from `source_address` when given; each delivery takes at most
    /// `timeout`.
    pub fn new(
        url: &url::Url,
        source_address: Option<IpAddr>,
        timeout: Duration,
    ) -> Result<Self, ProxySetupError> {
        if url.scheme() != "http" {
            return Err(ProxySetupError::Scheme);
        }
        let host = url.host_str().ok_or(ProxySetupError::Scheme)?;
        let port = url.port_or_known_default().unwrap_or(80);
        let proxy: Uri = format!("http://{host}:{port}")
            .parse()
            .map_err(|e: hyper::http::uri::InvalidUri| ProxySetupError::Url(e.to_string()))?;
        let auth = proxy_authorization(url)?;
        let mut connector = HttpConnector::new();
        connector.set_local_address(source_address);
        connector.set_connect_timeout(Some(timeout.min(Duration::from_secs(10))));
        connector.set_nodelay(true);
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let tls = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ProxySetupError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(PinnedProxy {
            proxy,
            auth,
            connector,
            tls: TlsConnector::from(Arc::new(tls)),
            timeout,
        })
    }

    /// POSTs through the proxy to `url`, connecting to `address` (checked
    /// already) and never to what the URL's name resolves to; never fails.
    pub async fn post(
        &self,
        url: &url::Url,
        address: IpAddr,
        headers: &[(String, String)],
        body: Vec<u8>,
        started: Instant,
        timeout: Option<Duration>,
    ) -> Response {
        let timeout = timeout.unwrap_or(self.timeout);
        let sent = tokio::time::timeout(timeout, self.send(url, address, headers, body));
        let (kind, message) = match sent.await {
            Ok(Ok(response)) => return super::http::read_response(response, started).await,
            Ok(Err(failure)) => failure,
            Err(_) => (
                ErrorKind::Timeout,
                format!("no answer within {} ms", timeout.as_millis()),
            ),
        };
        Response {
            status: None,
            headers: Default::default(),
            body: None,
            error: Some((kind, message)),
            duration: started.elapsed(),
        }
    }

    async fn send(
        &self,
        url: &url::Url,
        address: IpAddr,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Result<reqwest::Response, (ErrorKind, String)> {
        let connect = |e: &dyn std::fmt::Display| (ErrorKind::Connect, format!("proxy: {e}"));
        let port = url.port_or_known_default().unwrap_or(443);
        let checked = SocketAddr::new(address, port);
        let host = url
            .host_str()
            .ok_or_else(|| connect(&"the URL has no host"))?;
        let host_header = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let path = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        let mut request = hyper::Request::post(&path).header(HOST, host_header);
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        if url.scheme() == "https" {
            let target: Uri = format!("https://{checked}")
                .parse()
                .map_err(|e| connect(&e))?;
            let mut tunnel = Tunnel::new(self.proxy.clone(), self.connector.clone());
            if let Some(auth) = &self.auth {
                tunnel = tunnel.with_auth(auth.clone());
            }
            let tunneled = tunnel.oneshot(target).await.map_err(|e| connect(&e))?;
            // The certificate is checked against the name the merchant gave,
            // whatever address the tunnel goes to.
            let name = ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']'))
                .map_err(|e| (ErrorKind::Tls, format!("server name {host}: {e}")))?
                .to_owned();
            let tls = self
                .tls
                .connect(name, tunneled.into_inner())
                .await
                .map_err(|e| (ErrorKind::Tls, format!("TLS: {e}")))?;
            let request = request
                .body(Full::new(Bytes::from(body)))
                .map_err(|e| connect(&e))?;
            exchange(TokioIo::new(tls), request).await
        } else {
            // Absolute form names the checked address; Host keeps the name.
            let request = request
                .uri(format!("http://{checked}{path}"))
                .body(Full::new(Bytes::from(body)));
            let mut request = request.map_err(|e| connect(&e))?;
            if let Some(auth) = &self.auth {
                request
                    .headers_mut()
                    .insert(PROXY_AUTHORIZATION, auth.clone());
            }
            let stream = self
                .connector
                .clone()
                .oneshot(self.proxy.clone())
                .await
                .map_err(|e| connect(&e))?;
            exchange(stream, request).await
        }
    }
}

/// One request and its answer over a fresh HTTP/1.1 connection; reads at
/// most `MAX_RESPONSE_BODY` of the body, like the direct path.
async fn exchange<T>(
    io: T,
    request: hyper::Request<Full<Bytes>>,
) -> Result<reqwest::Response, (ErrorKind, String)>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let failed = |e: hyper::Error| (ErrorKind::Connect, e.to_string());
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(failed)?;
    // Ends with the connection: when the answer is read, or dropped.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let response = sender.send_request(request).await.map_err(failed)?;
    let (parts, mut incoming) = response.into_parts();
    let mut body = Vec::new();
    while body.len() < MAX_RESPONSE_BODY {
        match incoming.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    body.extend_from_slice(&data);
                }
            }
            // A broken body still leaves the status and headers to record.
            Some(Err(_)) | None => break,
        }
    }
    Ok(reqwest::Response::from(hyper::Response::from_parts(
        parts, body,
    )))
}

/// `Proxy-Authorization: Basic …` from the proxy URL's credentials, if any.
fn proxy_authorization(url: &url::Url) -> Result<Option<HeaderValue>, ProxySetupError> {
    use base64::Engine as _;
    if url.username().is_empty() && url.password().is_none() {
        return Ok(None);
    }
    let decode = |part: &str| {
        percent_encoding::percent_decode_str(part)
            .decode_utf8()
            .map(|text| text.into_owned())
            .map_err(|_| ProxySetupError::Url("credentials are not UTF-8".into()))
    };
    let credentials = format!(
        "{}:{}",
        decode(url.username())?,
        decode(url.password().unwrap_or_default())?
    );
    let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
    let mut value = HeaderValue::from_str(&format!("Basic {encoded}"))
        .map_err(|e| ProxySetupError::Url(e.to_string()))?;
    value.set_sensitive(true);
    Ok(Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_credentials_become_a_basic_header() {
        let url = url::Url::parse("http://us%40er:p%3Ass@proxy.internal:3128").unwrap();
        let value = proxy_authorization(&url).unwrap().unwrap();
        // base64("us@er:p:ss")
        assert_eq!(value.to_str().unwrap(), "Basic dXNAZXI6cDpzcw==");
        assert!(value.is_sensitive());
        let bare = url::Url::parse("http://proxy.internal:3128").unwrap();
        assert!(proxy_authorization(&bare).unwrap().is_none());
    }

    #[test]
    fn only_plain_http_proxies_are_accepted() {
        let https = url::Url::parse("https://proxy.internal:3128").unwrap();
        assert!(matches!(
            PinnedProxy::new(&https, None, Duration::from_secs(1)),
            Err(ProxySetupError::Scheme)
        ));
    }
}
