//! History kept bounded: deleting old events (their deliveries, attempts and
//! tags go with them, by foreign key; the statistics rollups lose them),
//! and what is stored.

use super::stats::latency_bucket_sql;
use super::{from_millis, json_list, json_values, on_pool, to_millis, Store, StoreResult};
use chrono::{DateTime, Utc};

/// Row counts and the oldest event, for operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredCounts {
    pub events: u64,
    pub deliveries: u64,
    pub attempts: u64,
    pub oldest_event_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Deletes up to `batch` of the oldest events created before `before`
    /// that have no delivery still pending (those wait for a later sweep),
    /// with everything that hangs off them; how many events went.
    ///
    /// In the same transaction, the statistics rollups lose what is deleted
    /// (a trigger cannot do it: by the time the cascade reaches a delivery,
    /// its event, which says live or test, is gone), and rollup rows left
    /// at zero go too. The events and their deliveries are locked first on
    /// PostgreSQL, and SQLite's transaction holds the write lock from its
    /// start, so what is subtracted is exactly what is deleted: a retry
    /// cannot make one of them pending in between.
    pub async fn purge_events_before(&self, before: DateTime<Utc>, batch: u32) -> StoreResult<u64> {
        let _turn = self.write_turn().await;
        let postgres = matches!(self, Store::Postgres(_));
        let ids = json_values(self, 1);
        // The events of `$1` (a JSON list of ids) that may go: nothing of
        // theirs is pending. Every statement below names the same rows.
        let doomed = format!(
            "SELECT e.id FROM events e WHERE e.id IN ({ids}) \
               AND NOT EXISTS (SELECT 1 FROM deliveries p \
                               WHERE p.event_id = e.id AND p.status = 'pending')"
        );
        let subtract_counts = format!(
            "INSERT INTO delivery_counts_hourly AS c \
               (merchant_id, hour, endpoint_id, live_mode, status, n) \
             SELECT d.merchant_id, d.created_at / 3600000, d.endpoint_id, e.live_mode, d.status, \
                    -COUNT(*) \
             FROM deliveries d JOIN events e ON e.id = d.event_id \
             WHERE d.event_id IN ({doomed}) AND d.endpoint_id IS NOT NULL \
             GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5 \
             ON CONFLICT (merchant_id, hour, endpoint_id, live_mode, status) \
             DO UPDATE SET n = c.n + excluded.n"
        );
        let subtract_latency = format!(
            "INSERT INTO attempt_latency_hourly AS c \
               (merchant_id, hour, endpoint_id, live_mode, bucket_ms, n) \
             SELECT d.merchant_id, a.started_at / 3600000, d.endpoint_id, e.live_mode, {}, \
                    -COUNT(*) \
             FROM attempts a JOIN deliveries d ON d.id = a.delivery_id \
               JOIN events e ON e.id = d.event_id \
             WHERE d.event_id IN ({doomed}) AND d.endpoint_id IS NOT NULL \
             GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5 \
             ON CONFLICT (merchant_id, hour, endpoint_id, live_mode, bucket_ms) \
             DO UPDATE SET n = c.n + excluded.n",
            latency_bucket_sql("a.duration_ms")
        );
        // Rows brought to zero: only among the hours and endpoints just
        // subtracted from (the rollups' primary key starts with them).
        let drop_empty = |table: &str, hour: &str| {
            format!(
                "DELETE FROM {table} WHERE n = 0 AND (merchant_id, hour, endpoint_id) IN ( \
                   SELECT d.merchant_id, {hour} / 3600000, d.endpoint_id \
                   FROM deliveries d{} \
                   WHERE d.event_id IN ({doomed}) AND d.endpoint_id IS NOT NULL)",
                if hour.starts_with("a.") {
                    " JOIN attempts a ON a.delivery_id = d.id"
                } else {
                    ""
                }
            )
        };
        let drop_empty_counts = drop_empty("delivery_counts_hourly", "d.created_at");
        let drop_empty_latency = drop_empty("attempt_latency_hourly", "a.started_at");
        let delete = format!("DELETE FROM events WHERE id IN ({doomed})");
        let deleted = on_pool!(self, pool => {
            let mut tx = pool
                .begin_with(if postgres { "BEGIN" } else { "BEGIN IMMEDIATE" })
                .await?;
            let candidates: Vec<(String,)> = sqlx::query_as(
                "SELECT e.id FROM events e \
                 WHERE e.created_at < $1 \
                   AND NOT EXISTS (SELECT 1 FROM deliveries d \
                                   WHERE d.event_id = e.id AND d.status = 'pending') \
                 ORDER BY e.created_at LIMIT $2",
            )
            .bind(to_millis(before))
            .bind(i64::from(batch))
            .fetch_all(&mut *tx)
            .await?;
            if candidates.is_empty() {
                return Ok(0);
            }
            let list = json_list(&candidates.into_iter().map(|(id,)| id).collect::<Vec<_>>());
            if postgres {
                // The stored-row counts of what this deletes go to a slot of
                // retention's own (see migration 0009): holding rollup rows,
                // it never waits for a slot an ingest holds.
                sqlx::query("SET LOCAL herald.count_slot = '16'")
                    .execute(&mut *tx)
                    .await?;
                // Events, then their deliveries (the order deleting takes).
                for lock in [
                    format!("SELECT id FROM events WHERE id IN ({ids}) ORDER BY id FOR UPDATE"),
                    format!(
                        "SELECT id FROM deliveries WHERE event_id IN ({ids}) ORDER BY id FOR UPDATE"
                    ),
                ] {
                    sqlx::query(&lock).bind(&list).execute(&mut *tx).await?;
                }
            }
            for statement in [
                &subtract_counts,
                &subtract_latency,
                &drop_empty_counts,
                &drop_empty_latency,
            ] {
                sqlx::query(statement).bind(&list).execute(&mut *tx).await?;
            }
            let deleted = sqlx::query(&delete)
                .bind(&list)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok::<u64, sqlx::Error>(deleted)
        })?;
        Ok(deleted)
    }

    /// How many events, deliveries and attempts are stored, and the oldest
    /// event's time: the counts kept by migration 0009's triggers (a few
    /// rows, whatever the history), the oldest from the end of an index.
    pub async fn stored_counts(&self) -> StoreResult<StoredCounts> {
        let counts: Vec<(String, i64)> = on_pool!(self, pool => sqlx::query_as(
                "SELECT table_name, CAST(SUM(n) AS BIGINT) FROM stored_row_counts GROUP BY table_name",
            )
            .fetch_all(pool)
            .await)?;
        let oldest: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(
                "SELECT MIN(created_at) FROM events",
            )
            .fetch_one(pool)
            .await)?;
        let count = |table: &str| {
            counts
                .iter()
                .find(|(name, _)| name == table)
                .map_or(0, |(_, n)| u64::try_from(*n).unwrap_or(0))
        };
        Ok(StoredCounts {
            events: count("events"),
            deliveries: count("deliveries"),
            attempts: count("attempts"),
            oldest_event_at: oldest.map(from_millis).transpose()?,
        })
    }

    /// The database's size on disk, in bytes, where the database says it.
    pub async fn database_bytes(&self) -> StoreResult<Option<u64>> {
        let bytes: Option<i64> =
            match self {
                Store::Sqlite(pools) => sqlx::query_scalar(
                    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                )
                .fetch_one(&pools.main)
                .await?,
                Store::Postgres(pools) => {
                    sqlx::query_scalar("SELECT pg_database_size(current_database())")
                        .fetch_one(&pools.main)
                        .await?
                }
            };
        Ok(bytes.and_then(|b| u64::try_from(b).ok()))
    }
}
