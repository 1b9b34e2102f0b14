//! Which event types an endpoint receives: exact names and `prefix.*`
//! wildcards; an empty filter means every type.

use super::event_type::is_valid_event_type_name;

/// Whether an endpoint with `filter` should receive an event of `event_type`.
pub fn filter_matches(filter: &[String], event_type: &str) -> bool {
    filter.is_empty()
        || filter
            .iter()
            .any(|pattern| pattern_matches(pattern, event_type))
}

/// Whether one pattern matches a type name. `payin.*` matches `payin.succeeded`
/// and `payin.refund.created` but not `payin` itself nor `payinx.succeeded`.
pub fn pattern_matches(pattern: &str, event_type: &str) -> bool {
    match pattern.strip_suffix(".*") {
        Some(prefix) => event_type
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('.') && rest.len() > 1),
        None => pattern == event_type,
    }
}

/// Whether a pattern is well formed: a type name, or a dotted prefix + `.*`.
pub fn is_valid_pattern(pattern: &str) -> bool {
    match pattern.strip_suffix(".*") {
        Some(prefix) => {
            // The prefix is a name's leading words: validate it as if it had one more word.
            is_valid_event_type_name(&format!("{prefix}.x"))
        }
        None => is_valid_event_type_name(pattern),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(patterns: &[&str]) -> Vec<String> {
        patterns.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn matching() {
        assert!(filter_matches(&[], "anything.at_all"));
        assert!(filter_matches(&f(&["payin.*"]), "payin.succeeded"));
        assert!(filter_matches(&f(&["payin.*"]), "payin.refund.created"));
        assert!(!filter_matches(&f(&["payin.*"]), "payout.failed"));
        assert!(!filter_matches(&f(&["payin.*"]), "payinx.succeeded"));
        assert!(!filter_matches(&f(&["payin.*"]), "payin"));
        assert!(filter_matches(
            &f(&["payout.failed", "refund.*"]),
            "refund.completed"
        ));
        assert!(filter_matches(&f(&["payout.failed"]), "payout.failed"));
        assert!(!filter_matches(
            &f(&["payout.failed"]),
            "payout.failed.extra"
        ));
        assert!(filter_matches(
            &f(&["kyc.document.*"]),
            "kyc.document.rejected"
        ));
        assert!(!filter_matches(&f(&["kyc.document.*"]), "kyc.rejected"));
    }

    #[test]
    fn patterns() {
        for ok in ["payin.*", "payin.succeeded", "kyc.document.*"] {
            assert!(is_valid_pattern(ok), "{ok}");
        }
        for bad in [
            "*",
            ".*",
            "payin.",
            "payin*",
            "Payin.*",
            "payin.*.x",
            "pay in.*",
            "payin.**",
        ] {
            assert!(!is_valid_pattern(bad), "{bad}");
        }
    }
}
