//! Recovery: the events an endpoint missed — ingested while it was disabled,
//! or before it existed — sent to it later with `recover`, each once.

use crate::both_backends;
use crate::helpers::TestApp;
use crate::receiver::{Reply, TestReceiver};
use herald::store::Store;
use reqwest::Method;
use serde_json::{json, Value};
use standardwebhooks::Webhook;
use std::time::Duration;

both_backends!(
    recover_sends_what_a_disabled_endpoint_missed_once,
    recover_sends_events_from_before_the_endpoint_existed,
    recover_follows_the_filter_and_the_mode_and_skips_callbacks_and_tests,
    recover_refuses_a_disabled_endpoint_a_backwards_window_and_strangers,
    recover_after_a_410_sends_what_came_while_it_was_disabled,
);

async fn recover_sends_what_a_disabled_endpoint_missed_once(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let (merchant, key) = app.merchant("Recover").await;
    let merchant = merchant.to_string();
    let receiver = TestReceiver::start().await;
    let (endpoint, secret) = app
        .endpoint(
            &key,
            json!({"url": receiver.url(), "event_types": ["payin.*"]}),
        )
        .await;

    let (first, deliveries) = ingest_event(&app, payin(&merchant, 0)).await;
    assert_eq!(deliveries, 1);
    app.drain().await;
    assert_eq!(webhook_ids(&receiver), [first.clone()]);

    let disabled = set_enabled(&app, &key, &endpoint, false).await;
    assert_eq!(disabled["enabled"], false, "{disabled}");
    assert!(disabled["disabled_at"].is_string(), "{disabled}");
    let mut missed = Vec::new();
    for n in 1..=3 {
        let (id, deliveries) = ingest_event(&app, payin(&merchant, n)).await;
        assert_eq!(deliveries, 0, "nothing is queued for a disabled endpoint");
        missed.push(id);
    }
    app.drain().await;
    assert_eq!(receiver.received().len(), 1);

    let enabled = set_enabled(&app, &key, &endpoint, true).await;
    assert_eq!(enabled["enabled"], true, "{enabled}");
    assert!(enabled["disabled_at"].is_null(), "{enabled}");

    // A dry run counts the three, and the one already delivered is not missed.
    let since = ago(chrono::Duration::hours(1));
    assert_eq!(
        would_queue(
            &app,
            &key,
            &endpoint,
            json!({"since": since, "dry_run": true})
        )
        .await,
        3
    );
    app.drain().await;
    assert_eq!(receiver.received().len(), 1, "a dry run sends nothing");
    assert_eq!(
        endpoint_deliveries(&app, &key, &endpoint).await.len(),
        1,
        "a dry run queues nothing"
    );

    assert_eq!(
        queued(&app, &key, &endpoint, json!({"since": since})).await,
        3
    );
    app.drain().await;
    let ids = webhook_ids(&receiver);
    assert_eq!(ids.len(), 4, "{ids:?}");
    assert_eq!(
        sorted(&ids[1..]),
        sorted(&missed),
        "each missed event once, and nothing else"
    );
    for request in &receiver.received()[1..] {
        Webhook::new(&secret)
            .expect("secret")
            .verify(&request.body, &request.headers)
            .expect("a recovered delivery is signed with the endpoint's secret");
        assert_eq!(request.json()["live_mode"], true);
    }
    for id in &missed {
        let deliveries = app.deliveries_of(&key, id).await;
        assert_eq!(deliveries.len(), 1, "{deliveries:?}");
        assert_eq!(deliveries[0]["endpoint_id"], endpoint.as_str());
        assert_eq!(deliveries[0]["status"], "succeeded");
    }

    // Once sent, nothing is missed any more: a second recover queues nothing.
    assert_eq!(
        queued(&app, &key, &endpoint, json!({"since": since})).await,
        0
    );
    assert_eq!(
        would_queue(
            &app,
            &key,
            &endpoint,
            json!({"since": since, "dry_run": true})
        )
        .await,
        0
    );
    app.drain().await;
    assert_eq!(receiver.received().len(), 4);
    assert_eq!(endpoint_deliveries(&app, &key, &endpoint).await.len(), 4);
    app.stop().await;
}

async fn recover_sends_events_from_before_the_endpoint_existed(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let (merchant, key) = app.merchant("Newcomer").await;
    let merchant = merchant.to_string();
    // Event times are kept to the millisecond: a few dozen between each
    // event and a window's edge put it clearly on one side.
    let pause = || tokio::time::sleep(Duration::from_millis(50));

    let (before_window, deliveries) = ingest_event(&app, payin(&merchant, 0)).await;
    assert_eq!(deliveries, 0, "no endpoint yet");
    pause().await;
    let since = now();
    pause().await;
    let (in_window_1, _) = ingest_event(&app, payin(&merchant, 1)).await;
    let (in_window_2, _) = ingest_event(&app, payin(&merchant, 2)).await;
    pause().await;
    let until = now();
    pause().await;
    let (after_window, _) = ingest_event(&app, payin(&merchant, 3)).await;

    let receiver = TestReceiver::start().await;
    let (endpoint, _) = app
        .endpoint(
            &key,
            json!({"url": receiver.url(), "event_types": ["payin.*"]}),
        )
        .await;
    app.drain().await;
    assert!(receiver.received().is_empty(), "creating it sends nothing");

    assert_eq!(
        would_queue(
            &app,
            &key,
            &endpoint,
            json!({"since": since, "until": until, "dry_run": true})
        )
        .await,
        2
    );
    assert_eq!(
        queued(
            &app,
            &key,
            &endpoint,
            json!({"since": since, "until": until})
        )
        .await,
        2
    );
    app.drain().await;
    assert_eq!(
        sorted(&webhook_ids(&receiver)),
        sorted(&[in_window_1, in_window_2]),
        "only the events inside the window"
    );

    // Up to now (the default end), from an hour ago: the two left outside.
    assert_eq!(
        queued(
            &app,
            &key,
            &endpoint,
            json!({"since": ago(chrono::Duration::hours(1))})
        )
        .await,
        2
    );
    app.drain().await;
    let ids = webhook_ids(&receiver);
    assert_eq!(ids.len(), 4, "{ids:?}");
    assert_eq!(sorted(&ids[2..]), sorted(&[before_window, after_window]));
    for delivery in endpoint_deliveries(&app, &key, &endpoint).await {
        assert_eq!(delivery["status"], "succeeded", "{delivery}");
    }
    app.stop().await;
}

async fn recover_follows_the_filter_and_the_mode_and_skips_callbacks_and_tests(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let (merchant, key) = app.merchant("Filtered").await;
    let merchant = merchant.to_string();
    let callback = TestReceiver::start().await;

    // Before any endpoint exists: a payin, a live payout, a test-mode payout,
    // and a live payout the platform sent to a callback URL.
    ingest_event(&app, payin(&merchant, 1)).await;
    let (live_payout, _) = ingest_event(&app, payout(&merchant, true)).await;
    let (test_payout, _) = ingest_event(&app, payout(&merchant, false)).await;
    let mut for_callback = payout(&merchant, true);
    for_callback["callback_url"] = json!(callback.url());
    let (callback_event, deliveries) = ingest_event(&app, for_callback).await;
    assert_eq!(deliveries, 1, "the callback");
    app.drain().await;
    assert_eq!(webhook_ids(&callback), [callback_event.clone()]);

    let live = TestReceiver::start().await;
    let (live_endpoint, _) = app
        .endpoint(
            &key,
            json!({"url": live.url(), "event_types": ["payout.*"]}),
        )
        .await;
    let since = ago(chrono::Duration::hours(1));
    assert_eq!(
        would_queue(
            &app,
            &key,
            &live_endpoint,
            json!({"since": since, "dry_run": true})
        )
        .await,
        1
    );
    assert_eq!(
        queued(&app, &key, &live_endpoint, json!({"since": since})).await,
        1
    );
    app.drain().await;
    assert_eq!(
        webhook_ids(&live),
        [live_payout.clone()],
        "only the live event its filter takes; not the payin, the test event or the callback's"
    );
    assert_eq!(
        callback.received().len(),
        1,
        "the callback is not sent again"
    );
    assert!(
        app.deliveries_of(&key, &callback_event)
            .await
            .iter()
            .all(|d| d["endpoint_id"].is_null()),
        "a callback's event never goes to an endpoint"
    );

    // A test-mode endpoint catches up on the platform's test events, but not
    // on a test sent to another endpoint with `/test`.
    let sandbox = TestReceiver::start().await;
    let (test_endpoint, _) = app
        .endpoint(
            &key,
            json!({"url": sandbox.url(), "event_types": ["payout.*"], "mode": "test"}),
        )
        .await;
    let (status, sent) = app
        .api(
            Method::POST,
            &format!("/api/v1/endpoints/{live_endpoint}/test"),
            &key,
            Some(json!({"event_type": "payout.failed"})),
        )
        .await;
    assert_eq!(status, 202, "{sent}");
    let sent_test = sent["id"].as_str().expect("test event id").to_owned();
    app.drain().await;
    assert_eq!(webhook_ids(&live), [live_payout, sent_test]);
    assert!(sandbox.received().is_empty());

    assert_eq!(
        queued(&app, &key, &test_endpoint, json!({"since": since})).await,
        1
    );
    app.drain().await;
    assert_eq!(webhook_ids(&sandbox), [test_payout]);
    assert_eq!(sandbox.received()[0].json()["live_mode"], false);

    // And the live endpoint has nothing left: the test events are not its mode.
    assert_eq!(
        queued(&app, &key, &live_endpoint, json!({"since": since})).await,
        0
    );
    app.drain().await;
    assert_eq!(live.received().len(), 2);
    app.stop().await;
}

async fn recover_refuses_a_disabled_endpoint_a_backwards_window_and_strangers(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let (merchant, key) = app.merchant("Careful").await;
    let merchant = merchant.to_string();
    let receiver = TestReceiver::start().await;
    let (endpoint, _) = app
        .endpoint(
            &key,
            json!({"url": receiver.url(), "event_types": ["payin.*"]}),
        )
        .await;
    set_enabled(&app, &key, &endpoint, false).await;
    let (missed, deliveries) = ingest_event(&app, payin(&merchant, 1)).await;
    assert_eq!(deliveries, 0);
    let since = ago(chrono::Duration::hours(1));

    // Disabled: enable it first.
    let (status, refused) = recover(&app, &key, &endpoint, json!({"since": since})).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "conflict", "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .expect("message")
            .to_lowercase()
            .contains("enable"),
        "{refused}"
    );
    app.drain().await;
    assert!(receiver.received().is_empty());
    assert!(endpoint_deliveries(&app, &key, &endpoint).await.is_empty());
    let seen = app
        .get_ok(&key, &format!("/api/v1/endpoints/{endpoint}"))
        .await;
    assert_eq!(
        seen["enabled"], false,
        "a refused recover does not enable it"
    );

    set_enabled(&app, &key, &endpoint, true).await;

    // A window that ends before, or where, it starts.
    let (status, refused) = recover(
        &app,
        &key,
        &endpoint,
        json!({"since": now(), "until": ago(chrono::Duration::hours(1))}),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .expect("message")
            .contains("until"),
        "the message names the field: {refused}"
    );
    let at = now();
    let (status, refused) = recover(&app, &key, &endpoint, json!({"since": at, "until": at})).await;
    assert_eq!(status, 422, "an empty window: {refused}");

    // Another merchant's endpoint does not exist for them.
    let (_, stranger) = app.merchant("Stranger").await;
    let (status, refused) = recover(&app, &stranger, &endpoint, json!({"since": since})).await;
    assert_eq!(status, 404, "{refused}");
    let (status, refused) = recover(
        &app,
        &stranger,
        &endpoint,
        json!({"since": since, "dry_run": true}),
    )
    .await;
    assert_eq!(status, 404, "{refused}");

    // None of that queued anything: the missed event is still there to recover.
    app.drain().await;
    assert!(receiver.received().is_empty());
    assert!(endpoint_deliveries(&app, &key, &endpoint).await.is_empty());
    assert_eq!(
        queued(&app, &key, &endpoint, json!({"since": since})).await,
        1
    );
    app.drain().await;
    assert_eq!(webhook_ids(&receiver), [missed]);
    app.stop().await;
}

async fn recover_after_a_410_sends_what_came_while_it_was_disabled(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let (merchant, key) = app.merchant("Gone").await;
    let merchant = merchant.to_string();
    let receiver = TestReceiver::start().await;
    // Gone once, then back (the receiver answers 200 after the script).
    receiver.script([Reply::status(410)]);
    let (endpoint, _) = app
        .endpoint(
            &key,
            json!({"url": receiver.url(), "event_types": ["payin.*"]}),
        )
        .await;
    let (gone, deliveries) = ingest_event(&app, payin(&merchant, 0)).await;
    assert_eq!(deliveries, 1);
    app.drain().await;
    let seen = app
        .get_ok(&key, &format!("/api/v1/endpoints/{endpoint}"))
        .await;
    assert_eq!(seen["enabled"], false, "{seen}");
    assert!(seen["disabled_at"].is_string(), "{seen}");
    assert!(
        seen["disabled_reason"]
            .as_str()
            .expect("reason")
            .contains("410"),
        "{seen}"
    );

    let mut missed = Vec::new();
    for n in 1..=2 {
        let (id, deliveries) = ingest_event(&app, payin(&merchant, n)).await;
        assert_eq!(deliveries, 0, "nothing goes to an endpoint that said 410");
        missed.push(id);
    }
    app.drain().await;
    assert_eq!(webhook_ids(&receiver), [gone.clone()]);

    set_enabled(&app, &key, &endpoint, true).await;
    let since = ago(chrono::Duration::hours(1));
    assert_eq!(
        queued(&app, &key, &endpoint, json!({"since": since})).await,
        2,
        "the two that came while disabled; the one it answered 410 to has its delivery"
    );
    app.drain().await;
    let ids = webhook_ids(&receiver);
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert_eq!(sorted(&ids[1..]), sorted(&missed));
    assert_eq!(
        queued(&app, &key, &endpoint, json!({"since": since})).await,
        0
    );
    app.drain().await;
    assert_eq!(receiver.received().len(), 3);
    app.stop().await;
}

// --- helpers for this file ---

fn payin(merchant: &str, n: u32) -> Value {
    json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {"n": n}})
}

fn payout(merchant: &str, live_mode: bool) -> Value {
    json!({
        "merchant_id": merchant,
        "type": "payout.failed",
        "data": {"payout_id": "po_1"},
        "live_mode": live_mode,
    })
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

/// PATCHes `enabled`, which must succeed; returns the endpoint.
async fn set_enabled(app: &TestApp, key: &str, endpoint: &str, enabled: bool) -> Value {
    let (status, body) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/endpoints/{endpoint}"),
            key,
            Some(json!({ "enabled": enabled })),
        )
        .await;
    assert_eq!(status, 200, "PATCH enabled={enabled}: {body}");
    body
}

/// What a dry run would queue (it must answer 200).
async fn would_queue(app: &TestApp, key: &str, endpoint: &str, body: Value) -> u64 {
    let (status, answer) = recover(app, key, endpoint, body).await;
    assert_eq!(status, 200, "{answer}");
    answer["would_queue"].as_u64().expect("would_queue")
}

/// What a recover queued (it must answer 202).
async fn queued(app: &TestApp, key: &str, endpoint: &str, body: Value) -> u64 {
    let (status, answer) = recover(app, key, endpoint, body).await;
    assert_eq!(status, 202, "{answer}");
    answer["queued"].as_u64().expect("queued")
}

async fn recover(app: &TestApp, key: &str, endpoint: &str, body: Value) -> (u16, Value) {
    app.api(
        Method::POST,
        &format!("/api/v1/endpoints/{endpoint}/recover"),
        key,
        Some(body),
    )
    .await
}

/// Every delivery to this endpoint, as the merchant lists them.
async fn endpoint_deliveries(app: &TestApp, key: &str, endpoint: &str) -> Vec<Value> {
    let page = app
        .get_ok(key, &format!("/api/v1/deliveries?endpoint_id={endpoint}"))
        .await;
    page["data"].as_array().cloned().unwrap_or_default()
}

/// The event id of each request the receiver got, in arrival order.
fn webhook_ids(receiver: &TestReceiver) -> Vec<String> {
    receiver
        .received()
        .iter()
        .map(|r| r.header("webhook-id").to_owned())
        .collect()
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

/// Now, in RFC 3339 to the millisecond.
fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// That long ago, in RFC 3339.
fn ago(duration: chrono::Duration) -> String {
    (chrono::Utc::now() - duration).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
