//! Merchant API keys: `hk_` + 32 random bytes, shown once, stored as SHA-256.
//!
//! A fast hash is enough here: the key has 256 bits of entropy, so unlike a
//! password it cannot be guessed from its hash.

use super::audit::{Audit, Change};
use super::ServiceError;
use crate::store::{NewApiKey, Store};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{SubsecRound, Utc};
use herald_app::model::api_key::{ApiKeySummary, IssuedKey};
use herald_app::model::audit::AuditAction;
use herald_app::model::id::{ApiKeyId, MerchantId};
use herald_app::model::member::Permission;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The stored form of a key: hex SHA-256.
pub fn hash_api_key(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Longest key name accepted.
const MAX_NAME_LEN: usize = 100;

/// The merchant API key operations.
#[derive(Clone, Debug)]
pub struct ApiKeys {
    store: Store,
    audit: Audit,
}

impl ApiKeys {
    /// API key operations over `store`.
    pub fn new(store: Store) -> Self {
        ApiKeys {
            audit: Audit::new(store.clone()),
            store,
        }
    }

    /// The merchant's keys that still work (never the keys themselves).
    pub async fn list(&self, merchant: &MerchantId) -> Result<Vec<ApiKeySummary>, ServiceError> {
        Ok(self.store.list_api_keys(merchant).await?)
    }

    /// Creates a key for `merchant` and stores its hash; the answer is the
    /// only time the key's full text exists.
    pub async fn issue(
        &self,
        merchant: &MerchantId,
        name: &str,
    ) -> Result<IssuedKey, ServiceError> {
        super::access::require(Permission::Change)?;
        let name = name.trim();
        if name.is_empty()
            || name.chars().count() > MAX_NAME_LEN
            || name.chars().any(char::is_control)
        {
            return Err(ServiceError::invalid(
                "name",
                format!("1 to {MAX_NAME_LEN} printable characters"),
            ));
        }
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let key = format!("hk_{}", URL_SAFE_NO_PAD.encode(bytes));
        let summary = ApiKeySummary {
            id: ApiKeyId::generate(),
            name: name.to_owned(),
            // Enough to recognise a key in a list, far too little to use it.
            prefix: key.chars().take(10).collect(),
            // As the store keeps it (milliseconds), so this answer and a later list agree.
            created_at: Utc::now().trunc_subsecs(3),
            last_used_at: None,
        };
        self.store
            .insert_api_key(&NewApiKey {
                id: summary.id.clone(),
                merchant_id: merchant.clone(),
                name: summary.name.clone(),
                prefix: summary.prefix.clone(),
                key_hash: hash_api_key(&key),
                created_at: summary.created_at,
            })
            .await?;
        self.audit
            .record(Change::new(
                merchant,
                AuditAction::ApiKeyCreated,
                summary.id.as_str(),
            ))
            .await?;
        Ok(IssuedKey { summary, key })
    }

    /// Revokes one of the merchant's keys: it stops working at once.
    pub async fn revoke(&self, merchant: &MerchantId, id: &ApiKeyId) -> Result<(), ServiceError> {
        super::access::require(Permission::Change)?;
        if self.store.revoke_api_key(merchant, id, Utc::now()).await? {
            self.audit
                .record(Change::new(
                    merchant,
                    AuditAction::ApiKeyRevoked,
                    id.as_str(),
                ))
                .await
        } else {
            Err(ServiceError::NotFound("API key"))
        }
    }
}
