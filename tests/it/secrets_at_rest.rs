//! Signing secrets sealed at rest with HERALD_SECRET_KEY: what the database
//! holds, that deliveries still verify, and re-sealing after a key change.

use crate::both_backends;
use crate::helpers::{insert_unchecked_endpoint, raw_texts, test_config, TestApp};
use crate::receiver::TestReceiver;
use herald::config::{SecretKeys, SecretString};
use herald::crypto::secret_box::{endpoint_row, merchant_row, SecretBox};
use herald::service::secrets_at_rest::{reseal_secrets, ResealReport};
use herald::store::{SecretColumn, Store, StoredSecret};
use reqwest::Method;
use serde_json::json;
use standardwebhooks::Webhook;
use std::time::Duration;

both_backends!(
    secrets_are_sealed_in_the_database_and_deliveries_verify,
    plain_secrets_are_sealed_by_a_reseal_run,
    custom_header_values_are_sealed_at_rest_and_masked_in_attempts,
    plain_header_values_from_before_keep_working_until_resealed,
);

const KEY_A: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const KEY_B: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
const WAIT: Duration = Duration::from_secs(10);

fn sealed_with(key: &str, previous: &[&str]) -> SecretBox {
    SecretBox::new(Some(key), previous).expect("key")
}

async fn stored(store: &Store, row: &str, column: SecretColumn) -> StoredSecret {
    store
        .stored_secrets()
        .await
        .expect("stored secrets")
        .into_iter()
        .find(|s| s.row_id == row && s.column == column)
        .unwrap_or_else(|| panic!("no {column:?} stored for {row}"))
}

/// The whsec_ part that identifies a secret, to look for it in stored text.
fn key_text(secret: &str) -> &str {
    secret.trim_start_matches("whsec_")
}

async fn secrets_are_sealed_in_the_database_and_deliveries_verify(store: Store) {
    let mut config = test_config();
    config.secret_keys = SecretKeys {
        secret_key: Some(SecretString::new(KEY_A.into())),
        secret_key_previous: Vec::new(),
    };
    let app = TestApp::spawn_with(store, config).await;
    let (merchant, key) = app.merchant("Sealed").await;
    let receiver = TestReceiver::start().await;
    let (endpoint, first_secret) = app.endpoint(&key, json!({"url": receiver.url()})).await;

    // The database holds ciphertext, bound to the endpoint's row.
    let current = stored(&app.store, &endpoint, SecretColumn::EndpointCurrent).await;
    assert!(
        current.stored.starts_with("sealed:v1:"),
        "{}",
        current.stored
    );
    assert!(!current.stored.contains(key_text(&first_secret)));
    let row = endpoint_row(&endpoint);
    assert_eq!(
        sealed_with(KEY_A, &[]).open(&current.stored, &row).unwrap(),
        first_secret
    );

    // The merchant still sees the secret, and it still verifies what arrives.
    let (status, shown) = app
        .api(
            Method::GET,
            &format!("/api/v1/endpoints/{endpoint}/secret"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["secret"], first_secret.as_str());

    // Rotation seals the new secret and keeps the old one sealed beside it.
    let (status, rotated) = app
        .api(
            Method::POST,
            &format!("/api/v1/endpoints/{endpoint}/secret/rotate"),
            &key,
            Some(json!({"grace_period_s": 3600})),
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    let second_secret = rotated["secret"].as_str().expect("secret").to_owned();
    let previous = stored(&app.store, &endpoint, SecretColumn::EndpointPrevious).await;
    assert!(previous.stored.starts_with("sealed:v1:"));
    assert!(!previous.stored.contains(key_text(&first_secret)));

    let (status, _) = app
        .ingest(json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {"n": 1}}))
        .await;
    assert_eq!(status, 202);
    // A one-off callback: the merchant's callback secret is sealed too.
    let callback = TestReceiver::start().await;
    let (status, _) = app
        .ingest(
            json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {"n": 2},
                       "callback_url": callback.url()}),
        )
        .await;
    assert_eq!(status, 202);
    let got = receiver.wait_for(1, WAIT).await;
    for secret in [&first_secret, &second_secret] {
        Webhook::new(secret)
            .expect("secret")
            .verify(&got[0].body, &got[0].headers)
            .expect("both secrets verify during the grace period");
    }
    callback.wait_for(1, WAIT).await;
    let merchant_id = merchant.to_string();
    let callback_secret = stored(&app.store, &merchant_id, SecretColumn::MerchantCallback).await;
    assert!(callback_secret.stored.starts_with("sealed:v1:"));

    // Key rotation: re-seal everything under B; B alone then opens it all.
    let rotated_keys = sealed_with(KEY_B, &[KEY_A]);
    let report = reseal_secrets(&app.store, &rotated_keys)
        .await
        .expect("reseal");
    assert_eq!(report.resealed, 3, "{report:?}");
    assert_eq!(report.raced, 0);
    let only_b = sealed_with(KEY_B, &[]);
    let current = stored(&app.store, &endpoint, SecretColumn::EndpointCurrent).await;
    let previous = stored(&app.store, &endpoint, SecretColumn::EndpointPrevious).await;
    assert_eq!(only_b.open(&current.stored, &row).unwrap(), second_secret);
    assert_eq!(only_b.open(&previous.stored, &row).unwrap(), first_secret);
    let callback_secret = stored(&app.store, &merchant_id, SecretColumn::MerchantCallback).await;
    assert!(only_b
        .open(&callback_secret.stored, &merchant_row(&merchant_id))
        .unwrap()
        .starts_with("whsec_"));
    assert!(
        sealed_with(KEY_A, &[]).open(&current.stored, &row).is_err(),
        "the old key alone no longer opens it"
    );

    // A second run has nothing left to do.
    let again = reseal_secrets(&app.store, &rotated_keys)
        .await
        .expect("reseal");
    assert_eq!(
        again,
        ResealReport {
            resealed: 0,
            unchanged: 3,
            raced: 0
        }
    );
    app.stop().await;
}

async fn plain_secrets_are_sealed_by_a_reseal_run(store: Store) {
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Plain").await;
    let receiver = TestReceiver::start().await;
    let (endpoint, secret) = app.endpoint(&key, json!({"url": receiver.url()})).await;
    let before = stored(&app.store, &endpoint, SecretColumn::EndpointCurrent).await;
    assert_eq!(
        before.stored, secret,
        "without a key the secret is stored as it is"
    );

    let report = reseal_secrets(&app.store, &sealed_with(KEY_A, &[]))
        .await
        .expect("reseal");
    assert_eq!(report.resealed, 1, "{report:?}");
    let after = stored(&app.store, &endpoint, SecretColumn::EndpointCurrent).await;
    assert!(after.stored.starts_with("sealed:v1:"));
    assert_eq!(
        sealed_with(KEY_A, &[])
            .open(&after.stored, &endpoint_row(&endpoint))
            .unwrap(),
        secret
    );

    // And back: with the key removed (kept only as previous), a run opens
    // every secret back to plain text.
    let report = reseal_secrets(&app.store, &SecretBox::new(None, &[KEY_A]).expect("key"))
        .await
        .expect("unseal");
    assert_eq!(report.resealed, 1);
    let plain = stored(&app.store, &endpoint, SecretColumn::EndpointCurrent).await;
    assert_eq!(plain.stored, secret);
    // The running app (no key) still delivers with it.
    app.ingest(json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {}}))
        .await;
    let got = receiver.wait_for(1, WAIT).await;
    Webhook::new(&secret)
        .expect("secret")
        .verify(&got[0].body, &got[0].headers)
        .expect("verifies");
    app.stop().await;
}

/// The receiver's credential a merchant puts in a custom header.
const RECEIVER_CREDENTIAL: &str = "rcv_live_7f3c9a1e5b";

async fn custom_header_values_are_sealed_at_rest_and_masked_in_attempts(store: Store) {
    let mut config = test_config();
    config.secret_keys = SecretKeys {
        secret_key: Some(SecretString::new(KEY_A.into())),
        secret_key_previous: Vec::new(),
    };
    let app = TestApp::spawn_with(store, config).await;
    let (merchant, key) = app.merchant("Headers").await;
    let receiver = TestReceiver::start().await;
    let (endpoint, _) = app
        .endpoint(
            &key,
            json!({"url": receiver.url(),
                   "headers": {"Authorization": format!("Bearer {RECEIVER_CREDENTIAL}"),
                               "X-Tenant": "acme"}}),
        )
        .await;

    // The row holds the names and sealed values only.
    let rows = raw_texts(&app.store, "SELECT headers FROM endpoints").await;
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].contains(RECEIVER_CREDENTIAL), "{}", rows[0]);
    assert!(!rows[0].contains("acme"), "{}", rows[0]);
    assert!(rows[0].contains("authorization") && rows[0].contains("sealed:v1:"));
    // The merchant still reads and edits its own values.
    let shown = app
        .get_ok(&key, &format!("/api/v1/endpoints/{endpoint}"))
        .await;
    assert_eq!(
        shown["headers"]["authorization"],
        format!("Bearer {RECEIVER_CREDENTIAL}")
    );

    // The receiver gets the real value; the attempt record shows the name only.
    let (_, accepted) = app
        .ingest(json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {}}))
        .await;
    let got = receiver.wait_for(1, WAIT).await;
    assert_eq!(
        got[0].header("authorization"),
        format!("Bearer {RECEIVER_CREDENTIAL}")
    );
    assert_eq!(got[0].header("x-tenant"), "acme");
    let event = accepted["id"].as_str().expect("id");
    let detail = app.first_attempted_delivery(&key, event).await;
    let recorded = &detail["attempts"][0]["request_headers"];
    assert_eq!(recorded["authorization"], "••••", "{recorded}");
    assert_eq!(recorded["x-tenant"], "••••", "{recorded}");
    assert!(recorded["webhook-signature"]
        .as_str()
        .is_some_and(|s| s.starts_with("v1,")));
    let attempts = raw_texts(&app.store, "SELECT request_headers FROM attempts").await;
    assert_eq!(attempts.len(), 1);
    assert!(
        !attempts[0].contains(RECEIVER_CREDENTIAL),
        "{}",
        attempts[0]
    );

    // Key rotation re-seals header values like the signing secrets.
    let report = reseal_secrets(&app.store, &sealed_with(KEY_B, &[KEY_A]))
        .await
        .expect("reseal");
    assert_eq!(
        report.resealed, 2,
        "the signing secret and the headers: {report:?}"
    );
    let stored = stored(&app.store, &endpoint, SecretColumn::EndpointHeaders).await;
    let headers: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&stored.stored).expect("JSON");
    let opened = sealed_with(KEY_B, &[])
        .open_headers(&endpoint, &headers)
        .expect("B opens the headers");
    assert_eq!(opened["x-tenant"], "acme");
    app.stop().await;
}

async fn plain_header_values_from_before_keep_working_until_resealed(store: Store) {
    // A row written before header values were sealed (and before the key).
    let app = TestApp::spawn(store.clone()).await;
    let (merchant, key) = app.merchant("Legacy").await;
    let receiver = TestReceiver::start().await;
    insert_unchecked_endpoint(&store, &merchant, &receiver.url(), &[]).await;
    let endpoint = app.get_ok(&key, "/api/v1/endpoints").await["data"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // Plain values as an older Herald stored them.
    let (status, _) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/endpoints/{endpoint}"),
            &key,
            Some(json!({"headers": {"Authorization": RECEIVER_CREDENTIAL}})),
        )
        .await;
    assert_eq!(status, 200);
    let rows = raw_texts(&app.store, "SELECT headers FROM endpoints").await;
    assert!(
        rows[0].contains(RECEIVER_CREDENTIAL),
        "no key: stored as it is"
    );
    app.ingest(json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {}}))
        .await;
    let got = receiver.wait_for(1, WAIT).await;
    assert_eq!(got[0].header("authorization"), RECEIVER_CREDENTIAL);

    // Turning the key on: a reseal run seals what was plain.
    let report = reseal_secrets(&app.store, &sealed_with(KEY_A, &[]))
        .await
        .expect("reseal");
    assert_eq!(
        report.resealed, 2,
        "the signing secret and the headers: {report:?}"
    );
    let rows = raw_texts(&app.store, "SELECT headers FROM endpoints").await;
    assert!(!rows[0].contains(RECEIVER_CREDENTIAL), "{}", rows[0]);
    app.stop().await;
}
