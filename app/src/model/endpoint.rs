//! A merchant's webhook endpoint as the dashboard and the API show it.

use super::id::{EndpointId, MerchantId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An endpoint: where a merchant wants events of the types it chose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Endpoint {
    pub id: EndpointId,
    pub merchant_id: MerchantId,
    pub url: String,
    pub description: String,
    /// Exact names and `prefix.*` patterns; empty means every type.
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// Why it is disabled (by the merchant, an operator, a 410, or failing too long).
    pub disabled_reason: Option<String>,
    pub rate_limit_per_s: Option<u32>,
    pub headers: BTreeMap<String, String>,
    /// Also sign with a plain hex HMAC of the body (`x-herald-signature`), for
    /// receivers written for that older style.
    #[serde(default)]
    pub legacy_signature: bool,
    /// The endpoint's own waits before each attempt (`["0s","30s","5m"]`);
    /// `None` means the server's schedule.
    #[serde(default)]
    pub retry_schedule: Option<Vec<String>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
