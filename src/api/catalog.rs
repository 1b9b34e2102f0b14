//! The event-type catalog, as merchants read it.

use super::auth::MerchantAuth;
use crate::error::{ApiError, ApiJson};
use crate::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::Router;

/// The catalog routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/event-types", get(list_event_types))
}

async fn list_event_types(
    _: MerchantAuth,
    State(state): State<AppState>,
) -> Result<ApiJson<serde_json::Value>, ApiError> {
    let types = state.store.list_event_types().await?;
    Ok(ApiJson(
        serde_json::json!({ "data": types, "next_cursor": null }),
    ))
}
