//! The delivery queue: claiming due work under a lease and giving it back.
//! Recording attempts is in `attempt_records`, the reads in `delivery_views`.
//!
//! A lease is just `next_attempt_at` pushed to the lease's end with
//! `lease_owner` set: if the process dies mid-attempt, the delivery simply
//! becomes due again when the lease runs out, and any process takes it.
//! Claims and releases go through the queue pool, whose commits do not wait
//! for the disk (see `Pools`): a claim lost in a power cut is a delivery due
//! again, nothing more.

use super::{from_millis, json_list, json_values, on_pool, to_millis, StoreError, StoreResult};
use crate::store::Store;
use chrono::{DateTime, Utc};
use herald_app::model::id::{DeliveryId, EndpointId, EventId, MerchantId};

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
    /// Merchants already holding their share of this process's places.
    pub busy_merchants: &'a [MerchantId],
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
        /// The delivery profile's JSON (`None`: the endpoint names a
        /// profile that is gone, which the attempt reports).
        profile: Option<String>,
        /// One attempt's limit; `None`: the server's.
        timeout: Option<std::time::Duration>,
        /// During a rotation, the rotated-out key signs first (alone, for
        /// profiles whose receivers compare one signature) until its grace
        /// period ends.
        previous_signs_first: bool,
    },
    /// A one-off callback URL, signed with the merchant's callback secret
    /// (and the one it replaced, until that one's grace period ends).
    Callback {
        url: String,
        secret: Option<String>,
        previous_secret: Option<String>,
        /// The merchant's callback profile's JSON (`standard` unless chosen).
        profile: Option<String>,
        /// As for endpoints: the rotated-out secret signs first during its
        /// grace period when the profile sends one signature.
        previous_signs_first: bool,
    },
}

/// A delivery this process now holds the lease of, with all it needs to send.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: DeliveryId,
    pub event_id: EventId,
    pub merchant_id: MerchantId,
    pub event_type: String,
    pub payload: String,
    /// The object before the change, JSON as the platform sent it.
    pub previous_data: Option<String>,
    pub live_mode: bool,
    pub event_created_at: DateTime<Utc>,
    /// Attempts made before this one.
    pub attempts_made: u32,
    /// Whether a person asked for this attempt.
    pub manual: bool,
    /// It has an ordering key: later deliveries with the key to the same
    /// endpoint wait until this one succeeds or finally fails.
    pub ordered: bool,
    /// When this process's lease on it runs out: past it, another process
    /// (or this one's next claim) may take it, so it must not be sent
    /// without renewing the lease first (`Store::renew_lease`).
    pub lease_until: DateTime<Utc>,
    pub destination: Destination,
}

/// The columns of a claimed delivery the sender needs, from `deliveries`.
const CLAIMED_DELIVERY_COLUMNS: &str =
    "id, event_id, merchant_id, endpoint_id, callback_url, attempt_count, manual, ordering_key";

/// A `ClaimedRow` from the claimed deliveries `d` (a `WITH` of
/// `CLAIMED_DELIVERY_COLUMNS`) with their events, merchants and endpoints.
const CLAIMED_DETAILS: &str = "d.id, d.event_id, d.merchant_id, d.endpoint_id, d.callback_url, \
       d.attempt_count, d.manual, d.ordering_key, \
       e.event_type, e.payload, e.previous_data, e.live_mode, e.created_at AS event_created_at, \
       ep.url, ep.secret, ep.previous_secret, ep.previous_secret_expires_at, ep.headers, \
       ep.rate_limit_per_s, ep.legacy_signature, ep.retry_schedule, \
       CASE WHEN ep.encryption IS NULL THEN NULL ELSE ep.encryption_key END AS encryption_key, \
       ep.timeout_ms, pr.profile AS profile_json, \
       m.callback_secret, m.callback_previous_secret, m.callback_previous_secret_expires_at \
     FROM d \
     JOIN events e ON e.id = d.event_id \
     JOIN merchants m ON m.id = d.merchant_id \
     LEFT JOIN endpoints ep ON ep.id = d.endpoint_id \
     LEFT JOIN delivery_profiles pr ON pr.name = CASE WHEN d.endpoint_id IS NULL \
         THEN COALESCE(m.callback_profile, 'standard') ELSE ep.profile END";

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
    ordering_key: Option<String>,
    event_type: String,
    payload: String,
    previous_data: Option<String>,
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
    timeout_ms: Option<i64>,
    profile_json: Option<String>,
    callback_secret: Option<String>,
    callback_previous_secret: Option<String>,
    callback_previous_secret_expires_at: Option<i64>,
}

/// An endpoint's columns that sending needs (`ENDPOINT_SENDING_COLUMNS`),
/// read by a claim's join or by ingest when it leases new deliveries.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct EndpointSending {
    pub id: String,
    pub url: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<i64>,
    pub headers: String,
    pub rate_limit_per_s: Option<i64>,
    pub legacy_signature: bool,
    pub retry_schedule: Option<String>,
    pub encryption_key: Option<String>,
    pub timeout_ms: Option<i64>,
    pub profile_json: Option<String>,
}

/// The `endpoints` columns `EndpointSending` reads (from `endpoints`
/// itself, not an alias of it).
pub(crate) const ENDPOINT_SENDING_COLUMNS: &str = "id, url, secret, previous_secret, \
     previous_secret_expires_at, headers, rate_limit_per_s, legacy_signature, retry_schedule, \
     CASE WHEN encryption IS NULL THEN NULL ELSE encryption_key END AS encryption_key, timeout_ms, \
     (SELECT p.profile FROM delivery_profiles p WHERE p.name = endpoints.profile) AS profile_json";

impl EndpointSending {
    /// Where a delivery to this endpoint goes, as of `now` (a rotated-out
    /// secret whose grace period ended is left out).
    pub(crate) fn destination(self, now: DateTime<Utc>) -> StoreResult<Destination> {
        Ok(Destination::Endpoint {
            id: EndpointId::parse(&self.id).map_err(corrupt)?,
            url: self.url,
            secret: self.secret,
            previous_secret: match self.previous_secret_expires_at {
                Some(until) if until > to_millis(now) => self.previous_secret,
                _ => None,
            },
            headers: self.headers,
            rate_limit_per_s: self.rate_limit_per_s.and_then(|r| u32::try_from(r).ok()),
            legacy_signature: self.legacy_signature,
            retry_schedule: self.retry_schedule,
            encryption_key: self.encryption_key,
            previous_signs_first: previous_signs_first(self.profile_json.as_deref()),
            profile: self.profile_json,
            timeout: self
                .timeout_ms
                .and_then(|ms| u64::try_from(ms).ok())
                .map(std::time::Duration::from_millis),
        })
    }
}

/// Whether a rotated-out key signs in place of the current one during its
/// grace period: profiles that send a single value per signature header
/// (no `every_key`), whose receivers compare one signature and so cannot
/// take the new key before they are told to switch.
fn previous_signs_first(profile_json: Option<&str>) -> bool {
    profile_json
        .and_then(|json| {
            serde_json::from_str::<herald_app::model::profile::DeliveryProfile>(json).ok()
        })
        .is_some_and(|profile| profile.signs_one_key_at_a_time())
}

impl ClaimedRow {
    fn into_claimed(
        self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<ClaimedDelivery> {
        let destination = match (self.endpoint_id, self.callback_url) {
            (Some(id), _) => EndpointSending {
                id,
                url: self.url.ok_or_else(|| corrupt("endpoint without url"))?,
                secret: self
                    .secret
                    .ok_or_else(|| corrupt("endpoint without secret"))?,
                previous_secret: self.previous_secret,
                previous_secret_expires_at: self.previous_secret_expires_at,
                headers: self.headers.unwrap_or_else(|| "{}".into()),
                rate_limit_per_s: self.rate_limit_per_s,
                legacy_signature: self.legacy_signature.unwrap_or(false),
                retry_schedule: self.retry_schedule,
                encryption_key: self.encryption_key,
                timeout_ms: self.timeout_ms,
                profile_json: self.profile_json,
            }
            .destination(now)?,
            (None, Some(url)) => Destination::Callback {
                url,
                secret: self.callback_secret,
                previous_secret: match self.callback_previous_secret_expires_at {
                    Some(until) if until > to_millis(now) => self.callback_previous_secret,
                    _ => None,
                },
                previous_signs_first: previous_signs_first(self.profile_json.as_deref()),
                profile: self.profile_json,
            },
            (None, None) => return Err(corrupt("delivery without destination")),
        };
        Ok(ClaimedDelivery {
            id: DeliveryId::parse(&self.id).map_err(corrupt)?,
            event_id: EventId::parse(&self.event_id).map_err(corrupt)?,
            merchant_id: MerchantId::parse(&self.merchant_id).map_err(corrupt)?,
            event_type: self.event_type,
            payload: self.payload,
            previous_data: self.previous_data,
            live_mode: self.live_mode,
            event_created_at: from_millis(self.event_created_at)?,
            attempts_made: u32::try_from(self.attempt_count).map_err(corrupt)?,
            manual: self.manual,
            ordered: self.ordering_key.is_some(),
            lease_until,
            destination,
        })
    }
}

impl Store {
    /// Takes up to `limit` due deliveries of one lane under a lease, oldest
    /// first. Disabled endpoints' deliveries are left (disabling parks only
    /// those no process holds; one whose lease ran out waits here too). A delivery with an ordering key waits while an earlier one with
    /// the same key for the same endpoint is still pending. On PostgreSQL,
    /// `SKIP LOCKED` lets several processes claim side by side, and the
    /// claim and the read of what it claimed are one statement (one round
    /// trip); SQLite cannot put an `UPDATE` in a `WITH`, so it takes two,
    /// and only the first holds the write turn.
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
        let busy_merchants = json_values(self, 6);
        let returning = match self {
            Store::Sqlite(_) => "id",
            Store::Postgres(_) => CLAIMED_DELIVERY_COLUMNS,
        };
        let claim_sql = format!(
            "UPDATE deliveries SET lease_owner = $1, next_attempt_at = $2 \
             WHERE id IN ( \
               SELECT d.id FROM deliveries d \
               WHERE d.status = 'pending' AND d.next_attempt_at <= $3 AND {lane} \
                 AND (d.endpoint_id IS NULL OR d.endpoint_id NOT IN ({busy})) \
                 AND d.merchant_id NOT IN ({busy_merchants}) \
                 AND (d.endpoint_id IS NULL OR NOT EXISTS ( \
                   SELECT 1 FROM endpoints ep \
                   WHERE ep.id = d.endpoint_id AND ep.disabled_at IS NOT NULL)) \
                 AND (d.ordering_key IS NULL OR d.endpoint_id IS NULL OR NOT EXISTS ( \
                   SELECT 1 FROM deliveries p \
                   WHERE p.endpoint_id = d.endpoint_id AND p.ordering_key = d.ordering_key \
                     AND p.status = 'pending' AND p.id < d.id)) \
               ORDER BY d.next_attempt_at, d.id LIMIT $4 {lock}) \
             RETURNING {returning}"
        );
        // Bound in this order by both arms below.
        let (lease_until, now, limit) = (
            to_millis(claim.lease_until),
            to_millis(claim.now),
            i64::from(claim.limit),
        );
        let busy_list = json_list(claim.busy_endpoints);
        let busy_merchant_list = json_list(claim.busy_merchants);
        let rows: Vec<ClaimedRow> = match self {
            Store::Postgres(pools) => {
                let sql = format!("WITH d AS ({claim_sql}) SELECT {CLAIMED_DETAILS} ORDER BY d.id");
                sqlx::query_as(&sql)
                    .bind(claim.owner)
                    .bind(lease_until)
                    .bind(now)
                    .bind(limit)
                    .bind(&busy_list)
                    .bind(&busy_merchant_list)
                    .fetch_all(&pools.queue)
                    .await?
            }
            Store::Sqlite(pools) => {
                let turn = self.write_turn().await;
                let claimed: Vec<(String,)> = sqlx::query_as(&claim_sql)
                    .bind(claim.owner)
                    .bind(lease_until)
                    .bind(now)
                    .bind(limit)
                    .bind(&busy_list)
                    .bind(&busy_merchant_list)
                    .fetch_all(&pools.queue)
                    .await?;
                drop(turn);
                if claimed.is_empty() {
                    return Ok(Vec::new());
                }
                let ids: Vec<String> = claimed.into_iter().map(|(id,)| id).collect();
                let sql = format!(
                    "WITH d AS (SELECT {CLAIMED_DELIVERY_COLUMNS} FROM deliveries \
                       WHERE id IN ({})) \
                     SELECT {CLAIMED_DETAILS} ORDER BY d.id",
                    json_values(self, 1)
                );
                sqlx::query_as(&sql)
                    .bind(json_list(&ids))
                    .fetch_all(&pools.queue)
                    .await?
            }
        };
        // A row that cannot be read must not fail the claim of the others
        // (every claim would take it again, oldest first, and fail again):
        // it is marked failed, which shows it to the merchant and operator.
        let mut claimed = Vec::with_capacity(rows.len());
        let mut unreadable = Vec::new();
        for row in rows {
            let id = row.id.clone();
            match row.into_claimed(claim.now, claim.lease_until) {
                Ok(delivery) => claimed.push(delivery),
                Err(e) => {
                    tracing::error!(delivery = %id, error = %e, "a claimed delivery cannot be read; marking it failed");
                    unreadable.push(id);
                }
            }
        }
        if !unreadable.is_empty() {
            self.fail_unreadable_deliveries(claim.owner, &unreadable, claim.now)
                .await?;
        }
        Ok(claimed)
    }

    /// Ends deliveries whose stored rows cannot be read back (corruption or
    /// a bug) as `failed`, so no claim takes them again.
    async fn fail_unreadable_deliveries(
        &self,
        owner: &str,
        ids: &[String],
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.end_leases(
            "status = 'failed', lease_owner = NULL, next_attempt_at = NULL, failed_at = $2",
            owner,
            ids,
            now,
        )
        .await
    }

    /// Extends `owner`'s lease on a delivery from `held_until` (its end as
    /// claimed: the fence) to `until`, before sending it after a wait (for
    /// its endpoint's turn or rate limit) that may have outlasted it.
    /// `false`: the lease is no longer the one held (the delivery was
    /// claimed again, by another process or by this one, or finished or
    /// deleted), and sending it would be a duplicate.
    pub async fn renew_lease(
        &self,
        owner: &str,
        id: &DeliveryId,
        held_until: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let _turn = self.write_turn().await;
        let renewed = on_pool!(self, queue, pool => sqlx::query(
            "UPDATE deliveries SET next_attempt_at = $4 \
             WHERE id = $1 AND lease_owner = $2 AND next_attempt_at = $3 AND status = 'pending'",
        )
        .bind(id.as_str())
        .bind(owner)
        .bind(to_millis(held_until))
        .bind(to_millis(until))
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(renewed == 1)
    }

    /// Gives leased deliveries back so they are due now (too many were
    /// claimed for one endpoint, or the process is shutting down).
    pub async fn release_deliveries(
        &self,
        owner: &str,
        ids: &[DeliveryId],
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        self.end_leases("lease_owner = NULL, next_attempt_at = $2", owner, ids, now)
            .await
    }

    /// Sets `set` (which may use `$2`, `now`) on the pending deliveries of
    /// `ids` that `owner` still holds the lease of.
    async fn end_leases<I: AsRef<str>>(
        &self,
        set: &str,
        owner: &str,
        ids: &[I],
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let sql = format!(
            "UPDATE deliveries SET {set} \
             WHERE lease_owner = $1 AND status = 'pending' AND id IN ({})",
            json_values(self, 3)
        );
        let _turn = self.write_turn().await;
        Ok(on_pool!(self, queue, pool => sqlx::query(&sql)
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
        let _turn = self.write_turn().await;
        Ok(on_pool!(self, queue, pool => sqlx::query(
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

    /// Gives back every lease `owner` still holds (at shutdown).
    pub async fn release_deliveries_of(&self, owner: &str, now: DateTime<Utc>) -> StoreResult<u64> {
        let _turn = self.write_turn().await;
        Ok(on_pool!(self, queue, pool => sqlx::query(
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
