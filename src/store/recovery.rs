//! What an endpoint missed: the merchant's events that it never got a
//! delivery for (ingested while it was disabled, or before it existed), and
//! the deliveries that send them to it late.

use super::notifications::NotifyWork;
use super::{from_millis, on_pool, to_millis, Store, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use herald_app::model::id::{DeliveryId, EndpointId, EventId, MerchantId};

/// The most rows one insert of recovered deliveries writes (nine values
/// each: well under either database's limit on bind parameters).
const ROWS_PER_INSERT: usize = 500;

/// Which events an endpoint may have missed: the merchant's, of the
/// endpoint's mode, created in `[since, until)`, after the keyset `after`.
#[derive(Debug, Clone)]
pub struct MissedQuery {
    pub merchant: MerchantId,
    pub endpoint: EndpointId,
    /// Live events for a live endpoint, test events for a test one.
    pub live_mode: bool,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// Only events after this one (created_at, id), oldest first.
    pub after: Option<(DateTime<Utc>, EventId)>,
    pub limit: u32,
}

/// An event the endpoint has no delivery for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissedEvent {
    pub id: EventId,
    pub event_type: String,
    pub ordering_key: Option<String>,
    pub created_at: DateTime<Utc>,
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("event: {e}"))
}

impl Store {
    /// One page, oldest first, of the events matching `query` that the
    /// endpoint has no delivery for. Left out: events sent to a callback URL
    /// (they never go to endpoints), test events sent to one endpoint
    /// (they go nowhere else) and operational events about this endpoint. The event-type filter is the caller's: it
    /// has wildcards, which are matched the same way as at ingest.
    pub async fn missed_events(&self, query: &MissedQuery) -> StoreResult<Vec<MissedEvent>> {
        let (after_at, after_id) = match &query.after {
            Some((at, id)) => (Some(to_millis(*at)), Some(id.as_str())),
            None => (None, None),
        };
        let rows: Vec<(String, String, Option<String>, i64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT e.id, e.event_type, e.ordering_key, e.created_at FROM events e \
             WHERE e.merchant_id = $1 AND e.live_mode = $3 \
               AND e.callback_url IS NULL AND e.only_endpoint_id IS NULL \
               AND (e.about_endpoint_id IS NULL OR e.about_endpoint_id <> $2) \
               AND e.created_at >= $4 AND e.created_at < $5 \
               AND ($6 IS NULL OR e.created_at > $6 OR (e.created_at = $6 AND e.id > $7)) \
               AND NOT EXISTS (SELECT 1 FROM deliveries d \
                               WHERE d.event_id = e.id AND d.endpoint_id = $2) \
             ORDER BY e.created_at, e.id LIMIT $8",
        )
        .bind(query.merchant.as_str())
        .bind(query.endpoint.as_str())
        .bind(query.live_mode)
        .bind(to_millis(query.since))
        .bind(to_millis(query.until))
        .bind(after_at)
        .bind(after_id)
        .bind(i64::from(query.limit))
        .fetch_all(pool)
        .await)?;
        rows.into_iter()
            .map(|(id, event_type, ordering_key, created_at)| {
                Ok(MissedEvent {
                    id: EventId::parse(&id).map_err(corrupt)?,
                    event_type,
                    ordering_key,
                    created_at: from_millis(created_at)?,
                })
            })
            .collect()
    }

    /// Gives the merchant's endpoint one delivery, due now, per event, in
    /// the order given (per-key ordering follows delivery ids). An event it
    /// got a delivery for meanwhile (a recover running beside this one) is
    /// skipped by the one-delivery-per-event-and-endpoint index. Returns how
    /// many were added, in one transaction.
    pub async fn insert_recovered_deliveries(
        &self,
        merchant: &MerchantId,
        endpoint: &EndpointId,
        events: &[MissedEvent],
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        if events.is_empty() {
            return Ok(0);
        }
        let ids: Vec<DeliveryId> = events.iter().map(|_| DeliveryId::generate()).collect();
        let _turn = self.write_turn().await;
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut added = 0;
            for (chunk, ids) in events.chunks(ROWS_PER_INSERT).zip(ids.chunks(ROWS_PER_INSERT)) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO deliveries (id, event_id, merchant_id, endpoint_id, event_type, \
                                             ordering_key, status, next_attempt_at, created_at) ",
                );
                insert.push_values(chunk.iter().zip(ids), |mut row, (event, id)| {
                    row.push_bind(id.as_str())
                        .push_bind(event.id.as_str())
                        .push_bind(merchant.as_str())
                        .push_bind(endpoint.as_str())
                        .push_bind(event.event_type.as_str())
                        .push_bind(event.ordering_key.as_deref())
                        .push_bind("pending")
                        .push_bind(to_millis(now))
                        .push_bind(to_millis(now));
                });
                insert.push(" ON CONFLICT DO NOTHING");
                added += insert.build().execute(&mut *tx).await?.rows_affected();
            }
            if added > 0 {
                tx.notify_work().await?;
            }
            tx.commit().await?;
            Ok::<u64, sqlx::Error>(added)
        })
        .map_err(StoreError::from)
    }
}
