//! Destinations outside the allow-list, on loopback only: the test config
//! opens 127.0.0.1/32, so 127.0.0.2 and ::1 (in any spelling) are refused —
//! when the URL is given, and again when a stored one is attempted. A
//! receiver listens on 127.0.0.2 to prove that nothing reached it.
//! (Private and metadata ranges are covered by `engine::ssrf`'s unit tests,
//! which open no socket.)

use crate::both_backends;
use crate::helpers::{insert_unchecked_endpoint, TestApp};
use crate::receiver::TestReceiver;
use herald::store::Store;
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

both_backends!(loopback_outside_the_allow_list_is_refused_and_never_reached);

async fn loopback_outside_the_allow_list_is_refused_and_never_reached(store: Store) {
    let app = TestApp::spawn(store.clone()).await;
    let (merchant, key) = app.merchant("Ssrf").await;
    let target = TestReceiver::start_on("127.0.0.2").await;
    let port = target.addr.port();
    let urls = [
        format!("http://127.0.0.2:{port}/hooks"),
        format!("http://[::1]:{port}/hooks"),
        format!("http://[::ffff:127.0.0.2]:{port}/hooks"),
        format!("http://2130706434:{port}/hooks"),
        format!("http://0x7f.0.0.2:{port}/hooks"),
        format!("http://0177.0.0.2:{port}/hooks"),
    ];
    for url in &urls {
        let (status, error) = app
            .api(
                Method::POST,
                "/api/v1/endpoints",
                &key,
                Some(json!({"url": url})),
            )
            .await;
        assert_eq!(status, 422, "{url}: {error}");
        let (status, error) = app
            .ingest(
                json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {},
                           "callback_url": url}),
            )
            .await;
        assert_eq!(status, 422, "callback {url}: {error}");
    }
    let (_, list) = app.api(Method::GET, "/api/v1/endpoints", &key, None).await;
    assert_eq!(list["data"], json!([]), "nothing was created");

    // A destination stored before the rules changed is checked again when sent.
    insert_unchecked_endpoint(&store, &merchant, &urls[0], &[]).await;
    let (_, accepted) = app
        .ingest(json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {}}))
        .await;
    let event = accepted["id"].as_str().expect("id");
    let delivery = app.deliveries_of(&key, event).await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let detail = app
        .wait_for_delivery(&key, &delivery, Duration::from_secs(10), |d| {
            d["attempts"].as_array().is_some_and(|a| !a.is_empty())
        })
        .await;
    assert_eq!(detail["attempts"][0]["error_kind"], "blocked", "{detail:#}");
    assert!(
        target.received().is_empty(),
        "a refused address was reached"
    );
    app.stop().await;
}
