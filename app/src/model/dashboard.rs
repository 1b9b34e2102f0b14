//! What the dashboard pages ask for and get, beyond the core models.

use super::delivery::DeliveryStatus;
use super::duration::parse_duration;
use super::endpoint::{Endpoint, EndpointMode, Missed, SignatureScheme};
use super::event::Delivery;
use super::merchant::FieldError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a merchant fills in to create or change an endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EndpointInput {
    pub url: String,
    pub description: String,
    /// Exact names and `prefix.*` wildcards; empty means every type.
    pub event_types: Vec<String>,
    /// One `Name: value` per line.
    pub headers: String,
    /// Requests per second, or empty for no limit.
    pub rate_limit_per_s: String,
    pub enabled: bool,
    /// `hmac` or `ed25519`.
    pub signature_scheme: String,
    /// Whether bodies are sent encrypted (AES-256-CBC).
    pub encrypted: bool,
    /// Also send the plain hex HMAC of the body (`x-herald-signature`).
    pub legacy_signature: bool,
    /// The endpoint's own waits, comma-separated (`0s, 30s, 5m`), or empty
    /// for the server's schedule.
    pub retry_schedule: String,
    /// `live` or `test` (empty: live).
    #[serde(default)]
    pub mode: String,
    /// The delivery profile's name (empty: `standard` for a new endpoint,
    /// unchanged for an existing one).
    #[serde(default)]
    pub profile: String,
    /// One attempt's limit, like `30s` (1s to 60s; empty: the server's for
    /// a new endpoint, unchanged for an existing one).
    #[serde(default)]
    pub timeout: String,
    /// An existing HMAC secret to sign with (empty: keep or generate one).
    #[serde(default)]
    pub secret: String,
    /// An existing RSA private key, PEM (empty: keep or generate one).
    #[serde(default)]
    pub private_key: String,
}

impl EndpointInput {
    /// The custom-headers box: one `Name: value` per line, blank lines ignored.
    pub fn header_map(&self) -> Result<BTreeMap<String, String>, FieldError> {
        let mut headers = BTreeMap::new();
        for line in self
            .headers
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            let (name, value) = line.split_once(':').ok_or_else(|| {
                FieldError::new("headers", format!("`{line}` is not `Name: value`"))
            })?;
            headers.insert(name.trim().to_owned(), value.trim().to_owned());
        }
        Ok(headers)
    }

    /// The rate-limit box: empty for none, else a whole number.
    pub fn rate_limit(&self) -> Result<Option<u32>, FieldError> {
        let text = self.rate_limit_per_s.trim();
        if text.is_empty() {
            return Ok(None);
        }
        text.parse().map(Some).map_err(|_| {
            FieldError::new("rate_limit_per_s", "a whole number of requests per second")
        })
    }

    /// The scheme select: `hmac` or `ed25519`.
    pub fn scheme(&self) -> Result<SignatureScheme, FieldError> {
        SignatureScheme::parse(self.signature_scheme.trim())
            .ok_or_else(|| FieldError::new("signature_scheme", "`hmac` or `ed25519`"))
    }

    /// The mode select: `live` (also when empty) or `test`.
    pub fn endpoint_mode(&self) -> Result<EndpointMode, FieldError> {
        match self.mode.trim() {
            "" => Ok(EndpointMode::Live),
            mode => {
                EndpointMode::parse(mode).ok_or_else(|| FieldError::new("mode", "`live` or `test`"))
            }
        }
    }

    /// The profile select: `None` when empty.
    pub fn profile_name(&self) -> Option<String> {
        Self::imported(&self.profile)
    }

    /// The timeout box: `None` when empty, else 1s to 60s.
    pub fn timeout_value(&self) -> Result<Option<std::time::Duration>, FieldError> {
        match self.timeout.trim() {
            "" => Ok(None),
            text => super::endpoint::check_timeout(text)
                .map(Some)
                .map_err(|message| FieldError::new("timeout", message)),
        }
    }

    /// A text box that brings a key along: `None` when left empty.
    pub fn imported(text: &str) -> Option<String> {
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_owned())
    }

    /// The retry-schedule box: `None` (empty) for the server's schedule,
    /// else the waits separated by commas (the server checks them).
    pub fn retry_steps(&self) -> Option<Vec<String>> {
        let steps: Vec<String> = self
            .retry_schedule
            .split(',')
            .map(str::trim)
            .filter(|step| !step.is_empty())
            .map(str::to_owned)
            .collect();
        (!steps.is_empty()).then_some(steps)
    }
}

/// A JSON text box (a test event's payload, a catalog example): empty for
/// none, else a JSON value.
pub fn parse_json_box(field: &str, text: &str) -> Result<Option<serde_json::Value>, FieldError> {
    match text.trim() {
        "" => Ok(None),
        text => serde_json::from_str(text)
            .map(Some)
            .map_err(|e| FieldError::new(field, json_problem(&e))),
    }
}

/// A JSON box's mistake in plain words, with where it is: the parser's own
/// text ("expected value at line 1 column 1") means little to a person.
fn json_problem(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Eof => "it ends too early (a bracket, brace or quote is not closed)",
        Category::Syntax => "it is not written as JSON (quote names and text with \"…\")",
        Category::Data => "a value is not what it should be",
        Category::Io => "it could not be read",
    };
    format!(
        "is not valid JSON: {what}, near line {} column {}",
        e.line(),
        e.column()
    )
}

/// The endpoint filter's value that picks the deliveries to events'
/// `callback_url`s (which have no endpoint).
pub const CALLBACKS: &str = "callbacks";

/// The filters of a deliveries list, as they appear in the page's URL.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeliveryQuery {
    pub status: Option<String>,
    pub event_type: Option<String>,
    /// An endpoint id, or `CALLBACKS` for the callback deliveries.
    pub endpoint_id: Option<String>,
    pub merchant_id: Option<String>,
    /// RFC 3339, or a lookback such as `1h`, `24h`, `7d`.
    pub since: Option<String>,
    /// `live` or `test` to show only that mode's events; empty for both.
    pub mode: Option<String>,
    pub cursor: Option<String>,
    /// Only deliveries of events with this tag.
    #[serde(default)]
    pub tag: Option<String>,
    /// RFC 3339, or a lookback: only deliveries made before it.
    #[serde(default)]
    pub until: Option<String>,
    /// The latest attempt's answer: `503`, `5xx` or `none`.
    #[serde(default)]
    pub status_code: Option<String>,
}

/// The Events page's filters, as the URL carries them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventQuery {
    pub event_type: Option<String>,
    pub tag: Option<String>,
    /// RFC 3339, or a lookback such as `24h`.
    pub since: Option<String>,
    /// RFC 3339, or a lookback: only events before it.
    pub until: Option<String>,
    /// `live`, `test` or empty for both.
    pub mode: Option<String>,
    pub cursor: Option<String>,
}

/// One page of the merchant's events, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventPage {
    pub items: Vec<super::event::Event>,
    pub next_cursor: Option<String>,
}

impl DeliveryQuery {
    /// A filter's text, `None` when absent or blank.
    pub fn given(value: &Option<String>) -> Option<String> {
        value.clone().filter(|s| !s.trim().is_empty())
    }

    /// `since` as a time: RFC 3339, or a lookback (`24h`) from `now`.
    pub fn since_time(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, FieldError> {
        time_or_lookback("since", self.since.as_deref().unwrap_or(""), now)
    }

    /// `until` as a time, like `since`.
    pub fn until_time(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, FieldError> {
        time_or_lookback("until", self.until.as_deref().unwrap_or(""), now)
    }

    /// `mode`: only live (`Some(true)`) or only test-mode (`Some(false)`) events, or both.
    pub fn live_mode(&self) -> Result<Option<bool>, FieldError> {
        mode_filter(&self.mode)
    }
}

/// A window's (since, until), either end open.
pub type TimeWindow = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

impl EventQuery {
    /// (since, until) as times: RFC 3339, or lookbacks (`24h`) from `now`.
    pub fn window(&self, now: DateTime<Utc>) -> Result<TimeWindow, FieldError> {
        Ok((
            time_or_lookback("since", self.since.as_deref().unwrap_or(""), now)?,
            time_or_lookback("until", self.until.as_deref().unwrap_or(""), now)?,
        ))
    }

    /// `mode`: only live (`Some(true)`) or only test-mode (`Some(false)`) events, or both.
    pub fn live_mode(&self) -> Result<Option<bool>, FieldError> {
        mode_filter(&self.mode)
    }
}

/// A `mode` filter: `live`, `test`, or empty for both.
fn mode_filter(mode: &Option<String>) -> Result<Option<bool>, FieldError> {
    match DeliveryQuery::given(mode).as_deref() {
        None => Ok(None),
        Some("live") => Ok(Some(true)),
        Some("test") => Ok(Some(false)),
        Some(_) => Err(FieldError::new("mode", "`live`, `test` or empty for both")),
    }
}

/// A time box: empty for none, else a time (RFC 3339) or a lookback from
/// `now` such as `24h` or `7d`; `field` names it in the error.
pub fn time_or_lookback(
    field: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, FieldError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(Some(at.with_timezone(&Utc)));
    }
    let invalid = || FieldError::new(field, "a time (RFC 3339) or a lookback such as 24h");
    let back = parse_duration(text).map_err(|_| invalid())?;
    // A lookback longer than the calendar allows is refused, not a panic.
    chrono::Duration::from_std(back)
        .ok()
        .and_then(|back| now.checked_sub_signed(back))
        .map(Some)
        .ok_or_else(invalid)
}

/// The window of an endpoint page's recover form: each box a time (RFC
/// 3339) or a lookback such as `24h`; `until` empty means now.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecoverInput {
    pub since: String,
    pub until: String,
}

impl RecoverInput {
    /// (since, until) as times; `since` is required.
    pub fn window(
        &self,
        now: DateTime<Utc>,
    ) -> Result<(DateTime<Utc>, Option<DateTime<Utc>>), FieldError> {
        let since = time_or_lookback("since", &self.since, now)?.ok_or_else(|| {
            FieldError::new(
                "since",
                "when the window starts: a time (RFC 3339) or a lookback such as 24h",
            )
        })?;
        Ok((since, time_or_lookback("until", &self.until, now)?))
    }
}

/// What enabling an endpoint from its page did, and what it missed while
/// disabled (offered to the merchant to send).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnabledEndpoint {
    pub endpoint: Endpoint,
    pub missed: Option<Missed>,
}

/// One page of deliveries, newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeliveryPage {
    pub items: Vec<Delivery>,
    pub next_cursor: Option<String>,
}

/// The newest delivery of one endpoint, for the endpoints list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastDelivery {
    pub endpoint_id: String,
    pub created_at: DateTime<Utc>,
    pub status: DeliveryStatus,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_form_boxes_are_read_or_refused_by_field() {
        let input = EndpointInput {
            headers: "X-One: 1\n\n  X-Two :  two words \n".into(),
            rate_limit_per_s: " 20 ".into(),
            signature_scheme: "ed25519".into(),
            retry_schedule: "0s, 30s,,5m ".into(),
            ..EndpointInput::default()
        };
        let headers = input.header_map().unwrap();
        assert_eq!(headers.get("X-Two").map(String::as_str), Some("two words"));
        assert_eq!(headers.len(), 2);
        assert_eq!(input.rate_limit().unwrap(), Some(20));
        assert_eq!(input.scheme().unwrap(), SignatureScheme::Ed25519);
        assert_eq!(input.retry_steps().unwrap(), vec!["0s", "30s", "5m"]);

        let bad = EndpointInput {
            headers: "no colon here".into(),
            rate_limit_per_s: "fast".into(),
            signature_scheme: "rot13".into(),
            ..EndpointInput::default()
        };
        assert_eq!(bad.header_map().unwrap_err().field, "headers");
        assert_eq!(bad.rate_limit().unwrap_err().field, "rate_limit_per_s");
        assert_eq!(bad.scheme().unwrap_err().field, "signature_scheme");
        assert_eq!(bad.retry_steps(), None);
    }

    #[test]
    fn json_boxes_are_empty_or_json() {
        assert_eq!(parse_json_box("data", "  ").unwrap(), None);
        assert_eq!(
            parse_json_box("data", r#"{"a":1}"#).unwrap(),
            Some(serde_json::json!({"a": 1}))
        );
        assert_eq!(parse_json_box("example", "{").unwrap_err().field, "example");
    }

    #[test]
    fn since_reads_times_and_lookbacks_and_refuses_the_impossible() {
        let now = DateTime::parse_from_rfc3339("2026-01-02T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let query = |since: &str| DeliveryQuery {
            since: Some(since.to_owned()),
            ..DeliveryQuery::default()
        };
        assert_eq!(query(" ").since_time(now).unwrap(), None);
        assert_eq!(
            query("24h").since_time(now).unwrap(),
            Some(now - chrono::Duration::hours(24))
        );
        assert_eq!(
            query("2026-01-01T12:00:00Z").since_time(now).unwrap(),
            Some(now - chrono::Duration::hours(12))
        );
        assert_eq!(
            query("yesterday").since_time(now).unwrap_err().field,
            "since"
        );
        assert_eq!(
            query("300000000d").since_time(now).unwrap_err().field,
            "since",
            "a lookback past the calendar's start is an error, not a panic"
        );
    }

    #[test]
    fn mode_is_live_test_or_both() {
        let query = |mode: &str| DeliveryQuery {
            mode: Some(mode.to_owned()),
            ..DeliveryQuery::default()
        };
        assert_eq!(query("").live_mode().unwrap(), None);
        assert_eq!(query("live").live_mode().unwrap(), Some(true));
        assert_eq!(query("test").live_mode().unwrap(), Some(false));
        assert!(query("maybe").live_mode().is_err());
    }
}
