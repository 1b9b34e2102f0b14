//! What the dashboard pages ask for and get, beyond the core models.

use super::delivery::DeliveryStatus;
use super::event::Delivery;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a merchant fills in to create or change an endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EndpointInput {
    pub url: String,
    pub description: String,
    /// Exact names and `prefix.*` wildcards; empty means every type.
    pub event_types: Vec<String>,
    /// One `Name: value` per line.
    pub headers: String,
    /// Requests per second, or empty for no limit.
    pub rate_limit_per_s: String,
    pub enabled: bool,
    /// `hmac` or `ed25519`.
    pub signature_scheme: String,
    /// Whether bodies are sent encrypted (AES-256-CBC).
    pub encrypted: bool,
    /// Also send the plain hex HMAC of the body (`x-herald-signature`).
    pub legacy_signature: bool,
    /// The endpoint's own waits, comma-separated (`0s, 30s, 5m`), or empty
    /// for the server's schedule.
    pub retry_schedule: String,
}

/// The filters of a deliveries list, as they appear in the page's URL.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeliveryQuery {
    pub status: Option<String>,
    pub event_type: Option<String>,
    pub endpoint_id: Option<String>,
    pub merchant_id: Option<String>,
    /// RFC 3339, or a lookback such as `1h`, `24h`, `7d`.
    pub since: Option<String>,
    /// `live` or `test` to show only that mode's events; empty for both.
    pub mode: Option<String>,
    pub cursor: Option<String>,
}

/// One page of deliveries, newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeliveryPage {
    pub items: Vec<Delivery>,
    pub next_cursor: Option<String>,
}

/// The newest delivery of one endpoint, for the endpoints list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastDelivery {
    pub endpoint_id: String,
    pub created_at: DateTime<Utc>,
    pub status: DeliveryStatus,
}
