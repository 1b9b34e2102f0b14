//! Issue #19's "done when": a real delivery per bundled profile, to a
//! receiver on loopback, accepted by the seed's OWN verification code in
//! the seed's language (tests/fixtures/seed_verifiers/, copied verbatim from
//! shared/seeds/; only the secret's source and the I/O harness are ours):
//! seed 002's Node, Python and PHP; seed 003's Node; seed 004's Java
//! SHA256withRSA for a pay-in and a payout (the payout's key imported); and
//! the envelope shapes of seeds 000 and 002. A missing interpreter fails the
//! test with its name (scripts/test.sh installs them).

use crate::both_backends;
use crate::helpers::{TestApp, PLATFORM_TOKEN};
use crate::receiver::{Received, TestReceiver};
use herald::crypto::rsa_key::RsaSigningKey;
use herald::store::Store;
use reqwest::Method;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

both_backends!(
    payvost_deliveries_pass_the_seeds_node_python_and_php_verifiers,
    paywize_deliveries_pass_the_seeds_node_verifier,
    paysecure_pay_ins_and_payouts_pass_the_seeds_java_verifier,
    event_envelope_deliveries_have_the_seeds_shape,
    profiles_are_listed_and_bad_ones_refused_naming_the_field,
);

const WAIT: Duration = Duration::from_secs(15);

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/seed_verifiers")
        .join(name)
}

/// Runs a seed's verifier; its standard output when it accepts. A missing
/// tool is a failure that names it and the Debian package that has it.
fn verify_with(tool: &str, package: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let output = Command::new(tool)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "`{tool}` is needed to run the seed's own verification code ({e}); \
                 install it (Debian: apt-get install {package}; scripts/test.sh does)"
            )
        });
    assert!(
        output.status.success(),
        "the seed's {tool} code refused Herald's delivery: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The delivered body and one header, as files a verifier reads.
fn request_files(dir: &Path, got: &Received, header: &str) -> (String, String) {
    let body = dir.join("body");
    let signature = dir.join(format!("{header}.sig"));
    std::fs::write(&body, &got.body).expect("write body");
    std::fs::write(&signature, got.header(header)).expect("write signature");
    (
        body.to_string_lossy().into_owned(),
        signature.to_string_lossy().into_owned(),
    )
}

async fn payvost_deliveries_pass_the_seeds_node_python_and_php_verifiers(store: Store) {
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Payvost receiver").await;
    let receiver = TestReceiver::start().await;
    let (_, secret) = app
        .endpoint(&key, json!({"url": receiver.url(), "profile": "payvost"}))
        .await;
    let (status, _) = app
        .ingest(json!({
            "merchant_id": merchant, "type": "payment.succeeded",
            "data": {"id": "pay_123456789", "amount": "99.99", "status": "succeeded"},
            "previous_data": {"status": "pending"}
        }))
        .await;
    assert_eq!(status, 202);
    let got = receiver.wait_for(1, WAIT).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (body, signature) = request_files(dir.path(), &got[0], "payvost-signature");
    let env = [("WEBHOOK_SECRET", secret.as_str())];

    let node = verify_with(
        "node",
        "nodejs",
        &[
            &fixture("payvost_node.js").to_string_lossy(),
            &body,
            &signature,
        ],
        &env,
    );
    let python = verify_with(
        "python3",
        "python3",
        &[
            &fixture("payvost_python.py").to_string_lossy(),
            &body,
            &signature,
        ],
        &env,
    );
    let php = verify_with(
        "php",
        "php-cli",
        &[
            &fixture("payvost_php.php").to_string_lossy(),
            &body,
            &signature,
        ],
        &env,
    );
    for (language, event) in [("node", node), ("python", python), ("php", php)] {
        let event: Value = serde_json::from_str(&event).expect("the verifier's event");
        assert_eq!(event["type"], "payment.succeeded", "{language}");
        assert_eq!(event["data"]["id"], "pay_123456789", "{language}");
        assert_eq!(event["previousData"]["status"], "pending", "{language}");
    }
    // A tampered body is refused by the same code.
    std::fs::write(dir.path().join("body"), b"{\"id\":\"evt_forged\"}").expect("write");
    let refused = Command::new("node")
        .args([
            &fixture("payvost_node.js").to_string_lossy(),
            &body as &str,
            &signature,
        ])
        .env("WEBHOOK_SECRET", &secret)
        .output()
        .expect("node");
    assert!(!refused.status.success(), "a forged body must not verify");
}

async fn paywize_deliveries_pass_the_seeds_node_verifier(store: Store) {
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Paywize receiver").await;
    let receiver = TestReceiver::start().await;
    // A receiver that already holds its secret brings it along.
    let held = herald::crypto::signing::SigningSecret::generate().expose();
    let (status, created) = app
        .api(
            Method::POST,
            "/api/v1/endpoints",
            &key,
            Some(json!({"url": receiver.url(), "profile": "paywize", "secret": held, "timeout": "30s"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["secret"], held.as_str());
    assert_eq!(created["timeout"], "30s");
    assert_eq!(created["profile"], "paywize");
    app.ingest(json!({
        "merchant_id": merchant, "type": "payout.succeeded",
        "data": {"transaction_id": "CBP123456789", "amount": "10000.00", "status": "COMPLETED"}
    }))
    .await;
    let got = receiver.wait_for(1, WAIT).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (body, signature) = request_files(dir.path(), &got[0], "x-paywize-signature");
    let accepted = verify_with(
        "node",
        "nodejs",
        &[
            &fixture("paywize_node.js").to_string_lossy(),
            &body,
            &signature,
        ],
        &[("WEBHOOK_SECRET", held.as_str())],
    );
    let payload: Value = serde_json::from_str(&accepted).expect("payload");
    assert_eq!(payload["event_type"], "payout_status_change");
    assert_eq!(payload["transaction_id"], "CBP123456789");
    assert_eq!(got[0].header("x-paywize-event"), "payout_status_change");
    assert_eq!(
        got[0].header("user-agent"),
        "Paywize-ConnectedBanking-Webhook/1.0"
    );
    assert!(got[0]
        .header("x-paywize-timestamp")
        .chars()
        .all(|c| c.is_ascii_digit()));
}

async fn paysecure_pay_ins_and_payouts_pass_the_seeds_java_verifier(store: Store) {
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Paysecure receiver").await;
    let pay_ins = TestReceiver::start().await;
    let payouts = TestReceiver::start().await;
    // Pay-ins: a key Herald generates. Payouts: the merchant's own key.
    let (status, pay_in_endpoint) = app
        .api(
            Method::POST,
            "/api/v1/endpoints",
            &key,
            Some(json!({"url": pay_ins.url(), "profile": "paysecure", "event_types": ["purchase.*"]})),
        )
        .await;
    assert_eq!(status, 201, "{pay_in_endpoint}");
    let imported = RsaSigningKey::generate().expect("an RSA key");
    let (status, payout_endpoint) = app
        .api(
            Method::POST,
            "/api/v1/endpoints",
            &key,
            Some(
                json!({"url": payouts.url(), "profile": "paysecure", "event_types": ["payout.*"],
                        "private_key": imported.expose()}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{payout_endpoint}");
    assert_eq!(
        payout_endpoint["public_key_base64"],
        imported.public_key_base64().as_str(),
        "the imported key's public half is shown"
    );
    let id = pay_in_endpoint["id"].as_str().expect("id");
    let shown = app
        .get_ok(&key, &format!("/api/v1/endpoints/{id}/secret"))
        .await;
    assert!(shown["public_key"]
        .as_str()
        .is_some_and(|pem| pem.starts_with("-----BEGIN PUBLIC KEY-----")));
    let read = app.get_ok(&key, &format!("/api/v1/endpoints/{id}")).await;
    assert_eq!(read["rsa_public_key"]["base64"], shown["public_key_base64"]);

    app.ingest(json!({
        "merchant_id": merchant, "type": "purchase.paid",
        "data": {"purchaseId": "pur_42", "status": "PAID", "brandId": "brand_7", "amount": 1250}
    }))
    .await;
    app.ingest(json!({
        "merchant_id": merchant, "type": "payout.succeeded",
        "data": {"payoutId": "po_9", "status": "SUCCESS"}
    }))
    .await;
    let java = fixture("PaysecureVerify.java");
    let java = java.to_string_lossy();
    for (receiver, public_key, kind) in [
        (
            &pay_ins,
            shown["public_key_base64"].as_str().expect("key").to_owned(),
            "payin",
        ),
        (&payouts, imported.public_key_base64(), "payout"),
    ] {
        let got = receiver.wait_for(1, WAIT).await;
        let data: Value = serde_json::from_slice(&got[0].body).expect("the object itself");
        let text = |field: &str| data[field].as_str().expect("field").to_owned();
        let fields: Vec<String> = match kind {
            "payin" => vec![text("purchaseId"), text("status"), text("brandId")],
            _ => vec![text("payoutId"), text("status")],
        };
        let dir = tempfile::tempdir().expect("temp dir");
        for header in ["paysecure-sign", "paysecure_sign"] {
            let (_, signature) = request_files(dir.path(), &got[0], header);
            let mut args: Vec<&str> = vec![&java, &signature, kind];
            args.extend(fields.iter().map(String::as_str));
            let message = verify_with(
                "java",
                "default-jdk-headless",
                &args,
                &[("PAYSECURE_PUBLIC_KEY", public_key.as_str())],
            );
            assert_eq!(message, fields.join("|"), "{kind} via {header}");
        }
    }
}

async fn event_envelope_deliveries_have_the_seeds_shape(store: Store) {
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Envelope receiver").await;
    let seed_000 = TestReceiver::start().await;
    let seed_002 = TestReceiver::start().await;
    app.endpoint(
        &key,
        json!({"url": seed_000.url(), "profile": "event-envelope", "event_types": ["payin.*"]}),
    )
    .await;
    app.endpoint(
        &key,
        json!({"url": seed_002.url(), "profile": "payvost", "event_types": ["payin.*"]}),
    )
    .await;
    let (_, accepted) = app
        .ingest(json!({
            "merchant_id": merchant, "type": "payin.succeeded",
            "data": {"clientTransactionId": "pay_123456789", "status": "success", "statusCode": 1}
        }))
        .await;
    let keys = |got: &Received| -> Vec<String> {
        let body: serde_json::Map<String, Value> =
            serde_json::from_slice(&got.body).expect("a JSON object");
        body.keys().cloned().collect()
    };
    // Seed 000: {"event":"PAYIN_SUCCESS","timestamp":"2024-08-15T14:30:00Z","data":{…}}.
    let got = seed_000.wait_for(1, WAIT).await;
    let text = String::from_utf8_lossy(&got[0].body).into_owned();
    assert!(
        text.starts_with(r#"{"event":"PAYIN_SUCCESS","timestamp":""#),
        "{text}"
    );
    let body: Value = serde_json::from_slice(&got[0].body).expect("json");
    assert_eq!(keys(&got[0]).len(), 3, "{text}");
    assert!(chrono::DateTime::parse_from_rfc3339(body["timestamp"].as_str().expect("ts")).is_ok());
    assert_eq!(body["data"]["clientTransactionId"], "pay_123456789");
    // Seed 002: id, type, createdAt, liveMode, data, previousData, in that order.
    let got = seed_002.wait_for(1, WAIT).await;
    let text = String::from_utf8_lossy(&got[0].body).into_owned();
    assert!(
        text.starts_with(&format!(
            r#"{{"id":"{}","type":"payin.succeeded","createdAt":""#,
            accepted["id"].as_str().expect("id")
        )),
        "{text}"
    );
    assert!(text.contains(r#","liveMode":true,"data":{"#), "{text}");
    assert!(text.ends_with(r#","previousData":null}"#), "{text}");
}

async fn profiles_are_listed_and_bad_ones_refused_naming_the_field(store: Store) {
    let app = TestApp::spawn(store).await;
    let (_, key) = app.merchant("Chooser").await;
    let listed = app.get_ok(&key, "/api/v1/profiles").await;
    let names: Vec<&str> = listed["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for bundled in [
        "event-envelope",
        "paysecure",
        "paywize",
        "payvost",
        "standard",
        "x-signature",
    ] {
        assert!(names.contains(&bundled), "{bundled} in {names:?}");
    }
    let (status, refused) = app
        .api(
            Method::POST,
            "/api/v1/admin/profiles",
            PLATFORM_TOKEN,
            Some(json!({"name": "mine", "envelope": {"kind": "standard"},
                        "signatures": [{"header": "Content-Length", "algorithm": "hmac-sha256",
                                        "encoding": "hex", "signed": {"kind": "body"}}]})),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["error"]["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("signatures[0].header")));
    let (status, refused) = app
        .api(
            Method::POST,
            "/api/v1/endpoints",
            &key,
            Some(json!({"url": "https://example.com/hook", "profile": "nope", "timeout": "61s"})),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    let (status, refused) = app
        .api(
            Method::POST,
            "/api/v1/endpoints",
            &key,
            Some(json!({"url": "https://example.com/hook", "profile": "nope"})),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["error"]["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("profile")));
    let egress = app.get_ok(&key, "/api/v1/egress").await;
    assert_eq!(egress["addresses"], json!([]));
}
