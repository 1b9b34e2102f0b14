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
    /// What merchants and operators search by: payment, payout, refund and
    /// customer references (`pay_123`, `customer:cus_9`).
    #[serde(default)]
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// The most tags one event may carry.
pub const MAX_TAGS: usize = 10;
/// The longest tag, in characters.
pub const MAX_TAG_LEN: usize = 128;

/// Whether `tag` is a tag: 1–128 letters, digits and `_.:@/-`.
pub fn is_valid_tag(tag: &str) -> bool {
    (1..=MAX_TAG_LEN).contains(&tag.len())
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.:@/-".contains(&b))
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
    /// The event's tags.
    #[serde(default)]
    pub tags: Vec<String>,
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

/// An event with its deliveries to each endpoint (or its callback URL).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventDetail {
    pub event: Event,
    /// Newest first.
    pub deliveries: Vec<Delivery>,
}

/// What a search for an id, a tag or an idempotency key found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SearchResults {
    /// The events whose id, tag or idempotency key is the query, newest first.
    pub events: Vec<Event>,
    /// The deliveries whose id is the query, or whose event matched, newest first.
    pub deliveries: Vec<Delivery>,
    /// Operators' searches: the name of each merchant in the results, by id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub merchant_names: BTreeMap<String, String>,
}

/// What the database holds, for operators (`/admin/storage`, `/metrics`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StorageStats {
    pub events: u64,
    pub deliveries: u64,
    pub attempts: u64,
    pub oldest_event_at: Option<DateTime<Utc>>,
    /// The database's size on disk, where the database can tell.
    pub database_bytes: Option<u64>,
    /// How long history is kept (`HERALD_RETENTION`), e.g. `30d`; `off`: forever.
    pub retention: String,
    /// Events this process deleted for being older than that, since it started.
    pub purged_events: u64,
}

#[cfg(test)]
mod tag_tests {
    use super::*;

    #[test]
    fn tags_are_short_references() {
        for ok in [
            "pay_123",
            "customer:cus_9",
            "a",
            "x@y.z/1-2",
            &"t".repeat(128),
        ] {
            assert!(is_valid_tag(ok), "{ok}");
        }
        for bad in ["", "has space", "é", "semi;colon", &"t".repeat(129)] {
            assert!(!is_valid_tag(bad), "{bad}");
        }
    }
}
