//! The delivery queue: claiming due work under a lease, recording attempts,
//! and the merchant's and operators' reads.
//!
//! A lease is just `next_attempt_at` pushed to the lease's end with
//! `lease_owner` set: if the process dies mid-attempt, the delivery simply
//! becomes due again when the lease runs out, and any process takes it.

use super::{from_millis, json_list, json_values, on_pool, to_millis, StoreError, StoreResult};
use crate::store::Store;
use chrono::{DateTime, Utc};
use herald_app::model::delivery::{DeliveryStatus, ErrorKind};
use herald_app::model::id::{AttemptId, DeliveryId, EndpointId, EventId, MerchantId};

/// Which queue a claim takes from: first attempts are never starved by retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Deliveries never attempted yet.
    First,
    /// Deliveries waiting for a retry (scheduled or manual).
    Retry,
}

/// What a claim asks for.
#[derive(Debug, Clone)]
pub struct ClaimRequest<'a> {
    pub owner: &'a str,
    pub now: DateTime<Utc>,
    pub lease_until: DateTime<Utc>,
    pub limit: u32,
    pub lane: Lane,
    /// Endpoints already at their concurrency limit in this process.
    pub busy_endpoints: &'a [EndpointId],
}

/// Where a claimed delivery goes.
#[derive(Debug, Clone)]
pub enum Destination {
    /// A registered endpoint, with what signing it needs.
    Endpoint {
        id: EndpointId,
        url: String,
        secret: String,
        /// The rotated-out secret, while its grace period lasts.
        previous_secret: Option<String>,
        headers: String,
        rate_limit_per_s: Option<u32>,
        /// Also send the plain hex HMAC of the body (`x-herald-signature`).
        legacy_signature: bool,
        /// The endpoint's own schedule (`0s,30s,5m`), if it has one.
        retry_schedule: Option<String>,
        /// The body is encrypted with this key (as stored: maybe sealed).
        encryption_key: Option<String>,
    },
    /// A one-off callback URL, signed with the merchant's callback secret.
    Callback { url: String, secret: Option<String> },
}

/// A delivery this process now holds the lease of, with all it needs to send.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: DeliveryId,
    pub event_id: EventId,
    pub merchant_id: MerchantId,
    pub event_type: String,
    pub payload: String,
    pub live_mode: bool,
    pub event_created_at: DateTime<Utc>,
    /// Attempts made before this one.
    pub attempts_made: u32,
    /// Whether a person asked for this attempt.
    pub manual: bool,
    pub destination: Destination,
}

/// How a delivery stands after an attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryUpdate {
    Succeeded,
    RetryAt(DateTime<Utc>),
    Failed,
}

/// What an attempt does to its endpoint's health.
#[derive(Debug, Clone, PartialEq)]
pub enum EndpointHealth {
    /// It answered 2xx: no longer failing.
    Healthy,
    /// It failed; disable it if it has been failing since before `disable_if_failing_since`.
    Failing {
        disable_if_failing_since: DateTime<Utc>,
    },
    /// Disable it now (410 Gone).
    Disable { reason: String },
}

/// One finished attempt, to be written with the others of its batch.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub id: AttemptId,
    pub delivery_id: DeliveryId,
    pub endpoint_id: Option<EndpointId>,
    pub owner: String,
    pub attempt_number: u32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub request_headers: String,
    pub status_code: Option<u16>,
    pub response_headers: Option<String>,
    pub response_body: Option<String>,
    pub error_kind: Option<ErrorKind>,
    pub error_message: Option<String>,
    pub manual: bool,
    pub update: DeliveryUpdate,
    pub health: EndpointHealth,
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("delivery: {e}"))
}

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: String,
    event_id: String,
    merchant_id: String,
    endpoint_id: Option<String>,
    callback_url: Option<String>,
    attempt_count: i64,
    manual: bool,
    event_type: String,
    payload: String,
    live_mode: bool,
    event_created_at: i64,
    url: Option<String>,
    secret: Option<String>,
    previous_secret: Option<String>,
    previous_secret_expires_at: Option<i64>,
    headers: Option<String>,
    rate_limit_per_s: Option<i64>,
    legacy_signature: Option<bool>,
    retry_schedule: Option<String>,
    encryption_key: Option<String>,
    callback_secret: Option<String>,
}

impl ClaimedRow {
    fn into_claimed(self, now: DateTime<Utc>) -> StoreResult<ClaimedDelivery> {
        let destination = match (self.endpoint_id, self.callback_url) {
            (Some(id), _) => Destination::Endpoint {
                id: EndpointId::parse(&id).map_err(corrupt)?,
                url: self.url.ok_or_else(|| corrupt("endpoint without url"))?,
                secret: self
                    .secret
                    .ok_or_else(|| corrupt("endpoint without secret"))?,
                previous_secret: match self.previous_secret_expires_at {
                    Some(until) if until > to_millis(now) => self.previous_secret,
                    _ => None,
                },
                headers: self.headers.unwrap_or_else(|| "{}".into()),
                rate_limit_per_s: self.rate_limit_per_s.and_then(|r| u32::try_from(r).ok()),
                legacy_signature: self.legacy_signature.unwrap_or(false),
                retry_schedule: self.retry_schedule,
                encryption_key: self.encryption_key,
            },
            (None, Some(url)) => Destination::Callback {
                url,
                secret: self.callback_secret,
            },
            (None, None) => return Err(corrupt("delivery without destination")),
        };
        Ok(ClaimedDelivery {
            id: DeliveryId::parse(&self.id).map_err(corrupt)?,
            event_id: EventId::parse(&self.event_id).map_err(corrupt)?,
            merchant_id: MerchantId::parse(&self.merchant_id).map_err(corrupt)?,
            event_type: self.event_type,
            payload: self.payload,
            live_mode: self.live_mode,
            event_created_at: from_millis(self.event_created_at)?,
            attempts_made: u32::try_from(self.attempt_count).map_err(corrupt)?,
            manual: self.manual,
            destination,
        })
    }
}

impl Store {
    /// Takes up to `limit` due deliveries of one lane under a lease, oldest
    /// first. A delivery with an ordering key waits while an earlier one with
    /// the same key for the same endpoint is still pending. On PostgreSQL,
    /// `SKIP LOCKED` lets several processes claim side by side.
    pub async fn claim_due_deliveries(
        &self,
        claim: &ClaimRequest<'_>,
    ) -> StoreResult<Vec<ClaimedDelivery>> {
        let lane = match claim.lane {
            Lane::First => "d.attempt_count = 0",
            Lane::Retry => "d.attempt_count > 0",
        };
        let lock = match self {
            Store::Sqlite(_) => "",
            Store::Postgres(_) => "FOR UPDATE SKIP LOCKED",
        };
        let busy = json_values(self, 5);
        let claim_sql = format!(
            "UPDATE deliveries SET lease_owner = $1, next_attempt_at = $2 \
             WHERE id IN ( \
               SELECT d.id FROM deliveries d \
               WHERE d.status = 'pending' AND d.next_attempt_at <= $3 AND {lane} \
                 AND (d.endpoint_id IS NULL OR d.endpoint_id NOT IN ({busy})) \
                 AND (d.ordering_key IS NULL OR d.endpoint_id IS NULL OR NOT EXISTS ( \
                   SELECT 1 FROM deliveries p \
                   WHERE p.endpoint_id = d.endpoint_id AND p.ordering_key = d.ordering_key \
                     AND p.status = 'pending' AND p.id < d.id)) \
               ORDER BY d.next_attempt_at, d.id LIMIT $4 {lock}) \
             RETURNING id"
        );
        let ids: Vec<(String,)> = on_pool!(self, pool => sqlx::query_as(&claim_sql)
            .bind(claim.owner)
            .bind(to_millis(claim.lease_until))
            .bind(to_millis(claim.now))
            .bind(i64::from(claim.limit))
            .bind(json_list(claim.busy_endpoints))
            .fetch_all(pool)
            .await)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = ids.into_iter().map(|(id,)| id).collect();
        let details_sql = format!(
            "SELECT d.id, d.event_id, d.merchant_id, d.endpoint_id, d.callback_url, d.attempt_count, d.manual, \
                    e.event_type, e.payload, e.live_mode, e.created_at AS event_created_at, \
                    ep.url, ep.secret, ep.previous_secret, ep.previous_secret_expires_at, ep.headers, \
                    ep.rate_limit_per_s, ep.legacy_signature, ep.retry_schedule, ep.encryption_key, \
                    m.callback_secret \
             FROM deliveries d \
             JOIN events e ON e.id = d.event_id \
             JOIN merchants m ON m.id = d.merchant_id \
             LEFT JOIN endpoints ep ON ep.id = d.endpoint_id \
             WHERE d.id IN ({}) ORDER BY d.id",
            json_values(self, 1)
        );
        let rows: Vec<ClaimedRow> = on_pool!(self, pool => sqlx::query_as(&details_sql)
            .bind(json_list(&ids))
            .fetch_all(pool)
            .await)?;
        rows.into_iter()
            .map(|row| row.into_claimed(claim.now))
            .collect()
    }

    /// Gives leased deliveries back so they are due now (too many were
    /// claimed for one endpoint, or the process is shutting down).
    pub async fn release_deliveries(
        &self,
        owner: &str,
        ids: &[DeliveryId],
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let sql = format!(
            "UPDATE deliveries SET lease_owner = NULL, next_attempt_at = $2 \
             WHERE lease_owner = $1 AND status = 'pending' AND id IN ({})",
            json_values(self, 3)
        );
        Ok(on_pool!(self, pool => sqlx::query(&sql)
            .bind(owner)
            .bind(to_millis(now))
            .bind(json_list(ids))
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?)
    }

    /// Makes every lease due now, whoever holds it. Only safe when no other
    /// process can be working: SQLite, at start-up (a crash left them).
    pub async fn release_all_leases(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        Ok(on_pool!(self, pool => sqlx::query(
            "UPDATE deliveries SET lease_owner = NULL, next_attempt_at = $1 \
             WHERE status = 'pending' AND lease_owner IS NOT NULL",
        )
        .bind(to_millis(now))
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?)
    }

    /// When the next pending delivery becomes due (leased ones count at
    /// their lease's end).
    pub async fn next_due_at(&self) -> StoreResult<Option<DateTime<Utc>>> {
        let row: (Option<i64>,) = on_pool!(self, pool => sqlx::query_as(
            "SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'pending'",
        )
        .fetch_one(pool)
        .await)?;
        row.0.map(from_millis).transpose()
    }

    /// Pending deliveries: how many are due at `now` (leased ones count
    /// until their lease ends) and how many wait for a later retry.
    /// Served by the partial index on pending deliveries.
    pub async fn queue_depth(&self, now: DateTime<Utc>) -> StoreResult<(u64, u64)> {
        let (total, due): (i64, i64) = on_pool!(self, pool => sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN next_attempt_at <= $1 THEN 1 ELSE 0 END), 0) \
             FROM deliveries WHERE status = 'pending'",
        )
        .bind(to_millis(now))
        .fetch_one(pool)
        .await)?;
        let due = u64::try_from(due).unwrap_or(0);
        Ok((due, u64::try_from(total).unwrap_or(0).saturating_sub(due)))
    }

    /// Writes a batch of attempts with their delivery and endpoint updates
    /// in one transaction. Returns how many endpoints got disabled.
    pub async fn record_attempts(
        &self,
        records: &[AttemptRecord],
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut disabled = 0;
            for r in records {
                sqlx::query(
                    "INSERT INTO attempts (id, delivery_id, attempt_number, started_at, duration_ms, \
                         request_headers, status_code, response_headers, response_body, error_kind, \
                         error_message, manual) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(r.id.as_str())
                .bind(r.delivery_id.as_str())
                .bind(i64::from(r.attempt_number))
                .bind(to_millis(r.started_at))
                .bind(i64::try_from(r.duration_ms).unwrap_or(i64::MAX))
                .bind(&r.request_headers)
                .bind(r.status_code.map(i64::from))
                .bind(&r.response_headers)
                .bind(&r.response_body)
                .bind(r.error_kind.map(ErrorKind::as_str))
                .bind(&r.error_message)
                .bind(r.manual)
                .execute(&mut *tx)
                .await?;
                let (status, next_at, succeeded_at, failed_at) = match &r.update {
                    DeliveryUpdate::Succeeded => (DeliveryStatus::Succeeded, None, Some(now), None),
                    DeliveryUpdate::RetryAt(at) => (DeliveryStatus::Pending, Some(*at), None, None),
                    DeliveryUpdate::Failed => (DeliveryStatus::Failed, None, None, Some(now)),
                };
                // Only the lease holder moves the delivery on: if the lease ran
                // out and another process took over, its outcome decides.
                sqlx::query(
                    "UPDATE deliveries SET status = $3, attempt_count = attempt_count + 1, \
                         next_attempt_at = CASE WHEN EXISTS (SELECT 1 FROM endpoints ep \
                             WHERE ep.id = deliveries.endpoint_id AND ep.disabled_at IS NOT NULL) \
                             THEN NULL ELSE $4 END, \
                         lease_owner = NULL, manual = FALSE, last_attempt_at = $5, \
                         last_status_code = $6, last_error_kind = $7, \
                         succeeded_at = COALESCE($8, succeeded_at), failed_at = $9 \
                     WHERE id = $1 AND lease_owner = $2",
                )
                .bind(r.delivery_id.as_str())
                .bind(&r.owner)
                .bind(status.as_str())
                .bind(next_at.map(to_millis))
                .bind(to_millis(r.started_at))
                .bind(r.status_code.map(i64::from))
                .bind(r.error_kind.map(ErrorKind::as_str))
                .bind(succeeded_at.map(to_millis))
                .bind(failed_at.map(to_millis))
                .execute(&mut *tx)
                .await?;
                let Some(endpoint) = &r.endpoint_id else { continue };
                match &r.health {
                    EndpointHealth::Healthy => {
                        sqlx::query(
                            "UPDATE endpoints SET failing_since = NULL \
                             WHERE id = $1 AND failing_since IS NOT NULL",
                        )
                        .bind(endpoint.as_str())
                        .execute(&mut *tx)
                        .await?;
                    }
                    EndpointHealth::Failing { disable_if_failing_since } => {
                        sqlx::query(
                            "UPDATE endpoints SET failing_since = $2 \
                             WHERE id = $1 AND failing_since IS NULL",
                        )
                        .bind(endpoint.as_str())
                        .bind(to_millis(r.started_at))
                        .execute(&mut *tx)
                        .await?;
                        let reason = "Disabled automatically: every delivery failed for too long.";
                        disabled += sqlx::query(
                            "UPDATE endpoints SET disabled_at = $2, disabled_reason = $3, updated_at = $2 \
                             WHERE id = $1 AND disabled_at IS NULL AND failing_since <= $4",
                        )
                        .bind(endpoint.as_str())
                        .bind(to_millis(now))
                        .bind(reason)
                        .bind(to_millis(*disable_if_failing_since))
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    }
                    EndpointHealth::Disable { reason } => {
                        disabled += sqlx::query(
                            "UPDATE endpoints SET disabled_at = $2, disabled_reason = $3, updated_at = $2 \
                             WHERE id = $1 AND disabled_at IS NULL",
                        )
                        .bind(endpoint.as_str())
                        .bind(to_millis(now))
                        .bind(reason)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    }
                }
            }
            if disabled > 0 {
                // A disabled endpoint's pending deliveries wait, not due,
                // until it is enabled again.
                sqlx::query(
                    "UPDATE deliveries SET next_attempt_at = NULL \
                     WHERE status = 'pending' AND lease_owner IS NULL AND endpoint_id IN \
                       (SELECT id FROM endpoints WHERE disabled_at IS NOT NULL)",
                )
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(disabled)
        })
    }
}

impl Store {
    /// Gives back every lease `owner` still holds (at shutdown).
    pub async fn release_deliveries_of(&self, owner: &str, now: DateTime<Utc>) -> StoreResult<u64> {
        Ok(on_pool!(self, pool => sqlx::query(
            "UPDATE deliveries SET lease_owner = NULL, next_attempt_at = $2 \
             WHERE lease_owner = $1 AND status = 'pending'",
        )
        .bind(owner)
        .bind(to_millis(now))
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?)
    }
}
