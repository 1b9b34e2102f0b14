//! Endpoints: CRUD, enable/disable, signing secrets, test events, replay
//! and recover.

use super::auth::MerchantAuth;
use super::deliveries::Queued;
use super::id_path::IdPath;
use super::openapi::ErrorBody;
use crate::http::error::{ApiError, ApiJson};
use crate::service::deliveries::ReplayStatus;
use crate::service::endpoints::{EndpointPatch, NewEndpoint};
use crate::service::pagination::Page;
use crate::service::recovery::RecoverMode;
use crate::service::ServiceError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use herald_app::model::endpoint::{
    check_timeout, Endpoint, EndpointKeys, EndpointMode, PayloadEncryption, SignatureScheme,
};
use herald_app::model::error::ErrorCode;
use herald_app::model::id::{EndpointId, EventId};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The endpoint routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_endpoints, create_endpoint))
        .routes(routes!(get_endpoint, update_endpoint, delete_endpoint))
        .routes(routes!(get_secret))
        .routes(routes!(rotate_secret))
        .routes(routes!(send_test_event))
        .routes(routes!(replay))
        .routes(routes!(recover))
}

/// `POST /api/v1/endpoints` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpoint {
    url: String,
    description: Option<String>,
    event_types: Option<Vec<String>>,
    enabled: Option<bool>,
    rate_limit_per_s: Option<u32>,
    headers: Option<BTreeMap<String, String>>,
    /// Also send `x-herald-signature: sha256=<hex HMAC-SHA256 of the body>`
    /// and `x-herald-timestamp`, for receivers written for that style.
    legacy_signature: Option<bool>,
    /// The endpoint's own waits before each attempt, e.g. `["0s","30s","5m","1h"]`
    /// (each at most 24h, 3 days in all); absent: the server's schedule.
    retry_schedule: Option<Vec<String>>,
    /// `hmac` (default: `v1,`, shared `whsec_` secret) or `ed25519` (`v1a,`,
    /// verified with the `whpk_` public key).
    signature_scheme: Option<SignatureScheme>,
    /// `aes-256-cbc` to send `{"data":"<base64>","iv":"<base64>"}` in place
    /// of the envelope; the key comes back as `encryption_key`.
    encryption: Option<PayloadEncryption>,
    /// `live` (default): the platform's live events; `test`: its test
    /// events (`live_mode: false`) only.
    mode: Option<EndpointMode>,
    /// The wire format (`GET /api/v1/profiles`); `standard` by default.
    profile: Option<String>,
    /// One attempt's limit, `1s` to `60s`; the server's by default.
    #[schema(example = "30s")]
    timeout: Option<String>,
    /// An existing signing secret to keep (HMAC profiles), instead of a
    /// generated one.
    secret: Option<String>,
    /// An existing RSA private key to keep (PEM, 2048 bits or more; RSA
    /// profiles), instead of a generated one.
    private_key: Option<String>,
}

/// A `timeout` of the API: `1s` to `60s`.
fn timeout(text: &str) -> Result<Duration, ServiceError> {
    check_timeout(text).map_err(|message| ServiceError::invalid("timeout", message))
}

/// An endpoint with its keys, as answered at creation (the only time they are shown unasked).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedEndpoint {
    #[serde(flatten)]
    endpoint: Endpoint,
    #[serde(flatten)]
    keys: EndpointKeys,
}

#[utoipa::path(get, path = "/endpoints", tag = "endpoints", security(("api_key" = [])),
    responses((status = 200, description = "The merchant's endpoints, newest first", body = Page<Endpoint>), (status = 401, description = "Missing or wrong credentials", body = ErrorBody)))]
async fn list_endpoints(
    auth: MerchantAuth,
    State(state): State<AppState>,
) -> Result<ApiJson<Page<Endpoint>>, ApiError> {
    Ok(ApiJson(Page::whole(
        state.endpoints.list(&auth.merchant_id).await?,
    )))
}

#[utoipa::path(post, path = "/endpoints", tag = "endpoints", security(("api_key" = [])), request_body = CreateEndpoint,
    responses((status = 201, description = "Created, with its signing secret", body = CreatedEndpoint), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 422, description = "Invalid field (named in the message)", body = ErrorBody)))]
async fn create_endpoint(
    auth: MerchantAuth,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateEndpoint>,
) -> Result<(StatusCode, ApiJson<CreatedEndpoint>), ApiError> {
    let (endpoint, keys) = state
        .endpoints
        .create(
            &auth.merchant_id,
            NewEndpoint {
                url: body.url,
                description: body.description,
                event_types: body.event_types,
                enabled: body.enabled,
                rate_limit_per_s: body.rate_limit_per_s,
                headers: body.headers,
                legacy_signature: body.legacy_signature,
                retry_schedule: body.retry_schedule,
                signature_scheme: body.signature_scheme,
                encryption: body.encryption,
                mode: body.mode,
                profile: body.profile,
                timeout: body.timeout.as_deref().map(timeout).transpose()?,
                secret: body.secret,
                private_key: body.private_key,
                form_problems: Vec::new(),
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(CreatedEndpoint { endpoint, keys }),
    ))
}

#[utoipa::path(get, path = "/endpoints/{id}", tag = "endpoints", security(("api_key" = [])), params(("id" = String, Path, description = "The endpoint id")),
    responses((status = 200, body = Endpoint), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 404, description = "No such id for this merchant", body = ErrorBody)))]
async fn get_endpoint(
    auth: MerchantAuth,
    State(state): State<AppState>,
    IdPath(id): IdPath<EndpointId>,
) -> Result<ApiJson<Endpoint>, ApiError> {
    Ok(ApiJson(state.endpoints.get(&auth.merchant_id, &id).await?))
}

/// Distinguishes an absent field (leave as is) from `null` (remove).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// `PATCH /api/v1/endpoints/{id}` body: only the fields to change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEndpoint {
    url: Option<String>,
    description: Option<String>,
    event_types: Option<Vec<String>>,
    enabled: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    rate_limit_per_s: Option<Option<u32>>,
    headers: Option<BTreeMap<String, String>>,
    legacy_signature: Option<bool>,
    /// `null` goes back to the server's schedule.
    #[serde(default, deserialize_with = "present")]
    retry_schedule: Option<Option<Vec<String>>>,
    /// A different scheme rotates to a new key of it; the old key keeps
    /// signing for 24 h.
    signature_scheme: Option<SignatureScheme>,
    /// `null` turns encryption off; `aes-256-cbc` turns it on with a new key.
    #[serde(default, deserialize_with = "present")]
    encryption: Option<Option<PayloadEncryption>>,
    /// `live` or `test`: which of the platform's events it gets from now on.
    mode: Option<EndpointMode>,
    /// Another wire format (`GET /api/v1/profiles`).
    profile: Option<String>,
    /// One attempt's limit, `1s` to `60s`; `null` goes back to the server's.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "30s")]
    timeout: Option<Option<String>>,
    /// An existing signing secret to sign with from now on.
    secret: Option<String>,
    /// An existing RSA private key (PEM) to sign with from now on.
    private_key: Option<String>,
}

#[utoipa::path(patch, path = "/endpoints/{id}", tag = "endpoints", security(("api_key" = [])), params(("id" = String, Path, description = "The endpoint id")),
    request_body = UpdateEndpoint,
    responses((status = 200, description = "Only the fields given change; `rate_limit_per_s: null` removes the limit", body = Endpoint), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 404, description = "No such id for this merchant", body = ErrorBody), (status = 409, description = "`enabled: true` on an endpoint an operator disabled (the message names the operator's reason)", body = ErrorBody), (status = 422, description = "Invalid field (named in the message)", body = ErrorBody)))]
async fn update_endpoint(
    auth: MerchantAuth,
    State(state): State<AppState>,
    IdPath(id): IdPath<EndpointId>,
    ApiJson(body): ApiJson<UpdateEndpoint>,
) -> Result<ApiJson<Endpoint>, ApiError> {
    let endpoint = state
        .endpoints
        .update(
            &auth.merchant_id,
            &id,
            EndpointPatch {
                url: body.url,
                description: body.description,
                event_types: body.event_types,
                enabled: body.enabled,
                rate_limit_per_s: body.rate_limit_per_s,
                headers: body.headers,
                legacy_signature: body.legacy_signature,
                retry_schedule: body.retry_schedule,
                signature_scheme: body.signature_scheme,
                encryption: body.encryption,
                mode: body.mode,
                profile: body.profile,
                timeout: match body.timeout {
                    Some(Some(text)) => Some(Some(timeout(&text)?)),
                    Some(None) => Some(None),
                    None => None,
                },
                secret: body.secret,
                private_key: body.private_key,
                form_problems: Vec::new(),
            },
        )
        .await?;
    Ok(ApiJson(endpoint))
}

#[utoipa::path(delete, path = "/endpoints/{id}", tag = "endpoints", security(("api_key" = [])), params(("id" = String, Path, description = "The endpoint id")),
    responses((status = 204, description = "Deleted; its pending deliveries are cancelled"), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 404, description = "No such id for this merchant", body = ErrorBody)))]
async fn delete_endpoint(
    auth: MerchantAuth,
    State(state): State<AppState>,
    IdPath(id): IdPath<EndpointId>,
) -> Result<StatusCode, ApiError> {
    state.endpoints.delete(&auth.merchant_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/endpoints/{id}/secret", tag = "endpoints", security(("api_key" = [])), params(("id" = String, Path, description = "The endpoint id")),
    responses((status = 200, description = "`secret` (HMAC) or `public_key` (Ed25519), `encryption_key` when encrypted, and until when a rotated-out key still signs", body = EndpointKeys), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 404, description = "No such id for this merchant", body = ErrorBody)))]
async fn get_secret(
    auth: MerchantAuth,
    State(state): State<AppState>,
    IdPath(id): IdPath<EndpointId>,
) -> Result<ApiJson<EndpointKeys>, ApiError> {
    let keys = state.endpoints.secret(&auth.merchant_id, &id).await?;
    Ok(ApiJson(keys))
}

/// `POST .../secret/rotate` body.
#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rotate {
    grace_period_s: Option<u64>,
}

impl Rotate {
    /// The grace period asked for in an optional body (endpoint and callback
    /// secrets alike): no body, or none given, means the default.
    pub(super) fn grace_period(body: &[u8]) -> Result<Option<Duration>, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        let rotate: Rotate = serde_json::from_slice(body)
            .map_err(|e| ApiError::new(ErrorCode::ValidationFailed, format!("body: {e}")))?;
        Ok(rotate.grace_period_s.map(Duration::from_secs))
    }
}

#[utoipa::path(post, path = "/endpoints/{id}/secret/rotate", tag = "endpoints", security(("api_key" = [])), params(("id" = String, Path, description = "The endpoint id")),
    request_body(content = Option<Rotate>, description = "Optional; the grace period defaults to 24 h"),
    responses((status = 200, description = "The new key (`secret` or `public_key`, of the endpoint's scheme); the old one also signs until `previous_secret_expires_at`", body = EndpointKeys), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 404, description = "No such id for this merchant", body = ErrorBody), (status = 422, description = "Invalid field (named in the message)", body = ErrorBody)))]
async fn rotate_secret(
    auth: MerchantAuth,
    State(state): State<AppState>,
    IdPath(id): IdPath<EndpointId>,
    body: axum::body::Bytes,
) -> Result<ApiJson<EndpointKeys>, ApiError> {
    let grace = Rotate::grace_period(&body)?;
    let keys = state
        .endpoints
        .rotate_secret(&auth.merchant_id, &id, grace)
        .await?;
    Ok(ApiJson(keys))
}

/// `POST .../test` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestEvent {
    event_type: String,
    /// Replaces the catalog's example payload when given.
    #[schema(value_type = Option<Object>)]
    data: Option<serde_json::Value>,
}

/// `POST .../test` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TestEventSent {
    id: EventId,
    deliveries: u64,
}

#[utoipa::path(post, path = "/endpoints/{id}/test", tag = "endpoints", security(("api_key" = [])), params(("id" = String, Path, description = "The endpoint id")),
    request_body = TestEvent,
    responses((status = 202, description = "A `live_mode: false` event of that type, to this endpoint only", body = TestEventSent), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 404, description = "No such id for this merchant", body = ErrorBody), (status = 422, description = "Invalid field (named in the message)", body = ErrorBody)))]
async fn send_test_event(
    auth: MerchantAuth,
    State(state): State<AppState>,
    IdPath(id): IdPath<EndpointId>,
    ApiJson(body): ApiJson<TestEvent>,
) -> Result<(StatusCode, ApiJson<TestEventSent>), ApiError> {
    let (id, deliveries) = state
        .deliveries
        .send_test_event(&auth.merchant_id, &id, &body.event_type, body.data)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        ApiJson(TestEventSent { id, deliveries }),
    ))
}

/// `POST .../replay` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Replay {
    since: DateTime<Utc>,
    #[serde(default = "failed")]
    status: String,
}

fn failed() -> String {
    "failed".into()
}

#[utoipa::path(post, path = "/endpoints/{id}/replay", tag = "endpoints", security(("api_key" = [])), params(("id" = String, Path, description = "The endpoint id")),
    request_body = Replay,
    responses((status = 202, description = "Deliveries since then queued again", body = Queued), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 404, description = "No such id for this merchant", body = ErrorBody), (status = 422, description = "Invalid field (named in the message)", body = ErrorBody)))]
async fn replay(
    auth: MerchantAuth,
    State(state): State<AppState>,
    IdPath(id): IdPath<EndpointId>,
    ApiJson(body): ApiJson<Replay>,
) -> Result<(StatusCode, ApiJson<Queued>), ApiError> {
    let which = ReplayStatus::parse(&body.status)?;
    let queued = state
        .deliveries
        .replay(&auth.merchant_id, &id, body.since, which)
        .await?;
    Ok((StatusCode::ACCEPTED, ApiJson(Queued { queued })))
}

/// `POST .../recover` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Recover {
    since: DateTime<Utc>,
    /// The window's end (exclusive); absent: now.
    until: Option<DateTime<Utc>>,
    /// Only count what would be sent (`{"would_queue": N}`).
    #[serde(default)]
    dry_run: bool,
}

/// What a recover queued, or with `dry_run` would queue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Recovered {
    Queued { queued: u64 },
    DryRun { would_queue: u64 },
}

#[utoipa::path(post, path = "/endpoints/{id}/recover", tag = "endpoints", security(("api_key" = [])), params(("id" = String, Path, description = "The endpoint id")),
    request_body = Recover,
    responses((status = 202, description = "The merchant's events in the window that match the endpoint's filter and mode and that it never got a delivery for (ingested while it was disabled, or before it existed), queued oldest first, at most 10,000 per call", body = Recovered), (status = 200, description = "`dry_run`: how many would be queued", body = Recovered), (status = 400, description = "Malformed JSON", body = ErrorBody), (status = 401, description = "Missing or wrong credentials", body = ErrorBody), (status = 404, description = "No such id for this merchant", body = ErrorBody), (status = 409, description = "The endpoint is disabled", body = ErrorBody), (status = 422, description = "Invalid field (named in the message)", body = ErrorBody), (status = 429, description = "Over the replay limit (`HERALD_REPLAYS_PER_HOUR`)", body = ErrorBody)))]
async fn recover(
    auth: MerchantAuth,
    State(state): State<AppState>,
    IdPath(id): IdPath<EndpointId>,
    ApiJson(body): ApiJson<Recover>,
) -> Result<(StatusCode, ApiJson<Recovered>), ApiError> {
    let mode = RecoverMode::dry_run(body.dry_run);
    let n = state
        .deliveries
        .recover(&auth.merchant_id, &id, body.since, body.until, mode)
        .await?;
    Ok(match mode {
        RecoverMode::DryRun => (
            StatusCode::OK,
            ApiJson(Recovered::DryRun { would_queue: n }),
        ),
        RecoverMode::Send => (
            StatusCode::ACCEPTED,
            ApiJson(Recovered::Queued { queued: n }),
        ),
    })
}
