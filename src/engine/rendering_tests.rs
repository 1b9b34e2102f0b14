//! Each bundled profile with fixed inputs: the body and headers its seed's
//! receiver expects, the signatures recomputed independently (the `hmac`
//! crate, openssl where installed, ring's RSA verifier).

use super::*;
use crate::crypto::rsa_key::{verify_rsa_sha256, RsaSigningKey};
use crate::crypto::signing::{Ed25519Key, SigningKey, SigningSecret};
use crate::service::bundled_profiles::bundled_profiles;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::TimeZone;
use hmac::{Hmac, Mac};
use sha2::Sha256;

// The Standard Webhooks spec's example secret.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const RSA_PRIVATE: &str = include_str!("../crypto/fixtures/rsa2048_pkcs8.pem");
const RSA_PUBLIC: &str = include_str!("../crypto/fixtures/rsa2048_public.pem");
/// Seed 000's PAYIN_SUCCESS data (made valid JSON).
const PAYIN: &str = r#"{"clientTransactionId":"pay_123456789","status":"success","statusCode":1,"utr":"lajsdkfasmgd","bankId":"fsgsedthtsjhtdkmbg","transactionId":123}"#;
const NOW: i64 = 1_723_732_205;

fn profile(name: &str) -> DeliveryProfile {
    bundled_profiles()
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no bundled profile {name}"))
}

fn event<'a>(event_type: &'a str, data: &'a str) -> RenderEvent<'a> {
    RenderEvent {
        event_id: "evt_1",
        event_type,
        created_at: chrono::Utc
            .with_ymd_and_hms(2024, 8, 15, 14, 30, 0)
            .single()
            .unwrap_or_default(),
        live_mode: true,
        data,
        previous_data: None,
    }
}

fn attempt() -> RenderAttempt<'static> {
    RenderAttempt {
        message_id: "evt_1",
        delivery_id: "dlv_1",
        attempt: 1,
        now: chrono::Utc
            .timestamp_opt(NOW, 0)
            .single()
            .unwrap_or_default(),
    }
}

fn secret() -> SigningSecret {
    SigningSecret::parse(SECRET).unwrap_or_else(|e| panic!("{e}"))
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|e| panic!("{e}"));
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn header<'a>(rendered: &'a Rendered, name: &str) -> Option<&'a str> {
    rendered
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

fn rendered(name: &str, ev: &RenderEvent<'_>, keys: &[ProfileKey<'_>]) -> Rendered {
    render(&profile(name), ev, &attempt(), keys).unwrap_or_else(|e| panic!("{e}"))
}

/// Node's `crypto.createHmac('sha256', secret).update(body).digest('hex')`
/// with the secret's text, recomputed by openssl when it is installed.
fn openssl_hex_hmac(key: &str, body: &str) -> Option<String> {
    use std::io::Write;
    let mut child = std::process::Command::new("openssl")
        .args(["dgst", "-sha256", "-hmac", key, "-r"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(body.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    String::from_utf8(out.stdout)
        .ok()?
        .split_whitespace()
        .next()
        .map(str::to_owned)
}

#[test]
fn standard_is_herald_s_envelope_and_standard_webhooks_headers() {
    let key = secret();
    let r = rendered(
        "standard",
        &event("payin.succeeded", PAYIN),
        &[ProfileKey::Hmac(&key)],
    );
    let body = format!(
        r#"{{"id":"evt_1","type":"payin.succeeded","timestamp":"2024-08-15T14:30:00Z","live_mode":true,"data":{PAYIN}}}"#
    );
    assert_eq!(r.body, body);
    let decoded = STANDARD
        .decode(SECRET.trim_start_matches("whsec_"))
        .unwrap_or_default();
    let signed = format!("evt_1.{NOW}.{body}");
    let signature = format!(
        "v1,{}",
        STANDARD.encode(hmac_sha256(&decoded, signed.as_bytes()))
    );
    assert_eq!(
        r.headers,
        pairs(&[
            ("content-type", "application/json"),
            ("user-agent", HERALD_USER_AGENT),
            ("webhook-id", "evt_1"),
            ("webhook-timestamp", "1723732205"),
            ("webhook-signature", signature.as_str()),
            ("herald-event-type", "payin.succeeded"),
            ("herald-delivery-id", "dlv_1"),
            ("herald-attempt", "1"),
        ])
    );
}

#[test]
fn standard_signs_with_every_key_in_its_own_scheme_current_first() {
    let ed = Ed25519Key::generate();
    let old = secret();
    let r = rendered(
        "standard",
        &event("payin.succeeded", PAYIN),
        &[ProfileKey::Ed25519(&ed), ProfileKey::Hmac(&old)],
    );
    let expected = [
        SigningKey::Ed25519(Ed25519Key::parse(&ed.expose()).unwrap_or_else(|e| panic!("{e}"))),
        SigningKey::Hmac(secret()),
    ]
    .iter()
    .map(|k| k.sign("evt_1", NOW, r.body.as_bytes()))
    .collect::<Vec<_>>()
    .join(" ");
    assert_eq!(header(&r, "webhook-signature"), Some(expected.as_str()));
    assert!(expected.starts_with("v1a,"));
}

#[test]
fn event_envelope_is_seed_000_s_body_and_event_names() {
    let key = secret();
    let r = rendered(
        "event-envelope",
        &event("payin.succeeded", PAYIN),
        &[ProfileKey::Hmac(&key)],
    );
    assert_eq!(
        r.body,
        format!(r#"{{"event":"PAYIN_SUCCESS","timestamp":"2024-08-15T14:30:00Z","data":{PAYIN}}}"#)
    );
    let p = profile("event-envelope");
    for (herald, seed) in [
        ("payin.succeeded", "PAYIN_SUCCESS"),
        ("payin.failed", "PAYIN_FAILED"),
        ("payin.expired", "PAYIN_EXPIRED"),
        ("payout.failed", "PAYOUT_FAILED"),
        ("payout.succeeded", "PAYOUT_SUCCESSFUL"),
        ("refund.initiated", "REFUND_INITIATED"),
    ] {
        assert_eq!(p.type_spelling.spell(herald), seed);
    }
    // Signed as Standard Webhooks: the existing verifier accepts it.
    let signature = header(&r, "webhook-signature").unwrap_or_default();
    assert!(crate::crypto::signing::verify(
        &key,
        "evt_1",
        NOW,
        r.body.as_bytes(),
        signature
    ));
    assert_eq!(header(&r, "webhook-timestamp"), Some("1723732205"));
}

#[test]
fn x_signature_is_a_hex_hmac_of_the_body_with_seed_001_s_type_names() {
    let key = secret();
    let data = r#"{"id":"pay_123456789","amount":"99.99","currency":"USD","status":"succeeded"}"#;
    let r = rendered(
        "x-signature",
        &event("payment.succeeded", data),
        &[ProfileKey::Hmac(&key)],
    );
    assert!(
        r.body.contains(r#""type":"payment.completed""#),
        "{}",
        r.body
    );
    let expected = hex(&hmac_sha256(SECRET.as_bytes(), r.body.as_bytes()));
    assert_eq!(header(&r, "X-Signature"), Some(expected.as_str()));
    assert_eq!(header(&r, "webhook-signature"), None);
}

#[test]
fn payvost_is_seed_002_s_envelope_and_hex_hmac_of_the_raw_body() {
    let key = secret();
    let data = r#"{"id":"pay_def456uvw","amount":"99.99","currency":"USD","status":"succeeded"}"#;
    let mut ev = event("payment.succeeded", data);
    let r = rendered("payvost", &ev, &[ProfileKey::Hmac(&key)]);
    assert_eq!(
        r.body,
        format!(
            r#"{{"id":"evt_1","type":"payment.succeeded","createdAt":"2024-08-15T14:30:00Z","liveMode":true,"data":{data},"previousData":null}}"#
        )
    );
    // Seed 002's Node receiver: createHmac('sha256', secret).update(payload).digest('hex').
    let expected = hex(&hmac_sha256(SECRET.as_bytes(), r.body.as_bytes()));
    assert_eq!(header(&r, "Payvost-Signature"), Some(expected.as_str()));
    match openssl_hex_hmac(SECRET, &r.body) {
        Some(by_openssl) => assert_eq!(by_openssl, expected),
        None => println!("skipped the openssl cross-check: openssl is not runnable here"),
    }
    ev.previous_data = Some(r#"{"status":"pending"}"#);
    let r = rendered("payvost", &ev, &[ProfileKey::Hmac(&key)]);
    assert!(
        r.body.ends_with(r#","previousData":{"status":"pending"}}"#),
        "{}",
        r.body
    );
}

#[test]
fn paywize_is_seed_003_s_object_headers_and_prefixed_signature() {
    let key = secret();
    let data = r#"{"transaction_id":"CBP123456789","merchant_ref_id":"MERCHANT_TXN_001","amount":"10000.00","currency":"INR","status":"COMPLETED"}"#;
    let r = rendered(
        "paywize",
        &event("payout.succeeded", data),
        &[ProfileKey::Hmac(&key)],
    );
    assert_eq!(
        r.body,
        r#"{"event_type":"payout_status_change","transaction_id":"CBP123456789","merchant_ref_id":"MERCHANT_TXN_001","amount":"10000.00","currency":"INR","status":"COMPLETED"}"#
    );
    let signature = format!(
        "sha256={}",
        hex(&hmac_sha256(SECRET.as_bytes(), r.body.as_bytes()))
    );
    assert_eq!(
        r.headers,
        pairs(&[
            ("content-type", "application/json"),
            ("user-agent", "Paywize-ConnectedBanking-Webhook/1.0"),
            ("X-Paywize-Timestamp", "1723732205"),
            ("X-Paywize-Signature", signature.as_str()),
            ("X-Paywize-Event", "payout_status_change"),
            ("herald-delivery-id", "dlv_1"),
            ("herald-attempt", "1"),
        ])
    );
    // A platform that already sends event_type keeps its own value.
    let own = r#"{"event_type":"payout_status_change","status":"FAILED"}"#;
    assert_eq!(
        render_body(&profile("paywize"), &event("payout.failed", own)),
        Ok(own.to_owned())
    );
    assert_eq!(
        render_body(&profile("paywize"), &event("payout.failed", " { } ")),
        Ok(r#"{"event_type":"payout_status_change" } "#.to_owned())
    );
    assert_eq!(
        render_body(&profile("paywize"), &event("payout.failed", "[1]")),
        Err(RenderError::DataNotObject("event_type".to_owned()))
    );
}

#[test]
fn paysecure_is_seed_004_s_object_signed_with_rsa_over_chosen_fields() {
    let rsa = RsaSigningKey::parse_pem(RSA_PRIVATE).unwrap_or_else(|e| panic!("{e}"));
    let purchase = r#"{"purchaseId":"pur_123456789","brandId":"brand_123456789","status":"paid","amount":1000}"#;
    let r = rendered(
        "paysecure",
        &event("purchase.paid", purchase),
        &[ProfileKey::Rsa(&rsa)],
    );
    assert_eq!(r.body, purchase);
    for name in ["paysecure_sign", "paysecure-sign"] {
        let signature = STANDARD
            .decode(header(&r, name).unwrap_or_default())
            .unwrap_or_default();
        // Seed 004's Java: SHA256withRSA over purchaseId|status|brandId.
        assert!(verify_rsa_sha256(
            RSA_PUBLIC,
            b"pur_123456789|paid|brand_123456789",
            &signature
        ));
        assert!(!verify_rsa_sha256(
            RSA_PUBLIC,
            r.body.as_bytes(),
            &signature
        ));
    }
    let payout = r#"{"payoutId":"po_1","status":"success"}"#;
    let r = rendered(
        "paysecure",
        &event("payout.succeeded", payout),
        &[ProfileKey::Rsa(&rsa)],
    );
    let signature = STANDARD
        .decode(header(&r, "paysecure-sign").unwrap_or_default())
        .unwrap_or_default();
    assert!(verify_rsa_sha256(RSA_PUBLIC, b"po_1|success", &signature));
}

#[test]
fn what_cannot_be_signed_is_an_error_naming_the_header() {
    let rsa = RsaSigningKey::parse_pem(RSA_PRIVATE).unwrap_or_else(|e| panic!("{e}"));
    let key = secret();
    let p = profile("paysecure");
    let fails = |event_type: &str, data: &str, keys: &[ProfileKey<'_>]| {
        render(&p, &event(event_type, data), &attempt(), keys).err()
    };
    assert_eq!(
        fails(
            "user.created",
            r#"{"id":"usr_1"}"#,
            &[ProfileKey::Rsa(&rsa)]
        ),
        Some(RenderError::Sign(SignError::NoFieldRule {
            header: "paysecure_sign".to_owned(),
            event_type: "user.created".to_owned()
        }))
    );
    assert_eq!(
        fails(
            "purchase.paid",
            r#"{"purchaseId":"p","status":"paid"}"#,
            &[ProfileKey::Rsa(&rsa)]
        ),
        Some(RenderError::Sign(SignError::MissingField {
            header: "paysecure_sign".to_owned(),
            path: "brandId".to_owned()
        }))
    );
    assert_eq!(
        fails(
            "purchase.paid",
            r#"{"purchaseId":"p","status":{"a":1},"brandId":"b"}"#,
            &[ProfileKey::Rsa(&rsa)]
        ),
        Some(RenderError::Sign(SignError::NotScalar {
            header: "paysecure_sign".to_owned(),
            path: "status".to_owned()
        }))
    );
    assert_eq!(
        fails(
            "purchase.paid",
            r#"{"purchaseId":"p","status":"paid","brandId":"b"}"#,
            &[ProfileKey::Hmac(&key)]
        ),
        Some(RenderError::Sign(SignError::NoKey {
            header: "paysecure_sign".to_owned(),
            needs: "rsa-sha256".to_owned()
        }))
    );
}

#[test]
fn timestamp_headers_take_each_format() {
    let mut p = profile("paywize");
    let key = secret();
    let mut at = attempt();
    at.now += chrono::Duration::milliseconds(250);
    for (format, want) in [
        (TimestampFormat::UnixSeconds, "1723732205"),
        (TimestampFormat::UnixMillis, "1723732205250"),
        (TimestampFormat::Rfc3339, "2024-08-15T14:30:05Z"),
    ] {
        if let Some(t) = p.headers.timestamp.as_mut() {
            t.format = format;
        }
        let r = render(
            &p,
            &event("payout.failed", "{}"),
            &at,
            &[ProfileKey::Hmac(&key)],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(header(&r, "X-Paywize-Timestamp"), Some(want));
    }
}
