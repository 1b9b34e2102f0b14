//! Opens the audit log's `RequestContext` around each request: the client's
//! address and, for a request without a bearer token, the dashboard member
//! of its session (`service::audit`), whose role the services check.
//!
//! This is also where a session ends that no longer stands: its member was
//! removed, or changed or reset their password after it began. Such a
//! session is deleted before anything reads it, so every route after this
//! sees a logged-out visitor.

use crate::service::audit::{within_request, RequestContext, SessionMember};
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use herald_app::model::id::{MemberId, MerchantId};
use herald_app::server_fn::{SESSION_MEMBER_KEY, SESSION_MERCHANT_KEY};
use std::net::SocketAddr;
use tower_sessions::Session;

/// The middleware (inside the session layer).
pub async fn with_request_context(
    State(state): State<AppState>,
    session: Session,
    request: Request,
    next: Next,
) -> Response {
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    // Static files never change anything: spare them the session read.
    let member = if request.headers().contains_key(AUTHORIZATION)
        || request.uri().path().starts_with("/pkg/")
    {
        None
    } else {
        match session_member(&state, &session).await {
            Ok(member) => member,
            Err(response) => return response,
        }
    };
    within_request(RequestContext::new(client, member), next.run(request)).await
}

/// The session's member if the session stands; a session that no longer
/// does is ended here.
async fn session_member(
    state: &AppState,
    session: &Session,
) -> Result<Option<SessionMember>, Response> {
    let merchant = session
        .get::<MerchantId>(SESSION_MERCHANT_KEY)
        .await
        .ok()
        .flatten();
    let Some(merchant) = merchant else {
        return Ok(None);
    };
    let member = session
        .get::<MemberId>(SESSION_MEMBER_KEY)
        .await
        .ok()
        .flatten();
    let started_at = session
        .get::<i64>(crate::store::SESSION_STARTED_AT)
        .await
        .ok()
        .flatten();
    let standing = match member {
        Some(member) => state
            .accounts
            .session_member(&merchant, &member, started_at)
            .await
            .map_err(|e| crate::http::error::ApiError::from(e).into_response())?,
        // A session from before teams (migration 0012) names no member.
        None => None,
    };
    if standing.is_none() {
        if let Err(e) = session.flush().await {
            return Err(crate::http::error::ApiError::internal(&e).into_response());
        }
    }
    Ok(standing)
}
