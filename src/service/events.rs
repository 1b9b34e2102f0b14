//! The merchant's reads of its events, for polling and reconciliation.

use super::pagination::{decode_cursor_as, page, Page};
use super::ServiceError;
use crate::store::{EventFilter, Store};
use chrono::{DateTime, Utc};
use herald_app::model::event::Event;
use herald_app::model::id::{EventId, MerchantId};

/// What an event list is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct EventSearch {
    pub event_type: Option<String>,
    pub since: Option<DateTime<Utc>>,
    /// `true`: live events only; `false`: test-mode events only.
    pub live_mode: Option<bool>,
}

/// The event reads.
#[derive(Clone, Debug)]
pub struct Events {
    store: Store,
}

impl Events {
    /// Event reads over `store`.
    pub fn new(store: Store) -> Self {
        Events { store }
    }

    /// One page of the merchant's events, newest first, after `cursor`.
    pub async fn list(
        &self,
        merchant: &MerchantId,
        search: EventSearch,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Event>, ServiceError> {
        let filter = EventFilter {
            event_type: search.event_type,
            since: search.since,
            live_mode: search.live_mode,
            before: decode_cursor_as(cursor, EventId::parse)?,
            limit,
        };
        let events = self.store.list_events(merchant, &filter).await?;
        Ok(page(events, limit, |e| (e.created_at, e.id.to_string())))
    }

    /// One of the merchant's events.
    pub async fn get(&self, merchant: &MerchantId, id: &EventId) -> Result<Event, ServiceError> {
        self.store
            .event(merchant, id)
            .await?
            .ok_or(ServiceError::NotFound("event"))
    }
}
