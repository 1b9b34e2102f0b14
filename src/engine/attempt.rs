//! One attempt of one delivery: build the signed request, send it, and turn
//! what happened into the record the recorder writes.

use super::http::{Response, Sender};
use super::retry::{parse_retry_after, AttemptOutcome, NextStep, RetrySchedule};
use crate::crypto::endpoint_key::EndpointKey;
use crate::crypto::payload_encryption::EncryptionKey;
use crate::crypto::profile_signing::ProfileKey;
use crate::crypto::secret_box::{endpoint_row, merchant_row, SecretBox};
use crate::crypto::signing::legacy_signature;
use crate::engine::rendering::{render_body, render_headers, RenderAttempt, RenderEvent};
use crate::store::{AttemptRecord, ClaimedDelivery, DeliveryUpdate, Destination, EndpointHealth};
use chrono::{DateTime, Utc};
use herald_app::model::delivery::ErrorKind;
use herald_app::model::endpoint::{DisableReason, MASKED_VALUE};
use herald_app::model::id::{AttemptId, EndpointId};
use herald_app::model::profile::DeliveryProfile;
use std::collections::BTreeMap;
use std::time::Duration;

/// Headers Herald sets itself; an endpoint's custom headers cannot replace them.
pub const RESERVED_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "user-agent",
    "host",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "herald-event-type",
    "herald-delivery-id",
    "herald-attempt",
    "x-herald-signature",
    "x-herald-timestamp",
];

/// What the attempt needs besides the delivery.
pub struct AttemptContext<'a> {
    pub sender: &'a Sender,
    pub schedule: &'a RetrySchedule,
    pub owner: &'a str,
    /// An endpoint failing continuously for this long is disabled.
    pub auto_disable_after: Duration,
    /// An endpoint failing continuously for this long is told to its merchant.
    pub failing_alert_after: Duration,
    /// A factor in [0, 1) for the retry jitter, drawn by the caller.
    pub jitter: f64,
    /// Opens the stored (possibly sealed) signing secrets.
    pub secrets: &'a SecretBox,
}

/// Sends one attempt and returns its record; never fails (a failure is data).
pub async fn attempt(delivery: &ClaimedDelivery, ctx: &AttemptContext<'_>) -> AttemptRecord {
    let started_at = Utc::now();
    let attempt_number = delivery.attempts_made + 1;
    let prepared = prepare_request(delivery, ctx.secrets, started_at, attempt_number);
    let prepared = match prepared {
        Ok(prepared) => prepared,
        Err(message) => {
            // A secret that cannot be parsed is our fault, not the merchant's:
            // record it and retry later rather than send it unsigned.
            let response = Response {
                status: None,
                headers: BTreeMap::new(),
                body: None,
                error: Some((ErrorKind::Connect, message)),
                duration: Duration::ZERO,
            };
            return record(delivery, ctx, started_at, Vec::new(), response);
        }
    };
    let response = ctx
        .sender
        .post(
            &prepared.url,
            &prepared.headers,
            prepared.body.into_bytes(),
            prepared.timeout,
        )
        .await;
    // The record keeps the custom headers' names, never their values: they
    // are the merchant's receiver's credentials.
    let recorded = mask_values(prepared.headers, &prepared.custom_names);
    record(delivery, ctx, started_at, recorded, response)
}

/// One attempt's request, ready to send.
struct PreparedRequest {
    url: String,
    /// Every header sent, the custom ones with their real values.
    headers: Vec<(String, String)>,
    body: String,
    /// The names of the endpoint's custom headers among `headers`.
    custom_names: Vec<String>,
    /// The endpoint's own limit for the attempt; `None`: the server's.
    timeout: Option<Duration>,
}

/// The same headers with the values of those named in `names` masked
/// (names compared without case, as HTTP does).
fn mask_values(headers: Vec<(String, String)>, names: &[String]) -> Vec<(String, String)> {
    headers
        .into_iter()
        .map(|(name, value)| {
            if names
                .iter()
                .any(|masked| masked.eq_ignore_ascii_case(&name))
            {
                (name, MASKED_VALUE.to_owned())
            } else {
                (name, value)
            }
        })
        .collect()
}

/// The URL, headers and body of one attempt: the body as the delivery's
/// profile renders it, encrypted if the endpoint asks for it, then signed
/// as sent by the profile's signatures (the `standard` profile: exactly
/// Herald's Standard Webhooks format), the endpoint's custom headers first.
fn prepare_request(
    delivery: &ClaimedDelivery,
    sealed: &SecretBox,
    now: DateTime<Utc>,
    attempt_number: u32,
) -> Result<PreparedRequest, String> {
    let mut legacy = false;
    let mut encryption: Option<EncryptionKey> = None;
    let mut timeout = None;
    let previous_first;
    let (url, mut keys, custom, profile) = match &delivery.destination {
        Destination::Endpoint {
            id,
            url,
            secret,
            previous_secret,
            headers,
            legacy_signature,
            encryption_key,
            profile,
            timeout: own_timeout,
            previous_signs_first,
            ..
        } => {
            legacy = *legacy_signature;
            timeout = *own_timeout;
            previous_first = *previous_signs_first;
            let row = endpoint_row(id.as_str());
            let mut keys = vec![open_key(sealed, secret, &row)?];
            if let Some(previous) = previous_secret {
                keys.push(open_key(sealed, previous, &row)?);
            }
            if let Some(stored) = encryption_key {
                let key = sealed
                    .open(stored, &row)
                    .map_err(|e| format!("stored encryption key: {e}"))?;
                encryption = Some(
                    EncryptionKey::parse(&key)
                        .map_err(|e| format!("stored encryption key: {e}"))?,
                );
            }
            let stored: BTreeMap<String, String> =
                serde_json::from_str(headers).map_err(|e| format!("stored headers: {e}"))?;
            let custom = sealed
                .open_headers(id.as_str(), &stored)
                .map_err(|e| format!("stored header value: {e}"))?;
            (url.clone(), keys, custom, profile.as_deref())
        }
        Destination::Callback {
            url,
            secret,
            previous_secret,
            profile,
            previous_signs_first,
        } => {
            previous_first = *previous_signs_first;
            let secret = secret.as_deref().ok_or("merchant has no callback secret")?;
            let row = merchant_row(delivery.merchant_id.as_str());
            let mut keys = vec![open_key(sealed, secret, &row)?];
            if let Some(previous) = previous_secret {
                keys.push(open_key(sealed, previous, &row)?);
            }
            (url.clone(), keys, BTreeMap::new(), profile.as_deref())
        }
    };
    if previous_first {
        // A receiver comparing one signature keeps the old key until the
        // grace period ends: the rotated-out key signs first (alone).
        keys.reverse();
    }
    let profile: DeliveryProfile =
        serde_json::from_str(profile.ok_or("the delivery profile no longer exists")?)
            .map_err(|e| format!("stored delivery profile: {e}"))?;
    let event = RenderEvent {
        event_id: delivery.event_id.as_str(),
        event_type: &delivery.event_type,
        created_at: delivery.event_created_at,
        live_mode: delivery.live_mode,
        data: &delivery.payload,
        previous_data: delivery.previous_data.as_deref(),
    };
    let this_attempt = RenderAttempt {
        message_id: delivery.event_id.as_str(),
        delivery_id: delivery.id.as_str(),
        attempt: attempt_number,
        now,
    };
    let mut body = render_body(&profile, &event).map_err(|e| e.to_string())?;
    if let Some(key) = &encryption {
        body = key.encrypt_body(body.as_bytes());
    }
    let profile_keys: Vec<ProfileKey<'_>> = keys.iter().map(EndpointKey::as_profile_key).collect();
    let rendered = render_headers(
        &profile,
        &event,
        &this_attempt,
        body.as_bytes(),
        &profile_keys,
    )
    .map_err(|e| e.to_string())?;
    // Custom headers never replace Herald's or the profile's own.
    let mut headers: Vec<(String, String)> = custom
        .into_iter()
        .filter(|(name, _)| {
            !RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str())
                && !rendered
                    .iter()
                    .any(|(set, _)| set.eq_ignore_ascii_case(name))
        })
        .collect();
    let custom_names: Vec<String> = headers.iter().map(|(name, _)| name.clone()).collect();
    headers.extend(rendered);
    // The signing key only: the legacy header has room for one signature.
    // (HMAC endpoints only; the service refuses it beside other keys.)
    if let (true, Some(current)) = (legacy, keys.first().and_then(EndpointKey::as_hmac)) {
        let timestamp = now.timestamp();
        headers.extend([
            (
                "x-herald-signature".to_owned(),
                legacy_signature(current, body.as_bytes()),
            ),
            ("x-herald-timestamp".to_owned(), timestamp.to_string()),
        ]);
    }
    Ok(PreparedRequest {
        url,
        headers,
        body,
        custom_names,
        timeout,
    })
}

/// The signing key behind a stored value of `row`.
fn open_key(sealed: &SecretBox, stored: &str, row: &str) -> Result<EndpointKey, String> {
    let secret = sealed
        .open(stored, row)
        .map_err(|e| format!("stored signing secret: {e}"))?;
    EndpointKey::parse(&secret).map_err(|e| format!("stored signing secret: {e}"))
}

fn record(
    delivery: &ClaimedDelivery,
    ctx: &AttemptContext<'_>,
    started_at: DateTime<Utc>,
    request_headers: Vec<(String, String)>,
    response: Response,
) -> AttemptRecord {
    let outcome = match (&response.error, response.status) {
        (None, _) => AttemptOutcome::Success,
        (Some((ErrorKind::Status, _)), Some(status)) => AttemptOutcome::Status(status),
        (Some((ErrorKind::Timeout, _)), _) => AttemptOutcome::Timeout,
        (Some((ErrorKind::Tls, _)), _) => AttemptOutcome::Tls,
        (Some((ErrorKind::Blocked, _)), _) => AttemptOutcome::Blocked,
        (Some(_), Some(status)) => AttemptOutcome::Status(status),
        (Some(_), None) => AttemptOutcome::Connect,
    };
    let retry_after = response
        .headers
        .get("retry-after")
        .and_then(|value| parse_retry_after(value, started_at));
    let attempts_made = delivery.attempts_made + 1;
    // An endpoint's own schedule (checked when it was set) replaces the server's.
    let own_schedule: Option<RetrySchedule> = match &delivery.destination {
        Destination::Endpoint {
            retry_schedule: Some(steps),
            ..
        } => steps.parse().ok(),
        _ => None,
    };
    let step = own_schedule.as_ref().unwrap_or(ctx.schedule).next_delay(
        attempts_made,
        &outcome,
        retry_after,
        ctx.jitter,
    );
    let endpoint_id: Option<EndpointId> = match &delivery.destination {
        Destination::Endpoint { id, .. } => Some(id.clone()),
        Destination::Callback { .. } => None,
    };
    let failing = EndpointHealth::Failing {
        tell_if_failing_since: started_at
            - chrono::Duration::from_std(ctx.failing_alert_after)
                .unwrap_or(chrono::Duration::hours(1)),
        disable_if_failing_since: started_at
            - chrono::Duration::from_std(ctx.auto_disable_after)
                .unwrap_or(chrono::Duration::days(5)),
    };
    let (update, health) = match step {
        NextStep::Done => (DeliveryUpdate::Succeeded, EndpointHealth::Healthy),
        NextStep::RetryIn(wait) => (
            DeliveryUpdate::RetryAt(
                started_at + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1)),
            ),
            failing,
        ),
        NextStep::GiveUp => (DeliveryUpdate::Failed, failing),
        NextStep::Gone => (
            DeliveryUpdate::Failed,
            EndpointHealth::Disable {
                reason: DisableReason::Gone,
            },
        ),
    };
    let headers_json = |pairs: &[(String, String)]| {
        let map: BTreeMap<&str, &str> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        serde_json::to_string(&map).unwrap_or_else(|_| "{}".to_owned())
    };
    let response_headers: Vec<(String, String)> = response.headers.into_iter().collect();
    AttemptRecord {
        id: AttemptId::generate(),
        delivery_id: delivery.id.clone(),
        endpoint_id,
        owner: ctx.owner.to_owned(),
        attempt_number: attempts_made,
        started_at,
        duration_ms: u64::try_from(response.duration.as_millis()).unwrap_or(u64::MAX),
        request_headers: headers_json(&request_headers),
        status_code: response.status,
        response_headers: response.status.map(|_| headers_json(&response_headers)),
        response_body: response.body,
        error_kind: response.error.as_ref().map(|(kind, _)| *kind),
        error_message: response.error.map(|(_, message)| message),
        manual: delivery.manual,
        ordered: delivery.ordered,
        update,
        health,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// The envelope every endpoint received before delivery profiles, as
    /// it was written then: the `standard` profile must keep it.
    fn envelope_before_profiles(delivery: &ClaimedDelivery) -> String {
        let quote = |s: &str| serde_json::Value::from(s).to_string();
        format!(
            r#"{{"id":{},"type":{},"timestamp":{},"live_mode":{},"data":{}}}"#,
            quote(delivery.event_id.as_str()),
            quote(&delivery.event_type),
            quote(
                &delivery
                    .event_created_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            delivery.live_mode,
            delivery.payload
        )
    }

    /// An endpoint of the `standard` profile gets byte for byte what it got
    /// before profiles (the envelope and headers as they were written then,
    /// signed by the Standard Webhooks signer), keys rotated or not.
    #[test]
    fn the_standard_profile_sends_what_was_sent_before_profiles() {
        use crate::crypto::signing::{signature_header, SigningKey};
        use herald_app::model::endpoint::SignatureScheme;
        use herald_app::model::id::{DeliveryId, EventId, MerchantId};

        let standard = crate::service::bundled_profiles::bundled_profiles()
            .unwrap_or_else(|e| panic!("{e}"))
            .into_iter()
            .find(|p| p.name == herald_app::model::profile::STANDARD_PROFILE)
            .unwrap_or_else(|| panic!("no standard profile"));
        let standard = serde_json::to_string(&standard).unwrap_or_else(|e| panic!("{e}"));
        let hmac = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned();
        let ed25519 = SigningKey::generate(SignatureScheme::Ed25519).expose();
        let now = Utc::now();
        for (current, previous) in [
            (hmac.clone(), None),
            (ed25519.clone(), None),
            (hmac.clone(), Some(ed25519.clone())),
            (ed25519.clone(), Some(hmac.clone())),
        ] {
            let delivery = ClaimedDelivery {
                id: DeliveryId::generate(),
                event_id: EventId::generate(),
                merchant_id: MerchantId::generate(),
                event_type: "payin.succeeded".to_owned(),
                payload: r#"{"amount":"12.50", "note":"caf\u00e9 \"x\""}"#.to_owned(),
                previous_data: Some(r#"{"status":"pending"}"#.to_owned()),
                live_mode: false,
                event_created_at: now - chrono::Duration::minutes(3),
                attempts_made: 2,
                manual: false,
                ordered: false,
                lease_until: now,
                destination: Destination::Endpoint {
                    id: EndpointId::generate(),
                    url: "https://merchant.example/hook".to_owned(),
                    secret: current.clone(),
                    previous_secret: previous.clone(),
                    headers: "{}".to_owned(),
                    rate_limit_per_s: None,
                    legacy_signature: false,
                    retry_schedule: None,
                    encryption_key: None,
                    profile: Some(standard.clone()),
                    timeout: None,
                    previous_signs_first: false,
                },
            };
            let sent = prepare_request(&delivery, &SecretBox::plain(), now, 3)
                .unwrap_or_else(|e| panic!("{e}"));
            let keys: Vec<SigningKey> = std::iter::once(&current)
                .chain(previous.as_ref())
                .map(|k| SigningKey::parse(k).unwrap_or_else(|e| panic!("{e}")))
                .collect();
            let refs: Vec<&SigningKey> = keys.iter().collect();
            let id = delivery.event_id.as_str();
            let timestamp = now.timestamp();
            let body = envelope_before_profiles(&delivery);
            assert_eq!(sent.body, body);
            assert_eq!(
                sent.headers,
                pairs(&[
                    ("content-type", "application/json"),
                    (
                        "user-agent",
                        concat!("Herald-Webhooks/", env!("CARGO_PKG_VERSION"))
                    ),
                    ("webhook-id", id),
                    ("webhook-timestamp", &timestamp.to_string()),
                    (
                        "webhook-signature",
                        &signature_header(&refs, id, timestamp, body.as_bytes())
                    ),
                    ("herald-event-type", "payin.succeeded"),
                    ("herald-delivery-id", delivery.id.as_str()),
                    ("herald-attempt", "3"),
                ])
            );
        }
    }

    #[test]
    fn only_the_custom_headers_values_are_masked() {
        let sent = pairs(&[
            ("Authorization", "Bearer rcv_secret"),
            ("x-tenant", "acme"),
            ("webhook-id", "evt_1"),
            ("webhook-signature", "v1,abc"),
        ]);
        let custom = vec!["authorization".to_owned(), "X-Tenant".to_owned()];
        assert_eq!(
            mask_values(sent, &custom),
            pairs(&[
                ("Authorization", MASKED_VALUE),
                ("x-tenant", MASKED_VALUE),
                ("webhook-id", "evt_1"),
                ("webhook-signature", "v1,abc"),
            ])
        );
    }
}
