//! The REST API: one module per resource, each with its own `router()`;
//! this module only merges them.

mod admin;
mod api_keys;
pub mod auth;
mod catalog;
mod deliveries;
mod endpoints;
mod events;
mod health;
mod pagination;

use crate::error::ApiError;
use crate::AppState;
use axum::Router;

/// Every API route, with a JSON 404 for unknown `/api/v1` paths.
pub fn router() -> Router<AppState> {
    Router::new().merge(health::router()).nest(
        "/api/v1",
        Router::new()
            .merge(admin::router())
            .merge(api_keys::router())
            .merge(catalog::router())
            .merge(events::router())
            .merge(deliveries::router())
            .merge(endpoints::router())
            .fallback(unknown_route),
    )
}

async fn unknown_route() -> ApiError {
    ApiError::not_found("route")
}
