//! Merchant API keys: only a hash of each key is stored.

use super::{on_pool, to_millis, StoreResult};
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

    /// The merchant owning the unrevoked key with this hash.
    pub async fn merchant_for_api_key(&self, key_hash: &str) -> StoreResult<Option<MerchantId>> {
        let row: Option<(String,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT merchant_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
        )
        .bind(key_hash)
        .fetch_optional(pool)
        .await)?;
        Ok(row.and_then(|(id,)| MerchantId::parse(&id).ok()))
    }
}
