//! The error a dashboard server function returns: a code, a message a person
//! can act on, and the form field it is about when there is one.

use super::merchant::FieldError;
use leptos::prelude::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::codec::JsonEncoding;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Every error code Herald answers with, in the REST API's error body and
/// the dashboard's errors alike: one closed list, one HTTP status each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Malformed request (JSON that does not parse, a missing body).
    BadRequest,
    /// No credentials, or wrong ones.
    Unauthenticated,
    /// Authenticated, but not allowed.
    Forbidden,
    /// Sign-up is closed on this Herald (`HERALD_SIGNUP=closed`).
    SignUpClosed,
    /// Absent, or someone else's (never told apart).
    NotFound,
    /// The route exists but does not take this method.
    MethodNotAllowed,
    /// Conflicts with what exists.
    Conflict,
    /// Over a size limit.
    PayloadTooLarge,
    /// A body that is not JSON.
    UnsupportedMediaType,
    /// A field breaks a rule; the message names it.
    ValidationFailed,
    /// A quota is used up (the most endpoints, say); the message names the
    /// setting that raises it.
    LimitReached,
    /// Too many attempts; try again later.
    RateLimited,
    /// Something failed on the server; details are logged, not sent.
    Internal,
    /// The database cannot be reached; retry shortly.
    Unavailable,
    /// The browser could not reach the server (set on the client only).
    Network,
    /// The server function call itself failed (set on the client only).
    Request,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::SignUpClosed => "sign_up_closed",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::ValidationFailed => "validation_failed",
            ErrorCode::LimitReached => "limit_reached",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Network => "network",
            ErrorCode::Request => "request",
        }
    }

    /// The HTTP status that goes with the code.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest | ErrorCode::Request => 400,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden | ErrorCode::SignUpClosed => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::ValidationFailed | ErrorCode::LimitReached => 422,
            ErrorCode::RateLimited => 429,
            ErrorCode::Internal | ErrorCode::Network => 500,
            ErrorCode::Unavailable => 503,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// What went wrong, as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError {
    /// The same vocabulary as the REST API's errors.
    pub code: ErrorCode,
    pub message: String,
    /// The form field the message belongs next to (the first, when several
    /// are wrong).
    pub field: Option<String>,
    /// Every field that is wrong, when several are: each shows its own
    /// message, and `message` says how many.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    /// For `rate_limited`: seconds until trying again is allowed (sent as
    /// `Retry-After` too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
}

impl AppError {
    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: plain_words(message.into()),
            field: None,
            fields: Vec::new(),
            retry_after_s: None,
        }
    }

    /// A validation error about one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::ValidationFailed,
            message: plain_words(message.into()),
            field: Some(field.into()),
            fields: Vec::new(),
            retry_after_s: None,
        }
    }

    /// Validation errors about several fields, all shown at once.
    pub fn fields(problems: Vec<FieldError>) -> Self {
        let problems: Vec<FieldError> = problems
            .into_iter()
            .map(|p| FieldError::new(&p.field, plain_words(p.message)))
            .collect();
        Self {
            code: ErrorCode::ValidationFailed,
            message: format!(
                "{} fields need changing; each says why below.",
                problems.len()
            ),
            field: problems.first().map(|p| p.field.clone()),
            fields: problems,
            retry_after_s: None,
        }
    }

    /// Whether the message is for the whole form (no field, or a summary
    /// of several fields' problems).
    pub fn is_for_form(&self) -> bool {
        self.field.is_none() || self.fields.len() > 1
    }

    /// Not logged in (or the session expired).
    pub fn unauthenticated() -> Self {
        Self::new(
            ErrorCode::Unauthenticated,
            "Your session has ended. Log in again.",
        )
    }

    /// Logged in, but this account may not do that.
    pub fn forbidden() -> Self {
        Self::new(ErrorCode::Forbidden, "This page is for operators only.")
    }

    /// Something failed on the server; details are in the server log, not here.
    pub fn internal() -> Self {
        Self::new(
            ErrorCode::Internal,
            "Something went wrong on our side. Try again in a moment.",
        )
    }

    /// Absent, or not the caller's.
    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    /// The message if it belongs to `field`.
    pub fn for_field(&self, field: &str) -> Option<String> {
        if !self.fields.is_empty() {
            return self
                .fields
                .iter()
                .find(|p| p.field == field)
                .map(|p| p.message.clone());
        }
        (self.field.as_deref() == Some(field)).then(|| self.message.clone())
    }
}

/// A message as a person reads it: the code-style quotes the API's messages
/// use (`hmac`) become typographic ones (“hmac”).
pub fn plain_words(message: String) -> String {
    if !message.contains('`') {
        return message;
    }
    let mut open = false;
    message
        .chars()
        .map(|c| match c {
            '`' => {
                open = !open;
                if open {
                    '“'
                } else {
                    '”'
                }
            }
            other => other,
        })
        .collect()
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::field(&e.field, e.message)
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The request never reached us or its answer never came back.
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => AppError::new(
                ErrorCode::Network,
                "Herald could not be reached. Check your connection and try again.",
            ),
            other => {
                // On the server, arguments that do not decode are the
                // caller's mistake: 400, not server_fn's default 500.
                #[cfg(feature = "ssr")]
                if matches!(
                    other,
                    ServerFnErrorErr::Args(_)
                        | ServerFnErrorErr::MissingArg(_)
                        | ServerFnErrorErr::Deserialization(_)
                ) {
                    if let Some(response) =
                        leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
                    {
                        response.set_status(http::StatusCode::BAD_REQUEST);
                    }
                }
                AppError::new(ErrorCode::Request, other.to_string())
            }
        }
    }
}
