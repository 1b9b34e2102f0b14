//! The one place errors become HTTP: `ApiError` → status code and the JSON
//! body of API.md, `{"error":{"code","message"}}`. Internal details are
//! logged here once and never sent.

use crate::service::{describe_problems, ServiceError};
use crate::store::StoreError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use herald_app::model::error::ErrorCode;
use herald_app::model::merchant::FieldError;
use serde::Serialize;
use std::time::Duration;

/// An API failure with its status and stable code.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    /// Sent as `Retry-After` (429s).
    pub retry_after: Option<Duration>,
    /// A validation failure's fields, each with its problem (sent as
    /// `fields` beside the message, which names them all too).
    pub fields: Vec<FieldError>,
}

impl ApiError {
    /// An error with the code's status and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::from_u16(code.http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code,
            message: message.into(),
            retry_after: None,
            fields: Vec::new(),
        }
    }

    /// 404 for anything absent or not the caller's.
    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    /// 401: no credentials, or wrong ones.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, message)
    }

    /// 403: authenticated, but not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    /// 503: the database is unreachable; the caller should retry.
    pub fn unavailable() -> Self {
        Self::new(
            ErrorCode::Unavailable,
            "Herald cannot reach its database right now; retry shortly.",
        )
    }

    /// 500, with the cause logged and not sent.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(ErrorCode::Internal, "Internal server error.")
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: ErrorCode,
    message: &'a str,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    fields: &'a [FieldError],
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Inner {
                code: self.code,
                message: &self.message,
                fields: &self.fields,
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(wait) = self.retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(wait.as_secs()));
        }
        response
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let code = e.code();
        match e {
            ServiceError::Validation { field, message } => {
                let problem = FieldError { field, message };
                ApiError {
                    fields: vec![problem.clone()],
                    ..ApiError::new(code, problem.to_string())
                }
            }
            ServiceError::InvalidFields(problems) => ApiError {
                fields: problems.clone(),
                ..ApiError::new(code, describe_problems(&problems))
            },
            ServiceError::NotFound(what) => ApiError::not_found(what),
            ServiceError::SignUpClosed => ApiError::new(code, crate::service::SIGN_UP_CLOSED),
            ServiceError::Conflict(message)
            | ServiceError::Unauthenticated(message)
            | ServiceError::Forbidden(message)
            | ServiceError::TooLarge(message)
            | ServiceError::LimitReached(message) => ApiError::new(code, message),
            ServiceError::RateLimited {
                message,
                retry_after,
            } => ApiError {
                retry_after: Some(retry_after),
                ..ApiError::new(code, message)
            },
            ServiceError::Unavailable(message) => {
                tracing::warn!(error = %message, "database unavailable");
                ApiError::unavailable()
            }
            ServiceError::Store(e) => e.into(),
            ServiceError::Internal(message) => ApiError::internal(&message),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "database unavailable");
            ApiError::unavailable()
        } else {
            ApiError::internal(&e)
        }
    }
}

/// `Json` whose rejections (bad JSON, wrong types, missing fields, too large)
/// use the API's error body instead of axum's plain text.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
            StatusCode::UNPROCESSABLE_ENTITY => ErrorCode::ValidationFailed,
            _ => ErrorCode::BadRequest,
        };
        ApiError {
            status,
            ..ApiError::new(code, rejection.body_text())
        }
    }
}

/// `Query` whose rejections (a value of the wrong type, an unknown
/// parameter, a time that is not RFC 3339) use the API's error body
/// instead of axum's plain text.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        // axum's text names the parameter and what was wrong with it
        // ("Failed to deserialize query string: limit: invalid digit …").
        ApiError::new(ErrorCode::BadRequest, rejection.body_text())
    }
}

/// `Path` whose rejections (a segment that is not UTF-8, or not the type
/// asked for) use the API's error body. Ids use `api::id_path::IdPath`.
#[derive(Debug, Clone, Default, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::new(ErrorCode::BadRequest, rejection.body_text())
    }
}
