//! Operator routes (platform token, or an admin's dashboard session):
//! merchants, failed deliveries across merchants, disabling endpoints.

use super::auth::Admin;
use super::deliveries::{DeliveryQuery, Queued};
use super::id_path::IdPath;
use super::openapi::ErrorBody;
use crate::http::error::{ApiError, ApiJson, ApiQuery};
use crate::service::deliveries::DeliverySearch;
use crate::service::pagination::{self, Page};
use crate::service::ServiceError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use herald_app::model::endpoint::Endpoint;
use herald_app::model::event::{Delivery, StorageStats};
use herald_app::model::id::{DeliveryId, EndpointId, MerchantId};
use herald_app::model::merchant::Role;
use herald_app::model::operations::{
    EndpointOrder, EndpointOverview, EndpointOverviewQuery, MerchantSummary,
};
use herald_app::model::scope::Scope;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The admin routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_merchants, create_merchant))
        .routes(routes!(create_login_link))
        .routes(routes!(list_deliveries))
        .routes(routes!(retry_deliveries))
        .routes(routes!(list_endpoints))
        .routes(routes!(disable_endpoint))
        .routes(routes!(enable_endpoint))
        .routes(routes!(storage))
}

#[utoipa::path(get, path = "/admin/storage", tag = "admin", security(("platform_token" = [])),
    responses((status = 200, description = "What the database holds and how long history is kept (HERALD_RETENTION)", body = StorageStats), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 403, description = "Not an operator", body = ErrorBody)))]
async fn storage(
    _: Admin,
    State(state): State<AppState>,
) -> Result<ApiJson<StorageStats>, ApiError> {
    Ok(ApiJson(state.retention.storage().await?))
}

#[utoipa::path(get, path = "/admin/merchants", tag = "admin", security(("platform_token" = [])),
    responses((status = 200, description = "Every merchant, newest first, with its endpoints (enabled, disabled), members, and deliveries made in the last 24 h and how many failed", body = Page<MerchantSummary>), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 403, description = "Not an operator", body = ErrorBody)))]
async fn list_merchants(
    _: Admin,
    State(state): State<AppState>,
) -> Result<ApiJson<Page<MerchantSummary>>, ApiError> {
    Ok(ApiJson(Page::whole(state.operations.merchants().await?)))
}

/// `POST /api/v1/admin/merchants` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMerchant {
    name: String,
    email: String,
    password: Option<String>,
}

/// A merchant just created, with its first API key (shown once).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedMerchant {
    id: MerchantId,
    name: String,
    email: String,
    api_key: String,
}

#[utoipa::path(post, path = "/admin/merchants", tag = "admin", security(("platform_token" = [])), request_body = CreateMerchant,
    responses((status = 201, description = "The merchant and its first API key (shown once)", body = CreatedMerchant), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 403, description = "Not an operator", body = ErrorBody), (status = 409, description = "The email is taken", body = ErrorBody), (status = 422, description = "Invalid field (named in the message)", body = ErrorBody)))]
async fn create_merchant(
    _: Admin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateMerchant>,
) -> Result<(StatusCode, ApiJson<CreatedMerchant>), ApiError> {
    let (merchant, key) = state
        .accounts
        .create_merchant(&body.name, &body.email, body.password, Role::Merchant)
        .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(CreatedMerchant {
            id: merchant.id,
            name: merchant.name,
            email: merchant.email,
            api_key: key.key,
        }),
    ))
}

/// `POST /api/v1/admin/merchants/{id}/login-links` body (optional: no body
/// is a link for the merchant's owner).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLoginLink {
    /// Log in as this member of the merchant; absent: as its owner.
    member_email: Option<String>,
}

/// A single-use link into a merchant's dashboard.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginLink {
    /// Opens the dashboard logged in, once.
    url: String,
    /// After this the link opens nothing (10 minutes after it was made).
    expires_at: chrono::DateTime<Utc>,
}

#[utoipa::path(post, path = "/admin/merchants/{id}/login-links", tag = "admin", security(("platform_token" = [])),
    params(("id" = String, Path, description = "The merchant id")), request_body(content = NewLoginLink, description = "Optional"),
    responses((status = 201, description = "A single-use link, valid 10 minutes, that opens the dashboard logged in as that merchant", body = LoginLink), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 403, description = "Not an operator", body = ErrorBody), (status = 404, description = "No such merchant", body = ErrorBody), (status = 422, description = "Invalid field (named in the message)", body = ErrorBody)))]
async fn create_login_link(
    _: Admin,
    State(state): State<AppState>,
    IdPath(id): IdPath<MerchantId>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, ApiJson<LoginLink>), ApiError> {
    // The body is optional: a platform asking for the owner's link sends none.
    let body: NewLoginLink = if body.iter().all(u8::is_ascii_whitespace) {
        NewLoginLink::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                herald_app::model::error::ErrorCode::BadRequest,
                format!("malformed JSON: {e}"),
            )
        })?
    };
    let link = state
        .login_links
        .issue(&id, body.member_email.as_deref())
        .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(LoginLink {
            url: link.url,
            expires_at: link.expires_at,
        }),
    ))
}

/// `GET /api/v1/admin/endpoints` query.
#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EndpointQuery {
    /// One merchant's endpoints only (`mer_…`).
    merchant_id: Option<String>,
    /// Merchants whose name contains this (any case).
    merchant: Option<String>,
    /// Endpoints whose URL contains this (any case).
    url: Option<String>,
    /// `enabled`, `disabled` or `failing` (enabled, every recent delivery failing); absent: all.
    status: Option<String>,
    /// `newest` (the default), `failure_rate`, `last_delivery`, `merchant` or `url`.
    sort: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// A page of the endpoint overview.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EndpointOverviewList {
    data: Vec<EndpointOverview>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
    /// How many endpoints match the filters, on every page together.
    total: u64,
}

#[utoipa::path(get, path = "/admin/endpoints", tag = "admin", security(("platform_token" = [])), params(EndpointQuery),
    responses((status = 200, description = "Endpoints across merchants (newest first unless `sort` says otherwise), each with its merchant's name, its last 24 h (failed and finished deliveries, failure rate) and its newest delivery; custom header values masked", body = EndpointOverviewList), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 403, description = "Not an operator", body = ErrorBody), (status = 422, description = "Invalid field (named in the message)", body = ErrorBody)))]
async fn list_endpoints(
    _: Admin,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<EndpointQuery>,
) -> Result<ApiJson<EndpointOverviewList>, ApiError> {
    let overview = EndpointOverviewQuery {
        merchant: query.merchant,
        merchant_id: query.merchant_id,
        url: query.url,
        status: query.status,
        // The API's lists are newest first unless asked otherwise.
        sort: Some(
            query
                .sort
                .unwrap_or_else(|| EndpointOrder::Newest.as_str().to_owned()),
        ),
        page: None,
    };
    let limit = pagination::limit(query.limit)?;
    let (page, total) = state
        .operations
        .endpoint_overview_page(&overview, query.cursor.as_deref(), limit)
        .await?;
    Ok(ApiJson(EndpointOverviewList {
        data: page.data,
        next_cursor: page.next_cursor,
        total,
    }))
}

/// `POST /api/v1/admin/endpoints/{id}/disable` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Disable {
    reason: String,
}

#[utoipa::path(post, path = "/admin/endpoints/{id}/disable", tag = "admin", security(("platform_token" = [])), params(("id" = String, Path, description = "The endpoint id")), request_body = Disable,
    responses((status = 200, description = "Disabled; the reason is shown to the merchant", body = Endpoint), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 403, description = "Not an operator", body = ErrorBody), (status = 404, description = "No such id for this merchant", body = ErrorBody), (status = 422, description = "Invalid field (named in the message)", body = ErrorBody)))]
async fn disable_endpoint(
    _: Admin,
    State(state): State<AppState>,
    IdPath(id): IdPath<EndpointId>,
    ApiJson(body): ApiJson<Disable>,
) -> Result<ApiJson<Endpoint>, ApiError> {
    let endpoint = state
        .endpoints
        .operator_set_enabled(&id, Some(&body.reason))
        .await?;
    Ok(ApiJson(endpoint))
}

#[utoipa::path(post, path = "/admin/endpoints/{id}/enable", tag = "admin", security(("platform_token" = [])), params(("id" = String, Path, description = "The endpoint id")),
    responses((status = 200, body = Endpoint), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 403, description = "Not an operator", body = ErrorBody), (status = 404, description = "No such id for this merchant", body = ErrorBody)))]
async fn enable_endpoint(
    _: Admin,
    State(state): State<AppState>,
    IdPath(id): IdPath<EndpointId>,
) -> Result<ApiJson<Endpoint>, ApiError> {
    Ok(ApiJson(
        state.endpoints.operator_set_enabled(&id, None).await?,
    ))
}

#[utoipa::path(get, path = "/admin/deliveries", tag = "admin", security(("platform_token" = [])), params(DeliveryQuery),
    responses((status = 200, description = "Deliveries across merchants, newest first", body = Page<Delivery>), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 403, description = "Not an operator", body = ErrorBody), (status = 422, description = "Invalid field (named in the message)", body = ErrorBody)))]
async fn list_deliveries(
    _: Admin,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<DeliveryQuery>,
) -> Result<ApiJson<Page<Delivery>>, ApiError> {
    Ok(ApiJson(
        query.page(&state.deliveries, &Scope::Operator).await?,
    ))
}

/// `POST /api/v1/admin/deliveries/retry` body: ids, or a filter.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRetry {
    ids: Option<Vec<String>>,
    status: Option<String>,
    merchant_id: Option<String>,
    endpoint_id: Option<String>,
    event_type: Option<String>,
    since: Option<chrono::DateTime<Utc>>,
    /// The latest attempt's answer: `503`, `5xx` or `none`.
    status_code: Option<String>,
}

#[utoipa::path(post, path = "/admin/deliveries/retry", tag = "admin", security(("platform_token" = [])), request_body = BulkRetry,
    responses((status = 202, description = "How many deliveries got a new attempt now", body = Queued), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 403, description = "Not an operator", body = ErrorBody), (status = 422, description = "Invalid field (named in the message)", body = ErrorBody)))]
async fn retry_deliveries(
    _: Admin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<BulkRetry>,
) -> Result<(StatusCode, ApiJson<Queued>), ApiError> {
    let queued = match body.ids {
        Some(ids) => {
            let ids: Vec<DeliveryId> = ids
                .iter()
                .map(|id| DeliveryId::parse(id))
                .collect::<Result<_, _>>()
                .map_err(|e| ServiceError::invalid("ids", e.to_string()))?;
            state.deliveries.retry(&Scope::Operator, &ids).await?
        }
        None => {
            let search = DeliverySearch {
                status: body.status,
                merchant_id: body.merchant_id,
                endpoint_id: body.endpoint_id,
                event_type: body.event_type,
                since: body.since,
                status_code: body.status_code,
                ..DeliverySearch::default()
            };
            state
                .deliveries
                .retry_matching(&Scope::Operator, &search)
                .await?
        }
    };
    Ok((StatusCode::ACCEPTED, ApiJson(Queued { queued })))
}
