//! The raw figures behind delivery statistics: counts per endpoint, hour and
//! status, and attempt durations. Hours are `created_at / 3 600 000` (times
//! are stored in milliseconds), which both dialects compute the same way;
//! percentiles are left to the service.

use super::conditions::{bind_values, Conditions};
use super::{on_pool, Store, StoreResult};
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
        let conditions = window_of(merchant, endpoint, live_mode, from);
        // The events are joined only to tell live from test mode.
        let sql = format!(
            "SELECT d.endpoint_id, d.created_at / 3600000 AS hour, d.status, COUNT(*) AS n \
             FROM deliveries d{}{} \
             GROUP BY d.endpoint_id, d.created_at / 3600000, d.status",
            events_join(live_mode),
            conditions.sql()
        );
        let rows: Vec<(String, i64, String, i64)> = on_pool!(self, pool => bind_values!(
                sqlx::query_as(&sql),
                conditions.values()
            )
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
        let mut conditions = window_of(merchant, endpoint, live_mode, from);
        let from = conditions.value(from);
        conditions.push(format!("a.started_at >= {from}"));
        let limit = conditions.value(MAX_DURATIONS);
        let sql = format!(
            "SELECT d.endpoint_id, a.started_at / 3600000 AS hour, a.duration_ms \
             FROM attempts a JOIN deliveries d ON d.id = a.delivery_id{}{} LIMIT {limit}",
            events_join(live_mode),
            conditions.sql()
        );
        let rows: Vec<(String, i64, i64)> = on_pool!(self, pool => bind_values!(
                sqlx::query_as(&sql),
                conditions.values()
            )
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

/// The deliveries of the merchant's endpoints (or one) made since `from`,
/// of live or test-mode events when `live_mode` says which.
fn window_of(
    merchant: &MerchantId,
    endpoint: Option<&EndpointId>,
    live_mode: Option<bool>,
    from: DateTime<Utc>,
) -> Conditions {
    let mut conditions = Conditions::new();
    conditions.when(Some(merchant.as_str()), |p| format!("d.merchant_id = {p}"));
    conditions.push("d.endpoint_id IS NOT NULL");
    conditions.when(Some(from), |p| format!("d.created_at >= {p}"));
    conditions.when(endpoint.map(EndpointId::as_str), |p| {
        format!("d.endpoint_id = {p}")
    });
    conditions.when(live_mode, |p| format!("e.live_mode = {p}"));
    conditions
}

/// The join `window_of`'s mode condition needs, if it has one.
fn events_join(live_mode: Option<bool>) -> &'static str {
    if live_mode.is_some() {
        " JOIN events e ON e.id = d.event_id"
    } else {
        ""
    }
}
