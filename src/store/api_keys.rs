//! Merchant API keys: only a hash of each key is stored.

use super::{from_millis, on_pool, to_millis, StoreError, StoreResult};
use crate::store::Store;
use chrono::{DateTime, Utc};
use herald_app::model::id::{ApiKeyId, MerchantId};

/// A key to store: its id, a display prefix and the hash of the full key.
#[derive(Debug)]
pub struct NewApiKey {
    pub id: ApiKeyId,
    pub merchant_id: MerchantId,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    pub created_at: DateTime<Utc>,
}

/// Whose a presented key is, and when it was last used.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyOwner {
    pub key_id: ApiKeyId,
    pub merchant_id: MerchantId,
    pub last_used_at: Option<DateTime<Utc>>,
}

pub use herald_app::model::api_key::ApiKeySummary;

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("api key: {e}"))
}

fn optional_time(ms: Option<i64>) -> StoreResult<Option<DateTime<Utc>>> {
    ms.map(from_millis).transpose()
}

impl Store {
    /// Stores a new API key.
    pub async fn insert_api_key(&self, key: &NewApiKey) -> StoreResult<()> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO api_keys (id, merchant_id, name, prefix, key_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(key.id.as_str())
        .bind(key.merchant_id.as_str())
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(&key.key_hash)
        .bind(to_millis(key.created_at))
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The owner of the unrevoked key with this hash.
    pub async fn api_key_owner(&self, key_hash: &str) -> StoreResult<Option<ApiKeyOwner>> {
        let row: Option<(String, String, Option<i64>)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT id, merchant_id, last_used_at FROM api_keys \
             WHERE key_hash = $1 AND revoked_at IS NULL",
        )
        .bind(key_hash)
        .fetch_optional(pool)
        .await)?;
        row.map(|(id, merchant_id, last_used_at)| {
            Ok(ApiKeyOwner {
                key_id: ApiKeyId::parse(&id).map_err(corrupt)?,
                merchant_id: MerchantId::parse(&merchant_id).map_err(corrupt)?,
                last_used_at: optional_time(last_used_at)?,
            })
        })
        .transpose()
    }

    /// Records that a key was used at `now`.
    pub async fn touch_api_key(&self, key: &ApiKeyId, now: DateTime<Utc>) -> StoreResult<()> {
        on_pool!(self, pool => sqlx::query("UPDATE api_keys SET last_used_at = $2 WHERE id = $1")
            .bind(key.as_str())
            .bind(to_millis(now))
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A merchant's unrevoked keys, newest first.
    pub async fn list_api_keys(&self, merchant: &MerchantId) -> StoreResult<Vec<ApiKeySummary>> {
        let rows: Vec<(String, String, String, i64, Option<i64>)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT id, name, prefix, created_at, last_used_at FROM api_keys \
             WHERE merchant_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC",
        )
        .bind(merchant.as_str())
        .fetch_all(pool)
        .await)?;
        rows.into_iter()
            .map(|(id, name, prefix, created_at, last_used_at)| {
                Ok(ApiKeySummary {
                    id: ApiKeyId::parse(&id).map_err(corrupt)?,
                    name,
                    prefix,
                    created_at: from_millis(created_at)?,
                    last_used_at: optional_time(last_used_at)?,
                })
            })
            .collect()
    }

    /// Revokes one of the merchant's keys; false if it has no such live key.
    pub async fn revoke_api_key(
        &self,
        merchant: &MerchantId,
        key: &ApiKeyId,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let changed = on_pool!(self, pool => sqlx::query(
            "UPDATE api_keys SET revoked_at = $3 \
             WHERE id = $1 AND merchant_id = $2 AND revoked_at IS NULL",
        )
        .bind(key.as_str())
        .bind(merchant.as_str())
        .bind(to_millis(now))
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }
}
