//! `GET /api/v1/stats`: deliveries counted in their hour by outcome, latency
//! from the attempts, scoped to the merchant.

use crate::both_backends;
use crate::helpers::TestApp;
use crate::receiver::{Reply, TestReceiver};
use herald::store::Store;
use reqwest::Method;
use serde_json::json;

both_backends!(stats_count_outcomes_per_hour_and_endpoint);

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
    let by_id = |id: &str| {
        stats["endpoints"]
            .as_array()
            .and_then(|list| list.iter().find(|e| e["endpoint_id"] == id).cloned())
            .expect("endpoint stats")
    };
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
