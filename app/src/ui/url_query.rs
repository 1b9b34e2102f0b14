//! Filters as they travel in a page's URL: read back from the query, and
//! written out as a query string, so a filtered view can be shared and
//! survives a reload.

use leptos_router::params::ParamsMap;

/// A query parameter's value; an empty one is no filter, like an absent one.
pub fn param(params: &ParamsMap, key: &str) -> Option<String> {
    params.get(key).filter(|v| !v.is_empty())
}

/// The URL query for these parameters (`?status=failed&…`), leaving out
/// the absent and empty ones; empty when none is left.
pub fn encode_query(pairs: &[(&str, &Option<String>)]) -> String {
    let pairs: Vec<String> = pairs
        .iter()
        .filter_map(|&(key, value)| {
            value
                .as_ref()
                .filter(|v| !v.is_empty())
                .map(|v| format!("{key}={}", encode(v)))
        })
        .collect();
    if pairs.is_empty() {
        String::new()
    } else {
        format!("?{}", pairs.join("&"))
    }
}

/// `url` ready to take one more parameter's value at its end: `url` plus
/// `?key=` or `&key=` (a tag link adds the tag to a list's other filters).
pub fn ending_with_param(url: &str, key: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{key}=")
}

/// A value percent-encoded for a URL query.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_filters_leave_no_trace() {
        let (status, blank, none) = (Some("failed".to_owned()), Some(String::new()), None);
        assert_eq!(
            encode_query(&[("status", &status), ("tag", &blank), ("since", &none)]),
            "?status=failed"
        );
        assert_eq!(encode_query(&[("tag", &blank)]), "");
    }

    #[test]
    fn values_are_encoded_and_params_appended() {
        let tag = Some("customer:cus 9/x".to_owned());
        assert_eq!(
            encode_query(&[("tag", &tag)]),
            "?tag=customer%3Acus%209%2Fx"
        );
        assert_eq!(ending_with_param("/events", "tag"), "/events?tag=");
        assert_eq!(
            ending_with_param("/events?mode=test", "tag"),
            "/events?mode=test&tag="
        );
    }
}
