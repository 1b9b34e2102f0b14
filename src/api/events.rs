//! Events: ingest from the platform, and the merchant's reads for polling
//! and reconciliation.

use super::auth::{MerchantAuth, Platform};
use super::id_path::IdPath;
use super::openapi::ErrorBody;
use crate::http::error::{ApiError, ApiJson, ApiQuery};
use crate::service::events::EventSearch;
use crate::service::ingest::IngestRequest;
use crate::service::ingest::Ingested;
use crate::service::pagination::{self, Page};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use herald_app::model::event::Event;
use herald_app::model::id::EventId;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The event routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_event, list_events))
        .routes(routes!(get_event))
}

/// `POST /api/v1/events` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEvent {
    merchant_id: String,
    #[serde(rename = "type")]
    event_type: String,
    /// A JSON object: the event's payload.
    #[schema(value_type = Object)]
    data: serde_json::Value,
    idempotency_key: Option<String>,
    callback_url: Option<String>,
    ordering_key: Option<String>,
    #[serde(default = "live")]
    live_mode: bool,
    /// Up to 10 references to search by (`pay_123`, `customer:cus_9`):
    /// 1–128 letters, digits and `_.:@/-` each.
    #[serde(default)]
    tags: Vec<String>,
    /// The object's state before the change (a JSON object), for receivers
    /// that diff; carried into envelopes with a previous-data field.
    #[schema(value_type = Option<Object>)]
    previous_data: Option<serde_json::Value>,
}

fn live() -> bool {
    true
}

/// `POST /api/v1/events` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventAccepted {
    id: EventId,
    deliveries: u64,
}

#[utoipa::path(post, path = "/events", tag = "ingest", security(("platform_token" = [])),
    request_body = CreateEvent,
    responses(
        (status = 202, description = "Stored with its deliveries; delivery follows", body = EventAccepted),
        (status = 200, description = "A repeat of an idempotency key: the first event, nothing new", body = EventAccepted),
        (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 413, description = "Payload over the limit", body = ErrorBody), (status = 422, description = "Invalid field (named in the message)", body = ErrorBody),
        (status = 503, description = "The database is unavailable: nothing was stored", body = ErrorBody)))]
async fn create_event(
    _: Platform,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateEvent>,
) -> Result<(StatusCode, ApiJson<EventAccepted>), ApiError> {
    let result = state
        .ingestor
        .ingest(IngestRequest {
            merchant_id: body.merchant_id,
            event_type: body.event_type,
            data: body.data,
            idempotency_key: body.idempotency_key,
            callback_url: body.callback_url,
            ordering_key: body.ordering_key,
            live_mode: body.live_mode,
            only_endpoint: None,
            about_endpoint: None,
            tags: body.tags,
            previous_data: body.previous_data,
        })
        .await?;
    Ok(match result {
        Ingested::Created { id, deliveries } => {
            state.metrics.event_ingested();
            (
                StatusCode::ACCEPTED,
                ApiJson(EventAccepted { id, deliveries }),
            )
        }
        Ingested::Duplicate { id, deliveries } => {
            (StatusCode::OK, ApiJson(EventAccepted { id, deliveries }))
        }
    })
}

/// `GET /api/v1/events` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListEvents {
    #[serde(rename = "type")]
    event_type: Option<String>,
    since: Option<DateTime<Utc>>,
    /// Events created before this time (exclusive).
    until: Option<DateTime<Utc>>,
    /// Events carrying this tag (a payment reference).
    tag: Option<String>,
    /// The event with this idempotency key.
    idempotency_key: Option<String>,
    /// `true`: live events only; `false`: test-mode events only.
    live_mode: Option<bool>,
    cursor: Option<String>,
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/events", tag = "events", security(("api_key" = [])), params(ListEvents),
    responses((status = 200, description = "The merchant's events, newest first", body = Page<Event>), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 422, description = "Invalid field (named in the message)", body = ErrorBody)))]
async fn list_events(
    auth: MerchantAuth,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListEvents>,
) -> Result<ApiJson<Page<Event>>, ApiError> {
    let limit = pagination::limit(query.limit)?;
    let search = EventSearch {
        event_type: query.event_type,
        tag: query.tag,
        idempotency_key: query.idempotency_key,
        since: query.since,
        until: query.until,
        live_mode: query.live_mode,
    };
    Ok(ApiJson(
        state
            .events
            .list(&auth.merchant_id, search, query.cursor.as_deref(), limit)
            .await?,
    ))
}

#[utoipa::path(get, path = "/events/{id}", tag = "events", security(("api_key" = [])), params(("id" = String, Path, description = "The event id")),
    responses((status = 200, body = Event), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 404, description = "No such id for this merchant", body = ErrorBody)))]
async fn get_event(
    auth: MerchantAuth,
    State(state): State<AppState>,
    IdPath(id): IdPath<EventId>,
) -> Result<ApiJson<Event>, ApiError> {
    Ok(ApiJson(state.events.get(&auth.merchant_id, &id).await?))
}
