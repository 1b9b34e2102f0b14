//! The event-type catalog, as merchants read it.

use super::auth::MerchantAuth;
use super::openapi::ErrorBody;
use crate::http::error::{ApiError, ApiJson};
use crate::service::pagination::Page;
use crate::state::AppState;
use axum::extract::State;
use herald_app::model::event_type::EventType;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The catalog routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_event_types))
}

#[utoipa::path(get, path = "/event-types", tag = "catalog", security(("api_key" = [])),
    responses((status = 200, description = "The catalog, archived types last", body = Page<EventType>), (status = 401, description = "Missing or wrong credentials", body = ErrorBody)))]
async fn list_event_types(
    _: MerchantAuth,
    State(state): State<AppState>,
) -> Result<ApiJson<Page<EventType>>, ApiError> {
    Ok(ApiJson(Page::whole(state.catalog.list().await?)))
}
