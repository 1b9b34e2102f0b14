//! The operations the dashboard needs from the server (ssr only).
//!
//! `app` cannot depend on the server crate, so the server implements this
//! trait over its services and hands it in through Leptos context; the
//! server functions stay thin: check the session, make one call here.

use crate::model::endpoint::Endpoint;
use crate::model::error::AppError;
use crate::model::event_type::EventType;
use crate::model::id::MerchantId;
use crate::model::merchant::{Merchant, NewAccount};
use std::net::IpAddr;
use std::sync::Arc;

/// What the dashboard asks of the server.
#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Creates a merchant account from the sign-up form.
    async fn sign_up(&self, account: NewAccount) -> Result<Merchant, AppError>;
    /// Checks an email and password; the error never says which was wrong.
    /// `client` is the browser's address, for the log-in throttle.
    async fn log_in(
        &self,
        email: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<Merchant, AppError>;
    /// The merchant behind a session, if it still exists.
    async fn merchant(&self, id: &MerchantId) -> Result<Option<Merchant>, AppError>;

    // ----- Endpoints, secrets, test events, API keys -----

    /// The merchant's endpoints, newest first.
    async fn list_endpoints(&self, merchant: &MerchantId) -> Result<Vec<Endpoint>, AppError>;

    // ----- The event-type catalog -----

    /// The event-type catalog, archived types last.
    async fn list_event_types(&self) -> Result<Vec<EventType>, AppError>;

    // ----- Events, deliveries, attempts, stats -----

    // ----- Operators: the admin console (callers check `is_admin` first) -----
}

/// How the backend travels in Leptos context.
pub type SharedBackend = Arc<dyn Backend>;
