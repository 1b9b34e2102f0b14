//! One merchant can never stall or starve another: a merchant deleting an
//! endpoint mid-attempt, a merchant with many hanging endpoints, retries
//! piling up, and deliveries waiting out their lease for an endpoint's turn.

use crate::both_backends;
use crate::helpers::{client, test_config, TestApp, TestDb, PLATFORM_TOKEN};
use crate::processes::{create_merchant_as, HeraldProcess};
use crate::receiver::{Reply, TestReceiver};
use herald::config::ServeConfig;
use herald::store::{LeaseOffer, NewEvent, Store};
use herald_app::model::id::{EndpointId, EventId, MerchantId};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};

both_backends!(
    a_merchant_with_hanging_endpoints_does_not_delay_another,
    retries_never_take_the_places_of_first_attempts,
    a_delivery_that_outwaits_its_lease_is_sent_once,
    a_lapsed_lease_is_not_sent_to_a_disabled_endpoint,
);

/// Waits until each of `ids` arrived, then a moment more for any second
/// copy, and asserts each arrived exactly once.
async fn assert_each_arrives_once(receiver: &TestReceiver, ids: &[String], within: Duration) {
    receiver.wait_for(ids.len(), within).await;
    // Anything sent twice would come within a second of the last.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = arrivals(receiver);
    let twice: Vec<_> = got.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    assert!(ids.iter().all(|id| got.contains_key(id)));
    assert_eq!(got.len(), ids.len());
}

/// How often each event id arrived at `receiver`.
fn arrivals(receiver: &TestReceiver) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for r in receiver.received() {
        *counts.entry(r.header("webhook-id").to_owned()).or_insert(0) += 1;
    }
    counts
}

/// Ingests one event through `base`; returns its id.
async fn ingest(base: &str, merchant: &str, event_type: &str, n: usize) -> String {
    let response = client()
        .post(format!("{base}/api/v1/events"))
        .bearer_auth(PLATFORM_TOKEN)
        .json(&json!({"merchant_id": merchant, "type": event_type, "data": {"n": n}}))
        .send()
        .await
        .expect("ingest");
    assert_eq!(response.status().as_u16(), 202);
    let body: Value = response.json().await.expect("json");
    body["id"].as_str().expect("id").to_owned()
}

/// Creates an endpoint through `base`; returns its id.
async fn endpoint(base: &str, key: &str, body: Value) -> String {
    let response = client()
        .post(format!("{base}/api/v1/endpoints"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("create endpoint");
    assert_eq!(response.status().as_u16(), 201);
    let created: Value = response.json().await.expect("json");
    created["id"].as_str().expect("id").to_owned()
}

/// The statuses of an event's deliveries, as its merchant sees them.
async fn delivery_statuses(base: &str, key: &str, event_id: &str) -> Vec<String> {
    let response = client()
        .get(format!("{base}/api/v1/deliveries?event_id={event_id}"))
        .bearer_auth(key)
        .send()
        .await
        .expect("list deliveries");
    assert_eq!(response.status().as_u16(), 200);
    let page: Value = response.json().await.expect("json");
    page["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| d["status"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Merchant A deletes an endpoint while its attempt is in flight. The
/// attempt's record has no delivery left to belong to: it is dropped and
/// counted, and merchant B's deliveries, before and after it, are received
/// once each and recorded `succeeded`. SIGTERM then stops the process.
async fn deleting_an_endpoint_mid_attempt_stalls_nobody(url: &str) {
    let (a, a_key) = create_merchant_as(url, "Deleter", "deleter@example.test");
    let (b, b_key) = create_merchant_as(url, "Bystander", "bystander@example.test");
    let slow = TestReceiver::start().await;
    slow.always(Reply::status(200).after(Duration::from_secs(3)));
    let healthy = TestReceiver::start().await;
    let herald = HeraldProcess::start_with(url, &[("HERALD_REQUEST_TIMEOUT", "10s")]).await;
    let base = herald.base.clone();
    let doomed = endpoint(&base, &a_key, json!({"url": slow.url()})).await;
    endpoint(&base, &b_key, json!({"url": healthy.url()})).await;

    ingest(&base, &a, "payin.succeeded", 0).await;
    slow.wait_for(1, Duration::from_secs(10)).await;
    let deleted = client()
        .delete(format!("{base}/api/v1/endpoints/{doomed}"))
        .bearer_auth(&a_key)
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status().as_u16(), 204);

    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(ingest(&base, &b, "payin.succeeded", n).await);
    }
    // The deleted endpoint's attempt ends (3 s) and its record is written
    // after these: the events that follow are recorded behind it.
    tokio::time::sleep(Duration::from_secs(4)).await;
    for n in 3..6 {
        ids.push(ingest(&base, &b, "payin.succeeded", n).await);
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    for id in &ids {
        loop {
            let statuses = delivery_statuses(&base, &b_key, id).await;
            if statuses == ["succeeded"] {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "B's delivery of {id} is {statuses:?}, not succeeded"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let got = arrivals(&healthy);
    for id in &ids {
        assert_eq!(
            got.get(id),
            Some(&1),
            "B's {id} arrived {:?} times",
            got.get(id)
        );
    }
    assert_eq!(got.len(), ids.len());

    let metrics = client()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("herald_attempt_records_dropped_total{reason=\"delivery_gone\"} 1\n"),
        "{metrics}"
    );

    herald.terminate_within(Duration::from_secs(20)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_endpoint_mid_attempt_stalls_nobody_sqlite() {
    let db = TestDb::sqlite().await;
    deleting_an_endpoint_mid_attempt_stalls_nobody(&db.url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_endpoint_mid_attempt_stalls_nobody_postgres() {
    let db = TestDb::postgres().await;
    deleting_an_endpoint_mid_attempt_stalls_nobody(&db.url()).await;
}

/// 32 places, a quarter per merchant. The hog's 16 endpoints hang past the
/// 2 s timeout; without shares its 64 deliveries take every place and the
/// bystander waits for timeouts. With them the hog holds 8 and the
/// bystander's events go out at once.
async fn a_merchant_with_hanging_endpoints_does_not_delay_another(store: Store) {
    let config = ServeConfig {
        max_in_flight: 32,
        merchant_share: 25,
        ..test_config()
    };
    let app = TestApp::spawn_with(store, config).await;
    let base = app.url("");
    let (hog, hog_key) = app.merchant("Hog").await;
    let (bystander, bystander_key) = app.merchant("Bystander").await;
    let hanging = TestReceiver::start().await;
    hanging.always(Reply::status(200).after(Duration::from_secs(30)));
    let healthy = TestReceiver::start().await;
    for _ in 0..16 {
        endpoint(&base, &hog_key, json!({"url": hanging.url()})).await;
    }
    endpoint(&base, &bystander_key, json!({"url": healthy.url()})).await;

    for n in 0..4 {
        ingest(&base, &hog.to_string(), "payout.failed", n).await;
    }
    hanging.wait_for(8, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        hanging.received().len(),
        8,
        "the hog holds its share (a quarter of 32), no more"
    );

    let mut slowest = Duration::ZERO;
    for n in 0..10 {
        let sent = Instant::now();
        ingest(&base, &bystander.to_string(), "payin.succeeded", n).await;
        healthy.wait_for(n + 1, Duration::from_secs(10)).await;
        slowest = slowest.max(sent.elapsed());
    }
    // Generous: an arrival here takes milliseconds (over a second only on
    // a machine busy with a build, seen once); a bystander held behind the
    // hog waits for its 2 s timeouts.
    assert!(
        slowest < Duration::from_millis(1500),
        "the bystander's slowest 202 → arrival was {slowest:?}"
    );
    app.stop().await;
}

/// 4 places, so retries may hold 2. The merchant's four failing endpoints
/// answer 500 after 5 s and are retried at once; the healthy endpoint's new
/// events must still find a place as they come.
async fn retries_never_take_the_places_of_first_attempts(store: Store) {
    let config = ServeConfig {
        max_in_flight: 4,
        merchant_share: 100,
        request_timeout: Duration::from_secs(8),
        ..test_config()
    };
    let app = TestApp::spawn_with(store, config).await;
    let base = app.url("");
    let (merchant, key) = app.merchant("Busy").await;
    let failing = TestReceiver::start().await;
    failing.always(Reply::status(500).after(Duration::from_secs(5)));
    let healthy = TestReceiver::start().await;
    let schedule: Vec<&str> = std::iter::once("0s")
        .chain(std::iter::repeat_n("100ms", 19))
        .collect();
    for _ in 0..4 {
        endpoint(
            &base,
            &key,
            json!({"url": failing.url(), "event_types": ["payout.*"], "retry_schedule": schedule}),
        )
        .await;
    }
    endpoint(
        &base,
        &key,
        json!({"url": healthy.url(), "event_types": ["payin.*"]}),
    )
    .await;
    ingest(&base, &merchant.to_string(), "payout.failed", 0).await;
    // Four first attempts, then retries: from the fifth request on, every
    // delivery of the failing endpoints is a retry, due at once.
    failing.wait_for(5, Duration::from_secs(15)).await;

    let mut slowest = Duration::ZERO;
    for n in 0..3 {
        let sent = Instant::now();
        ingest(&base, &merchant.to_string(), "payin.succeeded", n).await;
        healthy.wait_for(n + 1, Duration::from_secs(15)).await;
        slowest = slowest.max(sent.elapsed());
    }
    assert!(
        slowest < Duration::from_secs(1),
        "a first attempt waited {slowest:?} behind retries"
    );
    app.stop().await;
}

/// An endpoint limited to 1 request a second, 24 events, and a lease of
/// 12 s (twice the 1 s timeout, plus 10 s): the last deliveries held for
/// it wait longer than their lease. Each must still arrive exactly once.
async fn a_delivery_that_outwaits_its_lease_is_sent_once(store: Store) {
    let config = ServeConfig {
        endpoint_concurrency: 8,
        request_timeout: Duration::from_secs(1),
        ..test_config()
    };
    let app = TestApp::spawn_with(store, config).await;
    let base = app.url("");
    let (merchant, key) = app.merchant("Limited").await;
    let receiver = TestReceiver::start().await;
    endpoint(
        &base,
        &key,
        json!({"url": receiver.url(), "rate_limit_per_s": 1}),
    )
    .await;
    let mut ids = Vec::new();
    for n in 0..24 {
        ids.push(ingest(&base, &merchant.to_string(), "payin.succeeded", n).await);
    }
    assert_each_arrives_once(&receiver, &ids, Duration::from_secs(60)).await;
    app.stop().await;
}

/// The same on two processes sharing PostgreSQL: the process that waits
/// out its lease must not send what the other has taken over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_that_outwaits_its_lease_is_sent_once_across_processes() {
    let db = TestDb::postgres().await;
    let url = db.url();
    let (merchant, key) = create_merchant_as(&url, "Limited", "limited@example.test");
    let receiver = TestReceiver::start().await;
    let env = [
        ("HERALD_ENDPOINT_CONCURRENCY", "8"),
        ("HERALD_REQUEST_TIMEOUT", "1s"),
    ];
    let a = HeraldProcess::start_with(&url, &env).await;
    let b = HeraldProcess::start_with(&url, &env).await;
    endpoint(
        &a.base,
        &key,
        json!({"url": receiver.url(), "rate_limit_per_s": 1}),
    )
    .await;
    let mut ids = Vec::new();
    for n in 0..24 {
        ids.push(ingest(&a.base, &merchant, "payin.succeeded", n).await);
    }
    assert_each_arrives_once(&receiver, &ids, Duration::from_secs(60)).await;
    drop((a, b));
}

/// A process died holding a delivery's lease, and the merchant disabled the
/// endpoint meanwhile: disabling parks only deliveries nobody holds, so the
/// lapsed lease makes this one due. It must wait for the endpoint to be
/// enabled again, and then arrive.
async fn a_lapsed_lease_is_not_sent_to_a_disabled_endpoint(store: Store) {
    let app = TestApp::spawn(store.clone()).await;
    let base = app.url("");
    let (merchant, key) = app.merchant("Paused").await;
    let receiver = TestReceiver::start().await;
    let endpoint_id = endpoint(&base, &key, json!({"url": receiver.url()})).await;
    let toggle = |enabled: bool| {
        let (base, key, endpoint_id) = (base.clone(), key.clone(), endpoint_id.clone());
        async move {
            let response = client()
                .patch(format!("{base}/api/v1/endpoints/{endpoint_id}"))
                .bearer_auth(&key)
                .json(&json!({ "enabled": enabled }))
                .send()
                .await
                .expect("patch endpoint");
            assert_eq!(response.status().as_u16(), 200);
        }
    };
    let event = NewEvent {
        id: EventId::generate(),
        merchant_id: merchant.clone(),
        event_type: "payin.succeeded".into(),
        payload: r#"{"n":1}"#.into(),
        idempotency_key: None,
        callback_url: None,
        ordering_key: None,
        live_mode: true,
        created_at: chrono::Utc::now(),
        only_endpoint: Some(EndpointId::parse(&endpoint_id).expect("endpoint id")),
        about_endpoint: None,
        tags: Vec::new(),
        previous_data: None,
    };
    // Written as a process's that dies at once: leased, for 1.5 s more.
    let mut take = |_: &MerchantId, _: &EndpointId| true;
    let stored = store
        .ingest(
            &[event],
            herald_app::model::event_filter::filter_matches,
            Some(LeaseOffer {
                owner: "node_dead",
                lease_until: chrono::Utc::now() + chrono::Duration::milliseconds(1500),
                take: &mut take,
            }),
        )
        .await
        .expect("ingest");
    assert_eq!(stored.leased.len(), 1, "the delivery is written leased");
    // Disabled while leased: not parked. The lease lapses meanwhile.
    toggle(false).await;
    tokio::time::sleep(Duration::from_millis(1600)).await;
    app.wakeup.wake();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        receiver.received().is_empty(),
        "a disabled endpoint got a delivery"
    );
    toggle(true).await;
    receiver.wait_for(1, Duration::from_secs(10)).await;
    app.stop().await;
}
