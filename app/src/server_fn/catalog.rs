//! The event-type catalog.

use crate::model::error::AppError;
use crate::model::event_type::EventType;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::session;

/// Every event type, for a logged-in merchant.
#[server(prefix = "/_fn", endpoint = "event_types/list")]
pub async fn list_event_types() -> Result<Vec<EventType>, AppError> {
    session::as_merchant(move |backend, _| async move { backend.list_event_types().await }).await
}
