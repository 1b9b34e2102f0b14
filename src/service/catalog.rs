//! The event-type catalog, seeded at start-up from the providers' docs in
//! `shared/seeds/` (distilled into `event_catalog.json`).

use super::ServiceError;
use crate::store::{EventTypeSeed, Store};
use chrono::Utc;

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

#[cfg(test)]
mod tests {
    use super::*;
    use herald_app::model::event_type::{category_of, is_valid_event_type_name};
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
            "payin.succeeded",
            "payin.failed",
            "payout.failed",
            "refund.completed",
        ] {
            assert!(names.contains(expected), "missing {expected}");
        }
    }
}
