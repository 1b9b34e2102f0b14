//! Reading deliveries and attempts (merchant and admin views), and manual retries.

use super::conditions::{bind_values, Conditions};
use super::notifications::NotifyWork;
use super::{from_millis, json_list, json_values, on_pool, to_millis, StoreError, StoreResult};
use crate::store::Store;
use chrono::{DateTime, Utc};
use herald_app::model::delivery::{DeliveryStatus, ErrorKind, StatusCodeFilter};
use herald_app::model::event::{Attempt, Delivery, Event};
use herald_app::model::id::{AttemptId, DeliveryId, EndpointId, EventId, MerchantId};
use herald_app::model::scope::Scope;
use std::collections::BTreeMap;

/// Filters for delivery lists; `merchant_id: None` is the admin view across merchants.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub merchant_id: Option<MerchantId>,
    pub endpoint_id: Option<EndpointId>,
    pub event_id: Option<EventId>,
    pub status: Option<DeliveryStatus>,
    /// A type (`payout.failed`) or a category (`payout.*`).
    pub event_type: Option<String>,
    pub since: Option<DateTime<Utc>>,
    /// Only live (`true`) or only test-mode (`false`) events' deliveries.
    pub live_mode: Option<bool>,
    /// Only deliveries to a `callback_url` (`true`) or only to endpoints (`false`).
    pub callback: Option<bool>,
    /// Only deliveries of events carrying this tag.
    pub tag: Option<String>,
    /// Only deliveries of the event with this idempotency key.
    pub idempotency_key: Option<String>,
    /// Only deliveries made before this.
    pub until: Option<DateTime<Utc>>,
    /// Only deliveries whose latest attempt got this answer.
    pub status_code: Option<StatusCodeFilter>,
    /// Only deliveries strictly older than this (keyset cursor): (created_at, id).
    pub before: Option<(DateTime<Utc>, DeliveryId)>,
    pub limit: u32,
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("delivery: {e}"))
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: String,
    event_id: String,
    merchant_id: String,
    endpoint_id: Option<String>,
    url: Option<String>,
    event_type: String,
    live_mode: bool,
    tags: String,
    status: String,
    attempt_count: i64,
    next_attempt_at: Option<i64>,
    lease_owner: Option<String>,
    last_attempt_at: Option<i64>,
    last_status_code: Option<i64>,
    created_at: i64,
    succeeded_at: Option<i64>,
    failed_at: Option<i64>,
}

fn time(ms: Option<i64>) -> StoreResult<Option<DateTime<Utc>>> {
    ms.map(from_millis).transpose()
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = StoreError;
    fn try_from(row: DeliveryRow) -> StoreResult<Self> {
        Ok(Delivery {
            id: DeliveryId::parse(&row.id).map_err(corrupt)?,
            event_id: EventId::parse(&row.event_id).map_err(corrupt)?,
            merchant_id: MerchantId::parse(&row.merchant_id).map_err(corrupt)?,
            endpoint_id: row
                .endpoint_id
                .as_deref()
                .map(EndpointId::parse)
                .transpose()
                .map_err(corrupt)?,
            url: row.url.unwrap_or_default(),
            event_type: row.event_type,
            live_mode: row.live_mode,
            tags: serde_json::from_str(&row.tags).map_err(corrupt)?,
            status: DeliveryStatus::parse(&row.status).ok_or_else(|| corrupt(&row.status))?,
            attempt_count: u32::try_from(row.attempt_count).map_err(corrupt)?,
            // While leased, next_attempt_at is the lease's end, not a schedule.
            next_attempt_at: if row.lease_owner.is_some() {
                None
            } else {
                time(row.next_attempt_at)?
            },
            last_attempt_at: time(row.last_attempt_at)?,
            last_status_code: row.last_status_code.and_then(|c| u16::try_from(c).ok()),
            created_at: from_millis(row.created_at)?,
            succeeded_at: time(row.succeeded_at)?,
            failed_at: time(row.failed_at)?,
        })
    }
}

/// A delivery's columns as `DeliveryRow` reads them, from `deliveries d`,
/// `events e` and `endpoints ep`.
const DELIVERY_COLUMNS: &str = "d.id, d.event_id, d.merchant_id, d.endpoint_id, \
        COALESCE(d.callback_url, ep.url) AS url, d.event_type, e.live_mode, e.tags, d.status, \
        d.attempt_count, d.next_attempt_at, d.lease_owner, d.last_attempt_at, d.last_status_code, \
        d.created_at, d.succeeded_at, d.failed_at";

/// Deliveries with their events and endpoints, read from the deliveries.
const DELIVERIES: &str = "deliveries d JOIN events e ON e.id = d.event_id \
     LEFT JOIN endpoints ep ON ep.id = d.endpoint_id";

/// What a query reads of the deliveries it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    /// Whole rows, with their events and endpoints (`DELIVERY_COLUMNS`).
    Rows,
    /// Only how many.
    Count,
}

/// The deliveries matching `filter` (the cursor only when `with_cursor`):
/// the `FROM` list and the conditions.
///
/// Filtered by tag, idempotency key or event, the few deliveries of those
/// events are found first (`found`), and every other condition is checked
/// on them. SQLite keeps the order of a `CROSS JOIN` (PostgreSQL orders
/// any join by its statistics); left to choose, SQLite would rather walk
/// the merchant's history newest first, or every delivery of a status,
/// checking each against those events, because that spares a sort.
fn filtered(filter: &DeliveryFilter, with_cursor: bool, read: Read) -> (String, Conditions) {
    // Counting needs the events only for a condition on them: joined for
    // nothing, a count of the 10,000 a bulk retry may queue read 10,000
    // events (55 ms on a million; BENCHMARKS.md).
    let joined = match read {
        Read::Rows => DELIVERIES,
        Read::Count if filter.live_mode.is_some() || filter.idempotency_key.is_some() => {
            "deliveries d JOIN events e ON e.id = d.event_id"
        }
        Read::Count => "deliveries d",
    };
    let mut conditions = Conditions::new();
    let merchant = filter
        .merchant_id
        .as_ref()
        .map(|m| conditions.value(m.as_str()));
    let found = if let Some(tag) = filter.tag.as_deref() {
        let tag = conditions.value(tag);
        let of_merchant = merchant
            .as_ref()
            .map(|m| format!(" AND t.merchant_id = {m}"))
            .unwrap_or_default();
        Some(format!(
            "SELECT f.id FROM event_tags t JOIN deliveries f ON f.event_id = t.event_id \
             WHERE t.tag = {tag}{of_merchant}"
        ))
    } else if let Some(key) = filter.idempotency_key.as_deref() {
        let key = conditions.value(key);
        let of_merchant = merchant
            .as_ref()
            .map(|m| format!(" AND k.merchant_id = {m}"))
            .unwrap_or_default();
        Some(format!(
            "SELECT f.id FROM events k JOIN deliveries f ON f.event_id = k.id \
             WHERE k.idempotency_key = {key}{of_merchant}"
        ))
    } else {
        filter.event_id.as_ref().map(|event| {
            let event = conditions.value(event.as_str());
            format!("SELECT f.id FROM deliveries f WHERE f.event_id = {event}")
        })
    };
    let sources = match found {
        Some(found) => {
            conditions.push("d.id = found.id");
            format!("({found}) found CROSS JOIN {joined}")
        }
        None => joined.to_owned(),
    };
    if let Some(merchant) = &merchant {
        conditions.push(format!("d.merchant_id = {merchant}"));
    }
    conditions.when(filter.endpoint_id.as_ref().map(EndpointId::as_str), |p| {
        format!("d.endpoint_id = {p}")
    });
    conditions.when(filter.event_id.as_ref().map(EventId::as_str), |p| {
        format!("d.event_id = {p}")
    });
    conditions.when(filter.status.map(DeliveryStatus::as_str), |p| {
        format!("d.status = {p}")
    });
    if let Some(event_type) = &filter.event_type {
        conditions.event_type_is("d.event_type", event_type);
    }
    conditions.when(filter.since, |p| format!("d.created_at >= {p}"));
    conditions.when(filter.until, |p| format!("d.created_at < {p}"));
    match filter.status_code.map(StatusCodeFilter::code_range) {
        Some(Some((code, highest))) if code == highest => {
            let code = conditions.value(i64::from(code));
            conditions.push(format!("d.last_status_code = {code}"));
        }
        Some(Some((lowest, highest))) => {
            let (lowest, highest) = (
                conditions.value(i64::from(lowest)),
                conditions.value(i64::from(highest)),
            );
            conditions.push(format!("d.last_status_code BETWEEN {lowest} AND {highest}"));
        }
        Some(None) => conditions.push("d.last_status_code IS NULL AND d.attempt_count > 0"),
        None => {}
    }
    if with_cursor {
        conditions.older_than("d", &filter.before);
    }
    conditions.when(filter.live_mode, |p| format!("e.live_mode = {p}"));
    conditions.when(filter.idempotency_key.as_deref(), |p| {
        format!("e.idempotency_key = {p}")
    });
    match filter.callback {
        Some(true) => conditions.push("d.callback_url IS NOT NULL"),
        Some(false) => conditions.push("d.callback_url IS NULL"),
        None => {}
    }
    (sources, conditions)
}

/// The statement `Store::list_deliveries` runs, with its values.
pub(crate) fn delivery_list_query(filter: &DeliveryFilter) -> (String, Conditions) {
    let (sources, mut conditions) = filtered(filter, true, Read::Rows);
    let limit = conditions.value(i64::from(filter.limit));
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM {sources}{} \
         ORDER BY d.created_at DESC, d.id DESC LIMIT {limit}",
        conditions.sql()
    );
    (sql, conditions)
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    id: String,
    delivery_id: String,
    attempt_number: i64,
    started_at: i64,
    duration_ms: i64,
    request_headers: String,
    status_code: Option<i64>,
    response_headers: Option<String>,
    response_body: Option<String>,
    error_kind: Option<String>,
    error_message: Option<String>,
    manual: bool,
}

impl TryFrom<AttemptRow> for Attempt {
    type Error = StoreError;
    fn try_from(row: AttemptRow) -> StoreResult<Self> {
        let headers = |text: Option<&str>| -> StoreResult<BTreeMap<String, String>> {
            text.map(|t| serde_json::from_str(t).map_err(corrupt))
                .transpose()
                .map(Option::unwrap_or_default)
        };
        Ok(Attempt {
            id: AttemptId::parse(&row.id).map_err(corrupt)?,
            delivery_id: DeliveryId::parse(&row.delivery_id).map_err(corrupt)?,
            attempt_number: u32::try_from(row.attempt_number).map_err(corrupt)?,
            started_at: from_millis(row.started_at)?,
            duration_ms: u64::try_from(row.duration_ms).map_err(corrupt)?,
            request_headers: headers(Some(&row.request_headers))?,
            status_code: row.status_code.and_then(|c| u16::try_from(c).ok()),
            response_headers: headers(row.response_headers.as_deref())?,
            response_body: row.response_body,
            error_kind: row.error_kind.as_deref().and_then(ErrorKind::parse),
            error_message: row.error_message,
            manual: row.manual,
        })
    }
}

impl Store {
    /// One page of deliveries matching `filter`, newest first.
    pub async fn list_deliveries(&self, filter: &DeliveryFilter) -> StoreResult<Vec<Delivery>> {
        let (sql, conditions) = delivery_list_query(filter);
        let rows: Vec<DeliveryRow> = on_pool!(self, pool => bind_values!(
                sqlx::query_as(&sql),
                conditions.values()
            )
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(Delivery::try_from).collect()
    }

    /// How many deliveries match `filter`, counting up to `filter.limit`
    /// (the cursor is ignored): what a bulk retry of them would queue.
    pub async fn count_deliveries(&self, filter: &DeliveryFilter) -> StoreResult<u64> {
        let (sources, mut conditions) = filtered(filter, false, Read::Count);
        let limit = conditions.value(i64::from(filter.limit));
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT d.id FROM {sources}{} LIMIT {limit}) matching",
            conditions.sql()
        );
        let count: i64 = on_pool!(self, pool => bind_values!(
                sqlx::query_scalar(&sql),
                conditions.values()
            )
            .fetch_one(pool)
            .await)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// A delivery (of `merchant`, unless `None` for operators) with its event and attempts.
    pub async fn delivery_detail(
        &self,
        scope: &Scope,
        id: &DeliveryId,
    ) -> StoreResult<Option<(Delivery, Event, Vec<Attempt>)>> {
        let sql =
            format!("SELECT {DELIVERY_COLUMNS} FROM {DELIVERIES} WHERE d.id = $1 AND ($2 IS NULL OR d.merchant_id = $2)");
        let row: Option<DeliveryRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(id.as_str())
            .bind(scope.merchant().map(MerchantId::as_str))
            .fetch_optional(pool)
            .await)?;
        let Some(delivery) = row.map(Delivery::try_from).transpose()? else {
            return Ok(None);
        };
        let event = self
            .event(&delivery.merchant_id, &delivery.event_id)
            .await?
            .ok_or_else(|| corrupt("delivery without event"))?;
        let attempts: Vec<AttemptRow> = on_pool!(self, pool => sqlx::query_as(
            "SELECT id, delivery_id, attempt_number, started_at, duration_ms, request_headers, \
                    status_code, response_headers, response_body, error_kind, error_message, manual \
             FROM attempts WHERE delivery_id = $1 ORDER BY started_at, attempt_number",
        )
        .bind(id.as_str())
        .fetch_all(pool)
        .await)?;
        let attempts = attempts
            .into_iter()
            .map(Attempt::try_from)
            .collect::<StoreResult<_>>()?;
        Ok(Some((delivery, event, attempts)))
    }

    /// The newest delivery of each of the merchant's endpoints:
    /// (endpoint id, created_at, status).
    pub async fn last_delivery_per_endpoint(
        &self,
        merchant: &MerchantId,
    ) -> StoreResult<Vec<(String, DateTime<Utc>, DeliveryStatus)>> {
        let rows: Vec<(String, i64, String)> = on_pool!(self, pool => sqlx::query_as(
            // One index read per endpoint (its newest delivery), however
            // long its history.
            "SELECT d.endpoint_id, d.created_at, d.status FROM endpoints ep \
             JOIN deliveries d ON d.id = (SELECT d2.id FROM deliveries d2 \
                                         WHERE d2.endpoint_id = ep.id \
                                         ORDER BY d2.created_at DESC, d2.id DESC LIMIT 1) \
             WHERE ep.merchant_id = $1",
        )
        .bind(merchant.as_str())
        .fetch_all(pool)
        .await)?;
        rows.into_iter()
            .map(|(endpoint, at, status)| {
                Ok((
                    endpoint,
                    from_millis(at)?,
                    DeliveryStatus::parse(&status).ok_or_else(|| corrupt(&status))?,
                ))
            })
            .collect()
    }

    /// Makes deliveries due now, whatever their status (a manual retry).
    /// Scoped to `merchant` unless `None`; returns how many were queued.
    /// Deliveries being attempted right now are left to finish.
    pub async fn retry_deliveries(
        &self,
        scope: &Scope,
        ids: &[DeliveryId],
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let sql = format!(
            "UPDATE deliveries SET status = 'pending', next_attempt_at = $1, failed_at = NULL, \
                 manual = TRUE \
             WHERE lease_owner IS NULL AND ($2 IS NULL OR merchant_id = $2) \
               AND id IN ({}) \
               AND (endpoint_id IS NULL OR endpoint_id IN (SELECT id FROM endpoints WHERE disabled_at IS NULL))",
            json_values(self, 3)
        );
        let changed = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query(&sql)
                .bind(to_millis(now))
                .bind(scope.merchant().map(MerchantId::as_str))
                .bind(json_list(ids))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.notify_work().await?;
            tx.commit().await?;
            Ok::<u64, sqlx::Error>(changed)
        })?;
        Ok(changed)
    }

    /// Deliveries `scope` may see whose id is `id`, or that belong to one of
    /// `events`: newest first, at most `limit` (a search's deliveries, an
    /// event's page).
    pub async fn deliveries_by_id_or_event(
        &self,
        scope: &Scope,
        id: Option<&str>,
        events: &[EventId],
        limit: u32,
    ) -> StoreResult<Vec<Delivery>> {
        if id.is_none() && events.is_empty() {
            return Ok(Vec::new());
        }
        // Two index reads (the id, the events' deliveries) merged, read
        // first (see `filtered`): as one `OR` next to the merchant
        // condition, SQLite would rather walk all the merchant's deliveries.
        let mut conditions = Conditions::new();
        let mut matches: Vec<String> = Vec::new();
        if let Some(id) = id {
            matches.push(format!(
                "SELECT id FROM deliveries WHERE id = {}",
                conditions.value(id)
            ));
        }
        if !events.is_empty() {
            let list: Vec<String> = events
                .iter()
                .map(|event| conditions.value(event.as_str()))
                .collect();
            matches.push(format!(
                "SELECT id FROM deliveries WHERE event_id IN ({})",
                list.join(", ")
            ));
        }
        conditions.push("d.id = found.id");
        conditions.when(scope.merchant().map(MerchantId::as_str), |p| {
            format!("d.merchant_id = {p}")
        });
        let limit = conditions.value(i64::from(limit));
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM ({}) found CROSS JOIN {DELIVERIES}{} \
             ORDER BY d.created_at DESC, d.id DESC LIMIT {limit}",
            matches.join(" UNION "),
            conditions.sql()
        );
        let rows: Vec<DeliveryRow> = on_pool!(self, pool => bind_values!(
                sqlx::query_as(&sql),
                conditions.values()
            )
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(Delivery::try_from).collect()
    }

    /// Ids of deliveries matching `filter` (up to `filter.limit`), for bulk retries and replays.
    pub async fn delivery_ids(&self, filter: &DeliveryFilter) -> StoreResult<Vec<DeliveryId>> {
        Ok(self
            .list_deliveries(filter)
            .await?
            .into_iter()
            .map(|d| d.id)
            .collect())
    }
}
