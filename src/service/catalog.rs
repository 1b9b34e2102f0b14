//! The event-type catalog, seeded at start-up from the providers' docs in
//! `shared/seeds/` (distilled into `event_catalog.json`).

use super::ServiceError;
use crate::store::{EventTypeSeed, Store};
use chrono::Utc;
use herald_app::model::alert::is_herald_type;
use herald_app::model::event_filter::filter_matches;
use herald_app::model::event_type::{category_of, is_valid_event_type_name, EventType};
use herald_app::model::member::Permission;

const SEED: &str = include_str!("event_catalog.json");

/// The catalog entries Herald ships with.
pub fn seed_entries() -> Result<Vec<EventTypeSeed>, ServiceError> {
    serde_json::from_str(SEED)
        .map_err(|e| ServiceError::Internal(format!("event_catalog.json: {e}")))
}

/// Adds the shipped types missing from the catalog; returns how many were added.
pub async fn seed_catalog(store: &Store) -> Result<u64, ServiceError> {
    Ok(store.seed_event_types(&seed_entries()?, Utc::now()).await?)
}

/// The event-type catalog operations.
#[derive(Clone, Debug)]
pub struct Catalog {
    store: Store,
}

impl Catalog {
    /// Catalog operations over `store`.
    pub fn new(store: Store) -> Self {
        Catalog { store }
    }

    /// Every type, archived ones last.
    pub async fn list(&self) -> Result<Vec<EventType>, ServiceError> {
        Ok(self.store.list_event_types().await?)
    }

    /// Adds a type (operators).
    pub async fn create(&self, entry: NewEventType) -> Result<EventType, ServiceError> {
        super::access::require(Permission::Change)?;
        create_event_type(&self.store, entry).await
    }

    /// Changes a type's description, example or archived flag (operators).
    pub async fn update(
        &self,
        name: &str,
        change: EventTypeChange,
    ) -> Result<EventType, ServiceError> {
        super::access::require(Permission::Change)?;
        update_event_type(&self.store, name, change).await
    }

    /// How many endpoints receive events of the type now: by its name, a
    /// `prefix.*` pattern, or taking every type (`not_found` if there is
    /// no such type). What archiving it would stop.
    pub async fn receivers(&self, name: &str) -> Result<u64, ServiceError> {
        find(&self.store, name).await?;
        let filters = self.store.endpoint_event_filters().await?;
        Ok(filters
            .iter()
            .filter(|filter| filter_matches(filter, name))
            .count() as u64)
    }
}

/// An operator's new catalog entry.
#[derive(Debug, Clone)]
pub struct NewEventType {
    pub name: String,
    pub description: String,
    /// The example payload test events send; `{}` when absent.
    pub example: Option<serde_json::Value>,
}

/// An operator's change to an entry: `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct EventTypeChange {
    pub description: Option<String>,
    pub example: Option<serde_json::Value>,
    /// Archived types cannot be subscribed to or ingested; what exists stays.
    pub archived: Option<bool>,
}

const MAX_DESCRIPTION: usize = 500;

fn check_description(description: &str) -> Result<String, ServiceError> {
    let description = description.trim();
    if description.is_empty() || description.chars().count() > MAX_DESCRIPTION {
        return Err(ServiceError::invalid(
            "description",
            format!("1 to {MAX_DESCRIPTION} characters"),
        ));
    }
    Ok(description.to_owned())
}

fn check_example(example: &serde_json::Value) -> Result<(), ServiceError> {
    if example.is_object() {
        Ok(())
    } else {
        Err(ServiceError::invalid("example", "must be a JSON object"))
    }
}

/// One entry of the catalog by name.
async fn find(store: &Store, name: &str) -> Result<EventType, ServiceError> {
    store
        .list_event_types()
        .await?
        .into_iter()
        .find(|t| t.name == name)
        .ok_or(ServiceError::NotFound("event type"))
}

/// Adds a type to the catalog.
async fn create_event_type(store: &Store, new: NewEventType) -> Result<EventType, ServiceError> {
    let name = new.name.trim().to_owned();
    if !is_valid_event_type_name(&name) {
        return Err(ServiceError::invalid(
            "name",
            "lowercase words joined by dots, such as payout.reversed",
        ));
    }
    if is_herald_type(&name) {
        return Err(ServiceError::invalid(
            "name",
            "the `herald` category is Herald's own operational events; choose another first word",
        ));
    }
    let example = new.example.unwrap_or_else(|| serde_json::json!({}));
    check_example(&example)?;
    let entry = EventTypeSeed {
        category: category_of(&name).to_owned(),
        description: check_description(&new.description)?,
        example,
        name,
    };
    if !store.insert_event_type(&entry, Utc::now()).await? {
        return Err(ServiceError::Conflict(format!(
            "the event type `{}` already exists",
            entry.name
        )));
    }
    find(store, &entry.name).await
}

/// Changes a type's description, example or archived state.
async fn update_event_type(
    store: &Store,
    name: &str,
    change: EventTypeChange,
) -> Result<EventType, ServiceError> {
    let description = change
        .description
        .as_deref()
        .map(check_description)
        .transpose()?;
    if let Some(example) = &change.example {
        check_example(example)?;
    }
    let now = Utc::now();
    if !store
        .update_event_type(name, description.as_deref(), change.example.as_ref(), now)
        .await?
    {
        return Err(ServiceError::NotFound("event type"));
    }
    if let Some(archived) = change.archived {
        store.set_event_type_archived(name, archived, now).await?;
    }
    find(store, name).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn shipped_catalog_is_well_formed() {
        let entries = seed_entries().unwrap();
        assert!(entries.len() >= 20, "only {} types", entries.len());
        let mut names = HashSet::new();
        for e in &entries {
            assert!(is_valid_event_type_name(&e.name), "{}", e.name);
            assert_eq!(category_of(&e.name), e.category, "{}", e.name);
            assert!(e.example.is_object(), "{} example", e.name);
            assert!(!e.description.trim().is_empty(), "{} description", e.name);
            assert!(names.insert(e.name.clone()), "duplicate {}", e.name);
        }
        for expected in [
            "herald.endpoint.failing",
            "herald.endpoint.disabled",
            "herald.endpoint.recovered",
            "herald.delivery.failed",
            "payin.succeeded",
            "payin.failed",
            "payout.failed",
            "refund.completed",
        ] {
            assert!(names.contains(expected), "missing {expected}");
        }
    }
}
