//! Outbound identity: deliveries from a fixed source address, or through a
//! forward proxy, for merchants who allow-list the sender's IP. Loopback only:
//! 127.0.0.3 stands in for the egress address, a local receiver for the proxy.

use crate::both_backends;
use crate::helpers::{insert_unchecked_endpoint, test_config, TestApp};
use crate::receiver::TestReceiver;
use herald::config::ProxyUrl;
use herald::store::Store;
use serde_json::json;
use std::time::Duration;

both_backends!(
    deliveries_leave_from_the_configured_address,
    deliveries_go_through_the_proxy_and_refused_names_never_reach_it,
);

const WAIT: Duration = Duration::from_secs(10);

async fn deliveries_leave_from_the_configured_address(store: Store) {
    let mut config = test_config();
    config.outbound_address = Some("127.0.0.3".parse().expect("ip"));
    let app = TestApp::spawn_with(store, config).await;
    let (merchant, key) = app.merchant("Egress").await;
    let receiver = TestReceiver::start().await;
    app.endpoint(&key, json!({"url": receiver.url()})).await;
    app.ingest(json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {}}))
        .await;
    let got = receiver.wait_for(1, WAIT).await;
    assert_eq!(got[0].peer.ip().to_string(), "127.0.0.3");
    app.stop().await;
}

async fn deliveries_go_through_the_proxy_and_refused_names_never_reach_it(store: Store) {
    let proxy = TestReceiver::start().await;
    let mut config = test_config();
    // Only 127.0.0.2 is open, so `localhost` (127.0.0.1, ::1) is refused.
    config.allowed_private_cidrs =
        herald::config::CidrList(vec!["127.0.0.2/32".parse().expect("cidr")]);
    config.outbound_proxy = Some(ProxyUrl(
        format!("http://{}", proxy.addr).parse().expect("proxy URL"),
    ));
    let app = TestApp::spawn_with(store.clone(), config).await;
    let (merchant, key) = app.merchant("Proxied").await;
    // The destination: the proxy answers in its place, so nothing is sent on.
    let destination = "http://127.0.0.2:9/webhooks";
    app.endpoint(
        &key,
        json!({"url": destination, "event_types": ["payin.*"]}),
    )
    .await;
    app.ingest(json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {}}))
        .await;
    let got = proxy.wait_for(1, WAIT).await;
    assert_eq!(
        got[0].target, destination,
        "the proxy is asked for the destination"
    );
    assert!(got[0].header("webhook-signature").starts_with("v1,"));

    // A name that resolves to a refused address is blocked before the proxy
    // sees anything (stored directly: the API refuses `localhost` up front).
    insert_unchecked_endpoint(
        &store,
        &merchant,
        "http://localhost:9/webhooks",
        &["payout.failed"],
    )
    .await;
    let (_, accepted) = app
        .ingest(json!({"merchant_id": merchant, "type": "payout.failed", "data": {}}))
        .await;
    let event = accepted["id"].as_str().expect("id");
    let delivery = app.deliveries_of(&key, event).await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let detail = app
        .wait_for_delivery(&key, &delivery, WAIT, |d| {
            d["attempts"].as_array().is_some_and(|a| !a.is_empty())
        })
        .await;
    assert_eq!(detail["attempts"][0]["error_kind"], "blocked", "{detail:#}");
    assert_eq!(
        proxy.received().len(),
        1,
        "the refused destination never reached the proxy"
    );
    app.stop().await;
}
