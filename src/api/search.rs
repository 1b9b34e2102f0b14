//! Search: "did the webhook for payment `pay_123` go out?" — events and
//! deliveries by id, tag or idempotency key; a merchant's own, or (operators)
//! every merchant's with the merchant named.

use super::auth::{Admin, MerchantAuth};
use super::openapi::ErrorBody;
use crate::http::error::{ApiError, ApiJson, ApiQuery};
use crate::state::AppState;
use axum::extract::State;
use herald_app::model::event::SearchResults;
use herald_app::model::scope::Scope;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The search routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(admin_search))
}

/// `GET /api/v1/search` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// An event or delivery id, a tag (a payment reference) or an idempotency key.
    q: Option<String>,
}

#[utoipa::path(get, path = "/search", tag = "events", security(("api_key" = [])), params(SearchQuery),
    responses((status = 200, description = "The merchant's events (at most 50) and deliveries (at most 50) matching, newest first", body = SearchResults), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 422, description = "q missing, blank or over 255 characters", body = ErrorBody)))]
async fn search(
    auth: MerchantAuth,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<ApiJson<SearchResults>, ApiError> {
    let scope = Scope::Merchant(auth.merchant_id);
    Ok(ApiJson(
        state
            .events
            .search(&scope, query.q.as_deref().unwrap_or_default())
            .await?,
    ))
}

#[utoipa::path(get, path = "/admin/search", tag = "admin", security(("platform_token" = [])), params(SearchQuery),
    responses((status = 200, description = "Every merchant's events and deliveries matching, with `merchant_names`", body = SearchResults), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 403, description = "Not an operator", body = ErrorBody), (status = 422, description = "q missing, blank or over 255 characters", body = ErrorBody)))]
async fn admin_search(
    _: Admin,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<ApiJson<SearchResults>, ApiError> {
    Ok(ApiJson(
        state
            .events
            .search(&Scope::Operator, query.q.as_deref().unwrap_or_default())
            .await?,
    ))
}
