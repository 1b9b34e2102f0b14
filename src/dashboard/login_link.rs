//! `GET /login-link/{token}`: opens a login link. A good one starts a
//! session the way log-in does (a new session id) and goes to the
//! dashboard; any other goes to the log-in page, which says why, and logs
//! no one in.

use crate::http::error::ApiError;
use crate::service::login_links::LINK_PATH;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use herald_app::server_fn::{SESSION_MEMBER_KEY, SESSION_MERCHANT_KEY};
use tower_sessions::Session;

/// The route, under the dashboard.
pub fn route() -> String {
    format!("{LINK_PATH}{{token}}")
}

/// Opens the link with `token`.
pub async fn open(
    State(state): State<AppState>,
    session: Session,
    Path(token): Path<String>,
) -> Response {
    let account = match state.login_links.redeem(&token).await {
        Ok(Ok(account)) => account,
        Ok(Err(refused)) => {
            return Redirect::to(&format!("/login?link={}", refused.as_str())).into_response()
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    // A session id fixed before the link was opened is worthless after it.
    if let Err(e) = session.cycle_id().await {
        return ApiError::internal(&e).into_response();
    }
    if let Err(e) = session
        .insert(SESSION_MERCHANT_KEY, &account.merchant.id)
        .await
    {
        return ApiError::internal(&e).into_response();
    }
    if let Err(e) = session.insert(SESSION_MEMBER_KEY, &account.member.id).await {
        return ApiError::internal(&e).into_response();
    }
    Redirect::to("/").into_response()
}
