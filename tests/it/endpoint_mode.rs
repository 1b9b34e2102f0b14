//! Endpoint mode, a real sandbox: `live` endpoints get live events, `test`
//! endpoints the platform's test events (`live_mode: false`); a test sent
//! with `/test` goes to the one endpoint asked, whatever its mode.

use crate::both_backends;
use crate::helpers::TestApp;
use crate::receiver::TestReceiver;
use herald::store::Store;
use reqwest::Method;
use serde_json::{json, Value};

both_backends!(
    live_events_reach_live_endpoints_and_test_events_test_endpoints,
    changing_the_mode_changes_where_the_next_events_go,
    an_unknown_mode_is_refused_and_changes_nothing,
);

async fn live_events_reach_live_endpoints_and_test_events_test_endpoints(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let (merchant, key) = app.merchant("Modes").await;
    let merchant = merchant.to_string();
    let live_rx = TestReceiver::start().await;
    let test_rx = TestReceiver::start().await;
    // Without a mode, an endpoint is live.
    let (live, _) = app.endpoint(&key, json!({"url": live_rx.url()})).await;
    let (test, _) = app
        .endpoint(&key, json!({"url": test_rx.url(), "mode": "test"}))
        .await;
    let seen = get_endpoint(&app, &key, &live).await;
    assert_eq!(seen["mode"], "live", "{seen}");
    assert!(seen["disabled_at"].is_null(), "{seen}");
    assert_eq!(get_endpoint(&app, &key, &test).await["mode"], "test");
    let listed = app.get_ok(&key, "/api/v1/endpoints").await;
    let mode_of = |id: &str| -> Value {
        listed["data"]
            .as_array()
            .expect("data")
            .iter()
            .find(|e| e["id"] == id)
            .map(|e| e["mode"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(mode_of(&live), "live");
    assert_eq!(mode_of(&test), "test");

    // `live_mode` defaults to true.
    let (live_event, deliveries) = ingest_event(&app, payin(&merchant, None)).await;
    assert_eq!(deliveries, 1, "the live endpoint only");
    let (test_event, deliveries) = ingest_event(&app, payin(&merchant, Some(false))).await;
    assert_eq!(deliveries, 1, "the test endpoint only");
    app.drain().await;
    assert_eq!(webhook_ids(&live_rx), [live_event.clone()]);
    assert_eq!(webhook_ids(&test_rx), [test_event.clone()]);
    assert_eq!(live_rx.received()[0].json()["live_mode"], true);
    assert_eq!(test_rx.received()[0].json()["live_mode"], false);
    assert_eq!(
        app.deliveries_of(&key, &live_event).await[0]["endpoint_id"],
        live.as_str()
    );
    assert_eq!(
        app.deliveries_of(&key, &test_event).await[0]["endpoint_id"],
        test.as_str()
    );

    // A test sent to the live endpoint goes there, and only there.
    let to_live = send_test(&app, &key, &live).await;
    app.drain().await;
    assert_eq!(webhook_ids(&live_rx), [live_event.clone(), to_live]);
    assert_eq!(live_rx.received()[1].json()["live_mode"], false);
    assert_eq!(test_rx.received().len(), 1, "not to the test endpoint");

    // And one sent to the test endpoint goes there only.
    let to_test = send_test(&app, &key, &test).await;
    app.drain().await;
    assert_eq!(webhook_ids(&test_rx), [test_event, to_test]);
    assert_eq!(live_rx.received().len(), 2);
    app.stop().await;
}

async fn changing_the_mode_changes_where_the_next_events_go(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let (merchant, key) = app.merchant("Switch").await;
    let merchant = merchant.to_string();
    let receiver = TestReceiver::start().await;
    let (endpoint, _) = app
        .endpoint(&key, json!({"url": receiver.url(), "mode": "live"}))
        .await;
    assert_eq!(get_endpoint(&app, &key, &endpoint).await["mode"], "live");

    let changed = set_mode(&app, &key, &endpoint, "test").await;
    assert_eq!(changed["mode"], "test", "{changed}");
    assert_eq!(get_endpoint(&app, &key, &endpoint).await["mode"], "test");
    let (_, deliveries) = ingest_event(&app, payin(&merchant, Some(true))).await;
    assert_eq!(deliveries, 0, "a live event has no live endpoint to go to");
    let (test_event, deliveries) = ingest_event(&app, payin(&merchant, Some(false))).await;
    assert_eq!(deliveries, 1);
    app.drain().await;
    assert_eq!(webhook_ids(&receiver), [test_event.clone()]);

    let changed = set_mode(&app, &key, &endpoint, "live").await;
    assert_eq!(changed["mode"], "live", "{changed}");
    let (live_event, deliveries) = ingest_event(&app, payin(&merchant, None)).await;
    assert_eq!(deliveries, 1);
    let (_, deliveries) = ingest_event(&app, payin(&merchant, Some(false))).await;
    assert_eq!(deliveries, 0, "a test event has no test endpoint to go to");
    app.drain().await;
    assert_eq!(webhook_ids(&receiver), [test_event, live_event]);
    app.stop().await;
}

async fn an_unknown_mode_is_refused_and_changes_nothing(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let (_, key) = app.merchant("Typo").await;
    let receiver = TestReceiver::start().await;

    let (status, refused) = app
        .api(
            Method::POST,
            "/api/v1/endpoints",
            &key,
            Some(json!({"url": receiver.url(), "mode": "sandbox"})),
        )
        .await;
    assert!(status == 400 || status == 422, "{status}: {refused}");
    assert!(refused["error"]["code"].is_string(), "{refused}");
    let listed = app.get_ok(&key, "/api/v1/endpoints").await;
    assert_eq!(
        listed["data"].as_array().expect("data").len(),
        0,
        "nothing created: {listed}"
    );

    let (endpoint, _) = app
        .endpoint(&key, json!({"url": receiver.url(), "mode": "test"}))
        .await;
    let (status, refused) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/endpoints/{endpoint}"),
            &key,
            Some(json!({"mode": "staging"})),
        )
        .await;
    assert!(status == 400 || status == 422, "{status}: {refused}");
    assert_eq!(
        get_endpoint(&app, &key, &endpoint).await["mode"],
        "test",
        "unchanged"
    );
    app.stop().await;
}

// --- helpers for this file ---

/// A payin; `live_mode` left out when `None` (the default, live).
fn payin(merchant: &str, live_mode: Option<bool>) -> Value {
    let mut event =
        json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {"utr": "U1"}});
    if let Some(live_mode) = live_mode {
        event["live_mode"] = json!(live_mode);
    }
    event
}

/// Ingests an event, which must be accepted; returns (event id, deliveries).
async fn ingest_event(app: &TestApp, body: Value) -> (String, u64) {
    let (status, accepted) = app.ingest(body).await;
    assert_eq!(status, 202, "ingest: {accepted}");
    (
        accepted["id"].as_str().expect("event id").to_owned(),
        accepted["deliveries"].as_u64().expect("deliveries"),
    )
}

async fn get_endpoint(app: &TestApp, key: &str, endpoint: &str) -> Value {
    app.get_ok(key, &format!("/api/v1/endpoints/{endpoint}"))
        .await
}

/// PATCHes the mode, which must succeed; returns the endpoint.
async fn set_mode(app: &TestApp, key: &str, endpoint: &str, mode: &str) -> Value {
    let (status, body) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/endpoints/{endpoint}"),
            key,
            Some(json!({ "mode": mode })),
        )
        .await;
    assert_eq!(status, 200, "PATCH mode={mode}: {body}");
    body
}

/// `POST /api/v1/endpoints/{id}/test`; returns the test event's id.
async fn send_test(app: &TestApp, key: &str, endpoint: &str) -> String {
    let (status, sent) = app
        .api(
            Method::POST,
            &format!("/api/v1/endpoints/{endpoint}/test"),
            key,
            Some(json!({"event_type": "payin.succeeded"})),
        )
        .await;
    assert_eq!(status, 202, "{sent}");
    sent["id"].as_str().expect("test event id").to_owned()
}

/// The event id of each request the receiver got, in arrival order.
fn webhook_ids(receiver: &TestReceiver) -> Vec<String> {
    receiver
        .received()
        .iter()
        .map(|r| r.header("webhook-id").to_owned())
        .collect()
}
