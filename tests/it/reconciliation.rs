//! The recovery path when webhooks were missed: list events since a time,
//! page by page, and get every one exactly once.

use crate::both_backends;
use crate::helpers::TestApp;
use chrono::{SecondsFormat, Utc};
use herald::store::Store;
use reqwest::Method;
use serde_json::json;
use std::collections::HashSet;

both_backends!(a_merchant_catches_up_on_missed_events_by_polling);

async fn a_merchant_catches_up_on_missed_events_by_polling(store: Store) {
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Offline").await;
    // The merchant's server is down: nothing listens on this port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let down_url = format!("http://{}/hooks", closed.local_addr().expect("addr"));
    drop(closed);
    app.endpoint(&key, json!({"url": down_url})).await;

    let before_outage = Utc::now() - chrono::Duration::seconds(1);
    let (status, _) = app
        .ingest(json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {"n": -1}}))
        .await;
    assert_eq!(status, 202, "the event handled before the outage");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let last_processed = Utc::now();
    let mut missed = Vec::new();
    for n in 0..60 {
        let (status, accepted) = app
            .ingest(json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {"n": n}}))
            .await;
        assert_eq!(status, 202, "{accepted}");
        missed.push(accepted["id"].as_str().expect("id").to_owned());
    }

    // Back up: list since the last processed event, following the cursor.
    let since = last_processed.to_rfc3339_opts(SecondsFormat::Millis, true);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!(
            "/api/v1/events?since={}&live_mode=true&limit=25",
            since.replace('+', "%2B")
        );
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={cursor}"));
        }
        let (status, page) = app.api(Method::GET, &path, &key, None).await;
        assert_eq!(status, 200, "{page}");
        for event in page["data"].as_array().expect("data") {
            seen.push(event["id"].as_str().expect("id").to_owned());
            assert_eq!(event["data"]["n"].as_i64().map(|n| n >= 0), Some(true));
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), missed.len(), "every missed event, once");
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len());
    seen.reverse();
    assert_eq!(seen, missed, "oldest first once reversed: ingest order");

    // Listing from before the outage includes the earlier event too.
    let (_, page) = app
        .api(
            Method::GET,
            &format!(
                "/api/v1/events?since={}&live_mode=true&limit=250",
                before_outage.to_rfc3339_opts(SecondsFormat::Millis, true)
            ),
            &key,
            None,
        )
        .await;
    assert_eq!(page["data"].as_array().map(Vec::len), Some(61));
    app.stop().await;
}
