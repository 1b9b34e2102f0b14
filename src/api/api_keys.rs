//! A merchant's API keys: list (prefix and last use), create (shown once), revoke.

use super::auth::MerchantAuth;
use super::id_path::IdPath;
use super::openapi::ErrorBody;
use crate::http::error::{ApiError, ApiJson};
use crate::service::pagination::Page;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use herald_app::model::api_key::ApiKeySummary;
use herald_app::model::id::ApiKeyId;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The API key routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_api_keys, create_api_key))
        .routes(routes!(revoke_api_key))
}

#[utoipa::path(get, path = "/api-keys", tag = "api-keys", security(("api_key" = [])),
    responses((status = 200, description = "Keys with prefix and last use (never the key)", body = Page<ApiKeySummary>), (status = 401, description = "Missing or wrong credentials", body = ErrorBody)))]
async fn list_api_keys(
    auth: MerchantAuth,
    State(state): State<AppState>,
) -> Result<ApiJson<Page<ApiKeySummary>>, ApiError> {
    Ok(ApiJson(Page::whole(
        state.api_keys.list(&auth.merchant_id).await?,
    )))
}

/// `POST /api/v1/api-keys` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    name: String,
}

/// A key just created: the only answer that holds the key itself.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    summary: ApiKeySummary,
    key: String,
}

#[utoipa::path(post, path = "/api-keys", tag = "api-keys", security(("api_key" = [])), request_body = CreateApiKey,
    responses((status = 201, description = "The key, shown only in this answer", body = CreatedApiKey), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 422, description = "Invalid field (named in the message)", body = ErrorBody)))]
async fn create_api_key(
    auth: MerchantAuth,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateApiKey>,
) -> Result<(StatusCode, ApiJson<CreatedApiKey>), ApiError> {
    let issued = state.api_keys.issue(&auth.merchant_id, &body.name).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(CreatedApiKey {
            summary: issued.summary,
            key: issued.key,
        }),
    ))
}

#[utoipa::path(delete, path = "/api-keys/{id}", tag = "api-keys", security(("api_key" = [])), params(("id" = String, Path, description = "The API key id")),
    responses((status = 204, description = "Revoked: it stops working at once"), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 404, description = "No such id for this merchant", body = ErrorBody)))]
async fn revoke_api_key(
    auth: MerchantAuth,
    State(state): State<AppState>,
    IdPath(id): IdPath<ApiKeyId>,
) -> Result<StatusCode, ApiError> {
    state.api_keys.revoke(&auth.merchant_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
