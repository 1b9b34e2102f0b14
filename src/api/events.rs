//! Events: ingest from the platform, and the merchant's reads for polling
//! and reconciliation.

use super::auth::{MerchantAuth, Platform};
use super::pagination::{decode_cursor_as, limit, page, Page};
use crate::error::{ApiError, ApiJson};
use crate::service::ingest::IngestRequest;
use crate::store::{EventFilter, Ingested};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use herald_app::model::event::Event;
use herald_app::model::id::EventId;
use serde::{Deserialize, Serialize};

/// The event routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/events", post(create_event).get(list_events))
        .route("/events/{id}", get(get_event))
}

/// `POST /api/v1/events` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateEvent {
    merchant_id: String,
    #[serde(rename = "type")]
    event_type: String,
    data: serde_json::Value,
    idempotency_key: Option<String>,
    callback_url: Option<String>,
    ordering_key: Option<String>,
    #[serde(default = "live")]
    live_mode: bool,
}

fn live() -> bool {
    true
}

/// `POST /api/v1/events` answer.
#[derive(Debug, Serialize)]
pub struct EventAccepted {
    id: EventId,
    deliveries: u64,
}

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
        })
        .await?;
    Ok(match result {
        Ingested::Created { id, deliveries } => (
            StatusCode::ACCEPTED,
            ApiJson(EventAccepted { id, deliveries }),
        ),
        Ingested::Duplicate { id, deliveries } => {
            (StatusCode::OK, ApiJson(EventAccepted { id, deliveries }))
        }
    })
}

/// `GET /api/v1/events` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListEvents {
    #[serde(rename = "type")]
    event_type: Option<String>,
    since: Option<DateTime<Utc>>,
    cursor: Option<String>,
    limit: Option<u32>,
}

async fn list_events(
    auth: MerchantAuth,
    State(state): State<AppState>,
    Query(query): Query<ListEvents>,
) -> Result<ApiJson<Page<Event>>, ApiError> {
    let limit = limit(query.limit)?;
    let before = decode_cursor_as(query.cursor.as_deref(), EventId::parse)?;
    let events = state
        .store
        .list_events(
            &auth.merchant_id,
            &EventFilter {
                event_type: query.event_type,
                since: query.since,
                before,
                limit,
            },
        )
        .await?;
    Ok(ApiJson(page(events, limit, |e| {
        (e.created_at, e.id.to_string())
    })))
}

async fn get_event(
    auth: MerchantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<ApiJson<Event>, ApiError> {
    let id = EventId::parse(&id).map_err(|_| ApiError::not_found("event"))?;
    let event = state
        .store
        .event(&auth.merchant_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("event"))?;
    Ok(ApiJson(event))
}
