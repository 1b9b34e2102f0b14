//! Delivery and attempt states, with the stable strings the database stores.

use serde::{Deserialize, Serialize};

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt (or its first).
    Pending,
    /// The destination answered 2xx.
    Succeeded,
    /// The retry schedule ran out without a 2xx.
    Failed,
    /// Stopped before success, e.g. its endpoint was deleted.
    Cancelled,
}

impl DeliveryStatus {
    /// The stable string stored in the database and used in filters.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses the stored string.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Succeeded,
            Self::Failed,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
    }
}

/// Why an attempt did not succeed. A delivery result is a value, not an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// No complete answer within the request timeout.
    Timeout,
    /// DNS failure, connection refused or reset.
    Connect,
    /// The TLS handshake or certificate check failed.
    Tls,
    /// The destination answered, but not with 2xx.
    Status,
    /// The destination address is refused by the SSRF policy.
    Blocked,
}

impl ErrorKind {
    /// The stable string stored on each attempt.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Connect => "connect",
            Self::Tls => "tls",
            Self::Status => "status",
            Self::Blocked => "blocked",
        }
    }

    /// Parses the stored string.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Timeout,
            Self::Connect,
            Self::Tls,
            Self::Status,
            Self::Blocked,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == s)
    }
}

/// A delivery list's filter on the answer of its latest attempt
/// (`status_code=` in the API): one code (`503`), a class (`5xx`), or
/// `none` for attempts that got no HTTP answer (timeout, refused, TLS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusCodeFilter {
    /// Exactly this code.
    Code(u16),
    /// Any code of this hundred: `Class(5)` is 500–599.
    Class(u16),
    /// Attempted, but no HTTP answer came back.
    NoResponse,
}

impl StatusCodeFilter {
    /// How a wrong value is explained (the API's 422 and the filter box).
    pub const RULE: &'static str =
        "a response code such as 503, a class such as 5xx, or none for no answer";

    /// Reads `503`, `5xx` (any case) or `none`; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim().to_ascii_lowercase();
        if text == "none" {
            return Some(Self::NoResponse);
        }
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        match text.strip_suffix("xx") {
            Some(class) if class.len() == 1 && digits(class) => {
                let class: u16 = class.parse().ok()?;
                (1..=5).contains(&class).then_some(Self::Class(class))
            }
            Some(_) => None,
            None if text.len() == 3 && digits(&text) => {
                let code: u16 = text.parse().ok()?;
                (100..=599).contains(&code).then_some(Self::Code(code))
            }
            None => None,
        }
    }

    /// The codes it takes, lowest and highest; `None` for `NoResponse`.
    pub fn code_range(self) -> Option<(u16, u16)> {
        match self {
            Self::Code(code) => Some((code, code)),
            Self::Class(class) => Some((class * 100, class * 100 + 99)),
            Self::NoResponse => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip() {
        for s in ["pending", "succeeded", "failed", "cancelled"] {
            assert_eq!(
                DeliveryStatus::parse(s).map(DeliveryStatus::as_str),
                Some(s)
            );
        }
        for s in ["timeout", "connect", "tls", "status", "blocked"] {
            assert_eq!(ErrorKind::parse(s).map(ErrorKind::as_str), Some(s));
        }
        assert_eq!(DeliveryStatus::parse("done"), None);
    }

    #[test]
    fn response_code_filters() {
        use StatusCodeFilter::*;
        assert_eq!(StatusCodeFilter::parse("503"), Some(Code(503)));
        assert_eq!(StatusCodeFilter::parse(" 5XX "), Some(Class(5)));
        assert_eq!(StatusCodeFilter::parse("none"), Some(NoResponse));
        assert_eq!(Class(4).code_range(), Some((400, 499)));
        assert_eq!(Code(410).code_range(), Some((410, 410)));
        assert_eq!(NoResponse.code_range(), None);
        for wrong in [
            "", "5", "50", "5000", "600", "099", "6xx", "0xx", "55xx", "x5xx", "abc", "-500",
        ] {
            assert_eq!(StatusCodeFilter::parse(wrong), None, "{wrong:?}");
        }
    }
}
