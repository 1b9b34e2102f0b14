//! Deliveries: the merchant's list, detail with attempts, and retry.

use super::auth::MerchantAuth;
use super::openapi::ErrorBody;
use super::pagination::{decode_cursor_as, limit, page, Page};
use crate::http::error::{ApiError, ApiJson};
use crate::service::deliveries::retry_delivery as retry_delivery_now;
use crate::state::AppState;
use crate::store::DeliveryFilter;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use herald_app::model::delivery::DeliveryStatus;
use herald_app::model::event::{Delivery, DeliveryDetail};
use herald_app::model::id::{DeliveryId, EndpointId, EventId};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The delivery routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_deliveries))
        .routes(routes!(get_delivery))
        .routes(routes!(retry_delivery))
}

fn invalid(message: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        message.to_owned(),
    )
}

/// The filters a delivery list takes (merchant and admin views share them).
#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    pub endpoint_id: Option<String>,
    pub event_id: Option<String>,
    pub status: Option<String>,
    pub event_type: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub merchant_id: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
    /// `true`: live events only; `false`: test-mode events only; absent: both.
    pub live_mode: Option<bool>,
}

impl DeliveryQuery {
    /// Turns the query into a store filter (merchant scoping is the caller's).
    pub fn to_filter(&self) -> Result<DeliveryFilter, ApiError> {
        let limit = limit(self.limit)?;
        let before = decode_cursor_as(self.cursor.as_deref(), DeliveryId::parse)?;
        Ok(DeliveryFilter {
            merchant_id: None,
            endpoint_id: self
                .endpoint_id
                .as_deref()
                .map(EndpointId::parse)
                .transpose()
                .map_err(|e| invalid(&format!("endpoint_id: {e}")))?,
            event_id: self
                .event_id
                .as_deref()
                .map(EventId::parse)
                .transpose()
                .map_err(|e| invalid(&format!("event_id: {e}")))?,
            status: self
                .status
                .as_deref()
                .map(|s| {
                    DeliveryStatus::parse(s).ok_or_else(|| {
                        invalid("status: one of pending, succeeded, failed, cancelled")
                    })
                })
                .transpose()?,
            event_type: self.event_type.clone(),
            since: self.since,
            live_mode: self.live_mode,
            before,
            limit,
        })
    }
}

#[utoipa::path(get, path = "/deliveries", tag = "deliveries", security(("api_key" = [])), params(DeliveryQuery),
    responses((status = 200, description = "The merchant's deliveries, newest first (`merchant_id` is admin-only)", body = Page<Delivery>), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 422, description = "Invalid field (named in the message)", body = ErrorBody)))]
async fn list_deliveries(
    auth: MerchantAuth,
    State(state): State<AppState>,
    Query(query): Query<DeliveryQuery>,
) -> Result<ApiJson<Page<Delivery>>, ApiError> {
    if query.merchant_id.is_some() {
        return Err(invalid(
            "merchant_id: only the admin API filters by merchant",
        ));
    }
    let mut filter = query.to_filter()?;
    filter.merchant_id = Some(auth.merchant_id);
    let deliveries = state.store.list_deliveries(&filter).await?;
    Ok(ApiJson(page(deliveries, filter.limit, |d| {
        (d.created_at, d.id.to_string())
    })))
}

#[utoipa::path(get, path = "/deliveries/{id}", tag = "deliveries", security(("api_key" = [])), params(("id" = String, Path, description = "The delivery id")),
    responses((status = 200, description = "The delivery, its event and every attempt", body = DeliveryDetail), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 404, description = "No such id for this merchant", body = ErrorBody)))]
async fn get_delivery(
    auth: MerchantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<ApiJson<DeliveryDetail>, ApiError> {
    let id = DeliveryId::parse(&id).map_err(|_| ApiError::not_found("delivery"))?;
    let (delivery, event, attempts) = state
        .store
        .delivery_detail(Some(&auth.merchant_id), &id)
        .await?
        .ok_or_else(|| ApiError::not_found("delivery"))?;
    Ok(ApiJson(DeliveryDetail {
        delivery,
        event,
        attempts,
    }))
}

/// `POST .../retry` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Queued {
    pub queued: u64,
}

#[utoipa::path(post, path = "/deliveries/{id}/retry", tag = "deliveries", security(("api_key" = [])), params(("id" = String, Path, description = "The delivery id")),
    responses((status = 202, description = "A new attempt now, whatever its status", body = Queued), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 404, description = "No such id for this merchant", body = ErrorBody),
        (status = 409, description = "Being attempted right now, or its endpoint is disabled", body = ErrorBody)))]
async fn retry_delivery(
    auth: MerchantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, ApiJson<Queued>), ApiError> {
    let id = DeliveryId::parse(&id).map_err(|_| ApiError::not_found("delivery"))?;
    retry_delivery_now(&state.store, &state.wakeup, Some(&auth.merchant_id), &id).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(Queued { queued: 1 })))
}
