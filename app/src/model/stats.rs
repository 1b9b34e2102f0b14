//! Delivery statistics per hour: outcomes and attempt latency.

use super::id::EndpointId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One hour of deliveries (by the hour they were created) and attempts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HourStats {
    /// The start of the hour (UTC).
    pub hour: DateTime<Utc>,
    pub succeeded: u64,
    pub failed: u64,
    /// Not finished yet: waiting for an attempt or a retry.
    pub pending: u64,
    /// Attempt duration percentiles of the hour, in milliseconds: the upper
    /// bound of the latency bucket holding the nearest-rank attempt, so
    /// exact below 64 ms and never more than 1/32 above the exact value.
    pub p50_ms: Option<u64>,
    pub p95_ms: Option<u64>,
}

/// One endpoint over the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EndpointStats {
    pub endpoint_id: EndpointId,
    pub succeeded: u64,
    pub failed: u64,
    pub pending: u64,
    /// Succeeded out of finished (succeeded + failed); `None` when none finished.
    pub success_rate: Option<f64>,
    /// Attempt duration percentiles over the window, as for `HourStats`.
    pub p50_ms: Option<u64>,
    pub p95_ms: Option<u64>,
    /// Oldest hour first; every hour of the window is present.
    pub hours: Vec<HourStats>,
}

/// `GET /api/v1/stats`: per endpoint and for all of them, per hour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Stats {
    pub window_hours: u32,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Every endpoint together, oldest hour first.
    pub hours: Vec<HourStats>,
    pub endpoints: Vec<EndpointStats>,
}
