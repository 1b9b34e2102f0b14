//! Delivery profiles: the operators' list, create and change; the list
//! merchants choose from; and where deliveries come from.

use super::auth::{Admin, MerchantAuth};
use super::openapi::ErrorBody;
use crate::http::error::{ApiError, ApiJson, ApiPath};
use crate::service::pagination::Page;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use herald_app::model::delivery_profiles::{Egress, ProfileSummary, StoredProfile};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The profile and egress routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(admin_list_profiles, create_profile))
        .routes(routes!(update_profile))
        .routes(routes!(list_profiles))
        .routes(routes!(egress))
}

#[utoipa::path(get, path = "/admin/profiles", tag = "admin", security(("platform_token" = [])),
    responses((status = 200, description = "Every delivery profile in full, by name", body = Page<StoredProfile>), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 403, description = "Not an operator", body = ErrorBody)))]
async fn admin_list_profiles(
    _: Admin,
    State(state): State<AppState>,
) -> Result<ApiJson<Page<StoredProfile>>, ApiError> {
    Ok(ApiJson(Page::whole(state.profiles.list().await?)))
}

#[utoipa::path(post, path = "/admin/profiles", tag = "admin", security(("platform_token" = [])),
    request_body(content = Object, description = "The profile (API.md, \"Delivery profiles\"; README, \"Delivery profiles\")"),
    responses((status = 201, body = StoredProfile), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 403, description = "Not an operator", body = ErrorBody), (status = 409, description = "The name is taken", body = ErrorBody), (status = 422, description = "A broken rule (the field named in the message)", body = ErrorBody)))]
async fn create_profile(
    _: Admin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<(StatusCode, ApiJson<StoredProfile>), ApiError> {
    let created = state.profiles.create(body).await?;
    Ok((StatusCode::CREATED, ApiJson(created)))
}

#[utoipa::path(patch, path = "/admin/profiles/{name}", tag = "admin", security(("platform_token" = [])), params(("name" = String, Path, description = "The profile's name")),
    request_body(content = Object, description = "The members to change; each replaces the profile's own"),
    responses((status = 200, body = StoredProfile), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 403, description = "Not an operator", body = ErrorBody), (status = 404, description = "No such profile", body = ErrorBody), (status = 409, description = "A bundled profile (copy it under another name)", body = ErrorBody), (status = 422, description = "A broken rule (the field named in the message)", body = ErrorBody)))]
async fn update_profile(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<ApiJson<StoredProfile>, ApiError> {
    Ok(ApiJson(state.profiles.update(&name, body).await?))
}

#[utoipa::path(get, path = "/profiles", tag = "endpoints", security(("api_key" = [])),
    responses((status = 200, description = "The delivery profiles an endpoint may use, by name", body = Page<ProfileSummary>), (status = 401, description = "Missing or wrong credentials", body = ErrorBody)))]
async fn list_profiles(
    _: MerchantAuth,
    State(state): State<AppState>,
) -> Result<ApiJson<Page<ProfileSummary>>, ApiError> {
    Ok(ApiJson(Page::whole(state.profiles.summaries().await?)))
}

#[utoipa::path(get, path = "/egress", tag = "endpoints", security(("api_key" = [])),
    responses((status = 200, description = "Where deliveries come from, for receivers that allow-list senders; empty when the operator has not fixed it", body = Egress), (status = 401, description = "Missing or wrong credentials", body = ErrorBody)))]
async fn egress(_: MerchantAuth, State(state): State<AppState>) -> ApiJson<Egress> {
    ApiJson(state.profiles.egress())
}
