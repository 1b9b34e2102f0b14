//! `GET /api/v1/stats`: a merchant's deliveries per hour by outcome, and
//! attempt latency, per endpoint.

use super::auth::MerchantAuth;
use super::openapi::ErrorBody;
use crate::http::error::{ApiError, ApiJson, ApiQuery};
use crate::service::stats::{parse_window, DEFAULT_WINDOW_HOURS};
use crate::state::AppState;
use axum::extract::State;
use herald_app::model::id::EndpointId;
use herald_app::model::stats::Stats;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The statistics route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_stats))
}

/// `GET /api/v1/stats` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// One endpoint; all of the merchant's when absent.
    endpoint_id: Option<String>,
    /// Whole hours, `1h` to `7d`; default `24h`.
    window: Option<String>,
    /// `true`: live events only; `false`: test-mode events only; absent: both.
    live_mode: Option<bool>,
}

#[utoipa::path(get, path = "/stats", tag = "stats", security(("api_key" = [])), params(StatsQuery),
    responses((status = 200, description = "Per hour (oldest first): deliveries by outcome, attempt latency p50/p95; per endpoint and for all", body = Stats), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 404, description = "No such endpoint for this merchant", body = ErrorBody), (status = 422, description = "Invalid window", body = ErrorBody)))]
async fn get_stats(
    auth: MerchantAuth,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<StatsQuery>,
) -> Result<ApiJson<Stats>, ApiError> {
    let hours = match query.window.as_deref() {
        Some(window) => parse_window(window)?,
        None => DEFAULT_WINDOW_HOURS,
    };
    let endpoint = query
        .endpoint_id
        .as_deref()
        .map(EndpointId::parse)
        .transpose()
        .map_err(|_| ApiError::not_found("endpoint"))?;
    let stats = state
        .stats
        .over(&auth.merchant_id, endpoint.as_ref(), query.live_mode, hours)
        .await?;
    Ok(ApiJson(stats))
}
