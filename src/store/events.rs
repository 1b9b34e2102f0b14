//! Events: ingest (event + fan-out in one transaction) and the merchant's reads.

use super::{from_millis, keyset, on_pool, to_millis, StoreError, StoreResult};
use crate::store::Store;
use chrono::{DateTime, Utc};
use herald_app::model::event::Event;
use herald_app::model::id::{DeliveryId, EndpointId, EventId, MerchantId};

/// An event to store, validated by the ingest service.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub id: EventId,
    pub merchant_id: MerchantId,
    pub event_type: String,
    /// The `data` object as JSON text.
    pub payload: String,
    pub idempotency_key: Option<String>,
    pub callback_url: Option<String>,
    pub ordering_key: Option<String>,
    pub live_mode: bool,
    pub created_at: DateTime<Utc>,
    /// Deliver only to this endpoint of the merchant (test events), if it is enabled.
    pub only_endpoint: Option<EndpointId>,
}

/// What storing one event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    /// Stored, with this many deliveries.
    Created { id: EventId, deliveries: u64 },
    /// The idempotency key was used before: the earlier event, nothing new.
    Duplicate { id: EventId, deliveries: u64 },
}

/// Chooses the endpoints an event goes to: (filter of an endpoint, event type) → yes/no.
pub type FanOut = fn(&[String], &str) -> bool;

#[derive(sqlx::FromRow)]
struct EventRow {
    id: String,
    merchant_id: String,
    event_type: String,
    payload: String,
    idempotency_key: Option<String>,
    callback_url: Option<String>,
    ordering_key: Option<String>,
    live_mode: bool,
    created_at: i64,
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("event: {e}"))
}

impl TryFrom<EventRow> for Event {
    type Error = StoreError;
    fn try_from(row: EventRow) -> StoreResult<Self> {
        Ok(Event {
            id: EventId::parse(&row.id).map_err(corrupt)?,
            merchant_id: MerchantId::parse(&row.merchant_id).map_err(corrupt)?,
            event_type: row.event_type,
            data: serde_json::from_str(&row.payload).map_err(corrupt)?,
            idempotency_key: row.idempotency_key,
            callback_url: row.callback_url,
            ordering_key: row.ordering_key,
            live_mode: row.live_mode,
            created_at: from_millis(row.created_at)?,
        })
    }
}

pub(crate) const EVENT_COLUMNS: &str = "id, merchant_id, event_type, payload, idempotency_key, \
     callback_url, ordering_key, live_mode, created_at";

/// Filters for a merchant's event list.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub event_type: Option<String>,
    pub since: Option<DateTime<Utc>>,
    /// Only events strictly older than this (keyset cursor): (created_at, id).
    pub before: Option<(DateTime<Utc>, EventId)>,
    pub limit: u32,
}

impl Store {
    /// Stores events and their deliveries in one transaction (a group commit:
    /// one fsync for the whole batch). Each event either is new, with one
    /// delivery per matching enabled endpoint (or one to its callback URL),
    /// or repeats an idempotency key and adds nothing.
    pub async fn ingest(&self, events: &[NewEvent], fan_out: FanOut) -> StoreResult<Vec<Ingested>> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut results = Vec::with_capacity(events.len());
            for event in events {
                let inserted = sqlx::query(
                    "INSERT INTO events (id, merchant_id, event_type, payload, idempotency_key, \
                                         callback_url, ordering_key, live_mode, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                     ON CONFLICT (merchant_id, idempotency_key) WHERE idempotency_key IS NOT NULL \
                     DO NOTHING",
                )
                .bind(event.id.as_str())
                .bind(event.merchant_id.as_str())
                .bind(&event.event_type)
                .bind(&event.payload)
                .bind(&event.idempotency_key)
                .bind(&event.callback_url)
                .bind(&event.ordering_key)
                .bind(event.live_mode)
                .bind(to_millis(event.created_at))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted == 0 {
                    let (id, deliveries): (String, i64) = sqlx::query_as(
                        "SELECT e.id, (SELECT COUNT(*) FROM deliveries d WHERE d.event_id = e.id) \
                         FROM events e WHERE e.merchant_id = $1 AND e.idempotency_key = $2",
                    )
                    .bind(event.merchant_id.as_str())
                    .bind(&event.idempotency_key)
                    .fetch_one(&mut *tx)
                    .await?;
                    results.push(Ingested::Duplicate {
                        id: EventId::parse(&id).map_err(corrupt)?,
                        deliveries: u64::try_from(deliveries).unwrap_or(0),
                    });
                    continue;
                }
                let destinations: Vec<(Option<String>, Option<&str>)> = match &event.callback_url {
                    Some(url) => vec![(None, Some(url.as_str()))],
                    None => {
                        let endpoints: Vec<(String, String)> = sqlx::query_as(
                            "SELECT id, event_types FROM endpoints \
                             WHERE merchant_id = $1 AND disabled_at IS NULL ORDER BY id",
                        )
                        .bind(event.merchant_id.as_str())
                        .fetch_all(&mut *tx)
                        .await?;
                        let mut chosen = Vec::new();
                        for (id, filter) in endpoints {
                            let chosen_one = match &event.only_endpoint {
                                Some(only) => only.as_str() == id,
                                None => {
                                    let filter: Vec<String> =
                                        serde_json::from_str(&filter).map_err(corrupt)?;
                                    fan_out(&filter, &event.event_type)
                                }
                            };
                            if chosen_one {
                                chosen.push((Some(id), None));
                            }
                        }
                        chosen
                    }
                };
                for (endpoint_id, callback_url) in &destinations {
                    sqlx::query(
                        "INSERT INTO deliveries (id, event_id, merchant_id, endpoint_id, callback_url, \
                                                 event_type, ordering_key, status, next_attempt_at, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $8)",
                    )
                    .bind(DeliveryId::generate().as_str())
                    .bind(event.id.as_str())
                    .bind(event.merchant_id.as_str())
                    .bind(endpoint_id)
                    .bind(callback_url)
                    .bind(&event.event_type)
                    .bind(&event.ordering_key)
                    .bind(to_millis(event.created_at))
                    .execute(&mut *tx)
                    .await?;
                }
                results.push(Ingested::Created {
                    id: event.id.clone(),
                    deliveries: destinations.len() as u64,
                });
            }
            if matches!(self, Store::Postgres(_)) {
                // Wake the other Herald processes' dispatchers at commit.
                sqlx::query("SELECT pg_notify('herald_work', '')").execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(results)
        })
    }

    /// One of the merchant's events.
    pub async fn event(&self, merchant: &MerchantId, id: &EventId) -> StoreResult<Option<Event>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1 AND merchant_id = $2");
        let row: Option<EventRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(id.as_str())
            .bind(merchant.as_str())
            .fetch_optional(pool)
            .await)?;
        row.map(Event::try_from).transpose()
    }

    /// The merchant's events, newest first, one page.
    pub async fn list_events(
        &self,
        merchant: &MerchantId,
        filter: &EventFilter,
    ) -> StoreResult<Vec<Event>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events \
             WHERE merchant_id = $1 \
               AND ($2 IS NULL OR event_type = $2) \
               AND ($3 IS NULL OR created_at >= $3) \
               AND ($4 IS NULL OR created_at < $4 OR (created_at = $4 AND id < $5)) \
             ORDER BY created_at DESC, id DESC LIMIT $6"
        );
        let (before_at, before_id) = keyset(&filter.before);
        let rows: Vec<EventRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(merchant.as_str())
            .bind(&filter.event_type)
            .bind(filter.since.map(to_millis))
            .bind(before_at)
            .bind(before_id)
            .bind(i64::from(filter.limit))
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(Event::try_from).collect()
    }
}
