//! Deliveries: the merchant's list, detail with attempts, and retry.

use super::auth::MerchantAuth;
use super::id_path::IdPath;
use super::openapi::ErrorBody;
use crate::http::error::{ApiError, ApiJson, ApiQuery};
use crate::service::deliveries::DeliverySearch;
use crate::service::pagination::{self, Page};
use crate::service::Deliveries;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use herald_app::model::event::{Delivery, DeliveryDetail};
use herald_app::model::id::DeliveryId;
use herald_app::model::scope::Scope;
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
    /// `true`: deliveries to events' `callback_url`s only; `false`: to
    /// endpoints only; absent: both.
    pub callback: Option<bool>,
    /// Deliveries of events carrying this tag (a payment reference).
    pub tag: Option<String>,
    /// Deliveries of the event with this idempotency key.
    pub idempotency_key: Option<String>,
    /// Deliveries made before this time (exclusive).
    pub until: Option<DateTime<Utc>>,
    /// The latest attempt's answer: a code (`503`), a class (`5xx`), or
    /// `none` for attempts that got no HTTP answer.
    pub status_code: Option<String>,
}

impl DeliveryQuery {
    /// The search part of the query (the rest is paging).
    pub fn search(&self) -> DeliverySearch {
        DeliverySearch {
            merchant_id: self.merchant_id.clone(),
            endpoint_id: self.endpoint_id.clone(),
            event_id: self.event_id.clone(),
            status: self.status.clone(),
            event_type: self.event_type.clone(),
            since: self.since,
            live_mode: self.live_mode,
            callback: self.callback,
            tag: self.tag.clone(),
            idempotency_key: self.idempotency_key.clone(),
            until: self.until,
            status_code: self.status_code.clone(),
        }
    }

    /// One page of deliveries matching the query within `scope`.
    pub async fn page(
        &self,
        deliveries: &Deliveries,
        scope: &Scope,
    ) -> Result<Page<Delivery>, ApiError> {
        let limit = pagination::limit(self.limit)?;
        Ok(deliveries
            .list(scope, &self.search(), self.cursor.as_deref(), limit)
            .await?)
    }
}

#[utoipa::path(get, path = "/deliveries", tag = "deliveries", security(("api_key" = [])), params(DeliveryQuery),
    responses((status = 200, description = "The merchant's deliveries, newest first (`merchant_id` is admin-only)", body = Page<Delivery>), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 422, description = "Invalid field (named in the message)", body = ErrorBody)))]
async fn list_deliveries(
    auth: MerchantAuth,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<DeliveryQuery>,
) -> Result<ApiJson<Page<Delivery>>, ApiError> {
    Ok(ApiJson(query.page(&state.deliveries, &auth.scope()).await?))
}

#[utoipa::path(get, path = "/deliveries/{id}", tag = "deliveries", security(("api_key" = [])), params(("id" = String, Path, description = "The delivery id")),
    responses((status = 200, description = "The delivery, its event and every attempt", body = DeliveryDetail), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 404, description = "No such id for this merchant", body = ErrorBody)))]
async fn get_delivery(
    auth: MerchantAuth,
    State(state): State<AppState>,
    IdPath(id): IdPath<DeliveryId>,
) -> Result<ApiJson<DeliveryDetail>, ApiError> {
    Ok(ApiJson(state.deliveries.detail(&auth.scope(), &id).await?))
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
    IdPath(id): IdPath<DeliveryId>,
) -> Result<(StatusCode, ApiJson<Queued>), ApiError> {
    state.deliveries.retry_one(&auth.scope(), &id).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(Queued { queued: 1 })))
}
