//! A service error as the dashboard shows it. Internal details are logged
//! here and never sent to the browser; the REST API's twin is `http::error`.

use crate::service::ServiceError;
use herald_app::model::error::{AppError, ErrorCode};

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Validation { field, message } => AppError::field(&field, message),
            ServiceError::Conflict(message) => AppError::new(ErrorCode::Conflict, message),
            ServiceError::NotFound(what) => AppError::not_found(what),
            ServiceError::Unauthenticated(message) => {
                AppError::new(ErrorCode::Unauthenticated, message)
            }
            e @ ServiceError::Throttled { .. } => {
                AppError::new(ErrorCode::RateLimited, e.to_string())
            }
            ServiceError::TooLarge(message) => AppError::new(ErrorCode::PayloadTooLarge, message),
            ServiceError::Unavailable(message) => {
                tracing::warn!(error = %message, "dashboard: database unavailable");
                AppError::new(
                    ErrorCode::Unavailable,
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
}
