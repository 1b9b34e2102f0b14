//! The one HTTP client deliveries go through: pooled, no redirects, bounded
//! in time, and guarded so it only ever connects to addresses the SSRF
//! policy allows — checked after DNS, at connect time, so a hostname that
//! resolves to 127.0.0.1 or 169.254.169.254 is refused like the address.

use super::ssrf::AddressPolicy;
use herald_app::model::delivery::ErrorKind;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The most of a response body Herald keeps (and reads).
pub const MAX_RESPONSE_BODY: usize = 4096;
/// The most response headers an attempt record keeps.
pub const MAX_RESPONSE_HEADERS: usize = 50;
/// The most of one response header's value kept.
pub const MAX_HEADER_VALUE: usize = 512;
/// The most bytes of response headers (names and values) kept in all.
pub const MAX_RESPONSE_HEADER_BYTES: usize = 8192;

/// Why the guard refused a destination; found in the error chain to tell
/// "blocked" apart from an ordinary connection failure.
#[derive(Debug)]
pub struct Blocked(pub String);

impl std::fmt::Display for Blocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "destination refused by policy: {}", self.0)
    }
}

impl std::error::Error for Blocked {}

/// Resolves names with the system resolver and keeps only allowed addresses.
struct GuardedResolver {
    policy: Arc<AddressPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refusals = Vec::new();
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|addr| match policy.check(addr.ip()) {
                    Ok(()) => true,
                    Err(reason) => {
                        refusals.push(reason.to_string());
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let why = if refusals.is_empty() {
                    "no address".to_owned()
                } else {
                    refusals.join("; ")
                };
                return Err(Box::new(Blocked(format!("{host} resolves to {why}"))) as _);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Where deliveries leave from, so operators can give merchants one egress
/// address to allow-list: a fixed source address, a forward proxy, or both.
#[derive(Debug, Clone, Default)]
pub struct Egress {
    /// Bind every outgoing connection to this local address.
    pub source_address: Option<IpAddr>,
    /// Send every delivery through this HTTP proxy (`http://proxy.internal:3128`).
    pub proxy: Option<reqwest::Url>,
}

/// The outbound client and the policy it enforces.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
    /// Through a proxy the client never resolves the destination itself, so
    /// Herald resolves and checks it before sending.
    check_before_send: bool,
}

/// What one HTTP try produced.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: Option<u16>,
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
    pub error: Option<(ErrorKind, String)>,
    pub duration: Duration,
}

impl Sender {
    /// A client with the given total timeout; connects are capped lower so a
    /// black-holed host fails fast.
    pub fn new(
        policy: AddressPolicy,
        timeout: Duration,
        egress: &Egress,
    ) -> Result<Sender, reqwest::Error> {
        let policy = Arc::new(policy);
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("Herald-Webhooks/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(64)
            .local_address(egress.source_address);
        builder = match &egress.proxy {
            // The proxy is the operator's choice (often a private address):
            // the client connects to it as configured, and each destination
            // is checked in `post` instead.
            Some(proxy) => builder.proxy(reqwest::Proxy::all(proxy.clone())?),
            // Never an HTTP_PROXY from the environment: it would bypass the guard.
            None => builder.no_proxy().dns_resolver(Arc::new(GuardedResolver {
                policy: policy.clone(),
            })),
        };
        Ok(Sender {
            client: builder.build()?,
            policy,
            check_before_send: egress.proxy.is_some(),
        })
    }

    /// Resolves a destination name and refuses it if any address it
    /// resolves to is refused (the proxy may connect to any of them).
    async fn check_resolved(&self, host: &str, port: u16) -> Result<(), String> {
        let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .collect();
        for addr in &resolved {
            if let Err(reason) = self.policy.check(addr.ip()) {
                return Err(format!(
                    "destination refused by policy: {host} resolves to {reason}"
                ));
            }
        }
        if resolved.is_empty() {
            return Err(format!("{host} resolves to no address"));
        }
        Ok(())
    }

    /// POSTs `body` to `url` with `headers` and reports what happened; never fails.
    pub async fn post(&self, url: &str, headers: &[(String, String)], body: Vec<u8>) -> Response {
        let started = Instant::now();
        let blocked = |message: String| Response {
            status: None,
            headers: BTreeMap::new(),
            body: None,
            error: Some((ErrorKind::Blocked, message)),
            duration: started.elapsed(),
        };
        let parsed = match reqwest::Url::parse(url) {
            Ok(parsed) => parsed,
            Err(e) => return blocked(format!("invalid URL: {e}")),
        };
        // IP literals never reach the resolver: check them here.
        let literal: Option<IpAddr> = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        if let Some(ip) = literal {
            if let Err(reason) = self.policy.check(ip) {
                return blocked(format!("destination refused by policy: {reason}"));
            }
        } else if self.check_before_send {
            let host = parsed.host_str().unwrap_or_default().to_owned();
            let port = parsed.port_or_known_default().unwrap_or(443);
            if let Err(message) = self.check_resolved(&host, port).await {
                return blocked(message);
            }
        }
        let mut request = self.client.post(parsed).body(body);
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        match request.send().await {
            Ok(response) => read_response(response, started).await,
            Err(e) => {
                let (kind, message) = classify(&e);
                Response {
                    status: None,
                    headers: BTreeMap::new(),
                    body: None,
                    error: Some((kind, message)),
                    duration: started.elapsed(),
                }
            }
        }
    }
}

async fn read_response(mut response: reqwest::Response, started: Instant) -> Response {
    let status = response.status().as_u16();
    let headers = kept_headers(response.headers());
    // Read at most MAX_RESPONSE_BODY bytes: a huge answer costs nothing more.
    let mut body = Vec::new();
    let mut read_error = None;
    while body.len() < MAX_RESPONSE_BODY {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) => {
                read_error = Some(classify(&e));
                break;
            }
        }
    }
    body.truncate(MAX_RESPONSE_BODY);
    let error = if (200..300).contains(&status) {
        None
    } else {
        Some(read_error.unwrap_or((ErrorKind::Status, format!("HTTP {status}"))))
    };
    Response {
        status: Some(status),
        headers,
        body: Some(String::from_utf8_lossy(&body).into_owned()),
        error,
        duration: started.elapsed(),
    }
}

/// The response headers an attempt record keeps: the first
/// `MAX_RESPONSE_HEADERS`, each value cut to `MAX_HEADER_VALUE` bytes, while
/// they add up to at most `MAX_RESPONSE_HEADER_BYTES` (like the body, a
/// receiver answering with megabytes of headers costs the database nothing).
fn kept_headers(headers: &reqwest::header::HeaderMap) -> BTreeMap<String, String> {
    let mut kept = BTreeMap::new();
    let mut bytes = 0;
    for (name, value) in headers.iter().take(MAX_RESPONSE_HEADERS) {
        let mut value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if value.len() > MAX_HEADER_VALUE {
            let mut end = MAX_HEADER_VALUE;
            while !value.is_char_boundary(end) {
                end -= 1;
            }
            value.truncate(end);
            value.push('…');
        }
        bytes += name.as_str().len() + value.len();
        if bytes > MAX_RESPONSE_HEADER_BYTES {
            break;
        }
        kept.insert(name.as_str().to_owned(), value);
    }
    kept
}

/// Sorts a client error into the attempt's error kind.
fn classify(error: &reqwest::Error) -> (ErrorKind, String) {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    let mut chain = Vec::new();
    while let Some(e) = source {
        if let Some(blocked) = e.downcast_ref::<Blocked>() {
            return (ErrorKind::Blocked, blocked.to_string());
        }
        chain.push(e.to_string());
        source = e.source();
    }
    let message = chain.join(": ");
    let lower = message.to_ascii_lowercase();
    let kind = if error.is_timeout() {
        ErrorKind::Timeout
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        ErrorKind::Tls
    } else {
        ErrorKind::Connect
    };
    (kind, message)
}

#[cfg(test)]
mod kept_headers_tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

    #[test]
    fn response_headers_are_bounded_in_count_and_size() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        let long = "v".repeat(100_000);
        headers.insert("x-huge", HeaderValue::from_str(&long).expect("value"));
        for n in 0..500 {
            let name = HeaderName::from_bytes(format!("x-filler-{n:03}").as_bytes()).expect("name");
            headers.insert(name, HeaderValue::from_static("1"));
        }
        let kept = kept_headers(&headers);
        assert!(kept.len() <= MAX_RESPONSE_HEADERS, "{} kept", kept.len());
        let bytes: usize = kept.iter().map(|(k, v)| k.len() + v.len()).sum();
        assert!(bytes <= MAX_RESPONSE_HEADER_BYTES, "{bytes} bytes kept");
        assert_eq!(kept["content-type"], "application/json");
        assert_eq!(kept["x-huge"].len(), MAX_HEADER_VALUE + '…'.len_utf8());
    }
}
