//! The merchant's events, one event with its deliveries, and search across
//! the merchant's history.

use crate::model::dashboard::{EventPage, EventQuery};
use crate::model::error::AppError;
use crate::model::event::SearchResults;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use super::session;

/// One page of the merchant's events matching the filters, newest first.
#[server(prefix = "/_fn", endpoint = "events/list", input = Json)]
pub async fn list_events(query: EventQuery) -> Result<EventPage, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend.list_events(&merchant.id, query).await
    })
    .await
}

/// One of the merchant's events with its deliveries. (The model is named
/// by its path: this function's own argument type is called `EventDetail`.)
#[server(prefix = "/_fn", endpoint = "events/get")]
pub async fn event_detail(id: String) -> Result<crate::model::event::EventDetail, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend
            .event_detail(&merchant.own_scope(), &session::id(&id)?)
            .await
    })
    .await
}

/// The merchant's events and deliveries whose id, tag or idempotency key
/// is `q`.
#[server(prefix = "/_fn", endpoint = "search")]
pub async fn search(q: String) -> Result<SearchResults, AppError> {
    session::as_merchant(move |backend, merchant| async move {
        backend.search(&merchant.own_scope(), &q).await
    })
    .await
}
