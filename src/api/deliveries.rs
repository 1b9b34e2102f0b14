//! Deliveries: the merchant's list, detail with attempts, and retry.

use super::auth::MerchantAuth;
use super::pagination::{decode_cursor_as, limit, page, Page};
use crate::error::{ApiError, ApiJson};
use crate::store::DeliveryFilter;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use herald_app::model::delivery::DeliveryStatus;
use herald_app::model::event::{Delivery, DeliveryDetail};
use herald_app::model::id::{DeliveryId, EndpointId, EventId};
use serde::{Deserialize, Serialize};

/// The delivery routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/deliveries", get(list_deliveries))
        .route("/deliveries/{id}", get(get_delivery))
        .route("/deliveries/{id}/retry", post(retry_delivery))
}

fn invalid(message: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        message.to_owned(),
    )
}

/// The filters a delivery list takes (merchant and admin views share them).
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    pub endpoint_id: Option<String>,
    pub event_id: Option<String>,
    pub status: Option<String>,
    pub event_type: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub merchant_id: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
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
            before,
            limit,
        })
    }
}

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
#[derive(Debug, Serialize)]
pub struct Queued {
    pub queued: u64,
}

async fn retry_delivery(
    auth: MerchantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, ApiJson<Queued>), ApiError> {
    let id = DeliveryId::parse(&id).map_err(|_| ApiError::not_found("delivery"))?;
    if state
        .store
        .delivery_detail(Some(&auth.merchant_id), &id)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found("delivery"));
    }
    let queued = state
        .store
        .retry_deliveries(Some(&auth.merchant_id), &[id], Utc::now())
        .await?;
    if queued == 0 {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "the delivery is being attempted right now, or its endpoint is disabled",
        ));
    }
    state.wakeup.wake();
    Ok((StatusCode::ACCEPTED, ApiJson(Queued { queued })))
}
