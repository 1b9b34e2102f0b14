//! What every request handler can reach: the services and the configuration.
//! It lives apart from `lib.rs` so that `api/` and the dashboard never import
//! the crate root that wires them.

use crate::config::ServeConfig;
use crate::metrics::Metrics;
use crate::service::{
    Accounts, Alerts, ApiKeys, Audit, Auth, CallbackSecrets, Catalog, Deliveries, DeliveryStats,
    Endpoints, Events, Health, Ingestor, LoginLinks, Members, Operations, Passwords, Profiles,
    Retention,
};
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// What every handler can reach: the services, never the store.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub accounts: Accounts,
    pub alerts: Alerts,
    pub auth: Auth,
    pub api_keys: ApiKeys,
    pub audit: Audit,
    pub callback_secrets: CallbackSecrets,
    pub catalog: Catalog,
    pub deliveries: Deliveries,
    pub endpoints: Endpoints,
    pub events: Events,
    pub health: Health,
    pub ingestor: Ingestor,
    pub login_links: LoginLinks,
    pub operations: Operations,
    pub profiles: Profiles,
    pub members: Members,
    pub passwords: Passwords,
    pub retention: Retention,
    pub stats: DeliveryStats,
    /// This process's counters for `/metrics`.
    pub metrics: Metrics,
    pub config: Arc<ServeConfig>,
    pub leptos_options: LeptosOptions,
}
