//! `GET /api/v1/stats`: deliveries counted in their hour by outcome, latency
//! from the attempts, scoped to the merchant.

use crate::both_backends;
use crate::helpers::{item_where, raw_texts, TestApp, PLATFORM_TOKEN};
use crate::receiver::{Reply, TestReceiver};
use herald::store::Store;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

both_backends!(
    stats_count_outcomes_per_hour_and_endpoint,
    stats_stay_right_across_status_changes_and_purges
);

async fn stats_count_outcomes_per_hour_and_endpoint(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let (merchant, key) = app.merchant("Stats").await;
    let good = TestReceiver::start().await;
    let bad = TestReceiver::start().await;
    bad.always(Reply::status(500));
    let (good_id, _) = app
        .endpoint(&key, json!({"url": good.url(), "event_types": ["payin.*"]}))
        .await;
    let (bad_id, _) = app
        .endpoint(&key, json!({"url": bad.url(), "event_types": ["payout.*"]}))
        .await;
    for _ in 0..3 {
        app.ingest(json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {}}))
            .await;
    }
    let (_, accepted) = app
        .ingest(json!({"merchant_id": merchant, "type": "payout.failed", "data": {}}))
        .await;
    let event = accepted["id"].as_str().expect("id");
    let failing = app.deliveries_of(&key, event).await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // Every attempt recorded, the failing one's retries too.
    app.drain().await;
    assert!(good.received().len() >= 3);
    assert_eq!(app.delivery(&key, &failing).await["status"], "failed");

    let (status, stats) = app
        .api(Method::GET, "/api/v1/stats?window=24h", &key, None)
        .await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(stats["window_hours"], 24);
    let hours = stats["hours"].as_array().expect("hours");
    assert_eq!(hours.len(), 24, "every hour of the window");
    // Summed, so a test that runs across the hour still adds up.
    let total = |field: &str| {
        hours
            .iter()
            .map(|h| h[field].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    assert_eq!(total("succeeded"), 3, "{stats}");
    assert_eq!(total("failed"), 1, "{stats}");
    assert!(
        hours.iter().any(|h| h["p95_ms"].is_u64()),
        "latency from the attempts: {stats}"
    );

    assert!(hours[..22]
        .iter()
        .all(|h| h["succeeded"] == 0 && h["failed"] == 0));
    let by_id = |id: &str| item_where(&stats["endpoints"], "endpoint_id", id);
    assert_eq!(by_id(&good_id)["success_rate"], 1.0);
    assert_eq!(by_id(&bad_id)["success_rate"], 0.0);
    assert_eq!(by_id(&bad_id)["failed"], 1);

    // One endpoint; bad windows; another merchant's endpoint.
    let (status, one) = app
        .api(
            Method::GET,
            &format!("/api/v1/stats?endpoint_id={good_id}&window=1h"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["endpoints"].as_array().map(Vec::len), Some(1));
    assert_eq!(one["hours"].as_array().map(Vec::len), Some(1));
    for bad_window in ["0h", "30m", "8d", "often"] {
        let (status, error) = app
            .api(
                Method::GET,
                &format!("/api/v1/stats?window={bad_window}"),
                &key,
                None,
            )
            .await;
        assert_eq!(status, 422, "{bad_window}: {error}");
    }
    let (_, other) = app.merchant("Other").await;
    let (status, _) = app
        .api(
            Method::GET,
            &format!("/api/v1/stats?endpoint_id={good_id}"),
            &other,
            None,
        )
        .await;
    assert_eq!(status, 404);
    app.stop().await;
}

/// Counts follow every change of a delivery's status (the recorder, a
/// merchant's retry, an operator's bulk retry) and retention's deletes,
/// with a delivery left pending through a purge; latency percentiles are
/// those of the recorded attempts within the histogram's precision.
async fn stats_stay_right_across_status_changes_and_purges(store: Store) {
    let app = TestApp::spawn_manual(store.clone()).await;
    let (merchant, key) = app.merchant("Rollups").await;
    let slow = TestReceiver::start().await;
    let flaky = TestReceiver::start().await;
    flaky.always(Reply::status(500));
    // Answers spread over 70–400 ms, where the histogram's buckets are
    // 2–8 ms wide: a percentile off by a bucket would show.
    slow.script((0..9u64).map(|i| Reply::status(200).after(Duration::from_millis(70 + 41 * i))));
    let (slow_id, _) = app
        .endpoint(&key, json!({"url": slow.url(), "event_types": ["payin.*"]}))
        .await;
    let (flaky_id, _) = app
        .endpoint(
            &key,
            json!({"url": flaky.url(), "event_types": ["payout.*"]}),
        )
        .await;
    let merchant = merchant.to_string();
    let ingest = |event_type| ingest_one(&app, &merchant, &key, event_type);
    let mut slow_deliveries = Vec::new();
    for _ in 0..9 {
        slow_deliveries.push(ingest("payin.succeeded").await);
    }
    let mut failing = Vec::new();
    for _ in 0..3 {
        failing.push(ingest("payout.failed").await);
    }
    assert_counts(&app, &key, &flaky_id, (0, 0, 3)).await;
    app.drain().await;
    assert_counts(&app, &key, &slow_id, (9, 0, 0)).await;
    assert_counts(&app, &key, &flaky_id, (0, 3, 0)).await;

    // Latency: the exact nearest-rank percentiles of the recorded attempts,
    // reported as the upper bound of their bucket: never below, and less
    // than 1/32 above.
    let mut durations = Vec::new();
    for id in &slow_deliveries {
        for attempt in app.delivery(&key, id).await["attempts"]
            .as_array()
            .expect("attempts")
        {
            durations.push(attempt["duration_ms"].as_u64().expect("duration"));
        }
    }
    durations.sort_unstable();
    assert_eq!(durations.len(), 9);
    assert!(durations[0] >= 64, "{durations:?}");
    let stats = endpoint_stats(&app, &key, &slow_id).await;
    for (field, rank) in [("p50_ms", 5), ("p95_ms", 9)] {
        let exact = durations[rank - 1];
        let reported = stats[field].as_u64().expect(field);
        assert!(
            exact <= reported && reported < exact + exact / 32 + 1,
            "{field}: {reported} for {exact} ({durations:?})"
        );
    }

    // A merchant's retry and an operator's bulk retry: failed → pending.
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/deliveries/{}/retry", failing[0]),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_counts(&app, &key, &flaky_id, (0, 2, 1)).await;
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/admin/deliveries/retry",
            PLATFORM_TOKEN,
            Some(json!({"ids": [failing[1]]})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_counts(&app, &key, &flaky_id, (0, 1, 2)).await;
    // The receiver is fixed: pending → succeeded.
    flaky.always(Reply::status(200));
    app.drain().await;
    assert_counts(&app, &key, &flaky_id, (2, 1, 0)).await;
    let flaky_stats = endpoint_stats(&app, &key, &flaky_id).await;
    assert!((flaky_stats["success_rate"].as_f64().expect("rate") - 2.0 / 3.0).abs() < 1e-9);

    // One more, left pending: retention keeps it and deletes the rest.
    let pending = ingest("payout.failed").await;
    assert_counts(&app, &key, &flaky_id, (2, 1, 1)).await;
    let purged = store
        .purge_events_before(chrono::Utc::now() + chrono::Duration::hours(1), 1000)
        .await
        .expect("purge");
    assert!(purged >= 12, "{purged}");
    assert_counts(&app, &key, &slow_id, (0, 0, 0)).await;
    assert_counts(&app, &key, &flaky_id, (0, 0, 1)).await;
    assert_eq!(
        endpoint_stats(&app, &key, &slow_id).await["p95_ms"],
        Value::Null
    );
    // Nothing of the deleted hours is left in the rollups.
    for table in ["delivery_counts_hourly", "attempt_latency_hourly"] {
        let rows = raw_texts(
            &store,
            &format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table} WHERE endpoint_id = '{slow_id}'"),
        )
        .await;
        assert_eq!(rows, ["0"], "{table}");
    }
    // What is stored is what the operator is told.
    let storage = app.get_ok(PLATFORM_TOKEN, "/api/v1/admin/storage").await;
    for table in ["events", "deliveries", "attempts"] {
        let counted = raw_texts(
            &store,
            &format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}"),
        )
        .await;
        assert_eq!(storage[table].to_string(), counted[0], "{table}: {storage}");
    }

    // Counts keep following after a purge.
    app.drain().await;
    assert_eq!(app.delivery(&key, &pending).await["status"], "succeeded");
    assert_counts(&app, &key, &flaky_id, (1, 0, 0)).await;
    let stats = endpoint_stats(&app, &key, &flaky_id).await;
    assert!(stats["p95_ms"].is_u64(), "{stats}");
    app.stop().await;
}

/// Ingests an event of `event_type`; the id of its one delivery.
async fn ingest_one(app: &TestApp, merchant: &str, key: &str, event_type: &str) -> String {
    let (status, accepted) = app
        .ingest(json!({"merchant_id": merchant, "type": event_type, "data": {}}))
        .await;
    assert_eq!(status, 202, "{accepted}");
    let event = accepted["id"].as_str().expect("id").to_owned();
    app.deliveries_of(key, &event).await[0]["id"]
        .as_str()
        .expect("delivery id")
        .to_owned()
}

/// An endpoint's entry in the merchant's 24-hour stats.
async fn endpoint_stats(app: &TestApp, key: &str, endpoint: &str) -> Value {
    let stats = app
        .get_ok(
            key,
            &format!("/api/v1/stats?window=24h&endpoint_id={endpoint}"),
        )
        .await;
    stats["endpoints"][0].clone()
}

/// The endpoint's (succeeded, failed, pending) in its 24-hour stats, summed
/// over the hours the same, and what the deliveries list holds.
async fn assert_counts(app: &TestApp, key: &str, endpoint: &str, expected: (u64, u64, u64)) {
    let stats = app
        .get_ok(
            key,
            &format!("/api/v1/stats?window=24h&endpoint_id={endpoint}"),
        )
        .await;
    let of = |v: &Value, field: &str| v[field].as_u64().unwrap_or(0);
    let entry = &stats["endpoints"][0];
    let counts = (
        of(entry, "succeeded"),
        of(entry, "failed"),
        of(entry, "pending"),
    );
    assert_eq!(counts, expected, "{stats}");
    let hours = stats["hours"].as_array().expect("hours");
    let summed = |field: &str| hours.iter().map(|h| of(h, field)).sum::<u64>();
    assert_eq!(
        (summed("succeeded"), summed("failed"), summed("pending")),
        expected,
        "{stats}"
    );
    for (status, n) in [
        ("succeeded", expected.0),
        ("failed", expected.1),
        ("pending", expected.2),
    ] {
        let listed = app
            .get_ok(
                key,
                &format!("/api/v1/deliveries?endpoint_id={endpoint}&status={status}&limit=100"),
            )
            .await;
        assert_eq!(
            listed["data"].as_array().map(Vec::len),
            Some(n as usize),
            "{status}"
        );
    }
}
