//! Sign-up, log-in, log-out and "who am I".

use crate::model::error::AppError;
use crate::model::merchant::{Merchant, SignUpMode};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::session;

/// The merchant logged in on this request, or `None`.
#[server(prefix = "/_fn", endpoint = "me")]
pub async fn me() -> Result<Option<Merchant>, AppError> {
    session::respond(async move { session::current_merchant().await }.await)
}

/// Whether anyone may sign up here (the sign-up and log-in pages ask).
#[server(prefix = "/_fn", endpoint = "sign_up_mode")]
pub async fn get_sign_up_mode() -> Result<SignUpMode, AppError> {
    session::respond(async move { Ok(session::backend()?.sign_up_mode()) }.await)
}

/// Creates an account and logs it in.
#[server(prefix = "/_fn", endpoint = "sign_up")]
pub async fn sign_up(name: String, email: String, password: String) -> Result<(), AppError> {
    session::respond(
        async move {
            use crate::model::merchant::NewAccount;
            let account = NewAccount {
                name,
                email,
                password,
            }
            .normalized()?;
            let client = session::client_address().await;
            let merchant = session::backend()?.sign_up(account, client).await?;
            session::start(&merchant.id).await?;
            leptos_axum::redirect("/");
            Ok(())
        }
        .await,
    )
}

/// Logs in with an email and password.
#[server(prefix = "/_fn", endpoint = "log_in")]
pub async fn log_in(email: String, password: String) -> Result<(), AppError> {
    session::respond(
        async move {
            let client = session::client_address().await;
            let merchant = session::backend()?
                .log_in(&email, &password, client)
                .await?;
            session::start(&merchant.id).await?;
            leptos_axum::redirect("/");
            Ok(())
        }
        .await,
    )
}

/// Ends the session.
#[server(prefix = "/_fn", endpoint = "log_out")]
pub async fn log_out() -> Result<(), AppError> {
    session::respond(
        async move {
            session::end().await?;
            leptos_axum::redirect("/login");
            Ok(())
        }
        .await,
    )
}
