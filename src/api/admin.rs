//! Operator routes (platform token, or an admin's dashboard session):
//! merchants, failed deliveries across merchants, disabling endpoints.

use super::auth::Admin;
use super::deliveries::{DeliveryQuery, Queued};
use super::pagination::{page, Page};
use crate::error::{ApiError, ApiJson};
use crate::service::ServiceError;
use crate::store::DeliveryFilter;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use herald_app::model::endpoint::Endpoint;
use herald_app::model::event::Delivery;
use herald_app::model::id::{DeliveryId, EndpointId, MerchantId};
use herald_app::model::merchant::{Merchant, Role};
use serde::{Deserialize, Serialize};

/// The admin routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/merchants",
            get(list_merchants).post(create_merchant),
        )
        .route("/admin/deliveries", get(list_deliveries))
        .route("/admin/deliveries/retry", post(retry_deliveries))
        .route("/admin/endpoints/{id}/disable", post(disable_endpoint))
        .route("/admin/endpoints/{id}/enable", post(enable_endpoint))
}

async fn list_merchants(
    _: Admin,
    State(state): State<AppState>,
) -> Result<ApiJson<serde_json::Value>, ApiError> {
    let merchants: Vec<Merchant> = state.store.list_merchants().await?;
    Ok(ApiJson(
        serde_json::json!({ "data": merchants, "next_cursor": null }),
    ))
}

/// `POST /api/v1/admin/merchants` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateMerchant {
    name: String,
    email: String,
    password: Option<String>,
}

/// A merchant just created, with its first API key (shown once).
#[derive(Debug, Serialize)]
pub struct CreatedMerchant {
    id: MerchantId,
    name: String,
    email: String,
    api_key: String,
}

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

/// `POST /api/v1/admin/endpoints/{id}/disable` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disable {
    reason: String,
}

async fn disable_endpoint(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Disable>,
) -> Result<ApiJson<Endpoint>, ApiError> {
    let id = EndpointId::parse(&id).map_err(|_| ApiError::not_found("endpoint"))?;
    let reason = body.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(
            ServiceError::invalid("reason", "1 to 500 characters, shown to the merchant").into(),
        );
    }
    let reason = format!("Disabled by an operator: {reason}");
    set_enabled(&state, &id, Some(&reason)).await
}

async fn enable_endpoint(
    _: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<ApiJson<Endpoint>, ApiError> {
    let id = EndpointId::parse(&id).map_err(|_| ApiError::not_found("endpoint"))?;
    let endpoint = set_enabled(&state, &id, None).await?;
    state.wakeup.wake();
    Ok(endpoint)
}

/// Disables (with a reason) or enables any merchant's endpoint; answers it.
async fn set_enabled(
    state: &AppState,
    id: &EndpointId,
    disabled_reason: Option<&str>,
) -> Result<ApiJson<Endpoint>, ApiError> {
    let store = &state.store;
    if !store
        .set_endpoint_enabled(None, id, disabled_reason, Utc::now())
        .await?
    {
        return Err(ApiError::not_found("endpoint"));
    }
    let endpoint = store
        .endpoint(None, id)
        .await?
        .ok_or_else(|| ApiError::not_found("endpoint"))?;
    Ok(ApiJson(endpoint))
}

async fn list_deliveries(
    _: Admin,
    State(state): State<AppState>,
    Query(query): Query<DeliveryQuery>,
) -> Result<ApiJson<Page<Delivery>>, ApiError> {
    let filter = admin_filter(&query)?;
    let deliveries = state.store.list_deliveries(&filter).await?;
    Ok(ApiJson(page(deliveries, filter.limit, |d| {
        (d.created_at, d.id.to_string())
    })))
}

fn admin_filter(query: &DeliveryQuery) -> Result<DeliveryFilter, ApiError> {
    let mut filter = query.to_filter()?;
    filter.merchant_id = query
        .merchant_id
        .as_deref()
        .map(MerchantId::parse)
        .transpose()
        .map_err(|e| ServiceError::invalid("merchant_id", e.to_string()))?;
    Ok(filter)
}

/// `POST /api/v1/admin/deliveries/retry` body: ids, or a filter.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkRetry {
    ids: Option<Vec<String>>,
    status: Option<String>,
    merchant_id: Option<String>,
    endpoint_id: Option<String>,
    event_type: Option<String>,
    since: Option<chrono::DateTime<Utc>>,
}

/// Most deliveries one bulk retry queues.
const MAX_BULK: u32 = 10_000;

async fn retry_deliveries(
    _: Admin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<BulkRetry>,
) -> Result<(StatusCode, ApiJson<Queued>), ApiError> {
    let ids: Vec<DeliveryId> = match body.ids {
        Some(ids) => {
            if ids.len() > MAX_BULK as usize {
                return Err(
                    ServiceError::invalid("ids", format!("at most {MAX_BULK} at once")).into(),
                );
            }
            ids.iter()
                .map(|id| DeliveryId::parse(id))
                .collect::<Result<_, _>>()
                .map_err(|e| ServiceError::invalid("ids", e.to_string()))?
        }
        None => {
            let query = DeliveryQuery {
                status: body.status,
                merchant_id: body.merchant_id,
                endpoint_id: body.endpoint_id,
                event_type: body.event_type,
                since: body.since,
                ..DeliveryQuery::default()
            };
            let mut filter = admin_filter(&query)?;
            filter.limit = MAX_BULK;
            state.store.delivery_ids(&filter).await?
        }
    };
    let queued = state.store.retry_deliveries(None, &ids, Utc::now()).await?;
    state.wakeup.wake();
    Ok((StatusCode::ACCEPTED, ApiJson(Queued { queued })))
}
