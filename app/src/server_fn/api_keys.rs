//! The merchant's API keys.

use crate::model::api_key::{ApiKeySummary, IssuedKey};
use crate::model::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::session;

/// The merchant's keys (prefixes only).
#[server(prefix = "/_fn", endpoint = "api_keys/list")]
pub async fn list_api_keys() -> Result<Vec<ApiKeySummary>, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend.list_api_keys(&merchant.id).await
    })
    .await
}

/// A new key, shown once.
#[server(prefix = "/_fn", endpoint = "api_keys/create")]
pub async fn create_api_key(name: String) -> Result<IssuedKey, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend.create_api_key(&merchant.id, &name).await
    })
    .await
}

/// Revokes a key: it stops working at once.
#[server(prefix = "/_fn", endpoint = "api_keys/revoke")]
pub async fn revoke_api_key(id: String) -> Result<(), AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend
            .revoke_api_key(&merchant.id, &session::id(&id)?)
            .await
    })
    .await
}
