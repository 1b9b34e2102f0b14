//! The raw figures behind delivery statistics: counts per endpoint, hour and
//! status, and attempt durations. Hours are `created_at / 3 600 000` (times
//! are stored in milliseconds), which both dialects compute the same way;
//! percentiles are left to the service.

use super::{on_pool, to_millis, Store, StoreResult};
use chrono::{DateTime, Utc};
use herald_app::model::id::{EndpointId, MerchantId};

/// How many deliveries of one endpoint, created in one hour, have one status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourCount {
    pub endpoint_id: String,
    /// Hours since the Unix epoch.
    pub hour: i64,
    pub status: String,
    pub count: u64,
}

/// One attempt's duration, by endpoint and hour of the attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptDuration {
    pub endpoint_id: String,
    pub hour: i64,
    pub duration_ms: u64,
}

/// The most attempt durations read for one statistics request.
const MAX_DURATIONS: i64 = 200_000;

impl Store {
    /// Delivery counts of the merchant's endpoints (or one) since `from`.
    pub async fn delivery_counts_by_hour(
        &self,
        merchant: &MerchantId,
        endpoint: Option<&EndpointId>,
        live_mode: Option<bool>,
        from: DateTime<Utc>,
    ) -> StoreResult<Vec<HourCount>> {
        let rows: Vec<(String, i64, String, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT d.endpoint_id, d.created_at / 3600000 AS hour, d.status, COUNT(*) AS n \
             FROM deliveries d JOIN events e ON e.id = d.event_id \
             WHERE d.merchant_id = $1 AND d.endpoint_id IS NOT NULL AND d.created_at >= $2 \
               AND ($3 IS NULL OR d.endpoint_id = $3) AND ($4 IS NULL OR e.live_mode = $4) \
             GROUP BY d.endpoint_id, d.created_at / 3600000, d.status",
        )
        .bind(merchant.as_str())
        .bind(to_millis(from))
        .bind(endpoint.map(EndpointId::as_str))
        .bind(live_mode)
        .fetch_all(pool)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(endpoint_id, hour, status, n)| HourCount {
                endpoint_id,
                hour,
                status,
                count: u64::try_from(n).unwrap_or(0),
            })
            .collect())
    }

    /// Attempt durations of the merchant's endpoints (or one) since `from`.
    pub async fn attempt_durations(
        &self,
        merchant: &MerchantId,
        endpoint: Option<&EndpointId>,
        live_mode: Option<bool>,
        from: DateTime<Utc>,
    ) -> StoreResult<Vec<AttemptDuration>> {
        let rows: Vec<(String, i64, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT d.endpoint_id, a.started_at / 3600000 AS hour, a.duration_ms \
             FROM attempts a JOIN deliveries d ON d.id = a.delivery_id \
             JOIN events e ON e.id = d.event_id \
             WHERE d.merchant_id = $1 AND d.endpoint_id IS NOT NULL AND d.created_at >= $2 \
               AND a.started_at >= $2 AND ($3 IS NULL OR d.endpoint_id = $3) \
               AND ($5 IS NULL OR e.live_mode = $5) \
             LIMIT $4",
        )
        .bind(merchant.as_str())
        .bind(to_millis(from))
        .bind(endpoint.map(EndpointId::as_str))
        .bind(MAX_DURATIONS)
        .bind(live_mode)
        .fetch_all(pool)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(endpoint_id, hour, duration)| AttemptDuration {
                endpoint_id,
                hour,
                duration_ms: u64::try_from(duration).unwrap_or(0),
            })
            .collect())
    }
}
