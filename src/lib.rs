//! Herald: webhook delivery for payments platforms. `Herald::build` opens and
//! prepares the database; `Herald::serve` runs the site and the API on a
//! listener it is given, so tests start the real server on port 0.

#![forbid(unsafe_code)]

pub mod api;
pub mod config;
pub mod crypto;
pub mod dashboard;
pub mod engine;
pub mod http;
pub mod metrics;
pub mod service;
pub mod state;
pub mod store;

use crate::config::{SecretString, ServeConfig};
use crate::crypto::secret_box::SealError;
use crate::crypto::secret_box::SecretBox;
use crate::engine::http::Egress;
use crate::engine::ssrf::AddressPolicy;
use crate::engine::{Engine, EngineConfig, Handoff, Wakeup};
use crate::http::connections::ConnectionLimits;
use crate::http::security_headers::SecurityHeaders;
use crate::service::destination::UrlRules;
use crate::service::mail::{MailError, Mailer};
use crate::service::rate_limits::RateLimits;
use crate::service::{
    ensure_platform_token, refresh_bundled_profiles, seed_catalog, Accounts, Alerts, ApiKeys,
    Audit, Auth, CallbackSecrets, Catalog, Deliveries, DeliveryStats, Endpoints, Events, Health,
    Ingestor, LoginLinks, Members, Operations, Passwords, Profiles, Retention, ServiceError,
};
use crate::state::AppState;
use crate::store::{SessionStore, Store, StoreError};
use axum::extract::DefaultBodyLimit;
use axum::Router;
use leptos::config::LeptosOptions;
use metrics::Metrics;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tracing::Level;

/// Largest request body accepted anywhere (ingest's own payload limit is lower).
pub const MAX_REQUEST_BODY: usize = 1024 * 1024;
/// How long a dashboard session lives without use (its absolute lifetime,
/// whatever the use, is `HERALD_SESSION_MAX_AGE`).
const SESSION_IDLE: i64 = 12 * 60 * 60;

/// Why Herald could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Service(#[from] ServiceError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Client(#[from] crate::engine::http::SenderError),
    #[error("HERALD_SECRET_KEY: {0}")]
    SecretKey(#[from] SealError),
    #[error("HERALD_SMTP_URL / HERALD_MAIL_FROM: {0}")]
    Mail(#[from] MailError),
}

/// A prepared Herald: database migrated, catalog seeded, token resolved.
pub struct Herald {
    state: AppState,
    /// What the engine and the shutdown work on, beside the services.
    store: Store,
    url_rules: UrlRules,
    secrets: SecretBox,
    wakeup: Wakeup,
    sessions: SessionStore,
    /// Shared with the services; swept of idle keys in the background.
    rate_limits: RateLimits,
    generated_token: Option<SecretString>,
    /// Where ingest gives new deliveries to this process's engine.
    handoff: Handoff,
}

impl Herald {
    /// Opens the database, migrates it, seeds the catalog and resolves the
    /// platform token.
    pub async fn build(
        database_url: &str,
        config: ServeConfig,
        leptos_options: LeptosOptions,
    ) -> Result<Herald, StartError> {
        let store = Store::connect(database_url).await?;
        Self::build_with_store(store, config, leptos_options).await
    }

    /// Like `build`, over an already opened store (tests use their own).
    pub async fn build_with_store(
        store: Store,
        config: ServeConfig,
        leptos_options: LeptosOptions,
    ) -> Result<Herald, StartError> {
        let leptos_options = dashboard::site_options(leptos_options);
        store.migrate().await?;
        let added = seed_catalog(&store).await?;
        if added > 0 {
            tracing::info!(added, "seeded the event-type catalog");
        }
        let refreshed = refresh_bundled_profiles(&store).await?;
        if refreshed > 0 {
            tracing::info!(refreshed, "added or updated the bundled delivery profiles");
        }
        let (platform_token, generated_token) =
            ensure_platform_token(&store, config.platform_token.as_ref()).await?;
        let sessions = store.session_store(config.session_max_age).await?;
        let url_rules = UrlRules {
            allow_http: config.allow_http,
            policy: AddressPolicy::new(config.allowed_private_cidrs.0.clone())
                .with_ports(config.allowed_ports.clone()),
        };
        let wakeup = Wakeup::default();
        let handoff = Handoff::default();
        let secrets = config.secret_keys.secret_box()?;
        let rate_limits = RateLimits::new(config.limits.rates());
        let endpoints = Endpoints::new(
            store.clone(),
            url_rules.clone(),
            secrets.clone(),
            wakeup.clone(),
        )
        .with_max_endpoints(config.limits.max_endpoints)
        .with_auto_disable_after(config.auto_disable_after)
        .with_request_timeout(config.request_timeout);
        let ingestor = Ingestor::start(
            store.clone(),
            url_rules.clone(),
            wakeup.clone(),
            handoff.clone(),
            secrets.clone(),
        );
        let mailer = match (&config.mail.smtp_url, &config.mail.mail_from) {
            (Some(url), Some(from)) => Some(Mailer::new(url.expose(), from)?),
            _ => None,
        };
        let public_url = config.mail.public_url.clone().unwrap_or_else(|| {
            format!("http://{}", config.addr.unwrap_or(leptos_options.site_addr))
        });
        let passwords = Passwords::new(store.clone(), mailer.clone(), public_url.clone());
        let members = Members::new(store.clone(), mailer.clone(), public_url.clone());
        let alerts = Alerts::new(
            store.clone(),
            ingestor.clone(),
            mailer,
            rate_limits.mails.clone(),
            public_url.clone(),
        );
        let metrics = Metrics::default();
        let state = AppState {
            accounts: Accounts::with_sign_up_limit(store.clone(), rate_limits.sign_ups.clone())
                .with_sign_up_mode(config.signup),
            alerts,
            auth: Auth::new(
                store.clone(),
                platform_token,
                rate_limits.api_requests.clone(),
                rate_limits.platform_requests.clone(),
            ),
            api_keys: ApiKeys::new(store.clone()),
            audit: Audit::new(store.clone()),
            callback_secrets: CallbackSecrets::new(store.clone(), secrets.clone()),
            catalog: Catalog::new(store.clone()),
            deliveries: Deliveries::new(
                store.clone(),
                endpoints.clone(),
                ingestor.clone(),
                wakeup.clone(),
                &rate_limits,
            ),
            operations: Operations::new(store.clone(), endpoints.clone()),
            endpoints,
            events: Events::new(store.clone()),
            health: Health::new(store.clone()),
            ingestor,
            login_links: LoginLinks::new(store.clone(), public_url),
            profiles: Profiles::new(store.clone(), config.egress()),
            members,
            passwords,
            stats: DeliveryStats::new(store.clone()),
            retention: Retention::new(store.clone(), config.retention, metrics.clone()),
            metrics,
            config: Arc::new(config),
            leptos_options,
        };
        Ok(Herald {
            state,
            store,
            url_rules,
            secrets,
            wakeup,
            sessions,
            rate_limits,
            generated_token,
            handoff,
        })
    }

    /// The platform token, if it was generated by this start (print it once).
    pub fn take_generated_token(&mut self) -> Option<SecretString> {
        self.generated_token.take()
    }

    /// The shared state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The database (tests arrange and inspect through it).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Wakes this process's delivery engine.
    pub fn wakeup(&self) -> Wakeup {
        self.wakeup.clone()
    }

    /// The whole HTTP application.
    pub fn router(&self) -> Router {
        let sessions = SessionManagerLayer::new(self.sessions.clone())
            .with_name("herald_session")
            .with_http_only(true)
            .with_same_site(SameSite::Strict)
            .with_secure(self.state.config.secure_cookies)
            .with_expiry(Expiry::OnInactivity(
                tower_sessions::cookie::time::Duration::seconds(SESSION_IDLE),
            ));
        Router::new()
            .merge(api::router())
            .merge(dashboard::router(&self.state))
            .layer(axum::middleware::from_fn_with_state(
                self.state.clone(),
                http::request_context::with_request_context,
            ))
            .layer(sessions)
            .layer(axum::middleware::from_fn(
                http::same_origin::refuse_cross_origin,
            ))
            .layer(axum::middleware::from_fn_with_state(
                SecurityHeaders {
                    https: self.state.config.secure_cookies,
                },
                http::security_headers::add_security_headers,
            ))
            .layer(DefaultBodyLimit::max(MAX_REQUEST_BODY))
            // Pages and JSON go out compressed (brotli or gzip, as the client
            // accepts; the site's files are precompressed at build time and
            // sent as they are). Level 4: most of the gain for little CPU.
            .layer(CompressionLayer::new().quality(CompressionLevel::Precise(4)))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                    .on_response(DefaultOnResponse::new().level(Level::INFO)),
            )
            .with_state(self.state.clone())
    }

    /// The engine configuration this server runs with.
    pub fn engine_config(&self) -> EngineConfig {
        let config = &self.state.config;
        let mut engine = EngineConfig::new(
            config.retry_schedule.clone(),
            config.request_timeout,
            self.url_rules.policy.clone(),
        );
        engine.auto_disable_after = config.auto_disable_after;
        engine.failing_alert_after = config.failing_alert_after;
        engine.per_endpoint = config.endpoint_concurrency;
        engine.max_in_flight = config.max_in_flight;
        engine.per_merchant = config.per_merchant();
        engine.metrics = self.state.metrics.clone();
        engine.secrets = self.secrets.clone();
        engine.egress = Egress {
            source_address: config.outbound_address,
            proxy: config.outbound_proxy.as_ref().map(|p| p.0.clone()),
        };
        engine
    }

    /// Serves the site, the API and the delivery engine until `shutdown`
    /// resolves; then stops taking requests, lets the engine finish or give
    /// back what it holds, and closes the database.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartError> {
        let engine = Engine::start(
            self.store.clone(),
            self.engine_config(),
            self.wakeup.clone(),
        )?;
        let stop_engine = CancellationToken::new();
        let engine_task = tokio::spawn(engine.run(stop_engine.clone(), self.handoff.clone()));
        let app = self.router();
        let sweeper = tokio::spawn(delete_expired_sessions(self.sessions.clone()));
        let forgetter = tokio::spawn(forget_idle_rate_limits(self.rate_limits.clone()));
        let stop_telling = CancellationToken::new();
        let teller = tokio::spawn(self.state.alerts.clone().run(stop_telling.clone()));
        let history_sweeper = tokio::spawn(self.state.retention.clone().run(stop_telling.clone()));
        let limits = ConnectionLimits {
            max_connections: self.state.config.limits.max_connections,
            ..ConnectionLimits::default()
        };
        let served = http::connections::serve(listener, app, limits, shutdown).await;
        stop_engine.cancel();
        if let Err(e) = engine_task.await {
            tracing::error!(error = %e, "delivery engine task failed");
        }
        stop_telling.cancel();
        if let Err(e) = teller.await {
            tracing::error!(error = %e, "alert teller task failed");
        }
        if let Err(e) = history_sweeper.await {
            tracing::error!(error = %e, "retention task failed");
        }
        sweeper.abort();
        forgetter.abort();
        self.store.close().await;
        served?;
        Ok(())
    }
}

async fn delete_expired_sessions(sessions: SessionStore) {
    use tower_sessions::session_store::ExpiredDeletion;
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        if let Err(e) = sessions.delete_expired().await {
            tracing::warn!(error = %e, "deleting expired sessions");
        }
    }
}

/// Keeps the rate limiters' memory to the callers active in the last period.
async fn forget_idle_rate_limits(limits: RateLimits) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        limits.forget_idle();
    }
}

/// Resolves when the process is asked to stop (SIGINT or SIGTERM).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
