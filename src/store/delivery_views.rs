//! Reading deliveries and attempts (merchant and admin views), and manual retries.

use super::notifications::NotifyWork;
use super::{
    from_millis, json_list, json_values, keyset, on_pool, to_millis, StoreError, StoreResult,
};
use crate::store::Store;
use chrono::{DateTime, Utc};
use herald_app::model::delivery::{DeliveryStatus, ErrorKind};
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
    /// Only deliveries strictly older than this (keyset cursor): (created_at, id).
    pub before: Option<(DateTime<Utc>, DeliveryId)>,
    pub limit: u32,
}

/// Adds `value` to the parameters and returns its placeholder (`$n`).
fn param<'a>(value: &'a str, binds: &mut Vec<&'a str>) -> String {
    binds.push(value);
    format!("${}", binds.len())
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

const DELIVERY_SELECT: &str = "SELECT d.id, d.event_id, d.merchant_id, d.endpoint_id, \
        COALESCE(d.callback_url, ep.url) AS url, d.event_type, e.live_mode, e.tags, d.status, \
        d.attempt_count, d.next_attempt_at, d.lease_owner, d.last_attempt_at, d.last_status_code, \
        d.created_at, d.succeeded_at, d.failed_at \
     FROM deliveries d JOIN events e ON e.id = d.event_id \
     LEFT JOIN endpoints ep ON ep.id = d.endpoint_id";

/// The conditions of `DeliveryFilter` over `deliveries d` joined with
/// `events e`: $1 merchant, $2 endpoint, $3 event, $4 status, $5 type,
/// $6 since, $7/$8 keyset cursor, $10 live mode, $11 callbacks only (or none),
/// $12 until, $13 the event's idempotency key, $14 a tag of the event.
const FILTERED: &str = "($1 IS NULL OR d.merchant_id = $1) \
       AND ($2 IS NULL OR d.endpoint_id = $2) AND ($3 IS NULL OR d.event_id = $3) \
       AND ($4 IS NULL OR d.status = $4) AND ($5 IS NULL OR d.event_type = $5) \
       AND ($6 IS NULL OR d.created_at >= $6) \
       AND ($7 IS NULL OR d.created_at < $7 OR (d.created_at = $7 AND d.id < $8)) \
       AND ($10 IS NULL OR e.live_mode = $10) \
       AND ($11 IS NULL OR (d.callback_url IS NOT NULL) = $11) \
       AND ($12 IS NULL OR d.created_at < $12) \
       AND ($13 IS NULL OR e.idempotency_key = $13) \
       AND ($14 IS NULL OR d.event_id IN (SELECT t.event_id FROM event_tags t \
             WHERE t.tag = $14 AND ($1 IS NULL OR t.merchant_id = $1)))";

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
        let sql = format!(
            "{DELIVERY_SELECT} WHERE {FILTERED} ORDER BY d.created_at DESC, d.id DESC LIMIT $9"
        );
        let (before_at, before_id) = keyset(&filter.before);
        let rows: Vec<DeliveryRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(filter.merchant_id.as_ref().map(MerchantId::as_str))
            .bind(filter.endpoint_id.as_ref().map(EndpointId::as_str))
            .bind(filter.event_id.as_ref().map(EventId::as_str))
            .bind(filter.status.map(DeliveryStatus::as_str))
            .bind(&filter.event_type)
            .bind(filter.since.map(to_millis))
            .bind(before_at)
            .bind(before_id)
            .bind(i64::from(filter.limit))
            .bind(filter.live_mode)
            .bind(filter.callback)
            .bind(filter.until.map(to_millis))
            .bind(&filter.idempotency_key)
            .bind(&filter.tag)
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(Delivery::try_from).collect()
    }

    /// How many deliveries match `filter`, counting up to `filter.limit`
    /// (the cursor is ignored): what a bulk retry of them would queue.
    pub async fn count_deliveries(&self, filter: &DeliveryFilter) -> StoreResult<u64> {
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT d.id FROM deliveries d JOIN events e ON e.id = d.event_id \
             WHERE {FILTERED} LIMIT $9) matching"
        );
        let count: i64 = on_pool!(self, pool => sqlx::query_scalar(&sql)
            .bind(filter.merchant_id.as_ref().map(MerchantId::as_str))
            .bind(filter.endpoint_id.as_ref().map(EndpointId::as_str))
            .bind(filter.event_id.as_ref().map(EventId::as_str))
            .bind(filter.status.map(DeliveryStatus::as_str))
            .bind(&filter.event_type)
            .bind(filter.since.map(to_millis))
            .bind(None::<i64>)
            .bind(None::<String>)
            .bind(i64::from(filter.limit))
            .bind(filter.live_mode)
            .bind(filter.callback)
            .bind(filter.until.map(to_millis))
            .bind(&filter.idempotency_key)
            .bind(&filter.tag)
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
            format!("{DELIVERY_SELECT} WHERE d.id = $1 AND ($2 IS NULL OR d.merchant_id = $2)");
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
            "SELECT d.endpoint_id, d.created_at, d.status FROM deliveries d \
             WHERE d.merchant_id = $1 AND d.endpoint_id IS NOT NULL \
               AND d.created_at = (SELECT MAX(d2.created_at) FROM deliveries d2 \
                                   WHERE d2.endpoint_id = d.endpoint_id)",
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
        // Numbered parameters in order, bound below (the list's length varies).
        let mut binds: Vec<&str> = Vec::new();
        let mut matches: Vec<String> = Vec::new();
        if let Some(id) = id {
            matches.push(format!("d.id = {}", param(id, &mut binds)));
        }
        if !events.is_empty() {
            let list: Vec<String> = events
                .iter()
                .map(|event| param(event.as_str(), &mut binds))
                .collect();
            matches.push(format!("d.event_id IN ({})", list.join(", ")));
        }
        let mut sql = format!("{DELIVERY_SELECT} WHERE ({})", matches.join(" OR "));
        if let Some(merchant) = scope.merchant() {
            sql.push_str(&format!(
                " AND d.merchant_id = {}",
                param(merchant.as_str(), &mut binds)
            ));
        }
        sql.push_str(&format!(
            " ORDER BY d.created_at DESC, d.id DESC LIMIT {limit}"
        ));
        let rows: Vec<DeliveryRow> = on_pool!(self, pool => {
            let mut query = sqlx::query_as(&sql);
            for value in &binds {
                query = query.bind(*value);
            }
            query.fetch_all(pool).await
        })?;
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
