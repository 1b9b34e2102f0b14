//! History (issue #20): tags the platform puts on events, the filters and
//! the search a merchant finds a payment's events and deliveries with, the
//! operators' search across merchants, and retention: old settled history
//! is deleted, what is still pending never is, and operators see what the
//! database holds (`/admin/storage`, `/metrics`).

use crate::both_backends;
use crate::helpers::{client, raw_texts, test_config, Browser, TestApp, PLATFORM_TOKEN};
use crate::receiver::{Reply, TestReceiver};
use chrono::{DateTime, FixedOffset};
use herald::config::ServeConfig;
use herald::store::Store;
use herald_app::model::dashboard::DeliveryPage;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

both_backends!(
    tags_are_stored_shown_and_checked,
    events_filter_by_tag_idempotency_key_and_window,
    deliveries_filter_by_tag_idempotency_key_and_window,
    a_category_filter_lists_every_type_of_it,
    deliveries_filter_by_the_latest_response_code,
    an_open_list_fetches_its_page_again_only_when_it_changed,
    search_finds_events_and_deliveries_by_id_tag_and_key,
    another_merchants_ids_tags_and_keys_find_nothing,
    retention_deletes_old_settled_history_and_keeps_pending_and_recent,
    a_month_of_retention_keeps_the_last_month,
    without_retention_history_is_kept_forever,
    metrics_report_what_is_stored_and_purged,
);

/// Event times are kept to the millisecond: a time taken this long after
/// one event and this long before the next is clearly between them.
const PAUSE: Duration = Duration::from_millis(20);
/// How long polls for a metric may take.
const WAIT: Duration = Duration::from_secs(10);
const DAY: Duration = Duration::from_secs(24 * 3600);

async fn tags_are_stored_shown_and_checked(store: Store) {
    let app = TestApp::spawn_manual(store.clone()).await;
    let (merchant, key) = app.merchant("Tagger").await;
    let merchant = merchant.to_string();
    let receiver = TestReceiver::start().await;
    app.endpoint(&key, json!({"url": receiver.url()})).await;

    // A repeated tag is kept once, where it first appeared.
    let tagged = ingest_event(
        &app,
        payin(
            &merchant,
            &["pay_123", "customer:cus_9", "pay_123", "x@y.z/1-2"],
        ),
    )
    .await;
    let expected = json!(["pay_123", "customer:cus_9", "x@y.z/1-2"]);
    let event = get_event(&app, &key, &tagged).await;
    assert_eq!(event["tags"], expected, "{event}");
    let deliveries = app.deliveries_of(&key, &tagged).await;
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    assert_eq!(
        deliveries[0]["tags"], expected,
        "a delivery shows its event's tags"
    );
    let detail = app
        .delivery(&key, deliveries[0]["id"].as_str().expect("id"))
        .await;
    assert_eq!(detail["tags"], expected, "{detail}");
    assert_eq!(detail["event"]["tags"], expected, "{detail}");

    // No tags: the field is there, empty.
    let untagged = ingest_event(&app, payin(&merchant, &[])).await;
    assert_eq!(get_event(&app, &key, &untagged).await["tags"], json!([]));
    assert_eq!(
        app.deliveries_of(&key, &untagged).await[0]["tags"],
        json!([])
    );
    let omitted = ingest_event(
        &app,
        json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {}}),
    )
    .await;
    assert_eq!(get_event(&app, &key, &omitted).await["tags"], json!([]));

    // The limits themselves are allowed: ten tags, a tag of 128 characters.
    let ten: Vec<String> = (0..10).map(|n| format!("ref_{n}")).collect();
    let ten: Vec<&str> = ten.iter().map(String::as_str).collect();
    let most = ingest_event(&app, payin(&merchant, &ten)).await;
    assert_eq!(get_event(&app, &key, &most).await["tags"], json!(ten));
    let long = "t".repeat(128);
    let longest = ingest_event(&app, payin(&merchant, &[long.as_str()])).await;
    assert_eq!(get_event(&app, &key, &longest).await["tags"], json!([long]));

    // An idempotent repeat is the first event: its tags, not the repeat's.
    let mut first = payin(&merchant, &["refund_1"]);
    first["idempotency_key"] = json!("order-1");
    let original = ingest_event(&app, first).await;
    let mut repeat = payin(&merchant, &["refund_2"]);
    repeat["idempotency_key"] = json!("order-1");
    let (status, again) = app.ingest(repeat).await;
    assert_eq!(status, 200, "a repeat: {again}");
    assert_eq!(again["id"], original.as_str());
    assert_eq!(
        get_event(&app, &key, &original).await["tags"],
        json!(["refund_1"])
    );
    let found = app.get_ok(&key, "/api/v1/events?tag=refund_2").await;
    assert_eq!(
        found["data"],
        json!([]),
        "the repeat's tags were not stored"
    );

    // Anything else is refused, naming the field, and stores nothing.
    let stored = event_count(&app, &key).await;
    let rows = raw_texts(&store, "SELECT id FROM events").await.len();
    let eleven: Vec<String> = (0..11).map(|n| format!("ref_{n}")).collect();
    let too_long = "t".repeat(129);
    let cases: Vec<(Value, &str)> = vec![
        (json!(eleven), "eleven tags"),
        (json!([""]), "an empty tag"),
        (json!([too_long]), "129 characters"),
        (json!(["pay_123", "has space"]), "a space"),
        (json!(["semi;colon"]), "a semicolon"),
        (json!(["café"]), "not ASCII"),
        (json!("pay_123"), "not a list"),
        (json!([7]), "not a string"),
    ];
    for (tags, why) in cases {
        let mut body = payin(&merchant, &[]);
        body["tags"] = tags;
        let (status, error) = app.ingest(body).await;
        assert_eq!(status, 422, "{why}: {error}");
        assert_eq!(error["error"]["code"], "validation_failed", "{why}");
        let message = error["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("tags"),
            "{why}: names the field: {message}"
        );
    }
    // The message says which tag, or how many is too many.
    for (tags, named) in [
        (json!(["has space"]), "has space"),
        (json!(["semi;colon"]), "semi;colon"),
    ] {
        let mut body = payin(&merchant, &[]);
        body["tags"] = tags;
        let (_, error) = app.ingest(body).await;
        let message = error["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(named), "{message}");
    }
    let mut body = payin(&merchant, &[]);
    body["tags"] = json!(eleven);
    let (_, error) = app.ingest(body).await;
    let message = error["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("10") || message.contains("11"),
        "{message}"
    );
    assert_eq!(event_count(&app, &key).await, stored, "nothing was stored");
    assert_eq!(
        raw_texts(&store, "SELECT id FROM events").await.len(),
        rows,
        "not even an event without its tags"
    );
    app.stop().await;
}

async fn events_filter_by_tag_idempotency_key_and_window(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let (merchant, key) = app.merchant("Finder").await;
    let merchant = merchant.to_string();

    // Five events of one payment among others, one of them with a key.
    let mut keyed = payin(&merchant, &["pay_123"]);
    keyed["idempotency_key"] = json!("order-77");
    let first = ingest_event(&app, keyed).await;
    let unrelated = ingest_event(&app, payin(&merchant, &["pay_456"])).await;
    let window_start = time_between().await;
    let second = ingest_event(&app, payin(&merchant, &["customer:cus_9", "pay_123"])).await;
    let untagged = ingest_event(&app, payin(&merchant, &[])).await;
    let third = ingest_event(&app, payin(&merchant, &["pay_123"])).await;
    let window_end = time_between().await;
    let fourth = ingest_event(&app, payin(&merchant, &["pay_123"])).await;
    let mut keyed = payin(&merchant, &["pay_123"]);
    keyed["idempotency_key"] = json!("order-78");
    let fifth = ingest_event(&app, keyed).await;

    // Exactly the payment's events, newest first, two to a page.
    let found = walk(&app, &key, "/api/v1/events?tag=pay_123").await;
    assert_eq!(
        ids_of(&found),
        [
            fifth.as_str(),
            fourth.as_str(),
            third.as_str(),
            second.as_str(),
            first.as_str()
        ],
        "every event of pay_123 once, and nothing else"
    );
    for event in &found {
        assert!(
            event["tags"]
                .as_array()
                .is_some_and(|tags| tags.contains(&json!("pay_123"))),
            "{event}"
        );
    }
    let customer = app.get_ok(&key, "/api/v1/events?tag=customer:cus_9").await;
    assert_eq!(ids(&customer["data"]), [second.as_str()]);
    let none = app.get_ok(&key, "/api/v1/events?tag=pay_999").await;
    assert_eq!(none["data"], json!([]));

    let by_key = app
        .get_ok(&key, "/api/v1/events?idempotency_key=order-77")
        .await;
    assert_eq!(ids(&by_key["data"]), [first.as_str()]);
    assert_eq!(by_key["data"][0]["idempotency_key"], "order-77");
    let no_key = app
        .get_ok(&key, "/api/v1/events?idempotency_key=order-7")
        .await;
    assert_eq!(no_key["data"], json!([]), "the key must match exactly");

    // `until` is exclusive: what came before it; with `since`, a window.
    let before = walk(&app, &key, &format!("/api/v1/events?until={window_start}")).await;
    assert_eq!(ids_of(&before), [unrelated.as_str(), first.as_str()]);
    let window = walk(
        &app,
        &key,
        &format!("/api/v1/events?since={window_start}&until={window_end}"),
    )
    .await;
    assert_eq!(
        ids_of(&window),
        [third.as_str(), untagged.as_str(), second.as_str()]
    );
    let tagged_before = walk(
        &app,
        &key,
        &format!("/api/v1/events?tag=pay_123&until={window_end}"),
    )
    .await;
    assert_eq!(
        ids_of(&tagged_before),
        [third.as_str(), second.as_str(), first.as_str()]
    );
    let tagged_after = app
        .get_ok(
            &key,
            &format!("/api/v1/events?tag=pay_123&since={window_end}"),
        )
        .await;
    assert_eq!(
        ids(&tagged_after["data"]),
        [fifth.as_str(), fourth.as_str()]
    );
    let created = get_event(&app, &key, &fourth).await["created_at"]
        .as_str()
        .expect("created_at")
        .to_owned();
    let at_fourth = app
        .get_ok(
            &key,
            &format!(
                "/api/v1/events?since={window_end}&until={}",
                url_encode(&created)
            ),
        )
        .await;
    assert_eq!(
        at_fourth["data"],
        json!([]),
        "an event created at `until` is not before it"
    );

    // A filter that is not a tag is refused, naming it.
    let too_long = "t".repeat(129);
    for bad in ["has%20space", "semi%3Bcolon", too_long.as_str()] {
        let (status, error) = app
            .api(
                Method::GET,
                &format!("/api/v1/events?tag={bad}"),
                &key,
                None,
            )
            .await;
        assert_eq!(status, 422, "{bad}: {error}");
        let message = error["error"]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("tag"), "{bad}: {message}");
    }
    app.stop().await;
}

async fn deliveries_filter_by_tag_idempotency_key_and_window(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let (merchant, key) = app.merchant("Deliverer").await;
    let merchant = merchant.to_string();
    let receiver = TestReceiver::start().await;
    app.endpoint(&key, json!({"url": receiver.url()})).await;

    let mut keyed = payin(&merchant, &["pay_123"]);
    keyed["idempotency_key"] = json!("order-77");
    let first = ingest_event(&app, keyed).await;
    let unrelated = ingest_event(&app, payin(&merchant, &["pay_456"])).await;
    let window_start = time_between().await;
    let second = ingest_event(&app, payin(&merchant, &["pay_123", "customer:cus_9"])).await;
    let third = ingest_event(&app, payin(&merchant, &["pay_123"])).await;
    let window_end = time_between().await;
    let fourth = ingest_event(&app, payin(&merchant, &["pay_123"])).await;
    app.drain().await;
    assert_eq!(receiver.received().len(), 5, "every event was delivered");

    // The payment's deliveries, newest first, two to a page, each with its tags.
    let found = walk(&app, &key, "/api/v1/deliveries?tag=pay_123").await;
    assert_eq!(
        event_ids_of(&found),
        [
            fourth.as_str(),
            third.as_str(),
            second.as_str(),
            first.as_str()
        ],
        "one delivery per event of pay_123, and nothing else"
    );
    for delivery in &found {
        assert_eq!(delivery["status"], "succeeded", "{delivery}");
        assert!(
            delivery["tags"]
                .as_array()
                .is_some_and(|tags| tags.contains(&json!("pay_123"))),
            "{delivery}"
        );
    }
    let first_delivery = app.deliveries_of(&key, &first).await[0]["id"].clone();
    assert_eq!(
        found[3]["id"], first_delivery,
        "the same delivery as by event"
    );
    let customer = app
        .get_ok(&key, "/api/v1/deliveries?tag=customer:cus_9")
        .await;
    assert_eq!(event_ids(&customer["data"]), [second.as_str()]);
    assert_eq!(
        customer["data"][0]["tags"],
        json!(["pay_123", "customer:cus_9"])
    );

    let by_key = app
        .get_ok(&key, "/api/v1/deliveries?idempotency_key=order-77")
        .await;
    assert_eq!(by_key["data"].as_array().map(Vec::len), Some(1), "{by_key}");
    assert_eq!(by_key["data"][0]["id"], first_delivery);
    let no_key = app
        .get_ok(&key, "/api/v1/deliveries?idempotency_key=order-78")
        .await;
    assert_eq!(no_key["data"], json!([]));

    let before = walk(
        &app,
        &key,
        &format!("/api/v1/deliveries?until={window_start}"),
    )
    .await;
    assert_eq!(event_ids_of(&before), [unrelated.as_str(), first.as_str()]);
    let window = walk(
        &app,
        &key,
        &format!("/api/v1/deliveries?since={window_start}&until={window_end}"),
    )
    .await;
    assert_eq!(event_ids_of(&window), [third.as_str(), second.as_str()]);
    let tagged_before = walk(
        &app,
        &key,
        &format!("/api/v1/deliveries?tag=pay_123&until={window_end}&status=succeeded"),
    )
    .await;
    assert_eq!(
        event_ids_of(&tagged_before),
        [third.as_str(), second.as_str(), first.as_str()]
    );

    let (status, error) = app
        .api(
            Method::GET,
            "/api/v1/deliveries?tag=has%20space",
            &key,
            None,
        )
        .await;
    assert_eq!(status, 422, "{error}");
    let message = error["error"]["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("tag"), "{message}");
    app.stop().await;
}

async fn a_category_filter_lists_every_type_of_it(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let (merchant, key) = app.merchant("Categories").await;
    let (other, _) = app.merchant("Other categories").await;
    let merchant = merchant.to_string();
    let receiver = TestReceiver::start().await;
    app.endpoint(&key, json!({"url": receiver.url()})).await;
    let event = |merchant: &str, event_type: &str| json!({"merchant_id": merchant, "type": event_type, "data": {}});
    let failed = ingest_event(&app, event(&merchant, "payout.failed")).await;
    ingest_event(&app, event(&merchant, "payin.succeeded")).await;
    let succeeded = ingest_event(&app, event(&merchant, "payout.succeeded")).await;
    ingest_event(&app, event(&other.to_string(), "payout.failed")).await;
    app.drain().await;

    // `payout.*` as subscriptions write it: every payout type, only these.
    let payouts = walk(&app, &key, "/api/v1/events?type=payout.*").await;
    assert_eq!(
        ids(&Value::Array(payouts)),
        [succeeded.as_str(), failed.as_str()]
    );
    let deliveries = walk(&app, &key, "/api/v1/deliveries?event_type=payout.*").await;
    assert_eq!(
        event_ids_of(&deliveries),
        [succeeded.as_str(), failed.as_str()]
    );
    // The dot is part of the category: `pay.*` is not a prefix of `payout`.
    assert!(walk(&app, &key, "/api/v1/deliveries?event_type=pay.*")
        .await
        .is_empty());
    // `*` alone is no filter; an exact type stays exact.
    assert_eq!(walk(&app, &key, "/api/v1/events?type=*").await.len(), 3);
    let exact = walk(&app, &key, "/api/v1/deliveries?event_type=payout.failed").await;
    assert_eq!(event_ids_of(&exact), [failed.as_str()]);

    for (path, field) in [
        ("/api/v1/events?type=pay*", "type"),
        ("/api/v1/deliveries?event_type=*.failed", "event_type"),
    ] {
        let (status, error) = app.api(Method::GET, path, &key, None).await;
        assert_eq!(status, 422, "{path}: {error}");
        let message = error["error"]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with(field), "{message}");
    }
    app.stop().await;
}

async fn deliveries_filter_by_the_latest_response_code(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let (merchant, key) = app.merchant("Codes").await;
    let (other, other_key) = app.merchant("Other codes").await;
    // Each endpoint answers one way; the second attempt is an hour away, so
    // every delivery keeps its first answer as its latest.
    let later = json!(["0s", "1h"]);
    let mut urls = Vec::new();
    let mut receivers = Vec::new();
    for status in [503, 404, 200] {
        let receiver = TestReceiver::start().await;
        receiver.always(Reply::status(status));
        urls.push(receiver.url());
        receivers.push(receiver);
    }
    // A port nothing listens on: no answer at all.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .local_addr()
        .expect("addr");
    urls.push(format!("http://{closed}/hook"));
    let mut endpoint_of = Vec::new();
    for url in &urls {
        let (id, _) = app
            .endpoint(&key, json!({"url": url, "retry_schedule": later}))
            .await;
        endpoint_of.push(id);
    }
    let (other_endpoint, _) = app
        .endpoint(&other_key, json!({"url": urls[0], "retry_schedule": later}))
        .await;
    let event =
        |merchant: String| json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {}});
    ingest_event(&app, event(merchant.to_string())).await;
    ingest_event(&app, event(other.to_string())).await;
    app.drain().await;

    let endpoints_found = |deliveries: &[Value]| -> Vec<String> {
        deliveries
            .iter()
            .map(|d| d["endpoint_id"].as_str().expect("endpoint_id").to_owned())
            .collect()
    };
    for (filter, expected, status) in [
        ("503", &endpoint_of[0], "pending"),
        ("5xx", &endpoint_of[0], "pending"),
        ("5XX", &endpoint_of[0], "pending"),
        ("4xx", &endpoint_of[1], "pending"),
        ("404", &endpoint_of[1], "pending"),
        ("2xx", &endpoint_of[2], "succeeded"),
        ("none", &endpoint_of[3], "pending"),
    ] {
        let found = walk(
            &app,
            &key,
            &format!("/api/v1/deliveries?status_code={filter}"),
        )
        .await;
        assert_eq!(
            endpoints_found(&found),
            [expected.clone()],
            "status_code={filter}"
        );
        assert_eq!(found[0]["status"], status, "status_code={filter}");
    }
    assert!(walk(&app, &key, "/api/v1/deliveries?status_code=500")
        .await
        .is_empty());
    // With other filters: still only the 503s, of this merchant.
    let failing = walk(
        &app,
        &key,
        "/api/v1/deliveries?status_code=5xx&status=pending&event_type=payin.*",
    )
    .await;
    assert_eq!(endpoints_found(&failing), [endpoint_of[0].clone()]);
    // Operators see every merchant's.
    let (status, across) = app
        .api(
            Method::GET,
            "/api/v1/admin/deliveries?status_code=503",
            PLATFORM_TOKEN,
            None,
        )
        .await;
    assert_eq!(status, 200, "{across}");
    let across: Vec<Value> = across["data"].as_array().expect("data").clone();
    assert_eq!(
        as_set(&endpoints_found(&across)),
        as_set(&[endpoint_of[0].clone(), other_endpoint.clone()])
    );

    for wrong in ["600", "5x", "abc", "50"] {
        let (status, error) = app
            .api(
                Method::GET,
                &format!("/api/v1/deliveries?status_code={wrong}"),
                &key,
                None,
            )
            .await;
        assert_eq!(status, 422, "{wrong}: {error}");
        let message = error["error"]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("status_code"), "{message}");
    }
    app.stop().await;
}

/// The dashboard's self-refreshing lists send the fingerprint of the page
/// they show and fetch it again only when the server's differs.
async fn an_open_list_fetches_its_page_again_only_when_it_changed(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let mut browser = app.signed_up("Watcher", "watcher@example.test").await;
    let (_, me) = browser.call("whoami", &[]).await;
    let merchant = me["merchant"]["id"]
        .as_str()
        .expect("merchant id")
        .to_owned();
    let receiver = TestReceiver::start().await;
    receiver.always(Reply::status(503));
    let (status, endpoint) = browser
        .call_json(
            "endpoints/create",
            json!({"input": {"url": receiver.url(), "description": "", "event_types": [],
                             "headers": "", "rate_limit_per_s": "", "enabled": true,
                             "signature_scheme": "hmac", "encrypted": false,
                             "legacy_signature": false, "retry_schedule": "0s, 1h"}}),
        )
        .await;
    assert_eq!(status, 200, "{endpoint}");
    let event = || json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {}});
    ingest_event(&app, event()).await;

    let all = json!({});
    let failing = json!({"status": "pending", "status_code": "5xx"});
    let mut shown = Vec::new();
    for query in [&all, &failing] {
        let (status, page) = browser
            .call_json("deliveries/list", json!({"query": query}))
            .await;
        assert_eq!(status, 200, "{page}");
        let page: DeliveryPage = serde_json::from_value(page).expect("a page");
        shown.push(page.fingerprint());
    }
    // Nothing happened: the page shown is the page.
    assert!(!changed(&mut browser, &all, &shown[0]).await);
    assert!(!changed(&mut browser, &failing, &shown[1]).await);
    // The first attempt: the row changes (attempts, answer), and the
    // failing filter now finds it.
    app.drain().await;
    assert!(changed(&mut browser, &all, &shown[0]).await);
    assert!(changed(&mut browser, &failing, &shown[1]).await);
    let (_, page) = browser
        .call_json("deliveries/list", json!({"query": all}))
        .await;
    let now: DeliveryPage = serde_json::from_value(page).expect("a page");
    assert!(!changed(&mut browser, &all, &now.fingerprint()).await);
    // A new delivery changes it again.
    ingest_event(&app, event()).await;
    assert!(changed(&mut browser, &all, &now.fingerprint()).await);
    // Another browser's session is not this merchant's: its question is refused.
    let mut stranger = app.browser();
    let (status, _) = stranger
        .call_json(
            "deliveries/changed",
            json!({"query": all, "seen": now.fingerprint()}),
        )
        .await;
    assert_eq!(status, 401);
    app.stop().await;
}

/// What the open list asks: has the page `query` finds moved on from `seen`?
async fn changed(browser: &mut Browser, query: &Value, seen: &str) -> bool {
    let (status, answer) = browser
        .call_json("deliveries/changed", json!({"query": query, "seen": seen}))
        .await;
    assert_eq!(status, 200, "{answer}");
    answer.as_bool().expect("true or false")
}

async fn search_finds_events_and_deliveries_by_id_tag_and_key(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let (merchant, key) = app.merchant("Searcher").await;
    let merchant = merchant.to_string();
    // Two endpoints: each event has two deliveries, so a search by event
    // finds more than one delivery per event.
    let (one, two) = (TestReceiver::start().await, TestReceiver::start().await);
    app.endpoint(&key, json!({"url": one.url()})).await;
    app.endpoint(&key, json!({"url": two.url()})).await;

    let mut body = payin(&merchant, &["pay_123"]);
    body["idempotency_key"] = json!("order-1");
    let first = ingest_event(&app, body).await;
    let second = ingest_event(&app, payin(&merchant, &["pay_123", "refund_5"])).await;
    let mut body = payin(&merchant, &[]);
    body["idempotency_key"] = json!("order-3");
    let third = ingest_event(&app, body).await;
    app.drain().await;
    let of_first = delivery_ids(&app, &key, &first).await;
    let of_second = delivery_ids(&app, &key, &second).await;
    let of_third = delivery_ids(&app, &key, &third).await;
    assert!([&of_first, &of_second, &of_third]
        .iter()
        .all(|d| d.len() == 2));

    // By an event's id: that event and its deliveries.
    let found = search_ok(&app, &key, "/api/v1/search", &first).await;
    assert_eq!(ids(&found["events"]), [first.as_str()]);
    assert_eq!(as_set(&ids(&found["deliveries"])), as_set(&of_first));
    assert_eq!(found["events"][0]["tags"], json!(["pay_123"]));

    // By a delivery's id: that delivery (no event has that id).
    let found = search_ok(&app, &key, "/api/v1/search", &of_second[1]).await;
    assert_eq!(ids(&found["deliveries"]), [of_second[1].as_str()]);
    assert_eq!(found["deliveries"][0]["event_id"], second.as_str());
    assert_eq!(found["events"], json!([]), "{found}");

    // By a tag: every event carrying it, newest first, and their deliveries.
    let found = search_ok(&app, &key, "/api/v1/search", "pay_123").await;
    assert_eq!(ids(&found["events"]), [second.as_str(), first.as_str()]);
    let mut expected: Vec<String> = of_second.clone();
    expected.extend(of_first.clone());
    assert_eq!(as_set(&ids(&found["deliveries"])), as_set(&expected));
    assert_newest_first(&found["deliveries"]);
    let found = search_ok(&app, &key, "/api/v1/search", "refund_5").await;
    assert_eq!(ids(&found["events"]), [second.as_str()]);
    assert_eq!(as_set(&ids(&found["deliveries"])), as_set(&of_second));

    // By an idempotency key: the one event, even without tags.
    let found = search_ok(&app, &key, "/api/v1/search", "order-3").await;
    assert_eq!(ids(&found["events"]), [third.as_str()]);
    assert_eq!(as_set(&ids(&found["deliveries"])), as_set(&of_third));
    assert_eq!(found["events"][0]["tags"], json!([]));

    // Nothing matches: found nothing, which is not an error.
    let longest = "a".repeat(255);
    for q in [
        "pay_999",
        "order-",
        "evt_00000000000000000000000000",
        longest.as_str(),
    ] {
        let found = search_ok(&app, &key, "/api/v1/search", q).await;
        assert_eq!(found["events"], json!([]), "{q}");
        assert_eq!(found["deliveries"], json!([]), "{q}");
    }

    // No query, a blank one or one too long to be any id, tag or key.
    for path in [
        "/api/v1/search".to_owned(),
        "/api/v1/search?q=".to_owned(),
        "/api/v1/search?q=%20%20".to_owned(),
        format!("/api/v1/search?q={}", "a".repeat(256)),
    ] {
        let (status, error) = app.api(Method::GET, &path, &key, None).await;
        assert_eq!(status, 422, "{path}: {error}");
        assert_eq!(error["error"]["code"], "validation_failed", "{path}");
        let message = error["error"]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with('q'), "{path}: names q: {message}");
    }
    app.stop().await;
}

async fn another_merchants_ids_tags_and_keys_find_nothing(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let (alpha, key_a) = app.merchant("Alpha").await;
    let (bravo, key_b) = app.merchant("Bravo").await;
    let receiver = TestReceiver::start().await;
    app.endpoint(&key_a, json!({"url": receiver.url()})).await;
    app.endpoint(&key_b, json!({"url": receiver.url()})).await;

    let mut body = payin(&alpha.to_string(), &["pay_123", "shared_ref"]);
    body["idempotency_key"] = json!("order-a");
    let event_a = ingest_event(&app, body).await;
    // Bravo's platform reuses a reference: the same tag, its own event.
    let mut body = payin(&bravo.to_string(), &["shared_ref"]);
    body["idempotency_key"] = json!("order-b");
    let event_b = ingest_event(&app, body).await;
    app.drain().await;
    let delivery_a = app.deliveries_of(&key_a, &event_a).await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let delivery_b = app.deliveries_of(&key_b, &event_b).await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    // Bravo searching for anything of Alpha's finds nothing, and is not
    // told that it exists (200, not 404).
    for q in ["pay_123", event_a.as_str(), delivery_a.as_str(), "order-a"] {
        let found = search_ok(&app, &key_b, "/api/v1/search", q).await;
        assert_eq!(found["events"], json!([]), "{q}: {found}");
        assert_eq!(found["deliveries"], json!([]), "{q}: {found}");
        assert!(
            !found.to_string().contains(&event_a) && !found.to_string().contains("Alpha"),
            "{q}: {found}"
        );
    }
    for path in [
        "/api/v1/events?tag=pay_123",
        "/api/v1/events?idempotency_key=order-a",
        "/api/v1/deliveries?tag=pay_123",
        "/api/v1/deliveries?idempotency_key=order-a",
    ] {
        let list = app.get_ok(&key_b, path).await;
        assert_eq!(list["data"], json!([]), "{path}");
    }

    // The shared tag finds each merchant's own event only.
    let found = search_ok(&app, &key_b, "/api/v1/search", "shared_ref").await;
    assert_eq!(ids(&found["events"]), [event_b.as_str()]);
    assert_eq!(ids(&found["deliveries"]), [delivery_b.as_str()]);
    assert!(
        found
            .get("merchant_names")
            .is_none_or(|names| names == &json!({})),
        "a merchant is not told merchants' names: {found}"
    );
    let found = search_ok(&app, &key_a, "/api/v1/search", "shared_ref").await;
    assert_eq!(ids(&found["events"]), [event_a.as_str()]);
    assert_eq!(ids(&found["deliveries"]), [delivery_a.as_str()]);
    let listed = app.get_ok(&key_b, "/api/v1/events?tag=shared_ref").await;
    assert_eq!(ids(&listed["data"]), [event_b.as_str()]);
    let listed = app
        .get_ok(&key_b, "/api/v1/deliveries?tag=shared_ref")
        .await;
    assert_eq!(ids(&listed["data"]), [delivery_b.as_str()]);

    // Operators search across merchants, told whose each result is.
    let found = search_ok(&app, PLATFORM_TOKEN, "/api/v1/admin/search", "shared_ref").await;
    assert_eq!(
        ids(&found["events"]),
        [event_b.as_str(), event_a.as_str()],
        "newest first"
    );
    assert_eq!(
        ids(&found["deliveries"]),
        [delivery_b.as_str(), delivery_a.as_str()]
    );
    assert_eq!(
        found["merchant_names"],
        json!({alpha.to_string(): "Alpha", bravo.to_string(): "Bravo"})
    );
    let found = search_ok(&app, PLATFORM_TOKEN, "/api/v1/admin/search", &delivery_a).await;
    assert_eq!(ids(&found["deliveries"]), [delivery_a.as_str()]);
    assert_eq!(
        found["merchant_names"],
        json!({alpha.to_string(): "Alpha"}),
        "only the merchants in the results"
    );
    let listed = app
        .get_ok(PLATFORM_TOKEN, "/api/v1/admin/deliveries?tag=shared_ref")
        .await;
    assert_eq!(
        ids(&listed["data"]),
        [delivery_b.as_str(), delivery_a.as_str()]
    );

    // Each side keeps to its own route.
    let (status, _) = app
        .api(
            Method::GET,
            "/api/v1/admin/search?q=shared_ref",
            &key_a,
            None,
        )
        .await;
    assert_eq!(status, 403, "a merchant key cannot search across merchants");
    let (status, _) = app
        .api(
            Method::GET,
            "/api/v1/search?q=shared_ref",
            PLATFORM_TOKEN,
            None,
        )
        .await;
    assert_eq!(status, 403, "the platform token is not a merchant key");
    app.stop().await;
}

/// Retention in the test: long enough that an event ingested just before a
/// sweep is well inside it, short enough to wait out.
const RETENTION: Duration = Duration::from_secs(1);

async fn retention_deletes_old_settled_history_and_keeps_pending_and_recent(store: Store) {
    let config = ServeConfig {
        retention: Some(RETENTION),
        ..test_config()
    };
    let app = TestApp::spawn_manual_with(store.clone(), config).await;
    let (merchant, key) = app.merchant("Keeper").await;
    let merchant = merchant.to_string();
    let healthy = TestReceiver::start().await;
    let failing = TestReceiver::start().await;
    failing.always(Reply::status(500));
    app.endpoint(
        &key,
        json!({"url": healthy.url(), "event_types": ["payin.*"]}),
    )
    .await;
    // An hour to its next try: still pending when the sweeps come.
    app.endpoint(
        &key,
        json!({"url": failing.url(), "event_types": ["payout.*"],
               "retry_schedule": ["0s", "1h"]}),
    )
    .await;

    let mut delivered = Vec::new();
    for n in 0..2 {
        let body = json!({"merchant_id": merchant, "type": "payin.succeeded",
                          "data": {"n": n}, "tags": ["old_ref"]});
        delivered.push(ingest_event(&app, body).await);
    }
    // No endpoint takes refunds: events without deliveries.
    let mut undelivered = Vec::new();
    for n in 0..2 {
        let body = json!({"merchant_id": merchant, "type": "refund.completed",
                          "data": {"n": n}, "tags": ["old_ref"]});
        undelivered.push(ingest_event(&app, body).await);
    }
    let body = json!({"merchant_id": merchant, "type": "payout.failed",
                      "data": {"payout_id": "po_1"}, "tags": ["old_ref"]});
    let pending = ingest_event(&app, body).await;
    app.drain().await;

    let mut old_deliveries = Vec::new();
    for event in &delivered {
        let deliveries = app.deliveries_of(&key, event).await;
        assert_eq!(deliveries.len(), 1, "{deliveries:?}");
        assert_eq!(deliveries[0]["status"], "succeeded");
        old_deliveries.push(deliveries[0]["id"].as_str().expect("id").to_owned());
    }
    let pending_delivery = app.deliveries_of(&key, &pending).await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let before = app.delivery(&key, &pending_delivery).await;
    assert_eq!(before["status"], "pending", "{before}");
    assert_eq!(before["attempts"].as_array().map(Vec::len), Some(1));
    let old = [delivered.clone(), undelivered.clone()].concat();
    let attempts_sql = format!(
        "SELECT id FROM attempts WHERE delivery_id IN ({})",
        sql_list(&old_deliveries)
    );
    assert_eq!(
        raw_texts(&store, &attempts_sql).await.len(),
        2,
        "the old deliveries' attempts are there to delete"
    );

    tokio::time::sleep(RETENTION + Duration::from_millis(300)).await;
    let body = json!({"merchant_id": merchant, "type": "refund.completed",
                      "data": {"fresh": true}, "tags": ["old_ref"]});
    let fresh = ingest_event(&app, body).await;
    assert_eq!(
        app.sweep_retention().await,
        4,
        "the old delivered and undelivered events"
    );
    assert_eq!(app.sweep_retention().await, 0, "nothing more to delete");

    for event in &old {
        let (status, error) = app
            .api(Method::GET, &format!("/api/v1/events/{event}"), &key, None)
            .await;
        assert_eq!(status, 404, "{event} is gone: {error}");
        assert!(app.deliveries_of(&key, event).await.is_empty());
    }
    for delivery in &old_deliveries {
        let (status, error) = app
            .api(
                Method::GET,
                &format!("/api/v1/deliveries/{delivery}"),
                &key,
                None,
            )
            .await;
        assert_eq!(status, 404, "{delivery} is gone: {error}");
    }
    assert!(raw_texts(&store, &attempts_sql).await.is_empty());
    let old_list = sql_list(&old);
    for table in ["deliveries", "event_tags"] {
        let sql = format!("SELECT event_id FROM {table} WHERE event_id IN ({old_list})");
        assert!(raw_texts(&store, &sql).await.is_empty(), "{table}");
    }

    // The old event still being delivered, and the new one, are kept whole.
    let kept = app.get_ok(&key, "/api/v1/events").await;
    assert_eq!(ids(&kept["data"]), [fresh.as_str(), pending.as_str()]);
    let still = app.delivery(&key, &pending_delivery).await;
    assert_eq!(still["status"], "pending");
    assert_eq!(still["attempts"].as_array().map(Vec::len), Some(1));
    let tagged = app.get_ok(&key, "/api/v1/events?tag=old_ref").await;
    assert_eq!(ids(&tagged["data"]), [fresh.as_str(), pending.as_str()]);
    let found = search_ok(&app, &key, "/api/v1/search", "old_ref").await;
    assert_eq!(ids(&found["events"]), [fresh.as_str(), pending.as_str()]);
    assert_eq!(ids(&found["deliveries"]), [pending_delivery.as_str()]);

    let storage = app.get_ok(PLATFORM_TOKEN, "/api/v1/admin/storage").await;
    assert_eq!(storage["events"], 2, "{storage}");
    assert_eq!(storage["deliveries"], 1, "{storage}");
    assert_eq!(storage["attempts"], 1, "{storage}");
    let pending_created = get_event(&app, &key, &pending).await["created_at"].clone();
    assert_eq!(
        time(&storage["oldest_event_at"]),
        time(&pending_created),
        "{storage}"
    );
    assert!(
        storage["retention"]
            .as_str()
            .is_some_and(|r| !r.is_empty() && r != "off"),
        "{storage}"
    );
    assert_eq!(storage["purged_events"], 4, "{storage}");
    assert!(
        storage["database_bytes"].is_u64() || storage["database_bytes"].is_null(),
        "{storage}"
    );
    let (status, _) = app
        .api(Method::GET, "/api/v1/admin/storage", &key, None)
        .await;
    assert_eq!(status, 403, "storage is for operators");

    // Once its delivery is settled, a later sweep deletes the old event too.
    failing.always(Reply::status(200));
    let (status, queued) = app
        .api(
            Method::POST,
            &format!("/api/v1/deliveries/{pending_delivery}/retry"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 202, "{queued}");
    app.drain().await;
    assert_eq!(
        app.delivery(&key, &pending_delivery).await["status"],
        "succeeded"
    );
    tokio::time::sleep(RETENTION + Duration::from_millis(300)).await;
    assert_eq!(
        app.sweep_retention().await,
        2,
        "the settled old event, and the once fresh one"
    );
    assert_eq!(app.sweep_retention().await, 0);
    assert_eq!(event_count(&app, &key).await, 0);
    let storage = app.get_ok(PLATFORM_TOKEN, "/api/v1/admin/storage").await;
    assert_eq!(
        (
            &storage["events"],
            &storage["deliveries"],
            &storage["attempts"]
        ),
        (&json!(0), &json!(0), &json!(0)),
        "{storage}"
    );
    assert!(storage["oldest_event_at"].is_null(), "{storage}");
    assert_eq!(storage["purged_events"], 6, "{storage}");
    app.stop().await;
}

async fn a_month_of_retention_keeps_the_last_month(store: Store) {
    let config = ServeConfig {
        retention: Some(30 * DAY),
        ..test_config()
    };
    let app = TestApp::spawn_manual_with(store.clone(), config).await;
    let (merchant, key) = app.merchant("Monthly").await;
    let merchant = merchant.to_string();
    let ancient = ingest_event(&app, refund(&merchant, &["ref_old"])).await;
    let recent = ingest_event(&app, refund(&merchant, &["ref_recent"])).await;
    let today = ingest_event(&app, refund(&merchant, &[])).await;
    // Stored long ago, as a database in use for months holds.
    backdate(&store, &ancient, 40 * DAY).await;
    backdate(&store, &recent, 20 * DAY).await;

    assert_eq!(app.sweep_retention().await, 1, "the one older than a month");
    let (status, _) = app
        .api(
            Method::GET,
            &format!("/api/v1/events/{ancient}"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 404);
    let kept = app.get_ok(&key, "/api/v1/events").await;
    assert_eq!(ids(&kept["data"]), [today.as_str(), recent.as_str()]);
    let found = search_ok(&app, &key, "/api/v1/search", "ref_old").await;
    assert_eq!(found["events"], json!([]), "its tag went with it");
    let storage = app.get_ok(PLATFORM_TOKEN, "/api/v1/admin/storage").await;
    assert_eq!(storage["retention"], "30d", "{storage}");
    assert_eq!(storage["events"], 2, "{storage}");
    assert_eq!(storage["purged_events"], 1, "{storage}");
    let oldest = time(&storage["oldest_event_at"]);
    let age = chrono::Utc::now() - oldest.with_timezone(&chrono::Utc);
    assert!(
        (19..=21).contains(&age.num_days()),
        "the 20-day-old event is the oldest: {storage}"
    );
    app.stop().await;
}

async fn without_retention_history_is_kept_forever(store: Store) {
    let config = ServeConfig {
        retention: None,
        ..test_config()
    };
    let app = TestApp::spawn_manual_with(store.clone(), config).await;
    let (merchant, key) = app.merchant("Hoarder").await;
    let merchant = merchant.to_string();
    let ancient = ingest_event(&app, refund(&merchant, &["ref_old"])).await;
    let today = ingest_event(&app, refund(&merchant, &[])).await;
    backdate(&store, &ancient, 400 * DAY).await;

    assert_eq!(app.sweep_retention().await, 0, "nothing is ever too old");
    let kept = app.get_ok(&key, "/api/v1/events").await;
    assert_eq!(ids(&kept["data"]), [today.as_str(), ancient.as_str()]);
    let found = search_ok(&app, &key, "/api/v1/search", "ref_old").await;
    assert_eq!(ids(&found["events"]), [ancient.as_str()]);
    let storage = app.get_ok(PLATFORM_TOKEN, "/api/v1/admin/storage").await;
    assert_eq!(storage["retention"], "off", "{storage}");
    assert_eq!(storage["events"], 2, "{storage}");
    assert_eq!(storage["purged_events"], 0, "{storage}");
    let created = get_event(&app, &key, &ancient).await["created_at"].clone();
    assert_eq!(time(&storage["oldest_event_at"]), time(&created));
    app.stop().await;
}

async fn metrics_report_what_is_stored_and_purged(store: Store) {
    let config = ServeConfig {
        retention: Some(30 * DAY),
        ..test_config()
    };
    let app = TestApp::spawn_manual_with(store.clone(), config).await;
    let (merchant, key) = app.merchant("Measured").await;
    let merchant = merchant.to_string();
    let receiver = TestReceiver::start().await;
    app.endpoint(
        &key,
        json!({"url": receiver.url(), "event_types": ["payin.*"]}),
    )
    .await;
    for n in 0..2 {
        ingest_event(&app, payin(&merchant, &[format!("pay_{n}").as_str()])).await;
    }
    let old = ingest_event(&app, refund(&merchant, &["ref_1"])).await;
    app.drain().await;

    wait_for_metric(&app, "herald_stored_events", 3.0).await;
    wait_for_metric(&app, "herald_stored_deliveries", 2.0).await;
    wait_for_metric(&app, "herald_stored_attempts", 2.0).await;
    wait_for_metric(&app, "herald_retention_purged_events_total", 0.0).await;
    // Just ingested.
    wait_for_metric_that(&app, "herald_oldest_event_age_seconds", |age| {
        (0.0..3600.0).contains(&age)
    })
    .await;

    backdate(&store, &old, 40 * DAY).await;
    // Now the oldest is 40 days old.
    wait_for_metric_that(&app, "herald_oldest_event_age_seconds", |age| {
        age >= (40 * DAY).as_secs_f64() - 60.0
    })
    .await;
    assert_eq!(app.sweep_retention().await, 1);
    wait_for_metric(&app, "herald_stored_events", 2.0).await;
    wait_for_metric(&app, "herald_retention_purged_events_total", 1.0).await;
    // The oldest left is new.
    wait_for_metric_that(&app, "herald_oldest_event_age_seconds", |age| age < 3600.0).await;
    app.stop().await;
}

// --- helpers for this file ---

fn payin(merchant: &str, tags: &[&str]) -> Value {
    json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {}, "tags": tags})
}

/// An event no endpoint in these tests takes: it has no deliveries.
fn refund(merchant: &str, tags: &[&str]) -> Value {
    json!({"merchant_id": merchant, "type": "refund.completed", "data": {"refund_id": "rf_1"}, "tags": tags})
}

/// Ingests an event, which must be accepted as new; returns its id.
async fn ingest_event(app: &TestApp, body: Value) -> String {
    let (status, accepted) = app.ingest(body).await;
    assert_eq!(status, 202, "ingest: {accepted}");
    accepted["id"].as_str().expect("event id").to_owned()
}

/// The ids of an event's deliveries, as the merchant lists them.
async fn delivery_ids(app: &TestApp, key: &str, event: &str) -> Vec<String> {
    ids(&Value::Array(app.deliveries_of(key, event).await))
}

async fn get_event(app: &TestApp, key: &str, id: &str) -> Value {
    app.get_ok(key, &format!("/api/v1/events/{id}")).await
}

/// How many events the merchant's list holds (one page is plenty here).
async fn event_count(app: &TestApp, key: &str) -> usize {
    let page = app.get_ok(key, "/api/v1/events?limit=250").await;
    page["data"].as_array().map_or(0, Vec::len)
}

/// Every item of a list, two to a page, following `next_cursor`.
async fn walk(app: &TestApp, key: &str, path: &str) -> Vec<Value> {
    let separator = if path.contains('?') { '&' } else { '?' };
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let page_path = match &cursor {
            None => format!("{path}{separator}limit=2"),
            Some(c) => format!("{path}{separator}limit=2&cursor={c}"),
        };
        let page = app.get_ok(key, &page_path).await;
        let data = page["data"].as_array().expect("data");
        assert!(data.len() <= 2, "{page_path}: {page}");
        items.extend(data.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return items,
        }
    }
    panic!("{path}: the walk never ends");
}

/// `GET path?q=` as `token`, which must answer 200.
async fn search_ok(app: &TestApp, token: &str, path: &str, q: &str) -> Value {
    let found = app
        .get_ok(token, &format!("{path}?q={}", url_encode(q)))
        .await;
    assert!(found["events"].is_array(), "{found}");
    assert!(found["deliveries"].is_array(), "{found}");
    found
}

fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The ids of a JSON list of events or deliveries, in order.
fn ids(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("a list")
        .iter()
        .map(|item| item["id"].as_str().expect("id").to_owned())
        .collect()
}

fn ids_of(items: &[Value]) -> Vec<String> {
    ids(&Value::Array(items.to_vec()))
}

/// The event of each delivery in a JSON list, in order.
fn event_ids(deliveries: &Value) -> Vec<String> {
    deliveries
        .as_array()
        .expect("a list")
        .iter()
        .map(|d| d["event_id"].as_str().expect("event_id").to_owned())
        .collect()
}

fn event_ids_of(deliveries: &[Value]) -> Vec<String> {
    event_ids(&Value::Array(deliveries.to_vec()))
}

fn as_set(ids: &[String]) -> BTreeSet<String> {
    ids.iter().cloned().collect()
}

fn assert_newest_first(items: &Value) {
    let times: Vec<DateTime<FixedOffset>> = items
        .as_array()
        .expect("a list")
        .iter()
        .map(|item| time(&item["created_at"]))
        .collect();
    assert!(
        times.windows(2).all(|pair| pair[0] >= pair[1]),
        "newest first: {items}"
    );
}

fn time(value: &Value) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(value.as_str().expect("a time")).expect("RFC 3339")
}

/// Now, in RFC 3339 to the millisecond (no `+`, so it goes in a URL as is).
fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A time clearly after what came before and before what comes next.
async fn time_between() -> String {
    tokio::time::sleep(PAUSE).await;
    let at = now();
    tokio::time::sleep(PAUSE).await;
    at
}

/// Moves an event's creation `age` into the past, as if it had been stored
/// then (times are kept as milliseconds since the epoch).
async fn backdate(store: &Store, event: &str, age: Duration) {
    let age = chrono::Duration::from_std(age).expect("age");
    let at = (chrono::Utc::now() - age).timestamp_millis();
    let updated = raw_texts(
        store,
        &format!("UPDATE events SET created_at = {at} WHERE id = '{event}' RETURNING id"),
    )
    .await;
    assert_eq!(updated, [event]);
}

/// Ids as an SQL list: `'a', 'b'`.
fn sql_list(ids: &[String]) -> String {
    ids.iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The value of an unlabelled metric in `/metrics`; `None` when absent.
async fn metric(app: &TestApp, name: &str) -> Option<f64> {
    let text = client()
        .get(app.url("/metrics"))
        .timeout(WAIT)
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    text.lines().find_map(|line| {
        line.strip_prefix(name)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

/// Polls `/metrics` until `name` reads `expected`, or panics after `WAIT`.
async fn wait_for_metric(app: &TestApp, name: &str, expected: f64) {
    wait_for_metric_that(app, name, |value| value == expected).await;
}

/// Polls `/metrics` until `name` is there and `ok` with it, or panics
/// after `WAIT`.
async fn wait_for_metric_that(app: &TestApp, name: &str, ok: impl Fn(f64) -> bool) {
    let deadline = Instant::now() + WAIT;
    loop {
        let value = metric(app, name).await;
        if value.is_some_and(&ok) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name} reads {value:?}, not what was expected"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
