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
}
