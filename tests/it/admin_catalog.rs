//! Operators manage the event-type catalog; archived types cannot be
//! subscribed to or ingested, and what exists stays readable.

use crate::both_backends;
use crate::helpers::{TestApp, PLATFORM_TOKEN};
use crate::receiver::TestReceiver;
use herald::store::Store;
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

both_backends!(operators_add_change_and_archive_event_types);

/// A request with the platform token.
async fn admin(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    app.api(method, path, PLATFORM_TOKEN, body).await
}

async fn operators_add_change_and_archive_event_types(store: Store) {
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Catalog").await;

    let (status, created) = admin(
        &app,
        Method::POST,
        "/api/v1/admin/event-types",
        Some(
            json!({"name": "payout.reversed", "description": "A payout came back.",
                    "example": {"payoutId": "po_1", "reason": "account closed"}}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["category"], "payout");
    assert_eq!(created["archived"], false);

    for (body, expected) in [
        (
            json!({"name": "payout.reversed", "description": "again"}),
            409,
        ),
        (json!({"name": "Payout Reversed", "description": "x"}), 422),
        (json!({"name": "payout.held", "description": ""}), 422),
        (
            json!({"name": "payout.held", "description": "x", "example": [1]}),
            422,
        ),
    ] {
        let (status, error) = admin(
            &app,
            Method::POST,
            "/api/v1/admin/event-types",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, expected, "{body}: {error}");
        assert!(error["error"]["code"].is_string(), "{error}");
    }
    let (status, _) = app
        .api(Method::GET, "/api/v1/admin/event-types", &key, None)
        .await;
    assert_eq!(status, 403, "a merchant key is not an operator");

    // Merchants see it, subscribe to it, and receive it.
    let receiver = TestReceiver::start().await;
    let (endpoint, _) = app
        .endpoint(
            &key,
            json!({"url": receiver.url(), "event_types": ["payout.reversed"]}),
        )
        .await;
    let (status, accepted) = app
        .ingest(json!({"merchant_id": merchant, "type": "payout.reversed", "data": {"payoutId": "po_1"}}))
        .await;
    assert_eq!(status, 202, "{accepted}");
    receiver.wait_for(1, Duration::from_secs(10)).await;
    let event = accepted["id"].as_str().expect("id").to_owned();

    // Archived: no new subscriptions, no new events; the old event stays.
    let (status, archived) = admin(
        &app,
        Method::PATCH,
        "/api/v1/admin/event-types/payout.reversed",
        Some(json!({"archived": true, "description": "A payout came back (retired)."})),
    )
    .await;
    assert_eq!(status, 200, "{archived}");
    assert_eq!(archived["archived"], true);
    assert_eq!(archived["description"], "A payout came back (retired).");
    let (status, error) = app
        .api(
            Method::POST,
            "/api/v1/endpoints",
            &key,
            Some(json!({"url": receiver.url(), "event_types": ["payout.reversed"]})),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    assert!(error["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("payout.reversed"));
    let (status, _) = app
        .ingest(json!({"merchant_id": merchant, "type": "payout.reversed", "data": {}}))
        .await;
    assert_eq!(status, 422);
    let (status, old) = app
        .api(Method::GET, &format!("/api/v1/events/{event}"), &key, None)
        .await;
    assert_eq!(status, 200, "{old}");
    let (status, _) = app
        .api(
            Method::GET,
            &format!("/api/v1/endpoints/{endpoint}"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 200);

    // Restored, it works again; an unknown name is 404.
    let (status, _) = admin(
        &app,
        Method::PATCH,
        "/api/v1/admin/event-types/payout.reversed",
        Some(json!({"archived": false})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .ingest(json!({"merchant_id": merchant, "type": "payout.reversed", "data": {}}))
        .await;
    assert_eq!(status, 202);
    let (status, _) = admin(
        &app,
        Method::PATCH,
        "/api/v1/admin/event-types/nothing.here",
        Some(json!({"archived": true})),
    )
    .await;
    assert_eq!(status, 404);
    app.stop().await;
}
