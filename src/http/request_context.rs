//! Opens the audit log's `RequestContext` around each request: the client's
//! address and, for a request without a bearer token, the dashboard account
//! of its session (`service::audit`).

use crate::service::audit::{within_request, RequestContext};
use axum::extract::{ConnectInfo, Request};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use herald_app::model::id::MerchantId;
use herald_app::server_fn::SESSION_MERCHANT_KEY;
use std::net::SocketAddr;
use tower_sessions::Session;

/// The middleware (inside the session layer).
pub async fn with_request_context(session: Session, request: Request, next: Next) -> Response {
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    // Static files never change anything: spare them the session read.
    let account = if request.headers().contains_key(AUTHORIZATION)
        || request.uri().path().starts_with("/pkg/")
    {
        None
    } else {
        session
            .get::<MerchantId>(SESSION_MERCHANT_KEY)
            .await
            .ok()
            .flatten()
    };
    within_request(RequestContext::new(client, account), next.run(request)).await
}
