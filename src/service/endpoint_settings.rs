//! The rules for an endpoint's settings, each a pure function from what the
//! merchant sent to what is stored, or the field and why not. The checks
//! that need the database (the event-type catalog, the URL's address) stay in
//! `Endpoints`.

use super::ServiceError;
use crate::engine::retry::RetrySchedule;
use crate::engine::RESERVED_HEADERS;
use crate::store::EndpointSettings;
use herald_app::model::endpoint::SignatureScheme;
use std::collections::BTreeMap;
use std::time::Duration;

const MAX_DESCRIPTION: usize = 500;
const MAX_HEADERS: usize = 20;
const MAX_HEADER_VALUE: usize = 1024;
/// The highest per-endpoint rate limit accepted (requests per second).
pub const MAX_RATE_LIMIT: u32 = 10_000;

/// Headers that describe a connection rather than a request: a proxy or the
/// client manages them, so a merchant may not set them.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
];

/// The legacy body signature is an HMAC with the shared secret, so it only
/// goes with the HMAC scheme: an Ed25519 endpoint has no secret to share.
pub(super) fn check_signature_options(settings: &EndpointSettings) -> Result<(), ServiceError> {
    if settings.legacy_signature && settings.signature_scheme == SignatureScheme::Ed25519 {
        return Err(ServiceError::invalid(
            "legacy_signature",
            "needs signature_scheme `hmac`: the legacy header is an HMAC with the shared secret",
        ));
    }
    Ok(())
}

pub(super) fn check_description(description: String) -> Result<String, ServiceError> {
    let description = description.trim().to_owned();
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(ServiceError::invalid(
            "description",
            format!("at most {MAX_DESCRIPTION} characters"),
        ));
    }
    Ok(description)
}

/// The longest wait of one step of an endpoint's own schedule.
const MAX_ENDPOINT_STEP: Duration = Duration::from_secs(24 * 3600);
/// The longest an endpoint's own schedule may keep retrying, in all.
const MAX_ENDPOINT_SCHEDULE: Duration = Duration::from_secs(3 * 24 * 3600);

/// An endpoint's own retry schedule: 1 to 20 waits (the first `0s`, the
/// first attempt), each at most a day, at most 3 days in all. Returned canonical
/// (`90s` becomes `1m30s`).
pub(super) fn check_retry_schedule(steps: &[String]) -> Result<Vec<String>, ServiceError> {
    let invalid = |message: String| ServiceError::invalid("retry_schedule", message);
    let schedule: RetrySchedule = steps
        .join(",")
        .parse()
        .map_err(|e: crate::engine::retry::ScheduleError| invalid(e.to_string()))?;
    if schedule
        .steps()
        .iter()
        .any(|step| *step > MAX_ENDPOINT_STEP)
    {
        return Err(invalid("each wait must be at most 24h".into()));
    }
    if schedule.total() > MAX_ENDPOINT_SCHEDULE {
        return Err(invalid("the waits must add up to at most 3 days".into()));
    }
    Ok(schedule.to_string().split(',').map(str::to_owned).collect())
}

pub(super) fn check_rate_limit(limit: Option<u32>) -> Result<Option<u32>, ServiceError> {
    match limit {
        Some(0) => Err(ServiceError::invalid(
            "rate_limit_per_s",
            "must be at least 1 (or null for no limit)",
        )),
        Some(n) if n > MAX_RATE_LIMIT => Err(ServiceError::invalid(
            "rate_limit_per_s",
            format!("must be at most {MAX_RATE_LIMIT}"),
        )),
        other => Ok(other),
    }
}

/// Custom headers: valid names, no CR/LF in values, nothing Herald sets
/// itself, nothing hop-by-hop.
pub(super) fn check_headers(
    headers: BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ServiceError> {
    if headers.len() > MAX_HEADERS {
        return Err(ServiceError::invalid(
            "headers",
            format!("at most {MAX_HEADERS} headers"),
        ));
    }
    let mut checked = BTreeMap::new();
    for (name, value) in headers {
        let lower = name.trim().to_ascii_lowercase();
        let token = !lower.is_empty()
            && lower.len() <= 100
            && lower
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token {
            return Err(ServiceError::invalid(
                "headers",
                format!("`{name}` is not a valid header name"),
            ));
        }
        if RESERVED_HEADERS.contains(&lower.as_str())
            || HOP_BY_HOP.contains(&lower.as_str())
            || lower.starts_with("webhook-")
        {
            return Err(ServiceError::invalid(
                "headers",
                format!("`{name}` is set by Herald or the connection and cannot be overridden"),
            ));
        }
        if value.contains('\r') || value.contains('\n') || value.contains('\0') {
            return Err(ServiceError::invalid(
                "headers",
                format!("the value of `{name}` contains a line break"),
            ));
        }
        if value.len() > MAX_HEADER_VALUE {
            return Err(ServiceError::invalid(
                "headers",
                format!("the value of `{name}` is longer than {MAX_HEADER_VALUE} bytes"),
            ));
        }
        if checked.insert(lower.clone(), value).is_some() {
            return Err(ServiceError::invalid(
                "headers",
                format!("`{name}` is given twice"),
            ));
        }
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn header_rules() {
        assert!(check_headers(headers(&[
            ("X-Merchant", "abc"),
            ("Authorization", "Basic eA==")
        ]))
        .is_ok());
        for bad in [
            headers(&[("Connection", "close")]),
            headers(&[("Transfer-Encoding", "chunked")]),
            headers(&[("webhook-signature", "v1,forged")]),
            headers(&[("Content-Type", "text/plain")]),
            headers(&[("X-Evil", "a\r\nInjected: yes")]),
            headers(&[("Bad Name", "x")]),
            headers(&[("X-Dup", "1"), ("x-dup", "2")]),
        ] {
            assert!(check_headers(bad.clone()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rate_limit_rules() {
        assert_eq!(check_rate_limit(None).unwrap(), None);
        assert_eq!(check_rate_limit(Some(5)).unwrap(), Some(5));
        assert!(check_rate_limit(Some(0)).is_err());
        assert!(check_rate_limit(Some(MAX_RATE_LIMIT + 1)).is_err());
    }
}
