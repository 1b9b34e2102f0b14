//! What operators and their monitoring read: `GET /healthz` (200 when the
//! database answers) and `GET /metrics` (Prometheus text).

use super::openapi::ErrorBody;
use crate::http::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The health and metrics routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_health))
        .routes(routes!(get_metrics))
}

#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The database answers", example = json!({"status": "ok"})),
        (status = 503, description = "The database does not answer", body = ErrorBody)))]
async fn get_health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.health.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "health check: database unreachable");
        ApiError::unavailable()
    })?;
    Ok(Json(json!({"status": "ok"})))
}

/// Counts only, no merchant data: safe to leave open to the operators'
/// network (keep it off the public internet like any metrics port).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain")))]
async fn get_metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    // Read at each scrape from the counts the database keeps as rows come
    // and go (a few rows, not a count of every table: see
    // `Store::stored_counts`); a failure leaves the figures out, not the page.
    let stored = match state.retention.storage().await {
        Ok(stored) => Some(stored),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: stored counts unavailable");
            None
        }
    };
    // Read last, just before the counters: a delivery whose record commits
    // between the two shows in both or in neither, as far as timing allows.
    let queue = state.health.queue_depth().await.map_err(|e| {
        tracing::warn!(error = %e, "metrics: queue depth unavailable");
        ApiError::unavailable()
    })?;
    let body = state.metrics.render(queue, stored.as_ref());
    Ok((
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        body,
    ))
}
