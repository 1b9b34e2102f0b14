//! Events: ingest (event + fan-out in one transaction) and the merchant's reads.

use super::deliveries::{EndpointSending, ENDPOINT_SENDING_COLUMNS};
use super::{
    from_millis, json_list, json_values, keyset, on_pool, to_millis, StoreError, StoreResult,
};
use crate::store::{ClaimedDelivery, Destination, Store};
use chrono::{DateTime, Utc};
use herald_app::model::event::Event;
use herald_app::model::id::{DeliveryId, EndpointId, EventId, MerchantId};
use std::collections::{HashMap, HashSet};

/// The most rows written by one multi-row insert (about ten values each:
/// well under SQLite's and PostgreSQL's limits on bind parameters).
const ROWS_PER_INSERT: usize = 1000;

/// An event to store, validated by the ingest service as far as it can be
/// without the database; `Store::ingest` checks the rest.
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

/// Why `Store::ingest` did not take one event of a batch (the others are
/// unaffected). Checked inside the batch's transaction: two reads per
/// batch instead of two per event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestRefusal {
    /// No merchant has the event's merchant id.
    UnknownMerchant,
    /// The catalog has no event type of that name.
    UnknownType,
    /// The event type is in the catalog but archived.
    ArchivedType,
}

/// Chooses the endpoints an event goes to: (filter of an endpoint, event type) → yes/no.
pub type FanOut = fn(&[String], &str) -> bool;

/// New deliveries the caller will send itself. Ingest writes them already
/// leased to `owner`, in the event's own transaction, so no claim has to
/// find them and no read has to bring back what was just written.
pub struct LeaseOffer<'a> {
    pub owner: &'a str,
    pub lease_until: DateTime<Utc>,
    /// Asked once for each new delivery to an endpoint whose event has no
    /// ordering key (those wait for their turn, which only a claim knows):
    /// does the caller have room for it now, within its merchant's share?
    pub take: &'a mut (dyn FnMut(&MerchantId, &EndpointId) -> bool + Send),
}

/// What storing a batch did.
#[derive(Debug)]
pub struct IngestedBatch {
    /// One answer per event, in the order given.
    pub answers: Vec<Result<Ingested, IngestRefusal>>,
    /// The deliveries leased to the caller, in the order `take` said yes.
    pub leased: Vec<ClaimedDelivery>,
    /// New deliveries left for the dispatcher to claim.
    pub unleased: usize,
}

/// An enabled endpoint of a merchant in the batch, with its filter and
/// where its leased deliveries go (built once per batch, not per delivery).
struct FanOutTarget {
    filter: Vec<String>,
    id: EndpointId,
    destination: Destination,
}

#[derive(sqlx::FromRow)]
struct FanOutRow {
    merchant_id: String,
    event_types: String,
    #[sqlx(flatten)]
    sending: EndpointSending,
}

/// Where `Store::ingest` reads a batch's merchants, types and endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadsAt {
    /// Before taking the write turn: it is held for the writes alone.
    BeforeTurn,
    /// Holding the write turn (SQLite), so nothing changes them meanwhile.
    InTurn,
}

/// One new delivery row.
struct NewDelivery<'a> {
    id: DeliveryId,
    event: &'a NewEvent,
    endpoint: Option<&'a FanOutTarget>,
    callback_url: Option<&'a str>,
    /// Leased to the caller (`LeaseOffer`).
    leased: bool,
}

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
    /// Only live events (`true`) or only test-mode ones (`false`).
    pub live_mode: Option<bool>,
    /// Only events strictly older than this (keyset cursor): (created_at, id).
    pub before: Option<(DateTime<Utc>, EventId)>,
    pub limit: u32,
}

impl Store {
    /// Stores events and their deliveries in one transaction (a group commit:
    /// one fsync for the whole batch). Each event either is new, with one
    /// delivery per matching enabled endpoint (or one to its callback URL),
    /// or repeats an idempotency key and adds nothing.
    ///
    /// The batch costs a few round trips, not a few per event: one read
    /// each of its merchants, its event types (an event whose merchant or
    /// type is unknown, or whose type is archived, is refused and the rest
    /// go on) and its merchants' endpoints, all before the write turn; then
    /// one multi-row insert for the events and one for the deliveries (per
    /// `ROWS_PER_INSERT` rows). The answers are in the order of `events`.
    ///
    /// With a `lease`, the deliveries it takes are written leased to its
    /// owner and come back ready to send.
    pub async fn ingest(
        &self,
        events: &[NewEvent],
        fan_out: FanOut,
        lease: Option<LeaseOffer<'_>>,
    ) -> StoreResult<IngestedBatch> {
        if events.is_empty() {
            return Ok(IngestedBatch {
                answers: Vec::new(),
                leased: Vec::new(),
                unleased: 0,
            });
        }
        match self
            .ingest_batch(events, fan_out, lease, ReadsAt::BeforeTurn)
            .await
        {
            Err(StoreError::Database(sqlx::Error::Database(e)))
                if e.kind() == sqlx::error::ErrorKind::ForeignKeyViolation =>
            {
                // A merchant or endpoint read before the transaction was
                // deleted since: read them again where nothing can change
                // them. Without the lease offer (the room it took for the
                // first try is given back by its caller).
                self.ingest_batch(events, fan_out, None, ReadsAt::InTurn)
                    .await
            }
            other => other,
        }
    }

    async fn ingest_batch(
        &self,
        events: &[NewEvent],
        fan_out: FanOut,
        mut lease: Option<LeaseOffer<'_>>,
        reads_at: ReadsAt,
    ) -> StoreResult<IngestedBatch> {
        // The statements' text changes with the row count. PostgreSQL keeps
        // prepared statements in its own backends, where re-planning a
        // 256-row insert would cost more than the cache; on SQLite they
        // live in this process, one per batch size, so they are not kept.
        let keep_prepared = matches!(self, Store::Postgres(_));
        on_pool!(self, pool => {
            // The connection first: checking it out (sqlx pings it) need
            // not hold the write turn.
            let mut conn = pool.acquire().await?;
            let early_turn = match reads_at {
                ReadsAt::InTurn => self.write_turn().await,
                ReadsAt::BeforeTurn => None,
            };
            // The batch's merchants, event types and endpoints are read
            // before the write turn (on SQLite each statement holding it is
            // a hand-off to sqlx's thread that every other writer waits
            // behind). What changes in between is as if the batch had come
            // a moment earlier; a merchant or endpoint deleted meanwhile
            // fails the foreign keys, and `ingest` reads again in the turn.
            let merchant_ids: Vec<&str> = events.iter().map(|e| e.merchant_id.as_str()).collect();
            let known_merchants: HashSet<String> = sqlx::query_as::<_, (String,)>(&format!(
                "SELECT id FROM merchants WHERE id IN ({})",
                json_values(self, 1)
            ))
            .bind(json_list(&merchant_ids))
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|(id,)| id)
            .collect();
            let type_names: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
            let archived_types: HashMap<String, bool> = sqlx::query_as::<_, (String, Option<i64>)>(&format!(
                "SELECT name, archived_at FROM event_types WHERE name IN ({})",
                json_values(self, 1)
            ))
            .bind(json_list(&type_names))
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|(name, archived_at)| (name, archived_at.is_some()))
            .collect();
            // The enabled endpoints of every merchant whose events fan out,
            // in one read.
            let fanning_out: Vec<&str> = events
                .iter()
                .filter(|e| e.callback_url.is_none() && known_merchants.contains(e.merchant_id.as_str()))
                .map(|e| e.merchant_id.as_str())
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            let mut targets_of: HashMap<String, Vec<FanOutTarget>> = HashMap::new();
            let now = Utc::now();
            if !fanning_out.is_empty() {
                let rows: Vec<FanOutRow> = sqlx::query_as(&format!(
                    "SELECT merchant_id, event_types, {ENDPOINT_SENDING_COLUMNS} FROM endpoints \
                     WHERE merchant_id IN ({}) AND disabled_at IS NULL ORDER BY id",
                    json_values(self, 1)
                ))
                .bind(json_list(&fanning_out))
                .fetch_all(&mut *conn)
                .await?;
                for row in rows {
                    let target = FanOutTarget {
                        filter: serde_json::from_str(&row.event_types).map_err(corrupt)?,
                        id: EndpointId::parse(&row.sending.id).map_err(corrupt)?,
                        destination: row.sending.destination(now)?,
                    };
                    targets_of.entry(row.merchant_id).or_default().push(target);
                }
            }
            let _turn = match early_turn {
                Some(turn) => Some(turn),
                None => self.write_turn().await,
            };
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            let refusals: Vec<Option<IngestRefusal>> = events
                .iter()
                .map(|event| {
                    if !known_merchants.contains(event.merchant_id.as_str()) {
                        Some(IngestRefusal::UnknownMerchant)
                    } else {
                        match archived_types.get(&event.event_type) {
                            None => Some(IngestRefusal::UnknownType),
                            Some(true) => Some(IngestRefusal::ArchivedType),
                            Some(false) => None,
                        }
                    }
                })
                .collect();
            let events: Vec<&NewEvent> = events
                .iter()
                .zip(&refusals)
                .filter(|(_, refusal)| refusal.is_none())
                .map(|(event, _)| event)
                .collect();

            // Repeats of an idempotency key (stored before, or earlier in this
            // batch) are skipped by the conflict clause and not returned.
            let mut stored: HashSet<String> = HashSet::with_capacity(events.len());
            for chunk in events.chunks(ROWS_PER_INSERT) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO events (id, merchant_id, event_type, payload, idempotency_key, \
                                         callback_url, ordering_key, live_mode, created_at) ",
                );
                insert.push_values(chunk, |mut row, event| {
                    row.push_bind(event.id.as_str())
                        .push_bind(event.merchant_id.as_str())
                        .push_bind(event.event_type.as_str())
                        .push_bind(event.payload.as_str())
                        .push_bind(event.idempotency_key.as_deref())
                        .push_bind(event.callback_url.as_deref())
                        .push_bind(event.ordering_key.as_deref())
                        .push_bind(event.live_mode)
                        .push_bind(to_millis(event.created_at));
                });
                insert.push(
                    " ON CONFLICT (merchant_id, idempotency_key) WHERE idempotency_key IS NOT NULL \
                     DO NOTHING RETURNING id",
                );
                stored.extend(
                    insert
                        .build_query_as::<(String,)>()
                        .persistent(keep_prepared)
                        .fetch_all(&mut *tx)
                        .await?
                        .into_iter()
                        .map(|(id,)| id),
                );
            }

            // Where each stored event goes, in ingest order (delivery ids
            // grow with it, which per-key ordering relies on).
            let mut deliveries: Vec<NewDelivery<'_>> = Vec::new();
            let mut counts: Vec<Option<u64>> = Vec::with_capacity(events.len());
            for &event in &events {
                if !stored.contains(event.id.as_str()) {
                    counts.push(None);
                    continue;
                }
                let before = deliveries.len();
                if let Some(url) = &event.callback_url {
                    // The callback takes the place of the endpoints.
                    deliveries.push(NewDelivery {
                        id: DeliveryId::generate(),
                        event,
                        endpoint: None,
                        callback_url: Some(url.as_str()),
                        leased: false,
                    });
                } else {
                    let targets = targets_of.get(event.merchant_id.as_str());
                    for target in targets.into_iter().flatten() {
                        let chosen = match &event.only_endpoint {
                            Some(only) => *only == target.id,
                            None => fan_out(&target.filter, &event.event_type),
                        };
                        if !chosen {
                            continue;
                        }
                        let leased = event.ordering_key.is_none()
                            && lease
                                .as_mut()
                                .is_some_and(|offer| (offer.take)(&event.merchant_id, &target.id));
                        deliveries.push(NewDelivery {
                            id: DeliveryId::generate(),
                            event,
                            endpoint: Some(target),
                            callback_url: None,
                            leased,
                        });
                    }
                }
                counts.push(Some((deliveries.len() - before) as u64));
            }
            let (owner, offer_lease_until) = match &lease {
                Some(offer) => (Some(offer.owner), offer.lease_until),
                None => (None, DateTime::<Utc>::UNIX_EPOCH),
            };
            let lease_until = to_millis(offer_lease_until);
            for chunk in deliveries.chunks(ROWS_PER_INSERT) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO deliveries (id, event_id, merchant_id, endpoint_id, callback_url, \
                                             event_type, ordering_key, status, next_attempt_at, \
                                             lease_owner, created_at) ",
                );
                insert.push_values(chunk, |mut row, d| {
                    let event = d.event;
                    let (next_attempt_at, lease_owner) = if d.leased {
                        (lease_until, owner)
                    } else {
                        (to_millis(event.created_at), None)
                    };
                    row.push_bind(d.id.as_str())
                        .push_bind(event.id.as_str())
                        .push_bind(event.merchant_id.as_str())
                        .push_bind(d.endpoint.map(|target| target.id.as_str()))
                        .push_bind(d.callback_url)
                        .push_bind(event.event_type.as_str())
                        .push_bind(event.ordering_key.as_deref())
                        .push_bind("pending")
                        .push_bind(next_attempt_at)
                        .push_bind(lease_owner)
                        .push_bind(to_millis(event.created_at));
                });
                insert.build().persistent(keep_prepared).execute(&mut *tx).await?;
            }
            // Built before the commit: a delivery that cannot be handed
            // over must not leave a lease behind that nobody sends.
            let leased: Vec<ClaimedDelivery> = deliveries
                .iter()
                .filter(|d| d.leased)
                .map(|d| {
                    let event = d.event;
                    let target = d
                        .endpoint
                        .ok_or_else(|| corrupt("a leased delivery without an endpoint"))?;
                    Ok(ClaimedDelivery {
                        id: d.id.clone(),
                        event_id: event.id.clone(),
                        merchant_id: event.merchant_id.clone(),
                        event_type: event.event_type.clone(),
                        payload: event.payload.clone(),
                        live_mode: event.live_mode,
                        event_created_at: event.created_at,
                        attempts_made: 0,
                        manual: false,
                        ordered: event.ordering_key.is_some(),
                        lease_until: offer_lease_until,
                        destination: target.destination.clone(),
                    })
                })
                .collect::<StoreResult<_>>()?;
            let unleased = deliveries.len() - leased.len();

            let mut results = Vec::with_capacity(events.len());
            for (event, count) in events.iter().zip(counts) {
                if let Some(deliveries) = count {
                    results.push(Ingested::Created { id: event.id.clone(), deliveries });
                    continue;
                }
                // A repeat: the stored event's id and its deliveries (read
                // after this batch's own are written, so a repeat within the
                // batch counts them too).
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
            }
            if unleased > 0 && matches!(self, Store::Postgres(_)) {
                // Wake the other Herald processes' dispatchers at commit.
                sqlx::query("SELECT pg_notify('herald_work', '')").execute(&mut *tx).await?;
            }
            tx.commit().await?;
            // Back in the order of the batch, with the refused in their places.
            let mut taken = results.into_iter();
            let answers = refusals
                .into_iter()
                .map(|refusal| match refusal {
                    Some(refusal) => Ok(Err(refusal)),
                    None => taken.next().map(Ok).ok_or_else(|| corrupt("an answer missing from the batch")),
                })
                .collect::<StoreResult<Vec<_>>>()?;
            Ok(IngestedBatch { answers, leased, unleased })
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
               AND ($7 IS NULL OR live_mode = $7) \
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
            .bind(filter.live_mode)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(Event::try_from).collect()
    }
}
