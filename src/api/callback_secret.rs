//! The merchant's callback secret (reveal and rotate) and settings (the
//! delivery profile callbacks are sent in).

use super::auth::MerchantAuth;
use super::endpoints::Rotate;
use super::openapi::ErrorBody;
use crate::http::error::{ApiError, ApiJson};
use crate::state::AppState;
use axum::extract::State;
use herald_app::model::endpoint::{CallbackSecret, CallbackSettings};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The callback secret routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_callback_secret))
        .routes(routes!(rotate_callback_secret))
        .routes(routes!(get_callback_settings, update_callback_settings))
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

#[utoipa::path(post, path = "/callback-secret/rotate", tag = "endpoints", security(("api_key" = [])),
    request_body(content = Option<Rotate>, description = "Optional; the grace period defaults to 24 h"),
    responses((status = 200, description = "The new secret; the old one also signs until `previous_secret_expires_at`", body = CallbackSecret), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 422, description = "Invalid field (named in the message)", body = ErrorBody)))]
async fn rotate_callback_secret(
    auth: MerchantAuth,
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<ApiJson<CallbackSecret>, ApiError> {
    let grace = Rotate::grace_period(&body)?;
    Ok(ApiJson(
        state
            .callback_secrets
            .rotate(&auth.merchant_id, grace)
            .await?,
    ))
}

#[utoipa::path(get, path = "/callback-settings", tag = "endpoints", security(("api_key" = [])),
    responses((status = 200, description = "How deliveries to events' `callback_url`s are sent: their delivery profile", body = CallbackSettings), (status = 401, description = "Missing or wrong credentials", body = ErrorBody)))]
async fn get_callback_settings(
    auth: MerchantAuth,
    State(state): State<AppState>,
) -> Result<ApiJson<CallbackSettings>, ApiError> {
    Ok(ApiJson(
        state.callback_secrets.settings(&auth.merchant_id).await?,
    ))
}

#[utoipa::path(patch, path = "/callback-settings", tag = "endpoints", security(("api_key" = [])),
    request_body = CallbackSettings,
    responses((status = 200, description = "The settings now; callbacks not yet delivered are sent in the new profile from their next attempt", body = CallbackSettings), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 403, description = "A viewer's session", body = ErrorBody), (status = 422, description = "No such profile, or one that signs with a key other than HMAC (the callback secret's kind)", body = ErrorBody)))]
async fn update_callback_settings(
    auth: MerchantAuth,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CallbackSettings>,
) -> Result<ApiJson<CallbackSettings>, ApiError> {
    Ok(ApiJson(
        state
            .callback_secrets
            .set_settings(&auth.merchant_id, body)
            .await?,
    ))
}
