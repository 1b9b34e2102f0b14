//! The dashboard: mounts the Leptos app and implements its `Backend` over
//! the services, and keeps logged-out visitors on the public pages.

use crate::service::ServiceError;
use crate::AppState;
use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use herald_app::backend::{Backend, SharedBackend};
use herald_app::model::endpoint::Endpoint;
use herald_app::model::error::AppError;
use herald_app::model::event_type::EventType;
use herald_app::model::id::MerchantId;
use herald_app::model::merchant::{Merchant, NewAccount};
use herald_app::{shell, App};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::IpAddr;
use std::sync::Arc;
use tower_sessions::Session;

/// The dashboard's view of Herald's services.
pub struct DashboardBackend {
    state: AppState,
}

impl DashboardBackend {
    /// A backend over the server's services. They are the process's own
    /// (shared with the REST API), so the log-in throttle sees every attempt.
    pub fn new(state: &AppState) -> Self {
        DashboardBackend {
            state: state.clone(),
        }
    }
}

/// Turns a service error into what the dashboard shows; internal details are
/// logged here and not sent to the browser.
fn to_app_error(e: ServiceError) -> AppError {
    match e {
        ServiceError::Validation { field, message } => AppError::field(&field, message),
        ServiceError::Conflict(message) => AppError::new("conflict", message),
        ServiceError::NotFound(what) => AppError::new("not_found", format!("{what} not found")),
        ServiceError::Unauthenticated(message) => AppError::new("unauthenticated", message),
        e @ ServiceError::Throttled { .. } => AppError::new("rate_limited", e.to_string()),
        ServiceError::TooLarge(message) => AppError::new("payload_too_large", message),
        ServiceError::Unavailable(message) => {
            tracing::warn!(error = %message, "dashboard: database unavailable");
            AppError::new(
                "unavailable",
                "Herald cannot reach its database right now. Try again shortly.",
            )
        }
        ServiceError::Store(e) => {
            tracing::error!(error = %e, "dashboard: store error");
            AppError::internal()
        }
        ServiceError::Internal(message) => {
            tracing::error!(error = %message, "dashboard: internal error");
            AppError::internal()
        }
    }
}

#[async_trait::async_trait]
impl Backend for DashboardBackend {
    async fn sign_up(&self, account: NewAccount) -> Result<Merchant, AppError> {
        self.state
            .accounts
            .sign_up(account)
            .await
            .map_err(to_app_error)
    }

    async fn log_in(
        &self,
        email: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<Merchant, AppError> {
        self.state
            .accounts
            .log_in(email, password, client)
            .await
            .map_err(to_app_error)
    }

    async fn merchant(&self, id: &MerchantId) -> Result<Option<Merchant>, AppError> {
        self.state.accounts.merchant(id).await.map_err(to_app_error)
    }

    // ----- Endpoints, secrets, test events, API keys -----

    async fn list_endpoints(&self, merchant: &MerchantId) -> Result<Vec<Endpoint>, AppError> {
        self.state
            .store
            .list_endpoints(merchant)
            .await
            .map_err(|e| to_app_error(e.into()))
    }

    // ----- The event-type catalog -----

    async fn list_event_types(&self) -> Result<Vec<EventType>, AppError> {
        self.state
            .store
            .list_event_types()
            .await
            .map_err(|e| to_app_error(e.into()))
    }

    // ----- Events, deliveries, attempts, stats -----

    // ----- Operators: the admin console -----
}

/// The Leptos pages and server functions, with static files as the fallback.
pub fn router(state: &AppState) -> Router<AppState> {
    let backend: SharedBackend = Arc::new(DashboardBackend::new(state));
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    Router::new()
        .leptos_routes_with_context(
            state,
            routes,
            move || provide_context(backend.clone()),
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn(require_login))
}

/// Pages anyone may open.
const PUBLIC_PAGES: &[&str] = &["/login", "/signup"];

/// Sends a page request without a session to `/login` before anything
/// renders, so a logged-out visitor never sees a flash of the dashboard.
async fn require_login(session: Session, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let is_page = request.method() == Method::GET
        && !PUBLIC_PAGES.contains(&path)
        && !path.starts_with(herald_app::server_fn::PREFIX)
        && !path.starts_with("/pkg/")
        // Static files have an extension; pages never do.
        && !path.rsplit('/').next().is_some_and(|last| last.contains('.'));
    if is_page {
        let logged_in = matches!(session.get::<MerchantId>("merchant_id").await, Ok(Some(_)));
        if !logged_in {
            return Redirect::to("/login").into_response();
        }
    }
    next.run(request).await
}
