//! The raw figures behind delivery statistics, read from the hourly rollups
//! (migration 0009): deliveries counted per endpoint, hour of creation, mode
//! and status, and attempt durations as a histogram per endpoint, hour of
//! the attempt and mode. Hours are `created_at / 3 600 000` (times are
//! stored in milliseconds). The rollups are kept by triggers as deliveries
//! and attempts are written, and by retention as it deletes them, so a read
//! costs the rollup rows of the window, never a scan of the history.
//! Percentiles are left to the service.

use super::conditions::{bind_values, Conditions};
use super::stats_fold::packed_pairs;
use super::{on_pool, Store, StoreError, StoreResult};
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

/// How many attempts of one endpoint, started in one hour, took a duration
/// in one latency bucket (see `latency_bucket`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatencyCount {
    pub endpoint_id: String,
    pub hour: i64,
    /// The bucket's lower bound, in milliseconds.
    pub bucket_ms: u64,
    /// Below zero for what retention deleted from an hour already folded,
    /// until the next fold nets it out (see `attempt_latency_by_hour`).
    pub count: i64,
}

/// Durations below this many milliseconds each have a bucket of their own.
const EXACT_BELOW_MS: u64 = 64;
/// Each power of two above `EXACT_BELOW_MS` is cut into 2^5 = 32 buckets.
const SUB_BUCKET_BITS: u32 = 5;
/// Buckets stop growing at 2^16 ms (65.5 s) wide, from 2^21 ms (35 min) on.
const MAX_SHIFT: u32 = 16;

/// The latency bucket of a duration: its lower bound, in milliseconds.
/// Below 64 ms a bucket is one millisecond; above, each power of two is cut
/// into 32 buckets, so a bucket is at most 1/32 of its lower bound wide
/// (the log-linear layout of HdrHistogram and Prometheus' native
/// histograms). Migration 0009 computes the same in SQL.
pub fn latency_bucket(ms: u64) -> u64 {
    if ms < EXACT_BELOW_MS {
        return ms;
    }
    let shift = bucket_shift(ms);
    (ms >> shift) << shift
}

/// The largest duration (in whole milliseconds) in the bucket whose lower
/// bound is `bucket_ms`: a duration `d` is reported as at most this, which
/// is under `d × (1 + 1/32)`.
pub fn latency_bucket_upper(bucket_ms: u64) -> u64 {
    if bucket_ms < EXACT_BELOW_MS {
        return bucket_ms;
    }
    bucket_ms + (1 << bucket_shift(bucket_ms)) - 1
}

/// How many low bits of `ms` (at least 64) its bucket leaves out.
fn bucket_shift(ms: u64) -> u32 {
    let log2 = 63 - ms.leading_zeros();
    (log2 - SUB_BUCKET_BITS).min(MAX_SHIFT)
}

/// `latency_bucket` of the SQL expression `ms` (an integer), in SQL both
/// dialects run, as migration 0009 writes it.
pub(crate) fn latency_bucket_sql(ms: &str) -> String {
    let mut sql = format!("CASE WHEN {ms} < {EXACT_BELOW_MS} THEN {ms}");
    let first_log2 = EXACT_BELOW_MS.trailing_zeros();
    for log2 in first_log2..(SUB_BUCKET_BITS + MAX_SHIFT) {
        let shift = log2 - SUB_BUCKET_BITS;
        sql.push_str(&format!(
            " WHEN {ms} < {} THEN ({ms} >> {shift}) << {shift}",
            1u64 << (log2 + 1)
        ));
    }
    sql.push_str(&format!(" ELSE ({ms} >> {MAX_SHIFT}) << {MAX_SHIFT} END"));
    sql
}

impl Store {
    /// Delivery counts of the merchant's endpoints (or one) created in the
    /// hours from `from_hour` on, of live or test-mode events when
    /// `live_mode` says which. Without `live_mode` an hour may come twice
    /// (its live and its test rows): callers add them up.
    pub async fn delivery_counts_by_hour(
        &self,
        merchant: &MerchantId,
        endpoint: Option<&EndpointId>,
        live_mode: Option<bool>,
        from_hour: i64,
    ) -> StoreResult<Vec<HourCount>> {
        let (sql, conditions) =
            Self::delivery_counts_query(merchant, endpoint, live_mode, from_hour);
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

    /// The attempt latency histograms of the merchant's endpoints (or one)
    /// for the hours from `from_hour` on (of the attempts' start): the
    /// packed rows of folded hours (`stats_fold`) and the bucket rows not
    /// folded yet, both as they are; a bucket may come more than once (live
    /// and test rows, a packed row and a late hourly row), and a count may
    /// be negative (retention's subtraction from a folded hour): callers add
    /// them up, which nets them out.
    pub async fn attempt_latency_by_hour(
        &self,
        merchant: &MerchantId,
        endpoint: Option<&EndpointId>,
        live_mode: Option<bool>,
        from_hour: i64,
    ) -> StoreResult<Vec<LatencyCount>> {
        let (queries, conditions) = self.latency_queries(merchant, endpoint, live_mode, from_hour);
        let mut rows: Vec<(String, i64, String)> = Vec::new();
        for sql in &queries {
            rows.extend(on_pool!(self, pool => bind_values!(
                    sqlx::query_as::<_, (String, i64, String)>(sql),
                    conditions.values()
                )
                .fetch_all(pool)
                .await)?);
        }
        let mut counts = Vec::new();
        for (endpoint_id, hour, buckets) in rows {
            for (bucket_ms, count) in packed_pairs(&buckets) {
                let Some(bucket_ms) = bucket_ms else {
                    return Err(StoreError::Corrupt(format!(
                        "latency buckets `{buckets}` of endpoint {endpoint_id}, hour {hour}"
                    )));
                };
                counts.push(LatencyCount {
                    endpoint_id: endpoint_id.clone(),
                    hour,
                    bucket_ms,
                    count,
                });
            }
        }
        Ok(counts)
    }
}

impl Store {
    /// The two reads of `attempt_latency_by_hour` (packed rows, then hourly
    /// rows), and their conditions; `explain_stats_reads` shows their plans.
    pub(crate) fn latency_queries(
        &self,
        merchant: &MerchantId,
        endpoint: Option<&EndpointId>,
        live_mode: Option<bool>,
        from_hour: i64,
    ) -> ([String; 2], Conditions) {
        let conditions = window_of(merchant, endpoint, live_mode, from_hour);
        // Folded hours: one row per endpoint, hour and mode, a range of the
        // packed table's primary key (merchant, hour, …).
        let packed = format!(
            "SELECT endpoint_id, hour, buckets FROM attempt_latency_packed{}",
            conditions.sql()
        );
        // Hours not folded yet (the last two or three, and late rows): one
        // row per endpoint and hour, its buckets joined as `bucket:n,…` by
        // the database, as the packed rows hold them (sqlx hands SQLite rows
        // over one at a time from its worker thread, at a few microseconds
        // each). The grouping follows the primary key's order (merchant,
        // hour, endpoint, …), so neither database sorts.
        let buckets = match self {
            Store::Sqlite(_) => "group_concat(bucket_ms || ':' || n)",
            Store::Postgres(_) => "string_agg(bucket_ms || ':' || n, ',')",
        };
        let hourly = format!(
            "SELECT endpoint_id, hour, {buckets} FROM attempt_latency_hourly{} AND n <> 0 \
             GROUP BY hour, endpoint_id",
            conditions.sql()
        );
        ([packed, hourly], conditions)
    }

    /// The read of `delivery_counts_by_hour`, and its conditions.
    pub(crate) fn delivery_counts_query(
        merchant: &MerchantId,
        endpoint: Option<&EndpointId>,
        live_mode: Option<bool>,
        from_hour: i64,
    ) -> (String, Conditions) {
        let conditions = window_of(merchant, endpoint, live_mode, from_hour);
        // The rows as stored, in key order: the live and test rows of an
        // hour are added up by the caller. A GROUP BY here made the
        // database sort a week's rows first.
        let sql = format!(
            "SELECT endpoint_id, hour, status, n FROM delivery_counts_hourly{} AND n <> 0",
            conditions.sql()
        );
        (sql, conditions)
    }
}

impl Store {
    /// Counts the rollups and stored-row counts again from the rows, as
    /// migration 0009 first did: for a database filled with its triggers
    /// off (a bulk load under PostgreSQL's `session_replication_role =
    /// replica`, as the history bench does); the latency comes back as
    /// hourly rows, for the fold to pack. One transaction; it reads
    /// every delivery and attempt, so it is not for a database in service.
    pub async fn rebuild_rollups(&self) -> StoreResult<()> {
        let statements = [
            "DELETE FROM delivery_counts_hourly".to_owned(),
            "DELETE FROM attempt_latency_hourly".to_owned(),
            "DELETE FROM attempt_latency_packed".to_owned(),
            "DELETE FROM stored_row_counts".to_owned(),
            "INSERT INTO delivery_counts_hourly (merchant_id, hour, endpoint_id, live_mode, status, n) \
             SELECT d.merchant_id, d.created_at / 3600000, d.endpoint_id, e.live_mode, d.status, COUNT(*) \
             FROM deliveries d JOIN events e ON e.id = d.event_id \
             WHERE d.endpoint_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5"
                .to_owned(),
            format!(
                "INSERT INTO attempt_latency_hourly (merchant_id, hour, endpoint_id, live_mode, bucket_ms, n) \
                 SELECT d.merchant_id, a.started_at / 3600000, d.endpoint_id, e.live_mode, {}, COUNT(*) \
                 FROM attempts a JOIN deliveries d ON d.id = a.delivery_id JOIN events e ON e.id = d.event_id \
                 WHERE d.endpoint_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5",
                latency_bucket_sql("a.duration_ms")
            ),
            "INSERT INTO stored_row_counts (table_name, slot, n) \
             SELECT 'events', 0, COUNT(*) FROM events \
             UNION ALL SELECT 'deliveries', 0, COUNT(*) FROM deliveries \
             UNION ALL SELECT 'attempts', 0, COUNT(*) FROM attempts"
                .to_owned(),
        ];
        let _turn = self.write_turn().await;
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for statement in &statements {
                sqlx::query(statement).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok::<(), sqlx::Error>(())
        })?;
        Ok(())
    }
}

/// The rollup rows of the merchant's endpoints (or one) from `from_hour`
/// on, of one mode when `live_mode` says which: a range of the rollups'
/// primary key (merchant, hour, …).
fn window_of(
    merchant: &MerchantId,
    endpoint: Option<&EndpointId>,
    live_mode: Option<bool>,
    from_hour: i64,
) -> Conditions {
    let mut conditions = Conditions::new();
    conditions.when(Some(merchant.as_str()), |p| format!("merchant_id = {p}"));
    conditions.when(Some(from_hour), |p| format!("hour >= {p}"));
    conditions.when(endpoint.map(EndpointId::as_str), |p| {
        format!("endpoint_id = {p}")
    });
    conditions.when(live_mode, |p| format!("live_mode = {p}"));
    conditions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_exact_below_64_ms_then_a_32nd_of_their_value() {
        for ms in 0..64 {
            assert_eq!(latency_bucket(ms), ms);
            assert_eq!(latency_bucket_upper(ms), ms);
        }
        assert_eq!(latency_bucket(64), 64);
        assert_eq!(latency_bucket(65), 64);
        assert_eq!(latency_bucket_upper(64), 65);
        assert_eq!(latency_bucket(5000), 4992);
        assert_eq!(latency_bucket_upper(4992), 5119);
        // Every duration lies in its bucket, reported under 1/32 above it.
        for ms in (0..3_000_000u64).step_by(7) {
            let low = latency_bucket(ms);
            let high = latency_bucket_upper(low);
            assert!(low <= ms && ms <= high, "{ms}: {low}..={high}");
            assert!((high - ms) * 32 <= ms.max(1), "{ms}: {high}");
            assert_eq!(latency_bucket(high), low, "{ms}");
        }
    }

    #[test]
    fn the_sql_bucket_has_a_branch_per_power_of_two() {
        let sql = latency_bucket_sql("d");
        assert!(sql.starts_with("CASE WHEN d < 64 THEN d WHEN d < 128 THEN (d >> 1) << 1"));
        assert!(sql.contains("WHEN d < 2097152 THEN (d >> 15) << 15"));
        assert!(sql.ends_with("ELSE (d >> 16) << 16 END"));
    }
}
