//! The one HTTP client deliveries go through: pooled, no redirects, bounded
//! in time, and guarded so it only ever connects to addresses the SSRF
//! policy allows — checked after DNS, at connect time, so a hostname that
//! resolves to 127.0.0.1 or 169.254.169.254 is refused like the address.

use super::proxy::{PinnedProxy, ProxySetupError};
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

/// Which of a name's addresses a connection may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Every address the address policy allows (the port is in
    /// `HERALD_ALLOWED_PORTS`).
    Allowed,
    /// Only addresses inside `HERALD_ALLOWED_PRIVATE_CIDRS` (any port is
    /// open there, and only there).
    ListedOnly,
}

/// The addresses of `host` a connection may use, or why none. The reason
/// says what kind of address was refused, never which: the merchant must
/// not learn what an internal name resolves to.
fn allowed_addresses(
    policy: &AddressPolicy,
    reach: Reach,
    host: &str,
    resolved: Vec<IpAddr>,
) -> Result<Vec<IpAddr>, Blocked> {
    let mut refused: Vec<String> = Vec::new();
    let mut allowed = Vec::new();
    for ip in resolved {
        let why = match (policy.check(ip), reach) {
            (Err(reason), _) => Some(reason.kind.to_string()),
            (Ok(()), Reach::ListedOnly) if !policy.is_listed(ip) => Some(
                "an address outside HERALD_ALLOWED_PRIVATE_CIDRS, where only \
                 HERALD_ALLOWED_PORTS are open"
                    .to_owned(),
            ),
            (Ok(()), _) => None,
        };
        match why {
            Some(why) if !refused.contains(&why) => refused.push(why),
            Some(_) => {}
            None => allowed.push(ip),
        }
    }
    if !allowed.is_empty() {
        return Ok(allowed);
    }
    let why = if refused.is_empty() {
        "no address".to_owned()
    } else {
        refused.join(" and ")
    };
    Err(Blocked(format!("{host} resolves to {why}")))
}

/// Resolves names with the system resolver and keeps only the addresses a
/// connection may use.
struct GuardedResolver {
    policy: Arc<AddressPolicy>,
    reach: Reach,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let reach = self.reach;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<IpAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .map(|addr| addr.ip())
                .collect();
            let allowed = allowed_addresses(&policy, reach, &host, resolved)?;
            let addrs: Vec<SocketAddr> = allowed.into_iter().map(|ip| (ip, 0).into()).collect();
            Ok(Box::new(addrs.into_iter()) as Addrs)
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

/// The outbound clients and the policy they enforce.
#[derive(Clone)]
pub struct Sender {
    /// Direct connections on a port in `HERALD_ALLOWED_PORTS`: to any
    /// address the policy allows.
    client: reqwest::Client,
    /// Direct connections on any other port: only to addresses inside
    /// `HERALD_ALLOWED_PRIVATE_CIDRS` (its resolver drops the rest).
    listed_client: reqwest::Client,
    policy: Arc<AddressPolicy>,
    /// Through a proxy Herald resolves and checks the destination itself,
    /// then has the proxy connect to the checked address.
    proxy: Option<PinnedProxy>,
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

/// Why the outbound client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    #[error("HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("HERALD_OUTBOUND_PROXY: {0}")]
    Proxy(#[from] ProxySetupError),
}

impl Sender {
    /// Clients with the given total timeout; connects are capped lower so a
    /// black-holed host fails fast.
    pub fn new(
        policy: AddressPolicy,
        timeout: Duration,
        egress: &Egress,
    ) -> Result<Sender, SenderError> {
        let policy = Arc::new(policy);
        let direct = |reach: Reach| {
            reqwest::Client::builder()
                .user_agent(concat!("Herald-Webhooks/", env!("CARGO_PKG_VERSION")))
                .redirect(reqwest::redirect::Policy::none())
                .timeout(timeout)
                .connect_timeout(timeout.min(Duration::from_secs(10)))
                .pool_idle_timeout(Duration::from_secs(60))
                .pool_max_idle_per_host(64)
                .local_address(egress.source_address)
                // Never an HTTP_PROXY from the environment: it would bypass the guard.
                .no_proxy()
                .dns_resolver(Arc::new(GuardedResolver {
                    policy: policy.clone(),
                    reach,
                }))
                .build()
        };
        let proxy = egress
            .proxy
            .as_ref()
            .map(|url| PinnedProxy::new(url, egress.source_address, timeout))
            .transpose()?;
        Ok(Sender {
            client: direct(Reach::Allowed)?,
            listed_client: direct(Reach::ListedOnly)?,
            policy,
            proxy,
        })
    }

    /// The addresses a delivery to `host` on `port` may connect to: the
    /// literal one, or what the name resolves to, filtered by the policy.
    async fn checked_addresses(
        &self,
        host: &url::Host<&str>,
        port: u16,
    ) -> Result<Vec<IpAddr>, String> {
        let refused = |why: &dyn std::fmt::Display| format!("destination refused by policy: {why}");
        let literal = match host {
            url::Host::Ipv4(ip) => Some(IpAddr::V4(*ip)),
            url::Host::Ipv6(ip) => Some(IpAddr::V6(*ip)),
            url::Host::Domain(_) => None,
        };
        if let Some(ip) = literal {
            // The merchant wrote this address: naming it reveals nothing.
            self.policy.check(ip).map_err(|reason| refused(&reason))?;
            self.policy
                .check_port(ip, port)
                .map_err(|reason| refused(&reason))?;
            return Ok(vec![ip]);
        }
        let name = host.to_string();
        let resolved: Vec<IpAddr> = tokio::net::lookup_host((name.as_str(), port))
            .await
            .map_err(|e| format!("cannot resolve {name}: {e}"))?
            .map(|addr| addr.ip())
            .collect();
        allowed_addresses(&self.policy, reach_for(&self.policy, port), &name, resolved)
            .map_err(|blocked| blocked.to_string())
    }

    /// POSTs `body` to `url` with `headers` and reports what happened;
    /// never fails. `timeout` replaces the client's for this request.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
        timeout: Option<Duration>,
    ) -> Response {
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
        let Some(host) = parsed.host() else {
            return blocked("the URL has no host".to_owned());
        };
        let port = parsed.port_or_known_default().unwrap_or(443);
        if let Some(proxy) = &self.proxy {
            let addresses = match self.checked_addresses(&host, port).await {
                Ok(addresses) => addresses,
                Err(message) => return blocked(message),
            };
            // Resolved and checked once, here: the proxy is handed the
            // address, never the name.
            let Some(address) = addresses.first() else {
                return blocked(format!("{host} resolves to no address"));
            };
            return proxy
                .post(&parsed, *address, headers, body, started, timeout)
                .await;
        }
        let is_name = matches!(host, url::Host::Domain(_));
        if !is_name {
            // IP literals never reach the resolver: check them here.
            if let Err(message) = self.checked_addresses(&host, port).await {
                return blocked(message);
            }
        }
        // A name is checked by the client's resolver, after DNS, at connect
        // time; on an unlisted port by the one that keeps listed addresses only.
        let client = match reach_for(&self.policy, port) {
            Reach::Allowed => &self.client,
            Reach::ListedOnly => &self.listed_client,
        };
        let mut request = client.post(parsed.clone()).body(body);
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
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

/// Which addresses a delivery on `port` may reach.
fn reach_for(policy: &AddressPolicy, port: u16) -> Reach {
    if policy.port_is_open(port) {
        Reach::Allowed
    } else {
        Reach::ListedOnly
    }
}

pub(super) async fn read_response(mut response: reqwest::Response, started: Instant) -> Response {
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
mod tests {
    use super::*;
    use crate::engine::ssrf::parse_allowed_cidrs;

    fn ips(list: &str) -> Vec<IpAddr> {
        list.split_whitespace()
            .map(|s| s.parse().unwrap_or_else(|e| panic!("{s}: {e}")))
            .collect()
    }

    fn policy() -> AddressPolicy {
        AddressPolicy::new(parse_allowed_cidrs("127.0.0.1/32").unwrap_or_default())
    }

    #[test]
    fn a_refused_name_says_what_kind_of_address_never_which() {
        let refused = allowed_addresses(
            &policy(),
            Reach::Allowed,
            "api.internal",
            ips("10.1.2.3 10.9.9.9 169.254.169.254"),
        )
        .map_err(|blocked| blocked.to_string());
        assert_eq!(
            refused,
            Err(
                "destination refused by policy: api.internal resolves to a private address \
                 and a link-local address (cloud metadata lives here)"
                    .to_owned()
            )
        );
        let none = allowed_addresses(&policy(), Reach::Allowed, "gone.test", Vec::new());
        assert!(none.is_err_and(|b| b.to_string().ends_with("gone.test resolves to no address")));
    }

    #[test]
    fn an_unlisted_port_reaches_only_listed_addresses() {
        let mixed = ips("93.184.216.34 127.0.0.1 10.0.0.1");
        let any = allowed_addresses(&policy(), Reach::Allowed, "mixed.test", mixed.clone());
        assert_eq!(any.ok(), Some(ips("93.184.216.34 127.0.0.1")));
        let listed = allowed_addresses(&policy(), Reach::ListedOnly, "mixed.test", mixed);
        assert_eq!(listed.ok(), Some(ips("127.0.0.1")));
        let public = allowed_addresses(
            &policy(),
            Reach::ListedOnly,
            "public.test",
            ips("93.184.216.34 2606:4700::1"),
        )
        .map_err(|blocked| blocked.to_string());
        assert!(
            public
                .as_ref()
                .is_err_and(|m| m.contains("HERALD_ALLOWED_PORTS") && !m.contains("93.184")),
            "{public:?}"
        );
    }

    #[test]
    fn the_port_decides_which_addresses_a_name_may_reach() {
        assert_eq!(reach_for(&policy(), 443), Reach::Allowed);
        assert_eq!(reach_for(&policy(), 8080), Reach::Allowed);
        assert_eq!(reach_for(&policy(), 25), Reach::ListedOnly);
    }
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
