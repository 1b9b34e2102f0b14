//! Health, the JSON error body, the body limit, and the pages' first paint.

use crate::both_backends;
use crate::helpers::{client, TestApp};
use crate::receiver::TestReceiver;
use herald::store::Store;
use serde_json::json;
use std::time::Duration;

both_backends!(
    health_answers_ok,
    unknown_api_routes_get_the_error_body,
    public_pages_render,
    pages_and_json_go_out_compressed,
    metrics_count_what_this_process_did,
);

async fn health_answers_ok(store: Store) {
    let app = TestApp::spawn(store).await;
    let response = client().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "ok"}));
    app.stop().await;
}

async fn unknown_api_routes_get_the_error_body(store: Store) {
    let app = TestApp::spawn(store).await;
    let response = client()
        .get(app.url("/api/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    assert!(body["error"]["message"].is_string());
    app.stop().await;
}

async fn public_pages_render(store: Store) {
    let app = TestApp::spawn(store).await;
    for (path, text) in [
        ("/login", "Log in to Herald"),
        ("/signup", "Create your Herald account"),
    ] {
        let response = client().get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
        let html = response.text().await.unwrap();
        assert!(html.contains(text), "{path}");
        assert!(
            html.contains(r#"<label for="email""#),
            "{path} has labelled fields"
        );
    }
    app.stop().await;
}

async fn pages_and_json_go_out_compressed(store: Store) {
    let app = TestApp::spawn(store).await;
    let (_, key) = app.merchant("Compressed").await;
    for (path, auth) in [("/login", None), ("/api/v1/event-types", Some(&key))] {
        let fetch = |encoding: Option<&'static str>| {
            let mut request = client().get(app.url(path));
            if let Some(encoding) = encoding {
                request = request.header("accept-encoding", encoding);
            }
            if let Some(key) = auth {
                request = request.bearer_auth(key);
            }
            request.send()
        };
        let plain = fetch(None).await.unwrap();
        assert_eq!(plain.status().as_u16(), 200, "{path}");
        assert!(plain.headers().get("content-encoding").is_none(), "{path}");
        let plain = plain.bytes().await.unwrap();
        for encoding in ["br", "gzip"] {
            let packed = fetch(Some(encoding)).await.unwrap();
            assert_eq!(packed.status().as_u16(), 200, "{path}");
            assert_eq!(packed.headers()["content-encoding"], encoding, "{path}");
            // Compressed or not, nothing with a merchant's data is cached.
            assert_eq!(packed.headers()["cache-control"], "no-store", "{path}");
            let packed = packed.bytes().await.unwrap();
            assert!(
                packed.len() * 2 < plain.len(),
                "{path} in {encoding}: {} bytes against {}",
                packed.len(),
                plain.len()
            );
        }
    }
    app.stop().await;
}

async fn metrics_count_what_this_process_did(store: Store) {
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Acme").await;
    let receiver = TestReceiver::start().await;
    app.endpoint(&key, json!({"url": receiver.url()})).await;
    let event =
        json!({"merchant_id": merchant.to_string(), "type": "payin.succeeded", "data": {"n": 1}});
    let (status, accepted) = app.ingest(event.clone()).await;
    assert_eq!(status, 202, "{accepted}");
    let mut repeat = event;
    repeat["idempotency_key"] = json!("once");
    app.ingest(repeat.clone()).await;
    let (status, _) = app.ingest(repeat).await;
    assert_eq!(status, 200, "an idempotent repeat is not a new event");
    receiver.wait_for(2, Duration::from_secs(10)).await;

    // The attempt counters move once the records are committed. Generous:
    // on a loaded 2-core CI machine running the whole suite, this once took
    // longer than 10 s (stop 29; not reproduced since, cause not found).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let text = loop {
        let response = client().get(app.url("/metrics")).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"));
        let text = response.text().await.unwrap();
        if text.contains("herald_attempts_total{outcome=\"succeeded\"} 2\n")
            || std::time::Instant::now() > deadline
        {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for expected in [
        "herald_events_ingested_total 2\n",
        "herald_attempts_total{outcome=\"succeeded\"} 2\n",
        "herald_attempts_total{outcome=\"status\"} 0\n",
        "herald_deliveries_finished_total{outcome=\"succeeded\"} 2\n",
        "herald_attempt_duration_seconds_count 2\n",
        "herald_queue_depth{state=\"due\"} 0\n",
        "herald_queue_depth{state=\"scheduled\"} 0\n",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    app.stop().await;
}
