//! `GET /api/v1/openapi.json`: the OpenAPI 3 document, assembled from the
//! `#[utoipa::path]` of every handler as the routers register them (a route
//! cannot be served without being documented, see `super::router`).

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use serde::Serialize;
use std::sync::LazyLock;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::OpenApi as Document;
use utoipa::{Modify, OpenApi, ToSchema};

/// What the document says before the routes are added.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Herald",
        description = "Webhook delivery for payments platforms: the platform ingests events, \
                       merchants manage endpoints and read deliveries. Errors are always \
                       `{\"error\":{\"code\",\"message\"}}`; lists are `{\"data\",\"next_cursor\"}`, newest first.",
    ),
    modifiers(&Credentials),
    components(schemas(ErrorBody, ErrorDetail, FieldProblem)),
    tags(
        (name = "operations", description = "Health and metrics"),
        (name = "ingest", description = "The platform reports events"),
        (name = "events", description = "A merchant's events, for polling and reconciliation"),
        (name = "endpoints", description = "A merchant's webhook endpoints and their secrets"),
        (name = "deliveries", description = "Deliveries and their attempts"),
        (name = "api-keys", description = "A merchant's API keys"),
        (name = "members", description = "A merchant's team: members, roles, invitations"),
        (name = "catalog", description = "The event-type catalog"),
        (name = "stats", description = "Deliveries per hour by outcome, and latency"),
        (name = "admin", description = "Operators: every merchant"),
    )
)]
pub struct ApiDoc;

/// The credentials the routes name in `security(...)`.
struct Credentials;

impl Modify for Credentials {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            let mut http = Http::new(HttpAuthScheme::Bearer);
            http.description = Some(description.to_owned());
            SecurityScheme::Http(http)
        };
        components.add_security_scheme(
            "platform_token",
            bearer("The platform's token (`hpt_…`), for ingest and operator routes."),
        );
        components.add_security_scheme(
            "api_key",
            bearer("A merchant API key (`hk_…`); the dashboard's session cookie also works."),
        );
    }
}

/// The body of every error answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

/// What went wrong.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, e.g. `validation_failed`, `not_found`, `unauthenticated`.
    #[schema(example = "validation_failed")]
    code: String,
    /// For people; names the field for validation errors (every field's
    /// problem, separated by `; `, when several are wrong).
    #[schema(example = "url: must start with https://")]
    message: String,
    /// Validation errors only: each field that is wrong, with its problem.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<FieldProblem>,
}

/// One field's problem in a validation error.
#[derive(Serialize, ToSchema)]
pub struct FieldProblem {
    /// The field as the request named it, e.g. `url`.
    #[schema(example = "url")]
    field: String,
    #[schema(example = "must start with https://")]
    message: String,
}

/// The document as JSON, built once: it depends only on the code.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    serde_json::to_string_pretty(&super::document())
        .unwrap_or_else(|e| format!("{{\"error\":\"cannot serialise the document: {e}\"}}"))
});

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3 document", content_type = "application/json")))]
pub async fn get_openapi() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], DOCUMENT.as_str())
}
