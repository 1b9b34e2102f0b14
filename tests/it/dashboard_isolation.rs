//! Tenant isolation through the dashboard's server functions, not only the
//! REST API: merchant B, logged in, naming merchant A's ids gets "not found"
//! and changes nothing; a merchant gets 403 from every admin function.

use crate::both_backends;
use crate::helpers::{Browser, TestApp};
use crate::receiver::TestReceiver;
use herald::store::Store;
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

both_backends!(
    merchant_b_reaches_nothing_of_merchant_a_through_the_dashboard,
    admin_functions_refuse_merchants,
);

const PASSWORD: &str = "correct horse battery staple";

async fn signed_up(app: &TestApp, name: &str) -> Browser {
    let mut browser = app.browser();
    let email = format!("{}@example.test", name.to_lowercase());
    let (status, body) = browser
        .call(
            "sign_up",
            &[("name", name), ("email", &email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    browser
}

async fn merchant_b_reaches_nothing_of_merchant_a_through_the_dashboard(store: Store) {
    let app = TestApp::spawn(store).await;
    let mut a = signed_up(&app, "Alpha").await;
    let receiver = TestReceiver::start().await;
    let (status, endpoint) = a
        .call_json(
            "endpoints/create",
            json!({"input": {"url": receiver.url(), "description": "A's", "event_types": [],
                             "headers": "", "rate_limit_per_s": "", "enabled": true,
                             "signature_scheme": "hmac", "encrypted": false,
                             "legacy_signature": false, "retry_schedule": ""}}),
        )
        .await;
    assert_eq!(status, 200, "{endpoint}");
    let endpoint_id = endpoint["id"].as_str().expect("id").to_owned();
    let (status, secret) = a.call("endpoints/secret", &[("id", &endpoint_id)]).await;
    assert_eq!(status, 200);
    let (status, _) = a
        .call(
            "endpoints/test",
            &[
                ("id", &endpoint_id),
                ("event_type", "payin.succeeded"),
                ("data", ""),
            ],
        )
        .await;
    assert_eq!(status, 200);
    receiver.wait_for(1, Duration::from_secs(10)).await;
    let (_, page) = a.call_json("deliveries/list", json!({"query": {}})).await;
    let delivery_id = page["items"][0]["id"]
        .as_str()
        .expect("delivery")
        .to_owned();
    let (status, key) = a.call("api_keys/create", &[("name", "A's key")]).await;
    assert_eq!(status, 200, "{key}");
    let key_id = key["summary"]["id"].as_str().expect("key id").to_owned();

    let mut b = signed_up(&app, "Bravo").await;
    let id = endpoint_id.as_str();
    for (name, fields) in [
        ("endpoints/get", vec![("id", id)]),
        ("endpoints/secret", vec![("id", id)]),
        ("endpoints/rotate", vec![("id", id), ("grace_s", "0")]),
        (
            "endpoints/test",
            vec![("id", id), ("event_type", "payin.succeeded"), ("data", "")],
        ),
        (
            "endpoints/set_enabled",
            vec![("id", id), ("enabled", "false")],
        ),
        (
            "endpoints/replay_failed",
            vec![("id", id), ("since", "24h")],
        ),
        ("endpoints/delete", vec![("id", id)]),
        ("deliveries/get", vec![("id", delivery_id.as_str())]),
        ("deliveries/retry", vec![("id", delivery_id.as_str())]),
        ("api_keys/revoke", vec![("id", key_id.as_str())]),
    ] {
        let (status, body) = b.call(name, &fields).await;
        assert_eq!(status, 404, "{name}: {body}");
        assert_eq!(body["code"], "not_found", "{name}: {body}");
    }
    let (status, body) = b
        .call_json(
            "endpoints/update",
            json!({"id": id, "input": {"url": "https://evil.example/x", "description": "",
                   "event_types": [], "headers": "", "rate_limit_per_s": "", "enabled": true,
                   "signature_scheme": "hmac", "encrypted": false,
                   "legacy_signature": false, "retry_schedule": ""}}),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = b
        .call_json(
            "endpoints/recover",
            json!({"id": id, "window": {"since": "24h", "until": ""}, "dry_run": true}),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    // A bulk retry of A's delivery by B is refused as not found, and B's
    // "retry all matching" never reaches A's deliveries.
    let (status, body) = b
        .call_json(
            "deliveries/retry_selected",
            json!({"ids": [delivery_id, delivery_id]}),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    let (status, count) = b
        .call_json("deliveries/count", json!({"query": {"endpoint_id": id}}))
        .await;
    assert_eq!((status, count), (200, json!(0)));
    let (status, queued) = b
        .call_json("deliveries/retry_matching", json!({"query": {}}))
        .await;
    assert_eq!((status, queued), (200, json!(0)));
    // B's callback secret is B's own.
    let (_, a_callback) = a.call("callback_secret/get", &[]).await;
    let (_, b_callback) = b.call("callback_secret/get", &[]).await;
    assert_ne!(a_callback["secret"], b_callback["secret"]);
    // B's own lists never show A's data.
    let (_, list) = b.call("endpoints/list", &[]).await;
    assert_eq!(list, json!([]));
    let (_, page) = b
        .call_json("deliveries/list", json!({"query": {"endpoint_id": id}}))
        .await;
    assert_eq!(page["items"], json!([]));
    let (_, keys) = b.call("api_keys/list", &[]).await;
    assert_eq!(keys, json!([]));

    // Nothing of A's changed: same secret, same URL, one delivery, key alive.
    let (_, after) = a.call("endpoints/secret", &[("id", &endpoint_id)]).await;
    assert_eq!(after, secret);
    let (_, still) = a.call("endpoints/get", &[("id", &endpoint_id)]).await;
    assert_eq!(still["url"], receiver.url().as_str());
    assert_eq!(still["enabled"], true, "B could not disable it");
    assert_eq!(receiver.received().len(), 1);
    let (status, _) = app
        .api(
            Method::GET,
            "/api/v1/endpoints",
            key["key"].as_str().expect("key"),
            None,
        )
        .await;
    assert_eq!(status, 200, "A's key still works");
    app.stop().await;
}

async fn admin_functions_refuse_merchants(store: Store) {
    let app = TestApp::spawn(store).await;
    let mut merchant = signed_up(&app, "Plain").await;
    for name in ["admin/merchants"] {
        let (status, body) = merchant.call(name, &[]).await;
        assert_eq!(status, 403, "{name}: {body}");
    }
    for (name, body) in [
        ("admin/deliveries", json!({"query": {}})),
        ("admin/retry", json!({"ids": []})),
        (
            "admin/retry_matching",
            json!({"query": {"status": "failed"}}),
        ),
        ("admin/count_deliveries", json!({"query": {}})),
    ] {
        let (status, answer) = merchant.call_json(name, body).await;
        assert_eq!(status, 403, "{name}: {answer}");
    }
    let (status, _) = merchant.call("admin/delivery", &[("id", "dlv_x")]).await;
    assert_eq!(status, 403);
    app.stop().await;
}
