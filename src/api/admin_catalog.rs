//! The operators' side of the event-type catalog: list everything, add a
//! type, change or archive one.

use super::auth::Admin;
use super::openapi::ErrorBody;
use crate::http::error::{ApiError, ApiJson, ApiPath};
use crate::service::catalog::{EventTypeChange, NewEventType};
use crate::service::pagination::Page;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use herald_app::model::event_type::EventType;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The catalog administration routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_event_types, create))
        .routes(routes!(update))
}

#[utoipa::path(get, path = "/admin/event-types", tag = "admin", security(("platform_token" = [])),
    responses((status = 200, description = "Every type, archived ones included", body = Page<EventType>), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 403, description = "Not an operator", body = ErrorBody)))]
async fn list_event_types(
    _: Admin,
    State(state): State<AppState>,
) -> Result<ApiJson<Page<EventType>>, ApiError> {
    Ok(ApiJson(Page::whole(state.catalog.list().await?)))
}

/// `POST /api/v1/admin/event-types` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEventType {
    /// Lowercase words joined by dots (`payout.reversed`); the first is the category.
    name: String,
    description: String,
    /// The example payload test events send (a JSON object); `{}` when absent.
    example: Option<serde_json::Value>,
}

#[utoipa::path(post, path = "/admin/event-types", tag = "admin", security(("platform_token" = [])), request_body = CreateEventType,
    responses((status = 201, body = EventType), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 403, description = "Not an operator", body = ErrorBody), (status = 409, description = "The name is taken", body = ErrorBody), (status = 422, description = "Invalid field (named in the message)", body = ErrorBody)))]
async fn create(
    _: Admin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateEventType>,
) -> Result<(StatusCode, ApiJson<EventType>), ApiError> {
    let created = state
        .catalog
        .create(NewEventType {
            name: body.name,
            description: body.description,
            example: body.example,
        })
        .await?;
    Ok((StatusCode::CREATED, ApiJson(created)))
}

/// `PATCH /api/v1/admin/event-types/{name}` body: only the fields to change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEventType {
    description: Option<String>,
    example: Option<serde_json::Value>,
    /// `true` archives: no new subscriptions or events of this type; what exists stays.
    archived: Option<bool>,
}

#[utoipa::path(patch, path = "/admin/event-types/{name}", tag = "admin", security(("platform_token" = [])), params(("name" = String, Path, description = "The type's name")), request_body = UpdateEventType,
    responses((status = 200, body = EventType), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 403, description = "Not an operator", body = ErrorBody), (status = 404, description = "No such type", body = ErrorBody), (status = 422, description = "Invalid field (named in the message)", body = ErrorBody)))]
async fn update(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateEventType>,
) -> Result<ApiJson<EventType>, ApiError> {
    let updated = state
        .catalog
        .update(
            &name,
            EventTypeChange {
                description: body.description,
                example: body.example,
                archived: body.archived,
            },
        )
        .await?;
    Ok(ApiJson(updated))
}
