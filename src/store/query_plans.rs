//! How the database would run the list queries and the stats reads: what
//! `tests/it/query_plans.rs` reads to notice a query that stopped being
//! served by an index, and what an operator can print when a page is slow.

use super::conditions::{bind_values, Conditions};
use super::delivery_views::delivery_list_query;
use super::events::event_list_query;
use super::{DeliveryFilter, EventFilter, Store, StoreResult};
use herald_app::model::id::MerchantId;

impl Store {
    /// The plan of `Store::list_events` for these filters.
    pub async fn explain_event_list(
        &self,
        merchant: &MerchantId,
        filter: &EventFilter,
    ) -> StoreResult<String> {
        let (sql, conditions) = event_list_query(merchant, filter);
        self.explain(&sql, &conditions).await
    }

    /// The plan of `Store::list_deliveries` for these filters.
    pub async fn explain_delivery_list(&self, filter: &DeliveryFilter) -> StoreResult<String> {
        let (sql, conditions) = delivery_list_query(filter);
        self.explain(&sql, &conditions).await
    }

    /// The plans of the stats reads of the merchant's window from
    /// `from_hour` on: delivery counts, packed latency rows, hourly latency
    /// rows (`delivery_counts_by_hour`, `attempt_latency_by_hour`).
    pub async fn explain_stats_reads(
        &self,
        merchant: &MerchantId,
        from_hour: i64,
    ) -> StoreResult<Vec<String>> {
        let (counts, conditions) = Store::delivery_counts_query(merchant, None, None, from_hour);
        let mut plans = vec![self.explain(&counts, &conditions).await?];
        let (latency, conditions) = self.latency_queries(merchant, None, None, from_hour);
        for sql in &latency {
            plans.push(self.explain(sql, &conditions).await?);
        }
        Ok(plans)
    }

    /// The plan, one step a line. SQLite's planner assumes big tables when
    /// it has no statistics, so its plan is the one a full database gets.
    /// PostgreSQL's would scan a small table whatever its indexes, so it is
    /// asked with sequential scans priced out: a `Seq Scan` then means no
    /// index can serve the query.
    async fn explain(&self, sql: &str, conditions: &Conditions) -> StoreResult<String> {
        let lines: Vec<String> = match self {
            Store::Sqlite(pools) => {
                let explain = format!("EXPLAIN QUERY PLAN {sql}");
                let rows: Vec<(i64, i64, i64, String)> =
                    bind_values!(sqlx::query_as(&explain), conditions.values())
                        .fetch_all(&pools.main)
                        .await?;
                rows.into_iter().map(|(_, _, _, detail)| detail).collect()
            }
            Store::Postgres(pools) => {
                let explain = format!("EXPLAIN {sql}");
                let mut tx = pools.main.begin().await?;
                sqlx::query("SET LOCAL enable_seqscan = off")
                    .execute(&mut *tx)
                    .await?;
                let lines = bind_values!(sqlx::query_scalar(&explain), conditions.values())
                    .fetch_all(&mut *tx)
                    .await?;
                tx.rollback().await?;
                lines
            }
        };
        Ok(lines.join("\n"))
    }
}
