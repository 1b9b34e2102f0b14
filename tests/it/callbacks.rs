//! Callbacks: deliveries to an event's `callback_url`, signed with the
//! merchant's callback secret, which rotates like an endpoint's; and the
//! deliveries list picking callbacks or endpoint deliveries.

use crate::both_backends;
use crate::helpers::TestApp;
use crate::receiver::{Received, TestReceiver};
use herald::store::Store;
use reqwest::Method;
use serde_json::{json, Value};
use standardwebhooks::Webhook;

both_backends!(
    a_callback_verifies_with_the_callback_secret,
    during_a_grace_period_the_new_and_the_old_secret_both_verify,
    without_a_grace_period_only_the_new_secret_verifies,
    each_merchant_has_its_own_callback_secret,
    the_deliveries_list_picks_callbacks_or_endpoint_deliveries,
    a_grace_period_over_seven_days_is_refused,
);

async fn a_callback_verifies_with_the_callback_secret(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let (merchant, key) = app.merchant("Callbacks").await;
    let merchant = merchant.to_string();
    let callback = TestReceiver::start().await;

    let secret = callback_secret(&app, &key).await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(
        callback_secret(&app, &key).await,
        secret,
        "the same secret on every read"
    );

    let (event, deliveries) = ingest_callback(&app, &merchant, &callback).await;
    assert_eq!(deliveries, 1);
    app.drain().await;
    let got = callback.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("webhook-id"), event);
    assert_eq!(got[0].json()["id"], event.as_str());
    assert!(
        verifies(&secret, &got[0]),
        "signed with the callback secret"
    );

    let (status, _) = app
        .api(
            Method::GET,
            "/api/v1/callback-secret",
            "hk_not_a_real_key",
            None,
        )
        .await;
    assert_eq!(status, 401);
    app.stop().await;
}

async fn during_a_grace_period_the_new_and_the_old_secret_both_verify(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let (merchant, key) = app.merchant("Rotating").await;
    let merchant = merchant.to_string();
    let callback = TestReceiver::start().await;
    let old = callback_secret(&app, &key).await;

    let before = chrono::Utc::now();
    let (status, rotated) = rotate(&app, &key, json!({"grace_period_s": 3600})).await;
    assert_eq!(status, 200, "{rotated}");
    let new = rotated["secret"].as_str().expect("secret").to_owned();
    assert!(new.starts_with("whsec_"), "{rotated}");
    assert_ne!(new, old);
    let expires = timestamp(&rotated["previous_secret_expires_at"]);
    let hour = chrono::Duration::hours(1);
    let slack = chrono::Duration::seconds(5);
    assert!(
        expires >= before + hour - slack && expires <= chrono::Utc::now() + hour + slack,
        "the old secret signs for about an hour: {rotated}"
    );
    assert_eq!(
        callback_secret(&app, &key).await,
        new,
        "reads give the new one"
    );

    ingest_callback(&app, &merchant, &callback).await;
    app.drain().await;
    let got = callback.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("webhook-signature").split(' ').count(), 2);
    assert!(verifies(&new, &got[0]), "the new secret verifies");
    assert!(
        verifies(&old, &got[0]),
        "the old secret still verifies during the grace period"
    );
    app.stop().await;
}

async fn without_a_grace_period_only_the_new_secret_verifies(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let (merchant, key) = app.merchant("Abrupt").await;
    let merchant = merchant.to_string();
    let callback = TestReceiver::start().await;
    let old = callback_secret(&app, &key).await;

    let (status, rotated) = rotate(&app, &key, json!({"grace_period_s": 0})).await;
    assert_eq!(status, 200, "{rotated}");
    let new = rotated["secret"].as_str().expect("secret").to_owned();
    assert_ne!(new, old);
    assert!(
        rotated
            .get("previous_secret_expires_at")
            .is_none_or(Value::is_null),
        "nothing left signing: {rotated}"
    );
    assert_eq!(callback_secret(&app, &key).await, new);

    ingest_callback(&app, &merchant, &callback).await;
    app.drain().await;
    let got = callback.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("webhook-signature").split(' ').count(), 1);
    assert!(verifies(&new, &got[0]), "the new secret verifies");
    assert!(
        !verifies(&old, &got[0]),
        "the old secret no longer verifies"
    );
    app.stop().await;
}

async fn each_merchant_has_its_own_callback_secret(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let (alpha, alpha_key) = app.merchant("Alpha").await;
    let (beta, beta_key) = app.merchant("Beta").await;
    let alpha_callback = TestReceiver::start().await;
    let beta_callback = TestReceiver::start().await;
    let alpha_secret = callback_secret(&app, &alpha_key).await;

    // Beta's first callback comes before Beta ever asked for its secret: the
    // secret it reads afterwards is the one that signed it.
    ingest_callback(&app, &alpha.to_string(), &alpha_callback).await;
    ingest_callback(&app, &beta.to_string(), &beta_callback).await;
    app.drain().await;
    let beta_secret = callback_secret(&app, &beta_key).await;
    assert_ne!(alpha_secret, beta_secret);

    let alpha_got = alpha_callback.received();
    let beta_got = beta_callback.received();
    assert_eq!(alpha_got.len(), 1);
    assert_eq!(beta_got.len(), 1);
    assert!(verifies(&alpha_secret, &alpha_got[0]));
    assert!(verifies(&beta_secret, &beta_got[0]));
    assert!(
        !verifies(&beta_secret, &alpha_got[0]),
        "Beta's secret does not verify Alpha's callbacks"
    );
    assert!(
        !verifies(&alpha_secret, &beta_got[0]),
        "Alpha's secret does not verify Beta's callbacks"
    );

    // Rotating one merchant's secret leaves the other's alone.
    let (status, rotated) = rotate(&app, &alpha_key, json!({"grace_period_s": 0})).await;
    assert_eq!(status, 200, "{rotated}");
    assert_eq!(callback_secret(&app, &beta_key).await, beta_secret);
    app.stop().await;
}

async fn the_deliveries_list_picks_callbacks_or_endpoint_deliveries(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let (merchant, key) = app.merchant("Listing").await;
    let merchant = merchant.to_string();
    let receiver = TestReceiver::start().await;
    let callback = TestReceiver::start().await;
    let (endpoint, _) = app.endpoint(&key, json!({"url": receiver.url()})).await;

    let (status, accepted) = app
        .ingest(json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {}}))
        .await;
    assert_eq!(status, 202, "{accepted}");
    let to_endpoint = accepted["id"].as_str().expect("id").to_owned();
    let (to_callback, deliveries) = ingest_callback(&app, &merchant, &callback).await;
    assert_eq!(deliveries, 1, "a callback URL takes the endpoints' place");
    app.drain().await;

    assert_eq!(list(&app, &key, "").await.len(), 2);

    let callbacks = list(&app, &key, "?callback=true").await;
    assert_eq!(callbacks.len(), 1, "{callbacks:?}");
    assert_eq!(callbacks[0]["event_id"], to_callback.as_str());
    assert_eq!(callbacks[0]["url"], callback.url().as_str());
    assert!(callbacks[0]["endpoint_id"].is_null(), "{}", callbacks[0]);

    let to_endpoints = list(&app, &key, "?callback=false").await;
    assert_eq!(to_endpoints.len(), 1, "{to_endpoints:?}");
    assert_eq!(to_endpoints[0]["event_id"], to_endpoint.as_str());
    assert_eq!(to_endpoints[0]["endpoint_id"], endpoint.as_str());
    assert_eq!(to_endpoints[0]["url"], receiver.url().as_str());

    // With the other filters.
    assert_eq!(
        list(&app, &key, "?callback=true&status=succeeded")
            .await
            .len(),
        1
    );
    assert!(list(&app, &key, "?callback=true&status=failed")
        .await
        .is_empty());

    let (status, refused) = app
        .api(Method::GET, "/api/v1/deliveries?callback=maybe", &key, None)
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused["error"]["code"].is_string(), "{refused}");
    app.stop().await;
}

async fn a_grace_period_over_seven_days_is_refused(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let (merchant, key) = app.merchant("Patient").await;
    let merchant = merchant.to_string();
    let callback = TestReceiver::start().await;
    let secret = callback_secret(&app, &key).await;

    let (status, refused) = rotate(&app, &key, json!({"grace_period_s": 604_801})).await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .expect("message")
            .contains("grace_period_s"),
        "the message names the field: {refused}"
    );
    assert_eq!(
        callback_secret(&app, &key).await,
        secret,
        "a refused rotation changes nothing"
    );
    ingest_callback(&app, &merchant, &callback).await;
    app.drain().await;
    let got = callback.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("webhook-signature").split(' ').count(), 1);
    assert!(verifies(&secret, &got[0]));

    // Seven days exactly is allowed.
    let before = chrono::Utc::now();
    let (status, rotated) = rotate(&app, &key, json!({"grace_period_s": 604_800})).await;
    assert_eq!(status, 200, "{rotated}");
    let week = chrono::Duration::days(7);
    let slack = chrono::Duration::seconds(5);
    let expires = timestamp(&rotated["previous_secret_expires_at"]);
    assert!(
        expires >= before + week - slack && expires <= chrono::Utc::now() + week + slack,
        "{rotated}"
    );

    // Without a grace period given: a day.
    let before = chrono::Utc::now();
    let (status, rotated) = rotate(&app, &key, json!({})).await;
    assert_eq!(status, 200, "{rotated}");
    let day = chrono::Duration::days(1);
    let expires = timestamp(&rotated["previous_secret_expires_at"]);
    assert!(
        expires >= before + day - slack && expires <= chrono::Utc::now() + day + slack,
        "the default grace period is 24 hours: {rotated}"
    );
    app.stop().await;
}

// --- helpers for this file ---

/// `GET /api/v1/callback-secret`, which must answer 200.
async fn callback_secret(app: &TestApp, key: &str) -> String {
    let body = app.get_ok(key, "/api/v1/callback-secret").await;
    body["secret"].as_str().expect("secret").to_owned()
}

async fn rotate(app: &TestApp, key: &str, body: Value) -> (u16, Value) {
    app.api(
        Method::POST,
        "/api/v1/callback-secret/rotate",
        key,
        Some(body),
    )
    .await
}

/// Ingests a payin whose delivery goes to `callback`; returns (event id, deliveries).
async fn ingest_callback(app: &TestApp, merchant: &str, callback: &TestReceiver) -> (String, u64) {
    let (status, accepted) = app
        .ingest(json!({
            "merchant_id": merchant,
            "type": "payin.succeeded",
            "data": {"clientTransactionId": "pay_cb"},
            "callback_url": callback.url(),
        }))
        .await;
    assert_eq!(status, 202, "ingest: {accepted}");
    (
        accepted["id"].as_str().expect("event id").to_owned(),
        accepted["deliveries"].as_u64().expect("deliveries"),
    )
}

/// Whether an independent Standard Webhooks verifier holding `secret` accepts it.
fn verifies(secret: &str, request: &Received) -> bool {
    Webhook::new(secret)
        .expect("a whsec_ secret")
        .verify(&request.body, &request.headers)
        .is_ok()
}

/// The merchant's deliveries with this query string.
async fn list(app: &TestApp, key: &str, query: &str) -> Vec<Value> {
    let page = app.get_ok(key, &format!("/api/v1/deliveries{query}")).await;
    page["data"].as_array().cloned().unwrap_or_default()
}

fn timestamp(value: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(value.as_str().expect("an RFC 3339 time"))
        .expect("RFC 3339")
        .with_timezone(&chrono::Utc)
}
