//! The event-type catalog: what the platform may send and merchants may subscribe to.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One entry of the catalog, e.g. `payin.succeeded`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EventType {
    pub name: String,
    pub category: String,
    pub description: String,
    /// The `data` object a typical event of this type carries; test events send it.
    pub example: serde_json::Value,
    /// Archived types cannot be subscribed to or ingested; existing data stays.
    pub archived: bool,
    pub updated_at: DateTime<Utc>,
}

/// Checks an event-type name: lowercase dotted words, e.g. `payout.failed`.
pub fn is_valid_event_type_name(name: &str) -> bool {
    let mut parts = 0;
    for part in name.split('.') {
        parts += 1;
        let mut chars = part.chars();
        let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
        if !starts_with_letter
            || !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return false;
        }
    }
    parts >= 2 && name.len() <= 100
}

/// The category of a type name: the part before the first dot.
pub fn category_of(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_valid_event_type_name("payin.succeeded"));
        assert!(is_valid_event_type_name("kyc.document.rejected"));
        assert!(is_valid_event_type_name("payout.status_2"));
        for bad in [
            "payin",
            "Payin.Succeeded",
            "payin.",
            ".x",
            "payin.*",
            "a..b",
            "1a.b",
            "",
        ] {
            assert!(!is_valid_event_type_name(bad), "{bad}");
        }
        assert_eq!(category_of("refund.completed"), "refund");
    }
}
