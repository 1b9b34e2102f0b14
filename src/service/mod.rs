//! Business operations. The REST API, the dashboard's backend and the CLI
//! all call these, so each rule lives in exactly one place.

pub mod access;
mod accounts;
pub mod alerts;
mod api_keys;
pub mod audit;
mod auth;
pub mod bundled_profiles;
pub mod callback_secret;
pub mod catalog;
pub mod clock;
pub mod deliveries;
pub mod destination;
pub mod endpoint_settings;
pub mod endpoints;
pub mod events;
pub mod field_checks;
mod health;
pub mod ingest;
pub mod login_links;
pub mod login_throttle;
pub mod mail;
pub mod members;
pub mod operations;
pub mod pagination;
mod password;
pub mod passwords;
mod platform_token;
pub mod profiles;
pub mod rate_limits;
pub mod recovery;
pub mod retention;
pub mod secrets_at_rest;
pub mod stats;

pub use accounts::Accounts;
pub use alerts::Alerts;
pub use api_keys::{hash_api_key, ApiKeys};
pub use audit::Audit;
pub use auth::Auth;
pub use callback_secret::CallbackSecrets;
pub use catalog::{seed_catalog, Catalog};
pub use deliveries::Deliveries;
pub use endpoints::Endpoints;
pub use events::Events;
pub use health::Health;
pub use ingest::Ingestor;
pub use login_links::LoginLinks;
pub use members::Members;
pub use operations::Operations;
pub use passwords::Passwords;
pub use platform_token::{ensure_platform_token, PlatformToken};
pub use profiles::{refresh_bundled_profiles, Profiles};
pub use retention::Retention;
pub use stats::DeliveryStats;

use crate::store::StoreError;
use herald_app::model::error::ErrorCode;

/// What a refused sign-up says.
pub const SIGN_UP_CLOSED: &str =
    "Sign-up is closed on this Herald: accounts come from your platform. Log in, or ask it for a login link.";

/// Why a business operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Input that breaks a rule; `field` names what to fix.
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    /// Several fields break rules (`field_checks::FieldChecks`); each names
    /// its field, in the order they were checked.
    #[error("{}", describe_problems(.0))]
    InvalidFields(Vec<herald_app::model::merchant::FieldError>),
    /// The request conflicts with what exists (e.g. the email is taken).
    #[error("{0}")]
    Conflict(String),
    /// Absent, or owned by someone else (the two are never told apart).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Credentials missing or wrong.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller is known but may not do this (a viewer changing
    /// something, say); the message says why.
    #[error("{0}")]
    Forbidden(String),
    /// Sign-up is closed (`HERALD_SIGNUP=closed`).
    #[error("{}", SIGN_UP_CLOSED)]
    SignUpClosed,
    /// Refused for now: over a rate limit; the message names it, and the
    /// caller may try again after the wait.
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after: std::time::Duration,
    },
    /// A quota is used up; the message names it and the setting that raises it.
    #[error("{0}")]
    LimitReached(String),
    /// Too large to accept (a payload over the limit).
    #[error("{0}")]
    TooLarge(String),
    /// The database cannot be reached; the caller should retry.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The database failed; details are logged where this is turned into a response.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something that should not happen (a hashing failure, a panicked task).
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    /// The code both adapters answer with (REST's error body, the
    /// dashboard's `AppError`).
    pub fn code(&self) -> ErrorCode {
        match self {
            ServiceError::Validation { .. } | ServiceError::InvalidFields(_) => {
                ErrorCode::ValidationFailed
            }
            ServiceError::Conflict(_) => ErrorCode::Conflict,
            ServiceError::NotFound(_) => ErrorCode::NotFound,
            ServiceError::Unauthenticated(_) => ErrorCode::Unauthenticated,
            ServiceError::Forbidden(_) => ErrorCode::Forbidden,
            ServiceError::SignUpClosed => ErrorCode::SignUpClosed,
            ServiceError::RateLimited { .. } => ErrorCode::RateLimited,
            ServiceError::TooLarge(_) => ErrorCode::PayloadTooLarge,
            ServiceError::LimitReached(_) => ErrorCode::LimitReached,
            ServiceError::Unavailable(_) => ErrorCode::Unavailable,
            ServiceError::Store(e) if e.is_unavailable() => ErrorCode::Unavailable,
            ServiceError::Store(_) | ServiceError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// A validation error about one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ServiceError::Validation {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// Several fields' problems in one line: `url: …; timeout: …`.
pub fn describe_problems(problems: &[herald_app::model::merchant::FieldError]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<herald_app::model::merchant::FieldError> for ServiceError {
    fn from(e: herald_app::model::merchant::FieldError) -> Self {
        ServiceError::Validation {
            field: e.field,
            message: e.message,
        }
    }
}
