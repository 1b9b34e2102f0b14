//! The merchant's callback secret: reveal and rotate.

use super::auth::MerchantAuth;
use super::openapi::ErrorBody;
use crate::http::error::{ApiError, ApiJson};
use crate::state::AppState;
use axum::extract::State;
use herald_app::model::endpoint::CallbackSecret;
use herald_app::model::error::ErrorCode;
use serde::Deserialize;
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The callback secret routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_callback_secret))
        .routes(routes!(rotate_callback_secret))
}

#[utoipa::path(get, path = "/callback-secret", tag = "endpoints", security(("api_key" = [])),
    responses((status = 200, description = "The secret that signs deliveries to events' `callback_url`s (made on first use), and until when a rotated-out one still signs", body = CallbackSecret), (status = 401, description = "Missing or wrong credentials", body = ErrorBody)))]
async fn get_callback_secret(
    auth: MerchantAuth,
    State(state): State<AppState>,
) -> Result<ApiJson<CallbackSecret>, ApiError> {
    Ok(ApiJson(
        state.callback_secrets.reveal(&auth.merchant_id).await?,
    ))
}

/// `POST /api/v1/callback-secret/rotate` body.
#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateCallbackSecret {
    /// How long the old secret keeps signing beside the new one (default
    /// 86400, at most 604800).
    grace_period_s: Option<u64>,
}

#[utoipa::path(post, path = "/callback-secret/rotate", tag = "endpoints", security(("api_key" = [])),
    request_body(content = Option<RotateCallbackSecret>, description = "Optional; the grace period defaults to 24 h"),
    responses((status = 200, description = "The new secret; the old one also signs until `previous_secret_expires_at`", body = CallbackSecret), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 422, description = "Invalid field (named in the message)", body = ErrorBody)))]
async fn rotate_callback_secret(
    auth: MerchantAuth,
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<ApiJson<CallbackSecret>, ApiError> {
    // The body is optional: without one, the default grace period applies.
    let rotate: RotateCallbackSecret = if body.iter().all(u8::is_ascii_whitespace) {
        RotateCallbackSecret::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::new(ErrorCode::ValidationFailed, format!("body: {e}")))?
    };
    let grace = rotate.grace_period_s.map(Duration::from_secs);
    Ok(ApiJson(
        state
            .callback_secrets
            .rotate(&auth.merchant_id, grace)
            .await?,
    ))
}
