//! The dashboard: mounts the Leptos app with its `Backend` (one-line
//! delegations to the services, in `backend.rs`) and keeps logged-out
//! visitors on the public pages.

mod app_error;
mod backend;
mod login_link;

use crate::state::AppState;
use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use backend::DashboardBackend;
use herald_app::backend::SharedBackend;
use herald_app::model::id::MerchantId;
use herald_app::server_fn::SESSION_MERCHANT_KEY;
use herald_app::{shell, App};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::sync::Arc;
use tower_sessions::Session;

/// The Leptos pages and server functions, with static files as the fallback.
pub fn router(state: &AppState) -> Router<AppState> {
    let backend: SharedBackend = Arc::new(DashboardBackend::new(state));
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    Router::new()
        .route(&login_link::route(), axum::routing::get(login_link::open))
        .leptos_routes_with_context(
            state,
            routes,
            move || provide_context(backend.clone()),
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn(require_login))
}

/// The site options as this binary can serve them. With `hash-files`, the
/// names of the WASM, script and stylesheet (`herald.<hash>.wasm`) come from
/// `hash.txt` beside the binary, which `cargo leptos build` writes; a binary
/// without one (a plain `cargo build`, the tests) names them plainly, and
/// Leptos must not go looking for the file (it panics when it is missing).
pub fn site_options(mut options: LeptosOptions) -> LeptosOptions {
    if options.hash_files {
        let hash_file = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join(options.hash_file.as_ref())));
        if !hash_file.as_deref().is_some_and(std::path::Path::exists) {
            tracing::warn!(
                hash_file = ?hash_file,
                "no hash.txt beside the binary: the site's files are linked by their plain \
                 names (build with `cargo leptos build`, and copy hash.txt with the binary)"
            );
            options.hash_files = false;
        }
    }
    options
}

/// Pages anyone may open.
const PUBLIC_PAGES: &[&str] = &["/login", "/signup", "/forgot-password"];

/// Sends a page request without a session to `/login` before anything
/// renders, so a logged-out visitor never sees a flash of the dashboard.
async fn require_login(session: Session, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let is_page = request.method() == Method::GET
        && !PUBLIC_PAGES.contains(&path)
        && !path.starts_with(crate::service::login_links::LINK_PATH)
        && !path.starts_with(crate::service::passwords::RESET_PATH)
        && !path.starts_with(crate::service::members::INVITATION_PATH)
        && !path.starts_with(herald_app::server_fn::PREFIX)
        && !path.starts_with("/pkg/")
        // Static files have an extension; pages never do.
        && !path.rsplit('/').next().is_some_and(|last| last.contains('.'));
    if is_page {
        let logged_in = matches!(
            session.get::<MerchantId>(SESSION_MERCHANT_KEY).await,
            Ok(Some(_))
        );
        if !logged_in {
            return Redirect::to("/login").into_response();
        }
    }
    next.run(request).await
}
