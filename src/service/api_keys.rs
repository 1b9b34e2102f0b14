//! Merchant API keys: `hk_` + 32 random bytes, shown once, stored as SHA-256.
//!
//! A fast hash is enough here: the key has 256 bits of entropy, so unlike a
//! password it cannot be guessed from its hash.

use super::ServiceError;
use crate::store::{NewApiKey, Store};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use herald_app::model::id::{ApiKeyId, MerchantId};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A key just created: the only time its full text exists.
#[derive(Debug)]
pub struct IssuedApiKey {
    pub id: ApiKeyId,
    pub key: String,
}

/// The stored form of a key: hex SHA-256.
pub fn hash_api_key(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Longest key name accepted.
const MAX_NAME_LEN: usize = 100;

/// Creates a key for `merchant` and stores its hash.
pub async fn issue_api_key(
    store: &Store,
    merchant: &MerchantId,
    name: &str,
) -> Result<IssuedApiKey, ServiceError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN || name.chars().any(char::is_control)
    {
        return Err(ServiceError::invalid(
            "name",
            format!("1 to {MAX_NAME_LEN} printable characters"),
        ));
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let key = format!("hk_{}", URL_SAFE_NO_PAD.encode(bytes));
    let now = Utc::now();
    let id = ApiKeyId::generate();
    store
        .insert_api_key(&NewApiKey {
            id: id.clone(),
            merchant_id: merchant.clone(),
            name: name.to_owned(),
            // Enough to recognise a key in a list, far too little to use it.
            prefix: key.chars().take(10).collect(),
            key_hash: hash_api_key(&key),
            created_at: now,
        })
        .await?;
    Ok(IssuedApiKey { id, key })
}
