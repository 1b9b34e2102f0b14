//! A service error as the dashboard shows it. Internal details are logged
//! here and never sent to the browser; the REST API's twin is `http::error`.

use crate::service::ServiceError;
use herald_app::model::error::AppError;

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        let code = e.code();
        match e {
            ServiceError::Validation { field, message } => AppError::field(&field, message),
            ServiceError::InvalidFields(problems) => AppError::fields(problems),
            ServiceError::NotFound(what) => AppError::not_found(what),
            ServiceError::SignUpClosed => AppError::new(code, crate::service::SIGN_UP_CLOSED),
            ServiceError::Conflict(message)
            | ServiceError::Unauthenticated(message)
            | ServiceError::Forbidden(message)
            | ServiceError::TooLarge(message)
            | ServiceError::LimitReached(message) => AppError::new(code, message),
            ServiceError::RateLimited {
                message,
                retry_after,
            } => AppError {
                retry_after_s: Some(retry_after.as_secs()),
                ..AppError::new(code, message)
            },
            ServiceError::Unavailable(_) => unavailable(&e),
            ServiceError::Store(ref store) if store.is_unavailable() => unavailable(&e),
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
}

/// The database cannot be reached: the person can retry shortly.
fn unavailable(cause: &ServiceError) -> AppError {
    tracing::warn!(error = %cause, "dashboard: database unavailable");
    AppError::new(
        herald_app::model::error::ErrorCode::Unavailable,
        "Herald cannot reach its database right now. Try again shortly.",
    )
}
