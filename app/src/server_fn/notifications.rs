//! What Herald told the merchant about its endpoints, and which of it is mailed.

use crate::model::alert::{MailPreferences, Notifications};
use crate::model::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use super::session;

/// Where the merchant's mails go, whether any can go, which alerts are
/// mailed, and the alerts told (newest first).
#[server(prefix = "/_fn", endpoint = "notifications/get")]
pub async fn load_notifications() -> Result<Notifications, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend.notifications(&merchant.id).await
    })
    .await
}

/// Sets which alerts are mailed to the merchant; what was saved.
#[server(prefix = "/_fn", endpoint = "notifications/set_mail_preferences", input = Json)]
pub async fn set_mail_preferences(
    preferences: MailPreferences,
) -> Result<MailPreferences, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend
            .set_mail_preferences(&merchant.id, preferences)
            .await
    })
    .await
}
