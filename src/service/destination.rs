//! Where Herald may send: the rules for endpoint URLs and callback URLs.

use super::ServiceError;
use crate::engine::ssrf::{literal_host_ip, AddressPolicy};

/// Longest URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// The URL rules of this deployment.
#[derive(Debug, Clone)]
pub struct UrlRules {
    /// Accept `http://` (development only).
    pub allow_http: bool,
    /// Addresses and ports deliveries may reach; IP literals are checked
    /// against it here, names again at connect time.
    pub policy: AddressPolicy,
}

impl UrlRules {
    /// Checks a destination URL; `field` names it in the error.
    pub fn check(&self, field: &str, raw: &str) -> Result<String, ServiceError> {
        let invalid = |message: &str| ServiceError::invalid(field, message.to_owned());
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(invalid("a URL is required"));
        }
        if raw.len() > MAX_URL_LEN {
            return Err(invalid("the URL is longer than 2048 characters"));
        }
        if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(invalid("the URL contains spaces or control characters"));
        }
        let url = url::Url::parse(raw).map_err(|e| invalid(&format!("not a valid URL ({e})")))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => {
                return Err(invalid(
                    "must use https (plain http is disabled on this server)",
                ))
            }
            _ => return Err(invalid("must be an https URL")),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                "must not contain credentials; use custom headers instead",
            ));
        }
        let host = url.host_str().ok_or_else(|| invalid("must have a host"))?;
        let port = url.port_or_known_default().unwrap_or(443);
        let literal = literal_host_ip(host.trim_start_matches('[').trim_end_matches(']'));
        if let Some(ip) = literal {
            if let Err(reason) = self.policy.check(ip) {
                return Err(invalid(&format!("points at a refused address: {reason}")));
            }
            if let Err(refused) = self.policy.check_port(ip, port) {
                return Err(invalid(&refused.to_string()));
            }
        } else if let Err(refused) = self.policy.check_name_port(port) {
            return Err(invalid(&refused.to_string()));
        }
        if host.eq_ignore_ascii_case("localhost")
            || host.to_ascii_lowercase().ends_with(".localhost")
        {
            // localhost always resolves to loopback: refuse it unless loopback is allowed.
            if self
                .policy
                .check(std::net::IpAddr::from([127, 0, 0, 1]))
                .is_err()
            {
                return Err(invalid(
                    "points at localhost, which this server does not deliver to",
                ));
            }
        }
        Ok(url.to_string())
    }
}
