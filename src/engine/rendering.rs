//! The one renderer behind every delivery profile: the body and the headers
//! of one attempt, as the profile's data says (envelope, type spelling,
//! headers), signed by `crypto::profile_signing`. The `standard` profile
//! gives exactly what `attempt::prepare_request` sends for an endpoint with
//! no custom headers, no legacy signature and no encryption; those endpoint
//! options stay outside the profile.

use crate::crypto::profile_signing::{signature_headers, ProfileKey, SignError, SignedParts};
use chrono::{DateTime, SecondsFormat, Utc};
use herald_app::model::profile::{DeliveryProfile, Envelope, TimestampFormat};

/// Herald's user agent, sent unless a profile names another.
pub const HERALD_USER_AGENT: &str = concat!("Herald-Webhooks/", env!("CARGO_PKG_VERSION"));

/// The event as stored: what every profile renders from.
#[derive(Debug, Clone, Copy)]
pub struct RenderEvent<'a> {
    pub event_id: &'a str,
    /// Herald's name, e.g. `payin.succeeded`; the profile spells it.
    pub event_type: &'a str,
    pub created_at: DateTime<Utc>,
    pub live_mode: bool,
    /// The payload, JSON exactly as the platform sent it (spliced, not re-serialised).
    pub data: &'a str,
    /// The object before the change, JSON as sent, if the platform sent it.
    pub previous_data: Option<&'a str>,
}

/// This attempt: what changes from one try to the next.
#[derive(Debug, Clone, Copy)]
pub struct RenderAttempt<'a> {
    /// The message id receivers deduplicate on (today the event's id).
    pub message_id: &'a str,
    pub delivery_id: &'a str,
    /// 1 for the first try.
    pub attempt: u32,
    pub now: DateTime<Utc>,
}

/// The body and headers of one attempt, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub body: String,
    pub headers: Vec<(String, String)>,
}

/// Why a delivery cannot be rendered as its profile says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The profile puts the type into `data`, which is not a JSON object.
    #[error("the profile adds `{0}` to data, but the event's data is not a JSON object")]
    DataNotObject(String),
    #[error(transparent)]
    Sign(#[from] SignError),
}

/// Body and headers of one attempt; `keys` current first.
pub fn render(
    profile: &DeliveryProfile,
    event: &RenderEvent<'_>,
    attempt: &RenderAttempt<'_>,
    keys: &[ProfileKey<'_>],
) -> Result<Rendered, RenderError> {
    let body = render_body(profile, event)?;
    let headers = render_headers(profile, event, attempt, body.as_bytes(), keys)?;
    Ok(Rendered { body, headers })
}

/// The body: the envelope the profile names around the data as stored.
pub fn render_body(
    profile: &DeliveryProfile,
    event: &RenderEvent<'_>,
) -> Result<String, RenderError> {
    let spelled = profile.type_spelling.spell(event.event_type);
    let Some(fields) = profile.envelope_fields() else {
        return match &profile.envelope {
            Envelope::DataOnly {
                type_field: Some(name),
            } => with_type_field(event.data, name, &spelled),
            _ => Ok(event.data.to_owned()),
        };
    };
    let created_at = event.created_at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let live_mode = event.live_mode.to_string();
    let members: [(Option<&String>, String); 6] = [
        (fields.id.as_ref(), quote(event.event_id)),
        (fields.event_type.as_ref(), quote(&spelled)),
        (fields.timestamp.as_ref(), quote(&created_at)),
        (fields.live_mode.as_ref(), live_mode),
        (Some(&fields.data), event.data.to_owned()),
        (
            fields.previous_data.as_ref(),
            event.previous_data.unwrap_or("null").to_owned(),
        ),
    ];
    let joined: Vec<String> = members
        .into_iter()
        .filter_map(|(name, value)| name.map(|name| format!("{}:{value}", quote(name))))
        .collect();
    Ok(format!("{{{}}}", joined.join(",")))
}

/// `data` with `"<name>":"<type>"` as its first member, unless the platform
/// already put a member of that name there (its value stands).
fn with_type_field(data: &str, name: &str, spelled: &str) -> Result<String, RenderError> {
    let not_object = || RenderError::DataNotObject(name.to_owned());
    let parsed: serde_json::Value = serde_json::from_str(data).map_err(|_| not_object())?;
    let object = parsed.as_object().ok_or_else(not_object)?;
    if object.contains_key(name) {
        return Ok(data.to_owned());
    }
    let rest = data.trim_start().strip_prefix('{').ok_or_else(not_object)?;
    let separator = if object.is_empty() { "" } else { "," };
    Ok(format!(
        "{{{}:{}{separator}{rest}",
        quote(name),
        quote(spelled)
    ))
}

/// The headers, in Herald's order: content type, user agent, id, timestamp,
/// signatures, event type, then Herald's delivery id and attempt number,
/// which every profile carries for support.
pub fn render_headers(
    profile: &DeliveryProfile,
    event: &RenderEvent<'_>,
    attempt: &RenderAttempt<'_>,
    body: &[u8],
    keys: &[ProfileKey<'_>],
) -> Result<Vec<(String, String)>, RenderError> {
    let wanted = &profile.headers;
    let timestamp = attempt.now.timestamp();
    let mut headers: Vec<(String, String)> = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        (
            "user-agent".to_owned(),
            wanted
                .user_agent
                .clone()
                .unwrap_or_else(|| HERALD_USER_AGENT.to_owned()),
        ),
    ];
    if let Some(name) = &wanted.id {
        headers.push((name.clone(), attempt.message_id.to_owned()));
    }
    if let Some(header) = &wanted.timestamp {
        let value = match header.format {
            TimestampFormat::UnixSeconds => timestamp.to_string(),
            TimestampFormat::UnixMillis => attempt.now.timestamp_millis().to_string(),
            TimestampFormat::Rfc3339 => attempt.now.to_rfc3339_opts(SecondsFormat::Secs, true),
        };
        headers.push((header.header.clone(), value));
    }
    let parts = SignedParts {
        message_id: attempt.message_id,
        timestamp,
        body,
        event_type: event.event_type,
        data: event.data,
    };
    headers.extend(signature_headers(&profile.signatures, keys, &parts)?);
    if let Some(name) = &wanted.event_type {
        headers.push((name.clone(), profile.type_spelling.spell(event.event_type)));
    }
    headers.extend([
        (
            "herald-delivery-id".to_owned(),
            attempt.delivery_id.to_owned(),
        ),
        ("herald-attempt".to_owned(), attempt.attempt.to_string()),
    ]);
    Ok(headers)
}

/// A JSON string literal.
fn quote(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

#[cfg(test)]
#[path = "rendering_tests.rs"]
mod tests;
