//! What merchants coming from other providers verify and decrypt with:
//! Ed25519 signatures (Standard Webhooks `v1a`, public key `whpk_`) and
//! AES-256-CBC payload encryption. The independent implementation on the
//! receiving side is the `openssl` command line, not Herald's own code.

use crate::both_backends;
use crate::helpers::TestApp;
use crate::receiver::{Received, TestReceiver};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use herald::store::Store;
use reqwest::Method;
use serde_json::{json, Value};
use standardwebhooks::Webhook;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

both_backends!(
    ed25519_deliveries_verify_with_the_public_key_alone,
    changing_the_scheme_signs_with_both_keys_during_the_grace_period,
    encrypted_deliveries_decrypt_with_the_endpoint_key,
    signing_options_that_cannot_go_together_are_refused,
);

const WAIT: Duration = Duration::from_secs(10);

/// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the 32
/// key bytes follow it.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

fn openssl(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command line (Debian package openssl) verifies what Herald sends")
}

/// Whether `openssl pkeyutl` verifies `signature` (base64) of `message`
/// with the `whpk_…` public key.
fn openssl_verifies_ed25519(public_key: &str, message: &[u8], signature: &str) -> bool {
    let dir = tempfile::tempdir().expect("temp dir");
    let raw = STANDARD
        .decode(public_key.strip_prefix("whpk_").expect("whpk_ prefix"))
        .expect("base64 public key");
    let der = [ED25519_SPKI_PREFIX.as_slice(), &raw].concat();
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        STANDARD.encode(der)
    );
    std::fs::write(dir.path().join("key.pem"), pem).expect("write key");
    std::fs::write(dir.path().join("message"), message).expect("write message");
    std::fs::write(
        dir.path().join("signature"),
        STANDARD.decode(signature).expect("base64 signature"),
    )
    .expect("write signature");
    let out = openssl(
        &[
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            "key.pem",
            "-rawin",
            "-in",
            "message",
            "-sigfile",
            "signature",
        ],
        dir.path(),
    );
    out.status.success()
}

/// The `v1a,` signatures of a delivery, verified one by one with openssl.
fn v1a_signatures(got: &Received) -> Vec<String> {
    got.header("webhook-signature")
        .split_whitespace()
        .filter_map(|s| s.strip_prefix("v1a,"))
        .map(str::to_owned)
        .collect()
}

/// `{id}.{timestamp}.{body}`, what Standard Webhooks signs.
fn signed_content(got: &Received) -> Vec<u8> {
    let mut message = format!(
        "{}.{}.",
        got.header("webhook-id"),
        got.header("webhook-timestamp")
    )
    .into_bytes();
    message.extend_from_slice(&got.body);
    message
}

async fn endpoint_keys(app: &TestApp, key: &str, endpoint: &str) -> Value {
    let (status, keys) = app
        .api(
            Method::GET,
            &format!("/api/v1/endpoints/{endpoint}/secret"),
            key,
            None,
        )
        .await;
    assert_eq!(status, 200, "{keys}");
    keys
}

/// Creates an endpoint with `fields`; its JSON, keys included.
async fn created_endpoint(app: &TestApp, key: &str, fields: Value) -> Value {
    let (status, created) = app
        .api(Method::POST, "/api/v1/endpoints", key, Some(fields))
        .await;
    assert_eq!(status, 201, "{created}");
    created
}

async fn ed25519_deliveries_verify_with_the_public_key_alone(store: Store) {
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Ed25519").await;
    let receiver = TestReceiver::start().await;
    let created = created_endpoint(
        &app,
        &key,
        json!({"url": receiver.url(), "signature_scheme": "ed25519"}),
    )
    .await;
    assert_eq!(created["signature_scheme"], "ed25519");
    let whpk = created["public_key"]
        .as_str()
        .expect("public_key")
        .to_owned();
    assert!(whpk.starts_with("whpk_"), "{created}");
    assert!(
        created.get("secret").is_none(),
        "no shared secret: {created}"
    );
    let endpoint = created["id"].as_str().expect("id").to_owned();
    let keys = endpoint_keys(&app, &key, &endpoint).await;
    assert_eq!(keys, json!({"public_key": whpk}));

    app.ingest(
        json!({"merchant_id": merchant, "type": "payout.failed", "data": {"payout_id": "po_1"}}),
    )
    .await;
    let got = receiver.wait_for(1, WAIT).await;
    let signatures = v1a_signatures(&got[0]);
    assert_eq!(
        signatures.len(),
        1,
        "{}",
        got[0].header("webhook-signature")
    );
    assert!(openssl_verifies_ed25519(
        &whpk,
        &signed_content(&got[0]),
        &signatures[0]
    ));
    // The same signature over another body does not verify.
    let mut forged = signed_content(&got[0]);
    forged.push(b' ');
    assert!(!openssl_verifies_ed25519(&whpk, &forged, &signatures[0]));

    // Rotation works as for HMAC: both public keys' signatures during the grace period.
    let (status, rotated) = app
        .api(
            Method::POST,
            &format!("/api/v1/endpoints/{endpoint}/secret/rotate"),
            &key,
            Some(json!({"grace_period_s": 3600})),
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    let new_whpk = rotated["public_key"]
        .as_str()
        .expect("public_key")
        .to_owned();
    assert_ne!(new_whpk, whpk);
    assert!(
        rotated["previous_secret_expires_at"].is_string(),
        "{rotated}"
    );
    // And the grace period's end is still there when asked again later.
    let keys = endpoint_keys(&app, &key, &endpoint).await;
    assert_eq!(keys["public_key"], new_whpk.as_str());
    assert_eq!(
        keys["previous_secret_expires_at"],
        rotated["previous_secret_expires_at"]
    );

    app.ingest(json!({"merchant_id": merchant, "type": "payout.failed", "data": {}}))
        .await;
    let got = receiver.wait_for(2, WAIT).await;
    let signatures = v1a_signatures(&got[1]);
    assert_eq!(
        signatures.len(),
        2,
        "{}",
        got[1].header("webhook-signature")
    );
    let content = signed_content(&got[1]);
    assert!(openssl_verifies_ed25519(
        &new_whpk,
        &content,
        &signatures[0]
    ));
    assert!(openssl_verifies_ed25519(&whpk, &content, &signatures[1]));
    assert!(!openssl_verifies_ed25519(&whpk, &content, &signatures[0]));
    app.stop().await;
}

async fn changing_the_scheme_signs_with_both_keys_during_the_grace_period(store: Store) {
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Switch").await;
    let receiver = TestReceiver::start().await;
    let (endpoint, secret) = app.endpoint(&key, json!({"url": receiver.url()})).await;
    let (status, updated) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/endpoints/{endpoint}"),
            &key,
            Some(json!({"signature_scheme": "ed25519"})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["signature_scheme"], "ed25519");
    let keys = endpoint_keys(&app, &key, &endpoint).await;
    let whpk = keys["public_key"].as_str().expect("public_key").to_owned();
    assert!(keys["previous_secret_expires_at"].is_string(), "{keys}");

    app.ingest(json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {}}))
        .await;
    let got = receiver.wait_for(1, WAIT).await;
    // A receiver still on the HMAC secret keeps verifying with its library...
    Webhook::new(&secret)
        .expect("secret")
        .verify(&got[0].body, &got[0].headers)
        .expect("the old HMAC secret still verifies during the grace period");
    // ...and one already on the public key verifies the v1a signature.
    let signatures = v1a_signatures(&got[0]);
    assert_eq!(signatures.len(), 1);
    assert!(openssl_verifies_ed25519(
        &whpk,
        &signed_content(&got[0]),
        &signatures[0]
    ));
    app.stop().await;
}

/// Decrypts `data` (base64) with `openssl enc -d -aes-256-cbc`.
fn openssl_decrypts(key: &str, iv: &str, data: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temp dir");
    let hex = |b64: &str| -> String {
        STANDARD
            .decode(b64)
            .expect("base64")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    std::fs::write(
        dir.path().join("data"),
        STANDARD.decode(data).expect("base64 data"),
    )
    .expect("write data");
    let out = openssl(
        &[
            "enc",
            "-d",
            "-aes-256-cbc",
            "-in",
            "data",
            "-K",
            &hex(key),
            "-iv",
            &hex(iv),
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "openssl could not decrypt: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

async fn encrypted_deliveries_decrypt_with_the_endpoint_key(store: Store) {
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Encrypted").await;
    let receiver = TestReceiver::start().await;
    let created = created_endpoint(
        &app,
        &key,
        json!({"url": receiver.url(), "encryption": "aes-256-cbc"}),
    )
    .await;
    assert_eq!(created["encryption"], "aes-256-cbc");
    let secret = created["secret"].as_str().expect("secret").to_owned();
    let encryption_key = created["encryption_key"]
        .as_str()
        .expect("encryption_key shown at creation")
        .to_owned();
    let endpoint = created["id"].as_str().expect("id").to_owned();
    let keys = endpoint_keys(&app, &key, &endpoint).await;
    assert_eq!(
        keys,
        json!({"secret": secret, "encryption_key": encryption_key})
    );

    let (_, event) = app
        .ingest(json!({"merchant_id": merchant, "type": "payout.succeeded",
            "data": {"payout_id": "po_9", "amount": "10000.00", "note": "café"}}))
        .await;
    let got = receiver.wait_for(1, WAIT).await;
    // What is sent is signed: the receiver verifies first, then decrypts.
    Webhook::new(&secret)
        .expect("secret")
        .verify(&got[0].body, &got[0].headers)
        .expect("the signature covers the encrypted body");
    let sent: Value = serde_json::from_slice(&got[0].body).expect("JSON body");
    let fields: Vec<&str> = sent
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(fields, ["data", "iv"], "{sent}");
    assert!(!String::from_utf8_lossy(&got[0].body).contains("po_9"));
    let plain = openssl_decrypts(
        &encryption_key,
        sent["iv"].as_str().expect("iv"),
        sent["data"].as_str().expect("data"),
    );
    let envelope: Value = serde_json::from_slice(&plain).expect("the envelope, decrypted");
    assert_eq!(envelope["id"], event["id"]);
    assert_eq!(envelope["type"], "payout.succeeded");
    assert_eq!(
        envelope["data"],
        json!({"payout_id": "po_9", "amount": "10000.00", "note": "café"})
    );

    // Turned off: the next delivery is the plain envelope, and the key is gone.
    let (status, updated) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/endpoints/{endpoint}"),
            &key,
            Some(json!({"encryption": null})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["encryption"], Value::Null);
    assert!(endpoint_keys(&app, &key, &endpoint).await["encryption_key"].is_null());
    app.ingest(json!({"merchant_id": merchant, "type": "payout.succeeded", "data": {"payout_id": "po_10"}}))
        .await;
    let got = receiver.wait_for(2, WAIT).await;
    let sent: Value = serde_json::from_slice(&got[1].body).expect("JSON body");
    assert_eq!(sent["data"]["payout_id"], "po_10");

    // On again within the grace period (a day): the same key, so the
    // receiver that kept it still decrypts (#19).
    let (status, _) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/endpoints/{endpoint}"),
            &key,
            Some(json!({"encryption": "aes-256-cbc"})),
        )
        .await;
    assert_eq!(status, 200);
    let again = endpoint_keys(&app, &key, &endpoint).await;
    assert_eq!(
        again["encryption_key"].as_str(),
        Some(encryption_key.as_str())
    );
    app.ingest(json!({"merchant_id": merchant, "type": "payout.succeeded", "data": {"payout_id": "po_11"}}))
        .await;
    let got = receiver.wait_for(3, WAIT).await;
    let sent: Value = serde_json::from_slice(&got[2].body).expect("JSON body");
    let plain = openssl_decrypts(
        &encryption_key,
        sent["iv"].as_str().expect("iv"),
        sent["data"].as_str().expect("data"),
    );
    let envelope: Value = serde_json::from_slice(&plain).expect("decrypted with the kept key");
    assert_eq!(envelope["data"]["payout_id"], "po_11");
    app.stop().await;
}

async fn signing_options_that_cannot_go_together_are_refused(store: Store) {
    let app = TestApp::spawn(store).await;
    let (_, key) = app.merchant("Refused").await;
    let receiver = TestReceiver::start().await;
    for (body, field) in [
        (
            json!({"url": receiver.url(), "signature_scheme": "ed25519", "legacy_signature": true}),
            "legacy_signature",
        ),
        (
            json!({"url": receiver.url(), "signature_scheme": "rsa"}),
            "signature_scheme",
        ),
        (
            json!({"url": receiver.url(), "encryption": "aes-128-ecb"}),
            "encryption",
        ),
    ] {
        let (status, error) = app
            .api(Method::POST, "/api/v1/endpoints", &key, Some(body.clone()))
            .await;
        assert!(status == 422 || status == 400, "{body}: {status} {error}");
        let message = error["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(field), "{body}: {message}");
    }
    let (_, list) = app.api(Method::GET, "/api/v1/endpoints", &key, None).await;
    assert_eq!(
        list["data"].as_array().map(Vec::len),
        Some(0),
        "nothing created"
    );

    // Switching an HMAC endpoint with the legacy header to Ed25519 is refused
    // too, and leaves it as it was.
    let (endpoint, secret) = app
        .endpoint(
            &key,
            json!({"url": receiver.url(), "legacy_signature": true}),
        )
        .await;
    let (status, error) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/endpoints/{endpoint}"),
            &key,
            Some(json!({"signature_scheme": "ed25519"})),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    let keys = endpoint_keys(&app, &key, &endpoint).await;
    assert_eq!(keys, json!({"secret": secret}));
    app.stop().await;
}
