//! The REST API: one module per resource, each with its own `router()`;
//! this module only merges them. Every router is an `OpenApiRouter` and
//! registers handlers with `routes!`, which takes each handler's
//! `#[utoipa::path]`: the OpenAPI document is the routing table.

mod admin;
mod admin_catalog;
mod api_keys;
mod audit_log;
pub mod auth;
mod callback_secret;
mod catalog;
mod deliveries;
mod endpoints;
mod events;
mod health;
mod id_path;
mod members;
mod openapi;
mod profiles;
mod search;
mod stats;

use crate::http::error::ApiError;
use crate::state::AppState;
use axum::routing::any;
use axum::Router;
use herald_app::model::error::ErrorCode;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every route with its documentation.
fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(health::router())
        .nest(
            "/api/v1",
            OpenApiRouter::new()
                .merge(admin::router())
                .merge(admin_catalog::router())
                .merge(api_keys::router())
                .merge(audit_log::router())
                .merge(callback_secret::router())
                .merge(catalog::router())
                .merge(events::router())
                .merge(deliveries::router())
                .merge(endpoints::router())
                .merge(profiles::router())
                .merge(members::router())
                .merge(search::router())
                .merge(stats::router())
                .routes(routes!(openapi::get_openapi)),
        )
}

/// Every API route, with a JSON 404 for unknown `/api/v1` paths and a
/// JSON 405 for a method a route does not take.
pub fn router() -> Router<AppState> {
    let (routes, _) = documented().split_for_parts();
    routes
        .route("/api/v1/{*unknown}", any(unknown_route))
        .method_not_allowed_fallback(method_not_allowed)
}

/// The OpenAPI document of every route `router()` serves.
pub fn document() -> utoipa::openapi::OpenApi {
    documented().into_openapi()
}

async fn unknown_route() -> ApiError {
    ApiError::not_found("route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "This route does not take that method; see /api/v1/openapi.json.",
    )
}
