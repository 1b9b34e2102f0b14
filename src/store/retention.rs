//! History kept bounded: deleting old events (their deliveries, attempts and
//! tags go with them, by foreign key), and what is stored.

use super::{from_millis, on_pool, to_millis, Store, StoreResult};
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
    pub async fn purge_events_before(&self, before: DateTime<Utc>, batch: u32) -> StoreResult<u64> {
        let _turn = self.write_turn().await;
        let deleted = on_pool!(self, pool => sqlx::query(
            "DELETE FROM events WHERE id IN ( \
                 SELECT e.id FROM events e \
                 WHERE e.created_at < $1 \
                   AND NOT EXISTS (SELECT 1 FROM deliveries d \
                                   WHERE d.event_id = e.id AND d.status = 'pending') \
                 ORDER BY e.created_at LIMIT $2)",
        )
        .bind(to_millis(before))
        .bind(i64::from(batch))
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(deleted)
    }

    /// How many events, deliveries and attempts are stored, and the oldest event's time.
    pub async fn stored_counts(&self) -> StoreResult<StoredCounts> {
        let (events, deliveries, attempts, oldest): (i64, i64, i64, Option<i64>) = on_pool!(self, pool => sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM deliveries), \
                        (SELECT COUNT(*) FROM attempts), (SELECT MIN(created_at) FROM events)",
            )
            .fetch_one(pool)
            .await)?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(StoredCounts {
            events: count(events),
            deliveries: count(deliveries),
            attempts: count(attempts),
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
