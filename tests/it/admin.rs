//! The operators' API: merchants, failed deliveries across merchants, endpoints.

use crate::both_backends;
use crate::helpers::{TestApp, PLATFORM_TOKEN};
use herald::store::Store;
use reqwest::Method;
use serde_json::json;

both_backends!(
    operators_create_merchants,
    operators_see_failed_deliveries_across_merchants_and_retry_them
);

async fn operators_create_merchants(store: Store) {
    let app = TestApp::spawn(store).await;
    let (status, created) = app
        .api(
            Method::POST,
            "/api/v1/admin/merchants",
            PLATFORM_TOKEN,
            Some(json!({"name": "Globex", "email": "Ops@Globex.test"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["email"], "ops@globex.test");
    let api_key = created["api_key"].as_str().unwrap();
    let (status, _) = app
        .api(Method::GET, "/api/v1/endpoints", api_key, None)
        .await;
    assert_eq!(status, 200, "the new merchant's key works");

    let (status, again) = app
        .api(
            Method::POST,
            "/api/v1/admin/merchants",
            PLATFORM_TOKEN,
            Some(json!({"name": "Globex", "email": "ops@globex.test"})),
        )
        .await;
    assert_eq!(status, 422, "{again}");
    let (status, _) = app
        .api(Method::GET, "/api/v1/admin/merchants", api_key, None)
        .await;
    assert_eq!(status, 403, "a merchant key may not use admin routes");
    let (status, list) = app
        .api(Method::GET, "/api/v1/admin/merchants", PLATFORM_TOKEN, None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    app.stop().await;
}

async fn operators_see_failed_deliveries_across_merchants_and_retry_them(store: Store) {
    use crate::receiver::{Reply, TestReceiver};
    let app = TestApp::spawn_manual(store).await;
    let receiver = TestReceiver::start().await;
    receiver.always(Reply::status(500));
    let mut merchants = Vec::new();
    for name in ["North", "South"] {
        let (merchant, key) = app.merchant(name).await;
        let (endpoint, _) = app.endpoint(&key, json!({"url": receiver.url()})).await;
        let (_, accepted) = app
            .ingest(json!({"merchant_id": merchant.to_string(), "type": "refund.completed", "data": {}}))
            .await;
        let delivery = app
            .deliveries_of(&key, accepted["id"].as_str().unwrap())
            .await[0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        app.drain().await;
        assert_eq!(app.delivery(&key, &delivery).await["status"], "failed");
        merchants.push((merchant, key, endpoint, delivery));
    }
    let (status, failed) = app
        .api(
            Method::GET,
            "/api/v1/admin/deliveries?status=failed",
            PLATFORM_TOKEN,
            None,
        )
        .await;
    assert_eq!(status, 200, "{failed}");
    assert_eq!(
        failed["data"].as_array().unwrap().len(),
        2,
        "both merchants' failures"
    );
    let north = &merchants[0].0;
    let (_, only_north) = app
        .api(
            Method::GET,
            &format!("/api/v1/admin/deliveries?status=failed&merchant_id={north}"),
            PLATFORM_TOKEN,
            None,
        )
        .await;
    assert_eq!(only_north["data"].as_array().unwrap().len(), 1);
    let (status, _) = app
        .api(
            Method::GET,
            "/api/v1/admin/deliveries",
            &merchants[0].1,
            None,
        )
        .await;
    assert_eq!(status, 403);

    // The receiver is fixed; bulk-retry everything failed.
    receiver.always(Reply::status(200));
    let (status, queued) = app
        .api(
            Method::POST,
            "/api/v1/admin/deliveries/retry",
            PLATFORM_TOKEN,
            Some(json!({"status": "failed"})),
        )
        .await;
    assert_eq!(status, 202, "{queued}");
    assert_eq!(queued["queued"], 2);
    app.drain().await;
    for (_, key, _, delivery) in &merchants {
        assert_eq!(app.delivery(key, delivery).await["status"], "succeeded");
    }

    // An operator disables an endpoint with a reason the merchant sees.
    let (_, key, endpoint, _) = &merchants[1];
    let (status, disabled) = app
        .api(
            Method::POST,
            &format!("/api/v1/admin/endpoints/{endpoint}/disable"),
            PLATFORM_TOKEN,
            Some(json!({"reason": "abuse report #12"})),
        )
        .await;
    assert_eq!(status, 200, "{disabled}");
    let (_, seen) = app
        .api(
            Method::GET,
            &format!("/api/v1/endpoints/{endpoint}"),
            key,
            None,
        )
        .await;
    assert_eq!(seen["enabled"], false);
    assert!(seen["disabled_reason"]
        .as_str()
        .unwrap()
        .contains("abuse report #12"));
    let (status, enabled) = app
        .api(
            Method::POST,
            &format!("/api/v1/admin/endpoints/{endpoint}/enable"),
            PLATFORM_TOKEN,
            None,
        )
        .await;
    assert_eq!(status, 200, "{enabled}");
    assert_eq!(enabled["enabled"], true);

    let (status, catalog) = app.api(Method::GET, "/api/v1/event-types", key, None).await;
    assert_eq!(status, 200);
    assert!(catalog["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "payout.failed" && t["example"].is_object()));
    app.stop().await;
}
