//! Delivery profiles beyond the seeds' own code (seed_verification.rs):
//! secrets a receiver already holds, whatever their form; operators'
//! profiles and the read-only bundled ones; rotation with one signature
//! header; the per-endpoint timeout; `previous_data` at ingest; RSA options;
//! the profile of callback deliveries.
//! Signatures are checked with the `hmac`/`sha2` crates and ring's RSA
//! verifier, as a receiver would, not with Herald's signer.

use crate::both_backends;
use crate::helpers::{TestApp, PLATFORM_TOKEN};
use crate::receiver::{Reply, TestReceiver};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use herald::crypto::rsa_key::verify_rsa_sha256;
use herald::store::Store;
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::json;
use sha2::Sha256;
use std::time::Duration;

both_backends!(
    a_secret_the_receiver_holds_is_kept_whatever_its_form,
    bad_brought_secrets_and_keys_are_refused_naming_the_field,
    operators_write_profiles_and_bundled_ones_are_read_only,
    a_single_signature_profile_rotates_without_breaking_the_receiver,
    an_endpoint_timeout_lets_a_slow_receiver_answer,
    previous_data_must_be_an_object_and_standard_bodies_do_not_carry_it,
    switching_to_an_rsa_profile_gives_an_rsa_key,
    callbacks_are_sent_in_the_merchants_chosen_hmac_profile,
);

const WAIT: Duration = Duration::from_secs(15);

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn a_secret_the_receiver_holds_is_kept_whatever_its_form(store: Store) {
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Migrating").await;
    let x_signature = TestReceiver::start().await;
    let standard = TestReceiver::start().await;
    // Not a `whsec_` secret: what another provider's dashboard gave out.
    let held = "sk_live_4eC39HqLyjWDarjtT1zdp7dc/legacy+key ünïcode";
    let (status, created) = app
        .api(
            Method::POST,
            "/api/v1/endpoints",
            &key,
            Some(json!({"url": x_signature.url(), "profile": "x-signature",
                        "event_types": ["payment.*"], "secret": format!("  {held}\n")})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        created["secret"], held,
        "kept as given, pasted whitespace dropped"
    );
    let id = created["id"].as_str().expect("id");
    let shown = app
        .get_ok(&key, &format!("/api/v1/endpoints/{id}/secret"))
        .await;
    assert_eq!(shown["secret"], held);
    // The standard profile with such a secret: Standard Webhooks signature
    // keyed with the text's bytes.
    let (status, created) = app
        .api(
            Method::POST,
            "/api/v1/endpoints",
            &key,
            Some(json!({"url": standard.url(), "event_types": ["payment.*"], "secret": held})),
        )
        .await;
    assert_eq!(status, 201, "{created}");

    let (status, _) = app
        .ingest(json!({"merchant_id": merchant, "type": "payment.succeeded",
                       "data": {"id": "pay_1", "amount": "5.00"}}))
        .await;
    assert_eq!(status, 202);
    let got = x_signature.wait_for(1, WAIT).await;
    assert_eq!(
        got[0].header("x-signature"),
        hex(&hmac_sha256(held.as_bytes(), &got[0].body))
    );
    assert_eq!(
        got[0].json()["type"],
        "payment.completed",
        "seed 001's name"
    );
    let got = standard.wait_for(1, WAIT).await;
    let signed = format!(
        "{}.{}.{}",
        got[0].header("webhook-id"),
        got[0].header("webhook-timestamp"),
        String::from_utf8_lossy(&got[0].body)
    );
    assert_eq!(
        got[0].header("webhook-signature"),
        format!(
            "v1,{}",
            STANDARD.encode(hmac_sha256(held.as_bytes(), signed.as_bytes()))
        )
    );

    // Bringing another one on update: it signs from now on.
    let newer = "whsec_not-base64-but-what-the-receiver-has";
    let (status, updated) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/endpoints/{id}"),
            &key,
            Some(json!({"secret": newer})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    let shown = app
        .get_ok(&key, &format!("/api/v1/endpoints/{id}/secret"))
        .await;
    assert_eq!(shown["secret"], newer);
    app.ingest(json!({"merchant_id": merchant, "type": "payment.failed",
                      "data": {"id": "pay_2"}}))
        .await;
    let got = x_signature.wait_for(2, WAIT).await;
    assert_eq!(
        got[1].header("x-signature"),
        hex(&hmac_sha256(newer.as_bytes(), &got[1].body))
    );
}

async fn bad_brought_secrets_and_keys_are_refused_naming_the_field(store: Store) {
    let app = TestApp::spawn(store).await;
    let (_, key) = app.merchant("Careful").await;
    let url = "https://example.com/hook";
    for (body, starts) in [
        (json!({"url": url, "secret": "   "}), "secret: is empty"),
        (
            json!({"url": url, "secret": "line\nbreak"}),
            "secret: holds a line break",
        ),
        (
            json!({"url": url, "secret": "x".repeat(257)}),
            "secret: is 257 characters long",
        ),
        (
            json!({"url": url, "profile": "paysecure", "secret": "abc"}),
            "secret: ",
        ),
        (
            json!({"url": url, "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"}),
            "private_key: ",
        ),
        (
            json!({"url": url, "profile": "paysecure", "private_key": "not a key"}),
            "private_key: expected a PEM private key",
        ),
        (
            json!({"url": url, "profile": "paysecure", "legacy_signature": true}),
            "legacy_signature: ",
        ),
        (json!({"url": url, "timeout": "0s"}), "timeout: "),
        (json!({"url": url, "timeout": "61s"}), "timeout: "),
        (json!({"url": url, "profile": "nope"}), "profile: "),
    ] {
        let (status, refused) = app
            .api(Method::POST, "/api/v1/endpoints", &key, Some(body.clone()))
            .await;
        assert_eq!(status, 422, "{body}: {refused}");
        assert_eq!(refused["error"]["code"], "validation_failed");
        let message = refused["error"]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with(starts), "{body}: {message}");
        assert!(
            !message.contains("line\nbreak") && !message.contains("xxxxxxxx"),
            "never echoes the secret: {message}"
        );
    }
    let listed = app.get_ok(&key, "/api/v1/endpoints").await;
    assert_eq!(listed["data"], json!([]), "nothing was created");
}

async fn operators_write_profiles_and_bundled_ones_are_read_only(store: Store) {
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Acme receiver").await;
    let (status, refused) = app
        .api(
            Method::PATCH,
            "/api/v1/admin/profiles/payvost",
            PLATFORM_TOKEN,
            Some(json!({"description": "mine now"})),
        )
        .await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("copy")));
    // Every broken rule in one answer, the first one's field first.
    let (status, refused) = app
        .api(
            Method::POST,
            "/api/v1/admin/profiles",
            PLATFORM_TOKEN,
            Some(
                json!({"name": "Acme Corp", "envelope": {"kind": "standard"},
                        "headers": {"user_agent": "bad\nagent"},
                        "signatures": [{"header": "X Acme", "algorithm": "hmac-sha256",
                                        "encoding": "hex", "signed": {"kind": "body"}}]}),
            ),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("name: "), "{message}");
    assert!(message.contains("; headers.user_agent: "), "{message}");
    assert!(message.contains("; signatures[0].header: "), "{message}");
    let (status, _) = app
        .api(
            Method::POST,
            "/api/v1/admin/profiles",
            &key,
            Some(json!({"name": "sneaky", "envelope": {"kind": "standard"}, "unsigned": true})),
        )
        .await;
    assert!(status == 401 || status == 403, "merchants cannot: {status}");

    let acme = json!({
        "name": "acme",
        "description": "ACME's receivers",
        "envelope": {"kind": "renamed", "fields": {"type": "event", "data": "payload", "previous_data": "before"}},
        "type_spelling": {"style": "upper_snake"},
        "headers": {"event_type": "X-Acme-Event", "user_agent": "Acme-Webhooks/2"},
        "signatures": [{"header": "X-Acme-Signature", "prefix": "sha256=", "algorithm": "hmac-sha256",
                        "encoding": "hex", "signed": {"kind": "body"}, "hmac_key": "text"}]
    });
    let (status, created) = app
        .api(
            Method::POST,
            "/api/v1/admin/profiles",
            PLATFORM_TOKEN,
            Some(acme.clone()),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["bundled"], false);
    let (status, _) = app
        .api(
            Method::POST,
            "/api/v1/admin/profiles",
            PLATFORM_TOKEN,
            Some(acme),
        )
        .await;
    assert_eq!(status, 409, "the name is taken");
    let (status, changed) = app
        .api(
            Method::PATCH,
            "/api/v1/admin/profiles/acme",
            PLATFORM_TOKEN,
            Some(
                json!({"headers": {"event_type": "X-Acme-Event", "user_agent": "Acme-Webhooks/3"}}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    let (status, refused) = app
        .api(
            Method::PATCH,
            "/api/v1/admin/profiles/acme",
            PLATFORM_TOKEN,
            Some(json!({"name": "acme-2"})),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    let listed = app.get_ok(&key, "/api/v1/profiles").await;
    assert!(listed["data"]
        .as_array()
        .expect("data")
        .iter()
        .any(|p| p["name"] == "acme" && p["algorithms"] == json!(["hmac-sha256"])));

    let receiver = TestReceiver::start().await;
    let (_, secret) = app
        .endpoint(&key, json!({"url": receiver.url(), "profile": "acme"}))
        .await;
    app.ingest(json!({"merchant_id": merchant, "type": "payin.succeeded",
                      "data": {"id": "pay_9"}, "previous_data": {"status": "pending"}}))
        .await;
    let got = receiver.wait_for(1, WAIT).await;
    assert_eq!(
        String::from_utf8_lossy(&got[0].body),
        r#"{"event":"PAYIN_SUCCEEDED","payload":{"id":"pay_9"},"before":{"status":"pending"}}"#
    );
    assert_eq!(got[0].header("x-acme-event"), "PAYIN_SUCCEEDED");
    assert_eq!(got[0].header("user-agent"), "Acme-Webhooks/3");
    assert_eq!(
        got[0].header("x-acme-signature"),
        format!(
            "sha256={}",
            hex(&hmac_sha256(secret.as_bytes(), &got[0].body))
        )
    );
    assert_eq!(
        got[0].header("webhook-signature"),
        "",
        "no Herald signature"
    );
    // In use, it keeps what it signs with: its endpoints hold HMAC keys.
    let (status, refused) = app
        .api(
            Method::PATCH,
            "/api/v1/admin/profiles/acme",
            PLATFORM_TOKEN,
            Some(
                json!({"signatures": [{"header": "X-Acme-Signature", "algorithm": "ed25519",
                                         "encoding": "base64", "signed": {"kind": "body"}}]}),
            ),
        )
        .await;
    assert_eq!(status, 409, "{refused}");
}

async fn a_single_signature_profile_rotates_without_breaking_the_receiver(store: Store) {
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Rotating").await;
    let receiver = TestReceiver::start().await;
    let (id, old) = app
        .endpoint(&key, json!({"url": receiver.url(), "profile": "payvost"}))
        .await;
    let rotate = format!("/api/v1/endpoints/{id}/secret/rotate");
    let (status, rotated) = app
        .api(
            Method::POST,
            &rotate,
            &key,
            Some(json!({"grace_period_s": 3600})),
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    // The old key still signs, alone; the new one is shown as `next`.
    assert_eq!(rotated["secret"], old.as_str());
    let next = rotated["next"]["secret"].as_str().expect("next").to_owned();
    assert_ne!(next, old);
    assert_eq!(
        rotated["next"]["signs_from"],
        rotated["previous_secret_expires_at"]
    );
    app.ingest(json!({"merchant_id": merchant, "type": "payment.succeeded", "data": {"id": "p1"}}))
        .await;
    let got = receiver.wait_for(1, WAIT).await;
    assert_eq!(
        got[0].header("payvost-signature"),
        hex(&hmac_sha256(old.as_bytes(), &got[0].body)),
        "one value, by the key the receiver holds"
    );
    // A grace period of 0 switches now.
    let (status, switched) = app
        .api(
            Method::POST,
            &rotate,
            &key,
            Some(json!({"grace_period_s": 0})),
        )
        .await;
    assert_eq!(status, 200, "{switched}");
    assert!(switched["next"].is_null(), "{switched}");
    let newest = switched["secret"].as_str().expect("secret").to_owned();
    assert_ne!(newest, old);
    app.ingest(json!({"merchant_id": merchant, "type": "payment.succeeded", "data": {"id": "p2"}}))
        .await;
    let got = receiver.wait_for(2, WAIT).await;
    assert_eq!(
        got[1].header("payvost-signature"),
        hex(&hmac_sha256(newest.as_bytes(), &got[1].body))
    );
}

async fn an_endpoint_timeout_lets_a_slow_receiver_answer(store: Store) {
    // The server's timeout is 2 s (test_config); the receiver takes 3 s.
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Patient").await;
    let patient = TestReceiver::start().await;
    let hasty = TestReceiver::start().await;
    for receiver in [&patient, &hasty] {
        receiver.always(Reply::status(200).after(Duration::from_secs(3)));
    }
    let (status, created) = app
        .api(
            Method::POST,
            "/api/v1/endpoints",
            &key,
            Some(json!({"url": patient.url(), "timeout": "6s"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["timeout"], "6s");
    let (hasty_endpoint, _) = app.endpoint(&key, json!({"url": hasty.url()})).await;
    let read = app
        .get_ok(&key, &format!("/api/v1/endpoints/{hasty_endpoint}"))
        .await;
    assert_eq!(read["timeout"], "2s", "the server's when none was chosen");

    let (_, accepted) = app
        .ingest(json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {"id": "p"}}))
        .await;
    let event = accepted["id"].as_str().expect("id");
    let patient_id = created["id"].as_str().expect("id");
    for (endpoint, ok) in [(patient_id, true), (hasty_endpoint.as_str(), false)] {
        let deliveries = app.deliveries_of(&key, event).await;
        let delivery = deliveries
            .iter()
            .find(|d| d["endpoint_id"] == endpoint)
            .expect("a delivery per endpoint");
        let id = delivery["id"].as_str().expect("id");
        let detail = app
            .wait_for_delivery(&key, id, WAIT, |d| {
                d["attempts"].as_array().is_some_and(|a| !a.is_empty())
            })
            .await;
        let first = &detail["attempts"][0];
        if ok {
            assert!(first["error_kind"].is_null(), "{detail:#}");
            assert_eq!(first["status_code"], 200, "{detail:#}");
        } else {
            assert_eq!(first["error_kind"], "timeout", "{detail:#}");
        }
    }
    // `null` goes back to the server's.
    let (status, updated) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/endpoints/{patient_id}"),
            &key,
            Some(json!({"timeout": null})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["timeout"], "2s");
}

async fn previous_data_must_be_an_object_and_standard_bodies_do_not_carry_it(store: Store) {
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Diffing").await;
    let receiver = TestReceiver::start().await;
    app.endpoint(&key, json!({"url": receiver.url()})).await;
    let (status, refused) = app
        .ingest(json!({"merchant_id": merchant, "type": "payin.succeeded",
                       "data": {"id": "p"}, "previous_data": "pending"}))
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["error"]["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("previous_data")));
    let (status, accepted) = app
        .ingest(json!({"merchant_id": merchant, "type": "payin.succeeded",
                       "data": {"id": "p"}, "previous_data": {"status": "pending"}}))
        .await;
    assert_eq!(status, 202, "{accepted}");
    let got = receiver.wait_for(1, WAIT).await;
    let text = String::from_utf8_lossy(&got[0].body).into_owned();
    assert!(text.starts_with(r#"{"id":"#), "{text}");
    assert!(text.ends_with(r#","data":{"id":"p"}}"#), "{text}");
    assert!(!text.contains("pending"), "{text}");
    assert_eq!(
        got[0].json().as_object().map(|o| o.len()),
        Some(5),
        "{text}"
    );
}

async fn switching_to_an_rsa_profile_gives_an_rsa_key(store: Store) {
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Switching").await;
    let receiver = TestReceiver::start().await;
    let (id, _) = app
        .endpoint(
            &key,
            json!({"url": receiver.url(), "event_types": ["purchase.*"]}),
        )
        .await;
    let (status, updated) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/endpoints/{id}"),
            &key,
            Some(json!({"profile": "paysecure"})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["profile"], "paysecure");
    let public = updated["rsa_public_key"]["base64"]
        .as_str()
        .expect("an RSA public key")
        .to_owned();
    let shown = app
        .get_ok(&key, &format!("/api/v1/endpoints/{id}/secret"))
        .await;
    assert!(shown["secret"].is_null(), "no HMAC secret: {shown}");
    assert_eq!(shown["public_key_base64"], public.as_str());
    let (status, refused) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/endpoints/{id}"),
            &key,
            Some(json!({"legacy_signature": true})),
        )
        .await;
    assert_eq!(status, 422, "{refused}");

    app.ingest(json!({"merchant_id": merchant, "type": "purchase.paid",
                      "data": {"purchaseId": "pur_1", "status": "PAID", "brandId": "b1"}}))
        .await;
    let got = receiver.wait_for(1, WAIT).await;
    assert_eq!(got[0].json()["purchaseId"], "pur_1", "the object itself");
    let signature = STANDARD
        .decode(got[0].header("paysecure-sign"))
        .expect("base64");
    assert!(verify_rsa_sha256(&public, b"pur_1|PAID|b1", &signature));
    assert_eq!(
        got[0].header("paysecure-sign"),
        got[0].header("paysecure_sign")
    );

    // Rotated with a grace period: the old key signs on, alone; the
    // endpoint shows it as the key in force and the new one as next.
    let (status, rotated) = app
        .api(
            Method::POST,
            &format!("/api/v1/endpoints/{id}/secret/rotate"),
            &key,
            Some(json!({"grace_period_s": 3600})),
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    assert_eq!(rotated["public_key_base64"], public.as_str());
    let next = rotated["next"]["public_key_base64"]
        .as_str()
        .expect("the next key")
        .to_owned();
    assert_ne!(next, public);
    let read = app.get_ok(&key, &format!("/api/v1/endpoints/{id}")).await;
    assert_eq!(read["rsa_public_key"]["base64"], public.as_str());
    assert_eq!(read["rsa_next_public_key"]["base64"], next.as_str());
    assert_eq!(
        read["rsa_next_public_key"]["signs_from"],
        rotated["next"]["signs_from"]
    );
    app.ingest(json!({"merchant_id": merchant, "type": "purchase.paid",
                      "data": {"purchaseId": "pur_2", "status": "PAID", "brandId": "b1"}}))
        .await;
    let got = receiver.wait_for(2, WAIT).await;
    let signature = STANDARD
        .decode(got[1].header("paysecure-sign"))
        .expect("base64");
    assert!(verify_rsa_sha256(&public, b"pur_2|PAID|b1", &signature));
    assert!(!verify_rsa_sha256(&next, b"pur_2|PAID|b1", &signature));
}

async fn callbacks_are_sent_in_the_merchants_chosen_hmac_profile(store: Store) {
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Callback profile").await;
    let (other, other_key) = app.merchant("Standard callbacks").await;
    let callback = TestReceiver::start().await;
    let other_callback = TestReceiver::start().await;
    let settings = "/api/v1/callback-settings";
    assert_eq!(
        app.get_ok(&key, settings).await,
        json!({"profile": "standard"})
    );

    // Only profiles the callback secret (an HMAC key) can sign: refused
    // with the field and the reason, and nothing changes.
    for (profile, says) in [
        ("paysecure", "rsa-sha256"),
        ("no-such-profile", "no delivery profile"),
    ] {
        let (status, refused) = app
            .api(
                Method::PATCH,
                settings,
                &key,
                Some(json!({"profile": profile})),
            )
            .await;
        assert_eq!(status, 422, "{refused}");
        let message = refused["error"]["message"].as_str().expect("message");
        assert!(
            message.contains("profile") && message.contains(says),
            "{refused}"
        );
    }
    assert_eq!(app.get_ok(&key, settings).await["profile"], "standard");

    let (status, changed) = app
        .api(
            Method::PATCH,
            settings,
            &key,
            Some(json!({"profile": "payvost"})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed, json!({"profile": "payvost"}));
    assert_eq!(app.get_ok(&key, settings).await["profile"], "payvost");
    let secret = app.get_ok(&key, "/api/v1/callback-secret").await["secret"]
        .as_str()
        .expect("secret")
        .to_owned();

    let send = |merchant: String, to: String, reference: &'static str| {
        json!({"merchant_id": merchant, "type": "payin.succeeded",
               "data": {"clientTransactionId": reference}, "callback_url": to})
    };
    let (status, _) = app
        .ingest(send(merchant.to_string(), callback.url(), "pay_one"))
        .await;
    assert_eq!(status, 202);
    let got = callback.wait_for(1, WAIT).await;
    let body: serde_json::Value = serde_json::from_slice(&got[0].body).expect("JSON body");
    assert_eq!(body["data"]["clientTransactionId"], "pay_one");
    assert!(
        body.get("createdAt").is_some(),
        "payvost's envelope: {body}"
    );
    assert_eq!(
        got[0].header("payvost-signature"),
        hex(&hmac_sha256(secret.as_bytes(), &got[0].body)),
        "hex HMAC-SHA256 of the body with the callback secret's text"
    );
    assert!(got[0].headers.get("webhook-signature").is_none());

    // A rotation: one signature header, so the old secret signs alone until
    // its grace period ends, as for an endpoint in this profile.
    let (status, rotated) = app
        .api(
            Method::POST,
            "/api/v1/callback-secret/rotate",
            &key,
            Some(json!({"grace_period_s": 3600})),
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    app.ingest(send(merchant.to_string(), callback.url(), "pay_two"))
        .await;
    let got = callback.wait_for(2, WAIT).await;
    assert_eq!(
        got[1].header("payvost-signature"),
        hex(&hmac_sha256(secret.as_bytes(), &got[1].body)),
        "the receiver's secret keeps verifying during the grace period"
    );

    // Another merchant's callbacks are untouched: Standard Webhooks.
    app.ingest(send(other.to_string(), other_callback.url(), "pay_other"))
        .await;
    let got = other_callback.wait_for(1, WAIT).await;
    assert!(got[0].header("webhook-signature").starts_with("v1,"));
    assert!(got[0].headers.get("payvost-signature").is_none());
    assert_eq!(
        app.get_ok(&other_key, settings).await["profile"],
        "standard"
    );

    // And back: `standard` signs with HMAC (or Ed25519), so it is allowed.
    let (status, back) = app
        .api(
            Method::PATCH,
            settings,
            &key,
            Some(json!({"profile": "standard"})),
        )
        .await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(app.get_ok(&key, settings).await["profile"], "standard");
}
