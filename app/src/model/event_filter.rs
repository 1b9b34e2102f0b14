//! Which event types an endpoint receives: exact names and `prefix.*`
//! wildcards; an empty filter means every type of the platform's (Herald's
//! own `herald.*` types go only where they are named).

use super::alert::is_herald_type;
use super::event_type::is_valid_event_type_name;

/// Whether an endpoint with `filter` should receive an event of `event_type`.
/// An endpoint that takes everything was set up for the platform's events:
/// Herald's own reach only endpoints that ask for them, so a receiver
/// written for the platform never meets a type it does not know.
pub fn filter_matches(filter: &[String], event_type: &str) -> bool {
    (filter.is_empty() && !is_herald_type(event_type))
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
        assert!(
            !filter_matches(&[], "herald.endpoint.failing"),
            "asked for only"
        );
        assert!(filter_matches(&f(&["herald.*"]), "herald.endpoint.failing"));
        assert!(filter_matches(
            &f(&["herald.endpoint.*"]),
            "herald.endpoint.disabled"
        ));
        assert!(!filter_matches(
            &f(&["herald.endpoint.*"]),
            "herald.delivery.failed"
        ));
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

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// A valid type name: 1 to 4 lowercase words joined by dots.
        fn type_name() -> impl Strategy<Value = Vec<String>> {
            proptest::collection::vec("[a-z][a-z0-9_]{0,6}", 1..=4)
        }

        proptest! {
            #[test]
            fn an_empty_filter_matches_everything(words in type_name()) {
                prop_assert!(filter_matches(&[], &words.join(".")));
            }

            #[test]
            fn a_name_matches_itself_and_each_of_its_word_prefixes(words in type_name()) {
                let name = words.join(".");
                prop_assert!(pattern_matches(&name, &name));
                for cut in 1..words.len() {
                    let pattern = format!("{}.*", words[..cut].join("."));
                    prop_assert!(is_valid_pattern(&pattern), "{}", pattern);
                    prop_assert!(pattern_matches(&pattern, &name), "{} vs {}", pattern, name);
                }
                // A wildcard needs at least one more word: `a.b.*` never matches `a.b`.
                let itself = format!("{name}.*");
                prop_assert!(!pattern_matches(&itself, &name));
            }

            #[test]
            fn a_wildcard_matches_only_at_a_word_boundary(
                words in type_name(),
                extra in "[a-z0-9_]{1,4}",
            ) {
                let name = words.join(".");
                // `payin.*` must not match `payinx.…`: the prefix grew inside a word.
                let longer = format!("{}{extra}.tail", words[0]);
                let first_word = format!("{}.*", words[0]);
                prop_assert!(!pattern_matches(&first_word, &longer));
                // And a pattern that is not a prefix of the words never matches.
                let other = format!("{}{extra}.*", words[0]);
                prop_assert!(!pattern_matches(&other, &name));
            }

            #[test]
            fn a_filter_matches_when_any_of_its_patterns_does(
                patterns in proptest::collection::vec(
                    prop_oneof![
                        type_name().prop_map(|w| w.join(".")),
                        type_name().prop_map(|w| format!("{}.*", w.join("."))),
                    ],
                    1..5,
                ),
                words in type_name(),
            ) {
                let name = words.join(".");
                let any = patterns.iter().any(|p| pattern_matches(p, &name));
                prop_assert_eq!(filter_matches(&patterns, &name), any);
                let mut reversed = patterns.clone();
                reversed.reverse();
                prop_assert_eq!(filter_matches(&reversed, &name), any, "order does not matter");
            }
        }
    }
}
