//! Events, their deliveries and each delivery's attempts, as the API and
//! the dashboard show them.

use super::delivery::{DeliveryStatus, ErrorKind};
use super::id::{AttemptId, DeliveryId, EndpointId, EventId, MerchantId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Something that happened to a merchant's money, as the platform reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Event {
    pub id: EventId,
    pub merchant_id: MerchantId,
    #[serde(rename = "type")]
    pub event_type: String,
    pub data: serde_json::Value,
    pub idempotency_key: Option<String>,
    pub callback_url: Option<String>,
    pub ordering_key: Option<String>,
    pub live_mode: bool,
    pub created_at: DateTime<Utc>,
}

/// One event headed for one destination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Delivery {
    pub id: DeliveryId,
    pub event_id: EventId,
    pub merchant_id: MerchantId,
    /// The endpoint, or `None` for a one-off `callback_url` delivery.
    pub endpoint_id: Option<EndpointId>,
    /// Where it goes: the endpoint's current URL or the callback URL.
    pub url: String,
    pub event_type: String,
    pub live_mode: bool,
    pub status: DeliveryStatus,
    /// Attempts made so far. (Named apart from `DeliveryDetail::attempts`,
    /// the list of attempts, because the detail flattens the delivery.)
    pub attempt_count: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The status code of the latest attempt, if it got an answer.
    pub last_status_code: Option<u16>,
    pub created_at: DateTime<Utc>,
    pub succeeded_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
}

/// One HTTP try of a delivery: what was sent and what came back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Attempt {
    pub id: AttemptId,
    pub delivery_id: DeliveryId,
    pub attempt_number: u32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub request_headers: BTreeMap<String, String>,
    pub status_code: Option<u16>,
    pub response_headers: BTreeMap<String, String>,
    /// The first 4 KiB of the response body.
    pub response_body: Option<String>,
    pub error_kind: Option<ErrorKind>,
    pub error_message: Option<String>,
    /// Whether a person asked for it (retry button or API) rather than the schedule.
    pub manual: bool,
}

/// A delivery with its event and every attempt, newest attempt last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeliveryDetail {
    #[serde(flatten)]
    pub delivery: Delivery,
    pub event: Event,
    pub attempts: Vec<Attempt>,
}
