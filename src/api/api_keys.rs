//! A merchant's API keys: list (prefix and last use), create (shown once), revoke.

use super::auth::MerchantAuth;
use crate::error::{ApiError, ApiJson};
use crate::service::issue_api_key;
use crate::store::ApiKeySummary;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::Router;
use chrono::Utc;
use herald_app::model::id::ApiKeyId;
use serde::{Deserialize, Serialize};

/// The API key routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api-keys", get(list_api_keys).post(create_api_key))
        .route("/api-keys/{id}", delete(revoke_api_key))
}

async fn list_api_keys(
    auth: MerchantAuth,
    State(state): State<AppState>,
) -> Result<ApiJson<serde_json::Value>, ApiError> {
    let keys = state.store.list_api_keys(&auth.merchant_id).await?;
    Ok(ApiJson(
        serde_json::json!({ "data": keys, "next_cursor": null }),
    ))
}

/// `POST /api/v1/api-keys` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    name: String,
}

/// A key just created: the only answer that holds the key itself.
#[derive(Debug, Serialize)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    summary: ApiKeySummary,
    key: String,
}

async fn create_api_key(
    auth: MerchantAuth,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateApiKey>,
) -> Result<(StatusCode, ApiJson<CreatedApiKey>), ApiError> {
    let issued = issue_api_key(&state.store, &auth.merchant_id, &body.name).await?;
    let summary = state
        .store
        .list_api_keys(&auth.merchant_id)
        .await?
        .into_iter()
        .find(|k| k.id == issued.id)
        .ok_or_else(|| ApiError::internal(&"a created key is missing"))?;
    Ok((
        StatusCode::CREATED,
        ApiJson(CreatedApiKey {
            summary,
            key: issued.key,
        }),
    ))
}

async fn revoke_api_key(
    auth: MerchantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = ApiKeyId::parse(&id).map_err(|_| ApiError::not_found("API key"))?;
    if state
        .store
        .revoke_api_key(&auth.merchant_id, &id, Utc::now())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("API key"))
    }
}
