//! Sign-up, log-in, log-out and "who am I".

use crate::model::error::AppError;
use crate::model::member::Account;
use crate::model::merchant::{Merchant, SignUpMode};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::session;

/// The merchant logged in on this request, or `None`.
#[server(prefix = "/_fn", endpoint = "me")]
pub async fn me() -> Result<Option<Merchant>, AppError> {
    session::respond(async move { session::current_merchant().await }.await)
}

/// The merchant and member logged in on this request (the member's role
/// decides which buttons the pages show), or `None`.
#[server(prefix = "/_fn", endpoint = "whoami")]
pub async fn whoami() -> Result<Option<Account>, AppError> {
    session::respond(async move { session::current_account().await }.await)
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
            let account = session::backend()?.sign_up(account, client).await?;
            session::start(&account).await?;
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
            let account = session::backend()?
                .log_in(&email, &password, client)
                .await?;
            session::start(&account).await?;
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

/// Whether a forgotten password can be reset by mail here (SMTP configured).
#[server(prefix = "/_fn", endpoint = "password_reset_by_mail")]
pub async fn password_reset_by_mail() -> Result<bool, AppError> {
    session::respond(async move { Ok(session::backend()?.password_reset_by_mail()) }.await)
}

/// Changes the logged-in account's password. Its other sessions end; this
/// one goes on under a new id.
#[server(prefix = "/_fn", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    session::respond(
        async move {
            let account = session::current_account()
                .await?
                .ok_or_else(AppError::unauthenticated)?;
            let client = session::client_address().await;
            session::backend()?
                .change_password(&account.member.id, &current_password, &new_password, client)
                .await?;
            // Begun after the change, so the change does not end it.
            session::start(&account).await
        }
        .await,
    )
}

/// Mails a reset link to the account with this email, if there is one.
#[server(prefix = "/_fn", endpoint = "request_password_reset")]
pub async fn request_password_reset(email: String) -> Result<(), AppError> {
    session::respond(
        async move {
            let client = session::client_address().await;
            session::backend()?
                .request_password_reset(&email, client)
                .await
        }
        .await,
    )
}

/// Sets a new password with a mailed reset link's token, then goes to the
/// log-in page (every session of the account has ended).
#[server(prefix = "/_fn", endpoint = "reset_password")]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    session::respond(
        async move {
            session::backend()?
                .reset_password(&token, &password)
                .await?;
            leptos_axum::redirect("/login?reset=done");
            Ok(())
        }
        .await,
    )
}
