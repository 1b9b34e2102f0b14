//! Events: ingest (event + fan-out in one transaction) and the merchant's reads.

use super::conditions::{bind_values, Conditions};
use super::deliveries::{EndpointSending, ENDPOINT_SENDING_COLUMNS};
use super::ingest_plan::{plan, BatchReads, Earlier, FanOutTarget, Recipient, Take};
use super::notifications::NotifyWork;
use super::{from_millis, json_list, json_values, on_pool, to_millis, StoreError, StoreResult};
use crate::store::{ClaimedDelivery, Store};
use chrono::{DateTime, Utc};
use herald_app::model::endpoint::EndpointMode;
use herald_app::model::event::Event;
use herald_app::model::id::{DeliveryId, EndpointId, EventId, MerchantId};
use herald_app::model::scope::Scope;
use std::collections::HashSet;

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
    /// An operational event about this endpoint: never delivered to it.
    pub about_endpoint: Option<EndpointId>,
    /// Checked already, without duplicates.
    pub tags: Vec<String>,
    /// The object before the change (a JSON object as text), if sent.
    pub previous_data: Option<String>,
}

impl NewEvent {
    /// A live event of `merchant_id` made now, with a new id and no
    /// idempotency key, callback, ordering key or single endpoint.
    pub fn new(merchant_id: MerchantId, event_type: &str, payload: String) -> NewEvent {
        NewEvent {
            id: EventId::generate(),
            merchant_id,
            event_type: event_type.to_owned(),
            payload,
            idempotency_key: None,
            callback_url: None,
            ordering_key: None,
            live_mode: true,
            created_at: Utc::now(),
            only_endpoint: None,
            about_endpoint: None,
            tags: Vec::new(),
            previous_data: None,
        }
    }
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

#[derive(sqlx::FromRow)]
struct FanOutRow {
    merchant_id: String,
    event_types: String,
    enabled: bool,
    mode: String,
    #[sqlx(flatten)]
    sending: EndpointSending,
}

impl FanOutRow {
    fn into_target(self, now: DateTime<Utc>) -> StoreResult<FanOutTarget> {
        Ok(FanOutTarget {
            id: EndpointId::parse(&self.sending.id).map_err(corrupt)?,
            filter: serde_json::from_str(&self.event_types).map_err(corrupt)?,
            enabled: self.enabled,
            mode: EndpointMode::parse(&self.mode).ok_or_else(|| corrupt(&self.mode))?,
            destination: self.sending.destination(now)?,
        })
    }
}

/// Where `Store::ingest` reads a batch's merchants, types and endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadsAt {
    /// Before taking the write turn: it is held for the writes alone.
    BeforeTurn,
    /// Holding the write turn (SQLite), so nothing changes them meanwhile.
    InTurn,
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
    tags: String,
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
            tags: serde_json::from_str(&row.tags).map_err(corrupt)?,
            created_at: from_millis(row.created_at)?,
        })
    }
}

/// An event's columns as `EventRow` reads them, from `events e`.
pub(crate) const EVENT_COLUMNS: &str = "e.id, e.merchant_id, e.event_type, e.payload, \
     e.idempotency_key, e.callback_url, e.ordering_key, e.live_mode, e.tags, e.created_at";

/// Filters for a merchant's event list.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// A type (`payout.failed`) or a category (`payout.*`).
    pub event_type: Option<String>,
    /// Only events carrying this tag.
    pub tag: Option<String>,
    pub idempotency_key: Option<String>,
    pub since: Option<DateTime<Utc>>,
    /// Only events created before this.
    pub until: Option<DateTime<Utc>>,
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
    /// or repeats an idempotency key and adds nothing (`ingest_plan::plan`
    /// has the rules).
    ///
    /// The batch costs a few round trips, not a few per event: before the
    /// write turn, one read of its merchants and event types (an event whose
    /// merchant or type is unknown, or whose type is archived, is refused and
    /// the rest go on), one of its merchants' endpoints and, if it has
    /// idempotency keys, one of the events stored under them; then one
    /// multi-row insert for the events and one for the deliveries (per
    /// `ROWS_PER_INSERT` rows). The answers are in the order of `events`.
    ///
    /// With a `lease`, the deliveries it takes are written leased to its
    /// owner and come back ready to send.
    pub async fn ingest(
        &self,
        events: &[NewEvent],
        fan_out: FanOut,
        mut lease: Option<LeaseOffer<'_>>,
    ) -> StoreResult<IngestedBatch> {
        if events.is_empty() {
            return Ok(IngestedBatch {
                answers: Vec::new(),
                leased: Vec::new(),
                unleased: 0,
            });
        }
        let mut reads_at = ReadsAt::BeforeTurn;
        let mut read_again_for_foreign_key = true;
        loop {
            // Only the first try has the lease offer (the room it took is
            // given back by its caller).
            match self
                .ingest_batch(events, fan_out, lease.take(), reads_at)
                .await
            {
                Ok(Some(batch)) => return Ok(batch),
                // One of the batch's idempotency keys was stored by another
                // process since it was read: read again, which finds it. Each
                // time this happens one more key is found, so it ends.
                Ok(None) => {}
                // A merchant or endpoint read before the transaction was
                // deleted since: read them again where nothing can change
                // them.
                Err(StoreError::Database(sqlx::Error::Database(e)))
                    if e.kind() == sqlx::error::ErrorKind::ForeignKeyViolation
                        && read_again_for_foreign_key =>
                {
                    read_again_for_foreign_key = false;
                }
                Err(e) => return Err(e),
            }
            reads_at = ReadsAt::InTurn;
        }
    }

    /// One try of `ingest`: read, plan, write. `None` when an idempotency
    /// key the plan took for new was stored meanwhile (nothing is written).
    async fn ingest_batch(
        &self,
        events: &[NewEvent],
        fan_out: FanOut,
        mut lease: Option<LeaseOffer<'_>>,
        reads_at: ReadsAt,
    ) -> StoreResult<Option<IngestedBatch>> {
        // The statements' text changes with the row count. PostgreSQL keeps
        // prepared statements in its own backends, where re-planning a
        // 256-row insert would cost more than the cache; on SQLite they
        // live in this process, one per batch size, so they are not kept.
        let keep_prepared = matches!(self, Store::Postgres(_));
        let now = Utc::now();
        on_pool!(self, pool => {
            // The connection first: checking it out (sqlx pings it) need
            // not hold the write turn.
            let mut conn = pool.acquire().await?;
            let early_turn = match reads_at {
                ReadsAt::InTurn => self.write_turn().await,
                ReadsAt::BeforeTurn => None,
            };

            // Read. Before the write turn (on SQLite each statement holding
            // it is a hand-off to sqlx's thread that every other writer
            // waits behind). What changes in between is as if the batch had
            // come a moment earlier; a merchant or endpoint deleted meanwhile
            // fails the foreign keys, and `ingest` reads again in the turn.
            let mut reads = BatchReads::default();
            let (merchant_ids, type_names): (Vec<&str>, Vec<&str>) = events
                .iter()
                .map(|e| (e.merchant_id.as_str(), e.event_type.as_str()))
                .unzip();
            let known: Vec<(String, String, bool)> = sqlx::query_as(&format!(
                "SELECT 'merchant', id, FALSE FROM merchants WHERE id IN ({}) \
                 UNION ALL \
                 SELECT 'type', name, archived_at IS NOT NULL FROM event_types WHERE name IN ({})",
                json_values(self, 1),
                json_values(self, 2)
            ))
            .bind(json_list(&merchant_ids))
            .bind(json_list(&type_names))
            .fetch_all(&mut *conn)
            .await?;
            for (kind, name, archived) in known {
                if kind == "merchant" {
                    reads.merchants.insert(name);
                } else {
                    reads.event_types.insert(name, archived);
                }
            }
            let of_known = || events.iter().filter(|e| reads.merchants.contains(e.merchant_id.as_str()));
            // The endpoints of every merchant whose events fan out.
            let fanning_out: Vec<&str> = distinct(
                of_known().filter(|e| e.callback_url.is_none()).map(|e| e.merchant_id.as_str()),
            );
            let keyed: Vec<[&str; 2]> = distinct(of_known().filter_map(|e| {
                Some([e.merchant_id.as_str(), e.idempotency_key.as_deref()?])
            }));
            if !fanning_out.is_empty() {
                let rows: Vec<FanOutRow> = sqlx::query_as(&format!(
                    "SELECT merchant_id, event_types, disabled_at IS NULL AS enabled, mode, \
                            {ENDPOINT_SENDING_COLUMNS} \
                     FROM endpoints WHERE merchant_id IN ({}) ORDER BY id",
                    json_values(self, 1)
                ))
                .bind(json_list(&fanning_out))
                .fetch_all(&mut *conn)
                .await?;
                for row in rows {
                    let merchant = row.merchant_id.clone();
                    reads.endpoints.entry(merchant).or_default().push(row.into_target(now)?);
                }
            }
            if !keyed.is_empty() {
                let rows: Vec<(String, String, String, i64)> = sqlx::query_as(&format!(
                    "SELECT e.merchant_id, e.idempotency_key, e.id, \
                            (SELECT COUNT(*) FROM deliveries d WHERE d.event_id = e.id) \
                     FROM ({}) k JOIN events e \
                       ON e.merchant_id = k.merchant_id AND e.idempotency_key = k.idempotency_key",
                    key_pairs(self, 1)
                ))
                .bind(serde_json::to_string(&keyed).map_err(corrupt)?)
                .fetch_all(&mut *conn)
                .await?;
                for (merchant, key, id, deliveries) in rows {
                    let earlier = Earlier {
                        id: EventId::parse(&id).map_err(corrupt)?,
                        deliveries: u64::try_from(deliveries).unwrap_or(0),
                    };
                    reads.stored_keys.entry(merchant).or_default().insert(key, earlier);
                }
            }

            // Plan.
            let take: Option<Take<'_>> = match lease.as_mut() {
                Some(offer) => Some(&mut *offer.take),
                None => None,
            };
            let plan = plan(events, &reads, fan_out, take);

            // Write.
            let _turn = match early_turn {
                Some(turn) => Some(turn),
                None => self.write_turn().await,
            };
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            let mut stored: u64 = 0;
            for chunk in plan.new_events.chunks(ROWS_PER_INSERT) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO events (id, merchant_id, event_type, payload, idempotency_key, \
                                         callback_url, ordering_key, live_mode, created_at, \
                                         only_endpoint_id, about_endpoint_id, tags, \
                                         previous_data) ",
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
                        .push_bind(to_millis(event.created_at))
                        .push_bind(event.only_endpoint.as_ref().map(EndpointId::as_str))
                        .push_bind(event.about_endpoint.as_ref().map(EndpointId::as_str))
                        .push_bind(tags_json(&event.tags))
                        .push_bind(event.previous_data.as_deref());
                });
                insert.push(
                    " ON CONFLICT (merchant_id, idempotency_key) WHERE idempotency_key IS NOT NULL \
                     DO NOTHING",
                );
                stored += insert
                    .build()
                    .persistent(keep_prepared)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            if stored < plan.new_events.len() as u64 {
                // Another process stored one of these keys after the read
                // (the conflict clause skipped it).
                tx.rollback().await?;
                return Ok(None);
            }

            let tagged: Vec<(&NewEvent, &str)> = plan
                .new_events
                .iter()
                .flat_map(|event| event.tags.iter().map(move |tag| (*event, tag.as_str())))
                .collect();
            for chunk in tagged.chunks(ROWS_PER_INSERT) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO event_tags (merchant_id, tag, created_at, event_id) ",
                );
                insert.push_values(chunk, |mut row, (event, tag)| {
                    row.push_bind(event.merchant_id.as_str())
                        .push_bind(*tag)
                        .push_bind(to_millis(event.created_at))
                        .push_bind(event.id.as_str());
                });
                insert.build().persistent(keep_prepared).execute(&mut *tx).await?;
            }

            let ids: Vec<DeliveryId> = plan.deliveries.iter().map(|_| DeliveryId::generate()).collect();
            let (owner, offer_lease_until) = match &lease {
                Some(offer) => (Some(offer.owner), offer.lease_until),
                None => (None, DateTime::<Utc>::UNIX_EPOCH),
            };
            let lease_until = to_millis(offer_lease_until);
            for (chunk, ids) in plan.deliveries.chunks(ROWS_PER_INSERT).zip(ids.chunks(ROWS_PER_INSERT)) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO deliveries (id, event_id, merchant_id, endpoint_id, callback_url, \
                                             event_type, ordering_key, status, next_attempt_at, \
                                             lease_owner, created_at) ",
                );
                insert.push_values(chunk.iter().zip(ids), |mut row, (d, id)| {
                    let event = d.event;
                    let (endpoint, callback_url) = match d.to {
                        Recipient::Endpoint { target, .. } => (Some(target.id.as_str()), None),
                        Recipient::Callback(url) => (None, Some(url)),
                    };
                    let (next_attempt_at, lease_owner) = match d.leased_to() {
                        Some(_) => (lease_until, owner),
                        None => (to_millis(event.created_at), None),
                    };
                    row.push_bind(id.as_str())
                        .push_bind(event.id.as_str())
                        .push_bind(event.merchant_id.as_str())
                        .push_bind(endpoint)
                        .push_bind(callback_url)
                        .push_bind(event.event_type.as_str())
                        .push_bind(event.ordering_key.as_deref())
                        .push_bind("pending")
                        .push_bind(next_attempt_at)
                        .push_bind(lease_owner)
                        .push_bind(to_millis(event.created_at));
                });
                insert.build().persistent(keep_prepared).execute(&mut *tx).await?;
            }
            let leased: Vec<ClaimedDelivery> = plan
                .deliveries
                .iter()
                .zip(&ids)
                .filter_map(|(d, id)| Some(handed_over(id, d.event, d.leased_to()?, offer_lease_until)))
                .collect();
            let unleased = plan.deliveries.len() - leased.len();
            if unleased > 0 {
                // Wakes the other Herald processes' dispatchers at commit.
                tx.notify_work().await?;
            }
            tx.commit().await?;
            Ok(Some(IngestedBatch {
                answers: plan.answers,
                leased,
                unleased,
            }))
        })
    }

    /// One of the merchant's events.
    pub async fn event(&self, merchant: &MerchantId, id: &EventId) -> StoreResult<Option<Event>> {
        let sql =
            format!("SELECT {EVENT_COLUMNS} FROM events e WHERE e.id = $1 AND e.merchant_id = $2");
        let row: Option<EventRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(id.as_str())
            .bind(merchant.as_str())
            .fetch_optional(pool)
            .await)?;
        row.map(Event::try_from).transpose()
    }

    /// An event `scope` may see.
    pub async fn event_in_scope(&self, scope: &Scope, id: &EventId) -> StoreResult<Option<Event>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events e WHERE e.id = $1 AND ($2 IS NULL OR e.merchant_id = $2)"
        );
        let row: Option<EventRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(id.as_str())
            .bind(scope.merchant().map(MerchantId::as_str))
            .fetch_optional(pool)
            .await)?;
        row.map(Event::try_from).transpose()
    }

    /// Events `scope` may see whose id, idempotency key or one of whose tags
    /// is `q`: newest first, at most `limit`. Each branch is an index read.
    pub async fn events_matching(
        &self,
        scope: &Scope,
        q: &str,
        limit: u32,
    ) -> StoreResult<Vec<Event>> {
        // Three index reads (id, idempotency key, tag), merged: written as
        // one `OR`, SQLite would rather walk the merchant's whole history.
        let mut conditions = Conditions::new();
        let q = conditions.value(q);
        let (events_of, tags_of) = match scope.merchant() {
            Some(merchant) => {
                let merchant = conditions.value(merchant.as_str());
                (
                    format!(" AND merchant_id = {merchant}"),
                    format!(" AND t.merchant_id = {merchant}"),
                )
            }
            None => (String::new(), String::new()),
        };
        let limit = conditions.value(i64::from(limit));
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events e WHERE e.id IN ( \
                 SELECT id FROM events WHERE id = {q}{events_of} \
                 UNION SELECT id FROM events WHERE idempotency_key = {q}{events_of} \
                 UNION SELECT t.event_id FROM event_tags t WHERE t.tag = {q}{tags_of}) \
             ORDER BY e.created_at DESC, e.id DESC LIMIT {limit}"
        );
        let rows: Vec<EventRow> = on_pool!(self, pool => bind_values!(
                sqlx::query_as(&sql),
                conditions.values()
            )
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(Event::try_from).collect()
    }

    /// The merchant's events, newest first, one page. Herald's own
    /// operational events (`herald.*`) only when the filter names their type:
    /// a consumer polling for the platform's events never meets them.
    pub async fn list_events(
        &self,
        merchant: &MerchantId,
        filter: &EventFilter,
    ) -> StoreResult<Vec<Event>> {
        let (sql, conditions) = event_list_query(merchant, filter);
        let rows: Vec<EventRow> = on_pool!(self, pool => bind_values!(
                sqlx::query_as(&sql),
                conditions.values()
            )
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(Event::try_from).collect()
    }
}

/// The statement `Store::list_events` runs, with its values.
pub(crate) fn event_list_query(
    merchant: &MerchantId,
    filter: &EventFilter,
) -> (String, Conditions) {
    let mut conditions = Conditions::new();
    let merchant_is = conditions.value(merchant.as_str());
    // With a tag, its few events are read first: SQLite keeps the order of
    // a `CROSS JOIN`, and would otherwise walk the merchant's history newest
    // first checking each event for the tag, to spare a sort.
    let sources = match filter.tag.as_deref() {
        Some(tag) => {
            let tag = conditions.value(tag);
            conditions.push(format!(
                "t.merchant_id = {merchant_is} AND t.tag = {tag} AND e.id = t.event_id"
            ));
            "event_tags t CROSS JOIN events e"
        }
        None => "events e",
    };
    conditions.push(format!("e.merchant_id = {merchant_is}"));
    match &filter.event_type {
        Some(event_type) => conditions.event_type_is("e.event_type", event_type),
        None => conditions.push("e.event_type NOT LIKE 'herald.%'"),
    }
    conditions.when(filter.since, |p| format!("e.created_at >= {p}"));
    conditions.when(filter.until, |p| format!("e.created_at < {p}"));
    conditions.when(filter.idempotency_key.as_deref(), |p| {
        format!("e.idempotency_key = {p}")
    });
    conditions.older_than("e", &filter.before);
    conditions.when(filter.live_mode, |p| format!("e.live_mode = {p}"));
    let limit = conditions.value(i64::from(filter.limit));
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM {sources}{} \
         ORDER BY e.created_at DESC, e.id DESC LIMIT {limit}",
        conditions.sql()
    );
    (sql, conditions)
}

/// An event's tags as the `events.tags` column holds them.
fn tags_json(tags: &[String]) -> String {
    serde_json::to_string(tags).unwrap_or_else(|_| "[]".into())
}

/// The distinct items, in no particular order.
fn distinct<T: Eq + std::hash::Hash>(items: impl Iterator<Item = T>) -> Vec<T> {
    items.collect::<HashSet<_>>().into_iter().collect()
}

/// SQL that expands a JSON array of `[merchant_id, idempotency_key]` pairs
/// (`$param`) into rows with those two columns, per dialect.
fn key_pairs(store: &Store, param: usize) -> String {
    match store {
        Store::Sqlite(_) => format!(
            "SELECT json_extract(value, '$[0]') AS merchant_id, \
                    json_extract(value, '$[1]') AS idempotency_key FROM json_each(${param})"
        ),
        Store::Postgres(_) => format!(
            "SELECT value ->> 0 AS merchant_id, value ->> 1 AS idempotency_key \
             FROM jsonb_array_elements(${param}::jsonb)"
        ),
    }
}

/// A delivery written leased to the caller, as its engine sends it.
fn handed_over(
    id: &DeliveryId,
    event: &NewEvent,
    target: &FanOutTarget,
    lease_until: DateTime<Utc>,
) -> ClaimedDelivery {
    ClaimedDelivery {
        id: id.clone(),
        event_id: event.id.clone(),
        merchant_id: event.merchant_id.clone(),
        event_type: event.event_type.clone(),
        payload: event.payload.clone(),
        previous_data: event.previous_data.clone(),
        live_mode: event.live_mode,
        event_created_at: event.created_at,
        attempts_made: 0,
        manual: false,
        ordered: event.ordering_key.is_some(),
        lease_until,
        destination: target.destination.clone(),
    }
}
