//! Test mode (seed 000's sandbox): test events are marked `live_mode: false`
//! and can be left out of, or picked from, the event and delivery lists and
//! the stats.

use crate::both_backends;
use crate::helpers::TestApp;
use crate::receiver::TestReceiver;
use herald::store::Store;
use reqwest::Method;
use serde_json::{json, Value};

both_backends!(test_mode_deliveries_can_be_filtered_out_of_lists_and_stats);

async fn test_mode_deliveries_can_be_filtered_out_of_lists_and_stats(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let (merchant, key) = app.merchant("Sandbox").await;
    let receiver = TestReceiver::start().await;
    let (endpoint, _) = app.endpoint(&key, json!({"url": receiver.url()})).await;
    app.ingest(json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {"n": 1}}))
        .await;
    // A test event with a payload of the merchant's own, not the example.
    let (status, sent) = app
        .api(
            Method::POST,
            &format!("/api/v1/endpoints/{endpoint}/test"),
            &key,
            Some(json!({"event_type": "payout.failed", "data": {"payout_id": "po_test"}})),
        )
        .await;
    assert_eq!(status, 202, "{sent}");
    app.drain().await;
    let got = receiver.received();
    assert!(got.len() >= 2, "{} requests", got.len());
    let bodies: Vec<Value> = got
        .iter()
        .map(|r| serde_json::from_slice(&r.body).expect("JSON"))
        .collect();
    let test_body = bodies
        .iter()
        .find(|b| b["type"] == "payout.failed")
        .expect("the test event arrived");
    assert_eq!(test_body["live_mode"], false);
    assert_eq!(test_body["data"], json!({"payout_id": "po_test"}));

    let types = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|d| d["event_type"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let list = |query: &'static str| {
        let app = &app;
        let key = key.clone();
        async move {
            let (status, page) = app
                .api(
                    Method::GET,
                    &format!("/api/v1/deliveries{query}"),
                    &key,
                    None,
                )
                .await;
            assert_eq!(status, 200, "{query}: {page}");
            page
        }
    };
    assert_eq!(types(&list("").await).len(), 2);
    assert_eq!(types(&list("?live_mode=true").await), ["payin.succeeded"]);
    assert_eq!(types(&list("?live_mode=false").await), ["payout.failed"]);
    let (status, refused) = app
        .api(
            Method::GET,
            "/api/v1/deliveries?live_mode=maybe",
            &key,
            None,
        )
        .await;
    assert_eq!(status, 400, "{refused}");

    // The events list, the polling path, leaves test events out on request,
    // so a merchant catching up never handles a test event as real.
    let event_types = |query: &'static str| {
        let app = &app;
        let key = key.clone();
        async move {
            let (status, page) = app
                .api(Method::GET, &format!("/api/v1/events{query}"), &key, None)
                .await;
            assert_eq!(status, 200, "{query}: {page}");
            page["data"]
                .as_array()
                .expect("data")
                .iter()
                .map(|e| e["type"].as_str().unwrap_or_default().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(event_types("").await.len(), 2);
    assert_eq!(event_types("?live_mode=true").await, ["payin.succeeded"]);
    assert_eq!(event_types("?live_mode=false").await, ["payout.failed"]);

    // Both delivered; the stats count one or the other on request.
    assert!(
        types(&list("?status=succeeded").await).len() >= 2,
        "both delivered"
    );
    let delivered = |stats: &Value| -> u64 {
        stats["hours"]
            .as_array()
            .expect("hours")
            .iter()
            .map(|h| h["succeeded"].as_u64().unwrap_or(0))
            .sum()
    };
    for (query, want) in [("", 2), ("?live_mode=true", 1), ("?live_mode=false", 1)] {
        let (status, stats) = app
            .api(Method::GET, &format!("/api/v1/stats{query}"), &key, None)
            .await;
        assert_eq!(status, 200, "{stats}");
        assert_eq!(delivered(&stats), want, "{query}: {stats}");
    }
    app.stop().await;
}
