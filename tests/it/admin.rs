//! The operators' API: merchants, failed deliveries across merchants, endpoints.

use crate::both_backends;
use crate::helpers::{TestApp, PLATFORM_TOKEN};
use herald::store::Store;
use reqwest::Method;
use serde_json::json;

both_backends!(
    operators_create_merchants,
    operators_see_failed_deliveries_across_merchants_and_retry_them,
    an_operators_disable_sticks_until_an_operator_enables,
    operators_list_endpoints_across_merchants_page_by_page,
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

/// An operator disables `endpoint`, saying why.
async fn operator_disables(app: &TestApp, endpoint: &str, reason: &str) {
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/admin/endpoints/{endpoint}/disable"),
            PLATFORM_TOKEN,
            Some(json!({ "reason": reason })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// What the dashboard's endpoint form sends to change an endpoint.
fn form(url: &str, enabled: bool) -> serde_json::Value {
    json!({"url": url, "description": "", "event_types": [], "headers": "",
           "rate_limit_per_s": "", "enabled": enabled, "signature_scheme": "hmac",
           "encrypted": false, "legacy_signature": false, "retry_schedule": ""})
}

async fn an_operators_disable_sticks_until_an_operator_enables(store: Store) {
    let app = TestApp::spawn(store).await;
    let mut browser = app.signed_up("Sticky", "sticky@example.test").await;
    let (status, created) = browser
        .call_json(
            "endpoints/create",
            json!({"input": form("https://hooks.sticky.test/in", true)}),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let endpoint = created["id"].as_str().expect("id").to_owned();
    let (status, key) = browser.call("api_keys/create", &[("name", "ci")]).await;
    assert_eq!(status, 200, "{key}");
    let key = key["key"].as_str().expect("key").to_owned();

    operator_disables(&app, &endpoint, "abuse report #12").await;

    // REST: enabling is refused with the operator's reason, and changes nothing.
    let path = format!("/api/v1/endpoints/{endpoint}");
    let (status, refused) = app
        .api(
            Method::PATCH,
            &path,
            &key,
            Some(json!({"enabled": true, "description": "sneaky"})),
        )
        .await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "conflict");
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("abuse report #12"), "{message}");
    assert!(message.contains("operator"), "{message}");
    let seen = app.get_ok(&key, &path).await;
    assert_eq!(seen["enabled"], false);
    assert_eq!(seen["description"], "", "a refused change changes nothing");
    assert_eq!(seen["disabled_by_operator"], true);

    // The dashboard's server function says the same.
    let (status, refused) = browser
        .call_json(
            "endpoints/update",
            json!({"id": endpoint, "input": form("https://hooks.sticky.test/in", true)}),
        )
        .await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused.to_string().contains("abuse report #12"),
        "{refused}"
    );

    // Other changes, the endpoint left disabled, still go through.
    let (status, changed) = app
        .api(
            Method::PATCH,
            &path,
            &key,
            Some(json!({"description": "new receiver soon", "enabled": false})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["enabled"], false);
    assert_eq!(changed["disabled_by_operator"], true);

    // Once an operator enables it, the merchant is in charge again.
    let (status, _) = app
        .api(
            Method::POST,
            &format!("/api/v1/admin/endpoints/{endpoint}/enable"),
            PLATFORM_TOKEN,
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, off) = app
        .api(Method::PATCH, &path, &key, Some(json!({"enabled": false})))
        .await;
    assert_eq!((status, &off["disabled_by_operator"]), (200, &json!(false)));
    let (status, on) = app
        .api(Method::PATCH, &path, &key, Some(json!({"enabled": true})))
        .await;
    assert_eq!(status, 200, "{on}");
    assert_eq!(on["enabled"], true);
    app.stop().await;
}

async fn operators_list_endpoints_across_merchants_page_by_page(store: Store) {
    let app = TestApp::spawn(store).await;
    let (north, north_key) = app.merchant("North").await;
    let (_, south_key) = app.merchant("South").await;
    let mut north_ids = Vec::new();
    for n in 0..3 {
        let (id, _) = app
            .endpoint(
                &north_key,
                json!({"url": format!("https://north.test/{n}"),
                       "headers": {"Authorization": "Bearer north-receiver-secret"}}),
            )
            .await;
        north_ids.push(id);
    }
    let (south_id, _) = app
        .endpoint(&south_key, json!({"url": "https://south.test/in"}))
        .await;
    operator_disables(&app, &north_ids[0], "bounced").await;

    let ids = |page: &serde_json::Value| -> Vec<String> {
        page["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|e| e["id"].as_str().expect("id").to_owned())
            .collect()
    };
    let all = app.get_ok(PLATFORM_TOKEN, "/api/v1/admin/endpoints").await;
    assert_eq!(ids(&all).len(), 4, "{all}");
    assert_eq!(all["next_cursor"], json!(null));
    assert_eq!(ids(&all)[0], south_id, "newest first");
    // The operator sees the header names, never the merchants' credentials.
    assert!(!all.to_string().contains("north-receiver-secret"), "{all}");
    assert_eq!(all["data"][1]["headers"]["authorization"], "••••", "{all}");

    let mine = app
        .get_ok(
            PLATFORM_TOKEN,
            &format!("/api/v1/admin/endpoints?merchant_id={north}&status=enabled"),
        )
        .await;
    let mut expected: Vec<String> = north_ids[1..].to_vec();
    expected.reverse();
    assert_eq!(ids(&mine), expected);
    let disabled = app
        .get_ok(PLATFORM_TOKEN, "/api/v1/admin/endpoints?status=disabled")
        .await;
    assert_eq!(ids(&disabled), vec![north_ids[0].clone()]);
    assert_eq!(disabled["data"][0]["disabled_by_operator"], true);

    // Page by page: two, then the rest, then nothing more.
    let first = app
        .get_ok(PLATFORM_TOKEN, "/api/v1/admin/endpoints?limit=2")
        .await;
    let cursor = first["next_cursor"].as_str().expect("a cursor").to_owned();
    let second = app
        .get_ok(
            PLATFORM_TOKEN,
            &format!("/api/v1/admin/endpoints?limit=2&cursor={cursor}"),
        )
        .await;
    let mut paged = ids(&first);
    paged.extend(ids(&second));
    assert_eq!(paged, ids(&all));

    for bad in [
        "status=maybe",
        "merchant_id=nobody",
        "limit=251",
        "cursor=not-a-cursor",
    ] {
        let (status, body) = app
            .api(
                Method::GET,
                &format!("/api/v1/admin/endpoints?{bad}"),
                PLATFORM_TOKEN,
                None,
            )
            .await;
        assert_eq!(status, 422, "{bad}: {body}");
    }
    let (status, _) = app
        .api(Method::GET, "/api/v1/admin/endpoints", &north_key, None)
        .await;
    assert_eq!(status, 403, "merchant keys cannot list across merchants");
    app.stop().await;
}
