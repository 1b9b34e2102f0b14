//! The error a dashboard server function returns: a code, a message a person
//! can act on, and the form field it is about when there is one.

use leptos::prelude::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::codec::JsonEncoding;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What went wrong, as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError {
    /// Stable snake_case code, the same vocabulary as the REST API's errors.
    pub code: String,
    pub message: String,
    /// The form field the message belongs next to.
    pub field: Option<String>,
}

impl AppError {
    /// An error with a code and a message.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
            field: None,
        }
    }

    /// A validation error about one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self {
            code: "validation_failed".into(),
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// Not logged in (or the session expired).
    pub fn unauthenticated() -> Self {
        Self::new("unauthenticated", "Your session has ended. Log in again.")
    }

    /// Logged in, but this account may not do that.
    pub fn forbidden() -> Self {
        Self::new("forbidden", "This page is for operators only.")
    }

    /// Something failed on the server; details are in the server log, not here.
    pub fn internal() -> Self {
        Self::new(
            "internal",
            "Something went wrong on our side. Try again in a moment.",
        )
    }

    /// The message if it belongs to `field`.
    pub fn for_field(&self, field: &str) -> Option<String> {
        (self.field.as_deref() == Some(field)).then(|| self.message.clone())
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

impl From<super::merchant::FieldError> for AppError {
    fn from(e: super::merchant::FieldError) -> Self {
        AppError::field(&e.field, e.message)
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The request never reached us or its answer never came back.
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => AppError::new(
                "network",
                "Herald could not be reached. Check your connection and try again.",
            ),
            other => AppError::new("request", other.to_string()),
        }
    }
}
