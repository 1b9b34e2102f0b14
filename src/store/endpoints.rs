//! Merchants' endpoints.

use super::alerts;
use super::notifications::NotifyWork;
use super::{from_millis, on_pool, to_millis, StoreError, StoreResult};
use crate::store::Store;
use chrono::{DateTime, Utc};
use herald_app::model::alert::Actor;
use herald_app::model::endpoint::{
    DisableReason, Endpoint, EndpointMode, NextRsaPublicKey, PayloadEncryption, RsaPublicKey,
    SignatureScheme,
};
use herald_app::model::id::{AlertId, EndpointId, MerchantId};
use herald_app::model::scope::Scope;
use std::time::Duration;

#[derive(sqlx::FromRow)]
pub(super) struct EndpointRow {
    id: String,
    merchant_id: String,
    url: String,
    description: String,
    event_types: String,
    disabled_at: Option<i64>,
    disabled_reason: Option<String>,
    disabled_by_operator: bool,
    failing_since: Option<i64>,
    rate_limit_per_s: Option<i64>,
    headers: String,
    legacy_signature: bool,
    retry_schedule: Option<String>,
    signature_scheme: String,
    encryption: Option<String>,
    mode: String,
    profile: String,
    timeout_ms: Option<i64>,
    rsa_public_key: Option<String>,
    rsa_previous_public_key: Option<String>,
    previous_secret_expires_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

impl TryFrom<EndpointRow> for Endpoint {
    type Error = StoreError;
    fn try_from(row: EndpointRow) -> StoreResult<Self> {
        // During a rotation's grace period the rotated-out RSA key signs
        // (profiles with one signature value; the engine's
        // `previous_signs_first`): it is the one receivers verify with now,
        // and the new one is shown as next.
        let grace_until = row
            .previous_secret_expires_at
            .map(from_millis)
            .transpose()?
            .filter(|until| *until > Utc::now());
        let (rsa_in_force, rsa_next_public_key) =
            match (row.rsa_previous_public_key, grace_until, row.rsa_public_key) {
                (Some(previous), Some(until), Some(current)) => {
                    let next = RsaPublicKey::from_pem(&current);
                    (
                        Some(previous),
                        Some(NextRsaPublicKey {
                            pem: next.pem,
                            base64: next.base64,
                            signs_from: until,
                        }),
                    )
                }
                (_, _, current) => (current, None),
            };
        Ok(Endpoint {
            id: EndpointId::parse(&row.id).map_err(|e| corrupt("endpoint id", e))?,
            merchant_id: MerchantId::parse(&row.merchant_id)
                .map_err(|e| corrupt("merchant id", e))?,
            url: row.url,
            description: row.description,
            event_types: serde_json::from_str(&row.event_types)
                .map_err(|e| corrupt("event_types", e))?,
            enabled: row.disabled_at.is_none(),
            disabled_reason: row.disabled_reason,
            disabled_by_operator: row.disabled_by_operator,
            disabled_at: row.disabled_at.map(from_millis).transpose()?,
            failing_since: row.failing_since.map(from_millis).transpose()?,
            // The service knows the auto-disable threshold.
            disables_at: None,
            mode: EndpointMode::parse(&row.mode).ok_or_else(|| corrupt("mode", &row.mode))?,
            rate_limit_per_s: row
                .rate_limit_per_s
                .map(u32::try_from)
                .transpose()
                .map_err(|e| corrupt("rate_limit_per_s", e))?,
            headers: serde_json::from_str(&row.headers).map_err(|e| corrupt("headers", e))?,
            legacy_signature: row.legacy_signature,
            retry_schedule: row
                .retry_schedule
                .map(|s| s.split(',').map(str::to_owned).collect()),
            signature_scheme: SignatureScheme::parse(&row.signature_scheme)
                .ok_or_else(|| corrupt("signature_scheme", &row.signature_scheme))?,
            encryption: row
                .encryption
                .map(|mode| {
                    PayloadEncryption::parse(&mode).ok_or_else(|| corrupt("encryption", mode))
                })
                .transpose()?,
            profile: row.profile,
            // NULL is the server's timeout, which the service knows: zero
            // here says "not chosen" until it fills it in.
            timeout: match row.timeout_ms {
                Some(ms) => {
                    Duration::from_millis(u64::try_from(ms).map_err(|e| corrupt("timeout_ms", e))?)
                }
                None => Duration::ZERO,
            },
            rsa_public_key: rsa_in_force.as_deref().map(RsaPublicKey::from_pem),
            rsa_next_public_key,
            created_at: from_millis(row.created_at)?,
            updated_at: from_millis(row.updated_at)?,
        })
    }
}

pub(super) const COLUMNS: &str =
    "id, merchant_id, url, description, event_types, disabled_at, disabled_reason, \
     disabled_by_operator, failing_since, rate_limit_per_s, headers, legacy_signature, retry_schedule, \
     signature_scheme, encryption, mode, profile, timeout_ms, rsa_public_key, rsa_previous_public_key, \
     previous_secret_expires_at, created_at, updated_at";

/// An endpoint's settings as written by the service (validated already).
#[derive(Debug, Clone)]
pub struct EndpointSettings {
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
    pub rate_limit_per_s: Option<u32>,
    pub headers: std::collections::BTreeMap<String, String>,
    pub legacy_signature: bool,
    /// Checked already; stored as the comma-separated text.
    pub retry_schedule: Option<Vec<String>>,
    pub signature_scheme: SignatureScheme,
    pub encryption: Option<PayloadEncryption>,
    pub mode: EndpointMode,
    /// The delivery profile's name (checked to exist already).
    pub profile: String,
    /// `None`: the server's timeout.
    pub timeout: Option<Duration>,
}

/// What an update does to an endpoint's keys (values sealed already).
#[derive(Debug, Clone, Default)]
pub struct KeyChange {
    /// A new signing key (the scheme changed); the old one keeps signing
    /// until the time given.
    /// With the new key's RSA public key (PEM), if it is one.
    pub rotate_to: Option<(String, DateTime<Utc>, Option<String>)>,
    /// Encryption turned on or off.
    pub encryption_key: Option<EncryptionChange>,
}

/// What turning payload encryption on or off does to its key.
#[derive(Debug, Clone)]
pub enum EncryptionChange {
    /// On: the key kept when it was turned off, if that was within its
    /// grace period as of `now`; else `new_key` (sealed).
    On { new_key: String, now: DateTime<Utc> },
    /// Off: the key is kept (unused) until then, for turning it on again.
    Off { kept_until: DateTime<Utc> },
}

/// `endpoint_secrets`' columns: current, previous, its expiry (ms), encryption key.
type SecretsRow = (String, Option<String>, Option<i64>, Option<String>);

/// An endpoint's signing secrets as stored.
#[derive(Debug, Clone)]
pub struct EndpointSecrets {
    pub current: String,
    pub previous: Option<String>,
    pub previous_expires_at: Option<DateTime<Utc>>,
    pub encryption_key: Option<String>,
}

fn timeout_ms(timeout: Duration) -> i64 {
    i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX)
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

impl Store {
    /// A merchant's endpoints, newest first.
    pub async fn list_endpoints(&self, merchant: &MerchantId) -> StoreResult<Vec<Endpoint>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM endpoints WHERE merchant_id = $1 ORDER BY created_at DESC, id DESC"
        );
        let rows: Vec<EndpointRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(merchant.as_str())
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(Endpoint::try_from).collect()
    }

    /// One endpoint, if it is the merchant's (`None` merchant: operators).
    pub async fn endpoint(&self, scope: &Scope, id: &EndpointId) -> StoreResult<Option<Endpoint>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM endpoints WHERE id = $1 AND ($2 IS NULL OR merchant_id = $2)"
        );
        let row: Option<EndpointRow> = on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(id.as_str())
            .bind(scope.merchant().map(MerchantId::as_str))
            .fetch_optional(pool)
            .await)?;
        row.map(Endpoint::try_from).transpose()
    }

    /// Stores a new endpoint.
    // Each argument is one stored column group of a new endpoint; a struct
    // for them would only repeat `EndpointSettings` plus the sealed keys.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_endpoint(
        &self,
        id: &EndpointId,
        merchant: &MerchantId,
        settings: &EndpointSettings,
        enabled: bool,
        secret: &str,
        rsa_public_key: Option<&str>,
        encryption_key: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO endpoints (id, merchant_id, url, description, event_types, disabled_at, \
                 disabled_reason, secret, rate_limit_per_s, headers, legacy_signature, retry_schedule, \
                 signature_scheme, encryption, encryption_key, mode, profile, timeout_ms, \
                 rsa_public_key, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $12, $13, $14, $15, $16, $17, \
                 $18, $19, $20, $11, $11)",
        )
        .bind(id.as_str())
        .bind(merchant.as_str())
        .bind(&settings.url)
        .bind(&settings.description)
        .bind(json(&settings.event_types))
        .bind((!enabled).then(|| to_millis(now)))
        .bind((!enabled).then(|| DisableReason::ByMerchant.text()))
        .bind(secret)
        .bind(settings.rate_limit_per_s.map(i64::from))
        .bind(json(&settings.headers))
        .bind(to_millis(now))
        .bind(settings.legacy_signature)
        .bind(settings.retry_schedule.as_ref().map(|s| s.join(",")))
        .bind(settings.signature_scheme.as_str())
        .bind(settings.encryption.map(PayloadEncryption::as_str))
        .bind(encryption_key)
        .bind(settings.mode.as_str())
        .bind(&settings.profile)
        .bind(settings.timeout.map(timeout_ms))
        .bind(rsa_public_key)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Replaces an endpoint's settings, and changes its keys as `keys` says,
    /// in one transaction; false if it is not the merchant's.
    pub async fn update_endpoint(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
        settings: &EndpointSettings,
        keys: &KeyChange,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query(
                "UPDATE endpoints SET url = $3, description = $4, event_types = $5, \
                     rate_limit_per_s = $6, headers = $7, updated_at = $8, legacy_signature = $9, \
                     retry_schedule = $10, signature_scheme = $11, encryption = $12, mode = $13, \
                     profile = $14, timeout_ms = $15 \
                 WHERE id = $1 AND merchant_id = $2",
            )
            .bind(id.as_str())
            .bind(merchant.as_str())
            .bind(&settings.url)
            .bind(&settings.description)
            .bind(json(&settings.event_types))
            .bind(settings.rate_limit_per_s.map(i64::from))
            .bind(json(&settings.headers))
            .bind(to_millis(now))
            .bind(settings.legacy_signature)
            .bind(settings.retry_schedule.as_ref().map(|s| s.join(",")))
            .bind(settings.signature_scheme.as_str())
            .bind(settings.encryption.map(PayloadEncryption::as_str))
            .bind(settings.mode.as_str())
            .bind(&settings.profile)
            .bind(settings.timeout.map(timeout_ms))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if let Some((secret, previous_until, rsa_public_key)) = &keys.rotate_to {
                sqlx::query(
                    "UPDATE endpoints SET previous_secret = secret, previous_secret_expires_at = $2, \
                         secret = $3, rsa_previous_public_key = rsa_public_key, rsa_public_key = $4 \
                     WHERE id = $1",
                )
                .bind(id.as_str())
                .bind(to_millis(*previous_until))
                .bind(secret)
                .bind(rsa_public_key.as_deref())
                .execute(&mut *tx)
                .await?;
            }
            match &keys.encryption_key {
                Some(EncryptionChange::On { new_key, now }) => {
                    sqlx::query(
                        "UPDATE endpoints SET encryption_key = CASE \
                             WHEN encryption_key IS NOT NULL AND encryption_key_kept_until > $3 \
                             THEN encryption_key ELSE $2 END, \
                             encryption_key_kept_until = NULL \
                         WHERE id = $1",
                    )
                    .bind(id.as_str())
                    .bind(new_key)
                    .bind(to_millis(*now))
                    .execute(&mut *tx)
                    .await?;
                }
                Some(EncryptionChange::Off { kept_until }) => {
                    sqlx::query("UPDATE endpoints SET encryption_key_kept_until = $2 WHERE id = $1")
                        .bind(id.as_str())
                        .bind(to_millis(*kept_until))
                        .execute(&mut *tx)
                        .await?;
                }
                None => {}
            }
            tx.commit().await?;
            Ok::<bool, sqlx::Error>(changed == 1)
        })
        .map_err(StoreError::from)
    }

    /// Deletes an endpoint and, with it, its deliveries and their attempts.
    pub async fn delete_endpoint(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
    ) -> StoreResult<bool> {
        let changed = on_pool!(self, pool => sqlx::query(
            "DELETE FROM endpoints WHERE id = $1 AND merchant_id = $2",
        )
        .bind(id.as_str())
        .bind(merchant.as_str())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }

    /// Disables (with a reason) or enables an endpoint (`None` merchant: operators).
    /// Disabling parks its pending deliveries; enabling makes them due now.
    pub async fn set_endpoint_enabled(
        &self,
        scope: &Scope,
        id: &EndpointId,
        disabled: Option<&DisableReason>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let disabled_reason = disabled.map(DisableReason::text);
        // Who is told to have made the change (`alerts`).
        let actor = match scope.merchant() {
            Some(_) => Actor::Merchant,
            None => Actor::Operator,
        };
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            // The change of state, if it is one, is told once: disabling
            // takes the row (a concurrent disable then finds it disabled),
            // enabling reads the period it ends before ending it.
            let newly_disabled = match disabled {
                Some(_) => sqlx::query(
                    "UPDATE endpoints SET disabled_at = $3 \
                     WHERE id = $1 AND ($2 IS NULL OR merchant_id = $2) AND disabled_at IS NULL",
                )
                .bind(id.as_str())
                .bind(scope.merchant().map(MerchantId::as_str))
                .bind(to_millis(now))
                .execute(&mut *tx)
                .await?
                .rows_affected() == 1,
                None => {
                    sqlx::query(alerts::RECOVERED_BY_ENABLING)
                        .bind(AlertId::generate().as_str())
                        .bind(id.as_str())
                        .bind(actor.as_str())
                        .bind(to_millis(now))
                        .bind(scope.merchant().map(MerchantId::as_str))
                        .execute(&mut *tx)
                        .await?;
                    false
                }
            };
            let changed = sqlx::query(
                "UPDATE endpoints SET disabled_at = $3, disabled_reason = $4, failing_since = NULL, \
                     updated_at = $5, disabled_by_operator = $6 \
                 WHERE id = $1 AND ($2 IS NULL OR merchant_id = $2)",
            )
            .bind(id.as_str())
            .bind(scope.merchant().map(MerchantId::as_str))
            .bind(disabled.map(|_| to_millis(now)))
            .bind(disabled_reason.as_deref())
            .bind(to_millis(now))
            .bind(disabled.is_some_and(DisableReason::is_by_operator))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if newly_disabled {
                sqlx::query(alerts::DISABLED)
                    .bind(AlertId::generate().as_str())
                    .bind(id.as_str())
                    .bind(actor.as_str())
                    .bind(to_millis(now))
                    .execute(&mut *tx)
                    .await?;
            }
            if disabled.is_some() {
                sqlx::query(
                    "UPDATE deliveries SET next_attempt_at = NULL \
                     WHERE endpoint_id = $1 AND status = 'pending' AND lease_owner IS NULL",
                )
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
            } else {
                sqlx::query(
                    "UPDATE deliveries SET next_attempt_at = $2 \
                     WHERE endpoint_id = $1 AND status = 'pending' AND lease_owner IS NULL \
                       AND next_attempt_at IS NULL",
                )
                .bind(id.as_str())
                .bind(to_millis(now))
                .execute(&mut *tx)
                .await?;
            }
            if disabled.is_none() {
                tx.notify_work().await?;
            }
            tx.commit().await?;
            Ok::<bool, sqlx::Error>(changed == 1)
        })
        .map_err(StoreError::from)
    }

    /// An endpoint's signing secrets, if it is the merchant's.
    pub async fn endpoint_secrets(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
    ) -> StoreResult<Option<EndpointSecrets>> {
        let row: Option<SecretsRow> = on_pool!(self, pool => sqlx::query_as(
            "SELECT secret, previous_secret, previous_secret_expires_at, \
                 CASE WHEN encryption IS NULL THEN NULL ELSE encryption_key END \
             FROM endpoints WHERE id = $1 AND merchant_id = $2",
        )
        .bind(id.as_str())
        .bind(merchant.as_str())
        .fetch_optional(pool)
        .await)?;
        row.map(|(current, previous, expires, encryption_key)| {
            Ok(EndpointSecrets {
                current,
                previous,
                previous_expires_at: expires.map(from_millis).transpose()?,
                encryption_key,
            })
        })
        .transpose()
    }

    /// Makes `new_secret` current; the old one keeps signing until `previous_until`.
    pub async fn rotate_endpoint_secret(
        &self,
        merchant: &MerchantId,
        id: &EndpointId,
        new_secret: &str,
        rsa_public_key: Option<&str>,
        previous_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let changed = on_pool!(self, pool => sqlx::query(
            "UPDATE endpoints SET previous_secret = secret, previous_secret_expires_at = $4, \
                 secret = $3, updated_at = $5, rsa_previous_public_key = rsa_public_key, \
                 rsa_public_key = $6 \
             WHERE id = $1 AND merchant_id = $2",
        )
        .bind(id.as_str())
        .bind(merchant.as_str())
        .bind(new_secret)
        .bind(to_millis(previous_until))
        .bind(to_millis(now))
        .bind(rsa_public_key)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }
}
