//! What every request handler can reach: the services and the configuration.
//! It lives apart from `lib.rs` so that `api/` and the dashboard never import
//! the crate root that wires them.

use crate::config::ServeConfig;
use crate::crypto::secret_box::SecretBox;
use crate::engine::Wakeup;
use crate::metrics::Metrics;
use crate::service::destination::UrlRules;
use crate::service::endpoints::Endpoints;
use crate::service::ingest::Ingestor;
use crate::service::{Accounts, PlatformToken};
use crate::store::Store;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub store: Store,
    pub accounts: Accounts,
    pub ingestor: Ingestor,
    pub endpoints: Endpoints,
    pub url_rules: UrlRules,
    /// Seals and opens signing secrets at rest (`HERALD_SECRET_KEY`).
    pub secrets: SecretBox,
    /// Wakes this process's delivery engine.
    pub wakeup: Wakeup,
    pub platform_token: PlatformToken,
    /// This process's counters for `/metrics`.
    pub metrics: Metrics,
    pub config: Arc<ServeConfig>,
    pub leptos_options: LeptosOptions,
}
