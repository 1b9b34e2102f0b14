//! Reads of events, for polling and reconciliation: the merchant's list, an
//! event with its deliveries, and search by id, tag or idempotency key.

use super::deliveries::{check_tag_filter, check_type_filter};
use super::pagination::{decode_cursor_as, page, Page};
use super::ServiceError;
use crate::store::{EventFilter, Store};
use chrono::{DateTime, Utc};
use herald_app::model::dashboard::{DeliveryQuery, EventQuery};
use herald_app::model::event::{Event, EventDetail, SearchResults};
use herald_app::model::id::{EventId, MerchantId};
use herald_app::model::merchant::FieldError;
use herald_app::model::scope::Scope;
use std::collections::BTreeSet;

/// The most events, and the most deliveries, one search returns.
pub const SEARCH_LIMIT: u32 = 50;
/// The most deliveries an event's page lists.
const EVENT_DELIVERIES: u32 = 200;
/// The longest search text: ids, tags (128) and idempotency keys (255).
const MAX_QUERY_LEN: usize = 255;

/// What an event list is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct EventSearch {
    pub event_type: Option<String>,
    /// Events carrying this tag.
    pub tag: Option<String>,
    pub idempotency_key: Option<String>,
    pub since: Option<DateTime<Utc>>,
    /// Events created before this.
    pub until: Option<DateTime<Utc>>,
    /// `true`: live events only; `false`: test-mode events only.
    pub live_mode: Option<bool>,
}

impl EventSearch {
    /// The Events page's filters (as in its URL) as a search.
    pub fn from_form(form: &EventQuery, now: DateTime<Utc>) -> Result<Self, FieldError> {
        let (since, until) = form.window(now)?;
        Ok(EventSearch {
            event_type: DeliveryQuery::given(&form.event_type),
            tag: DeliveryQuery::given(&form.tag).map(|tag| tag.trim().to_owned()),
            idempotency_key: None,
            since,
            until,
            live_mode: form.live_mode()?,
        })
    }
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
            event_type: check_type_filter("type", search.event_type.as_deref())?,
            tag: check_tag_filter(search.tag.as_deref())?,
            idempotency_key: search.idempotency_key,
            since: search.since,
            until: search.until,
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

    /// An event `scope` may see, with its deliveries (newest first).
    pub async fn detail(&self, scope: &Scope, id: &EventId) -> Result<EventDetail, ServiceError> {
        let event = self
            .store
            .event_in_scope(scope, id)
            .await?
            .ok_or(ServiceError::NotFound("event"))?;
        let deliveries = self
            .store
            .deliveries_by_id_or_event(
                scope,
                None,
                std::slice::from_ref(&event.id),
                EVENT_DELIVERIES,
            )
            .await?;
        Ok(EventDetail { event, deliveries })
    }

    /// The events and deliveries `scope` may see whose id, tag or
    /// idempotency key is `q` (a delivery by its id, or by its event's). An
    /// operator's results name each merchant in them.
    pub async fn search(&self, scope: &Scope, q: &str) -> Result<SearchResults, ServiceError> {
        let q = q.trim();
        if q.is_empty() || q.len() > MAX_QUERY_LEN {
            return Err(ServiceError::invalid(
                "q",
                format!(
                    "1 to {MAX_QUERY_LEN} characters: an id, a tag (a payment reference) or an idempotency key"
                ),
            ));
        }
        let events = self.store.events_matching(scope, q, SEARCH_LIMIT).await?;
        let ids: Vec<EventId> = events.iter().map(|e| e.id.clone()).collect();
        let deliveries = self
            .store
            .deliveries_by_id_or_event(scope, Some(q), &ids, SEARCH_LIMIT)
            .await?;
        let mut merchant_names = std::collections::BTreeMap::new();
        if *scope == Scope::Operator {
            let merchants: BTreeSet<&MerchantId> = events
                .iter()
                .map(|e| &e.merchant_id)
                .chain(deliveries.iter().map(|d| &d.merchant_id))
                .collect();
            let merchants: Vec<&MerchantId> = merchants.into_iter().collect();
            for (merchant, name) in self.store.merchant_names(&merchants).await? {
                merchant_names.insert(merchant.to_string(), name);
            }
        }
        Ok(SearchResults {
            events,
            deliveries,
            merchant_names,
        })
    }
}
