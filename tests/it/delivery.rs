//! The delivery engine end to end: a real Herald, a real receiver on
//! loopback, real databases.

use crate::both_backends;
use crate::helpers::{insert_unchecked_endpoint, test_config, TestApp};
use crate::receiver::{Reply, TestReceiver};
use herald::store::Store;
use serde_json::json;
use standardwebhooks::Webhook;
use std::time::Duration;

both_backends!(
    delivers_a_signed_event_an_independent_verifier_accepts,
    retries_on_500_until_success_and_records_every_attempt,
    gives_up_when_the_schedule_runs_out,
    connection_refused_is_retried,
    a_timeout_waits_at_least_a_minute,
    the_same_idempotency_key_delivers_once,
    fan_out_follows_filters_and_skips_disabled_endpoints,
    a_key_holds_later_events_back_but_not_other_keys,
    same_key_events_arrive_in_ingest_order,
    retry_after_is_honoured_within_bounds,
    gone_disables_the_endpoint,
    a_slow_endpoint_does_not_delay_a_healthy_one,
    both_secrets_sign_during_rotation,
    a_name_resolving_to_a_refused_address_is_blocked,
    a_redirect_is_a_failure_and_never_followed,
    a_manual_retry_makes_a_new_attempt_now,
    callback_url_takes_precedence_over_endpoints,
);

const WAIT: Duration = Duration::from_secs(10);

async fn setup(store: Store) -> (TestApp, String, String) {
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Acme").await;
    (app, merchant.to_string(), key)
}

/// Like `setup`, with the engine run by the test (`TestApp::drain`).
async fn setup_manual(store: Store) -> (TestApp, String, String) {
    let app = TestApp::spawn_manual(store).await;
    let (merchant, key) = app.merchant("Acme").await;
    (app, merchant.to_string(), key)
}

fn payin(merchant: &str) -> serde_json::Value {
    json!({
        "merchant_id": merchant,
        "type": "payin.succeeded",
        "data": {"clientTransactionId": "pay_123", "status": "success", "utr": "UTR42"},
    })
}

async fn delivery_id(app: &TestApp, key: &str, event_id: &str) -> String {
    let deliveries = app.deliveries_of(key, event_id).await;
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    deliveries[0]["id"].as_str().expect("id").to_owned()
}

async fn delivers_a_signed_event_an_independent_verifier_accepts(store: Store) {
    let (app, merchant, key) = setup_manual(store).await;
    let receiver = TestReceiver::start().await;
    let (endpoint, secret) = app
        .endpoint(&key, json!({"url": receiver.url(), "event_types": ["payin.*"], "headers": {"X-Merchant-Tag": "blue"}}))
        .await;

    let (status, accepted) = app.ingest(payin(&merchant)).await;
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(accepted["deliveries"], 1);
    let event_id = accepted["id"].as_str().unwrap().to_owned();

    app.drain().await;
    let got = receiver.received();
    let request = &got[0];
    Webhook::new(&secret)
        .unwrap()
        .verify(&request.body, &request.headers)
        .expect("signature verifies");
    assert_eq!(request.header("content-type"), "application/json");
    assert!(request.header("user-agent").starts_with("Herald-Webhooks/"));
    assert_eq!(request.header("webhook-id"), event_id);
    assert_eq!(request.header("herald-event-type"), "payin.succeeded");
    assert_eq!(request.header("herald-attempt"), "1");
    assert_eq!(request.header("x-merchant-tag"), "blue");
    let body = request.json();
    assert_eq!(body["id"], event_id);
    assert_eq!(body["type"], "payin.succeeded");
    assert_eq!(body["live_mode"], true);
    assert_eq!(body["data"]["utr"], "UTR42");
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));

    let delivery = delivery_id(&app, &key, &event_id).await;
    assert_eq!(request.header("herald-delivery-id"), delivery);
    let detail = app.delivery(&key, &delivery).await;
    assert_eq!(detail["status"], "succeeded");
    assert_eq!(detail["endpoint_id"], endpoint);
    assert_eq!(detail["attempts"].as_array().unwrap().len(), 1);
    let attempt = &detail["attempts"][0];
    assert_eq!(attempt["status_code"], 200);
    assert_eq!(attempt["response_body"], "ok");
    assert_eq!(attempt["request_headers"]["webhook-id"], event_id);
    assert!(attempt["error_kind"].is_null());
    app.stop().await;
}

async fn retries_on_500_until_success_and_records_every_attempt(store: Store) {
    let (app, merchant, key) = setup_manual(store).await;
    let receiver = TestReceiver::start().await;
    receiver.script([Reply::status(500).body("boom"), Reply::status(502)]);
    app.endpoint(&key, json!({"url": receiver.url()})).await;
    let (_, accepted) = app.ingest(payin(&merchant)).await;
    let delivery = delivery_id(&app, &key, accepted["id"].as_str().unwrap()).await;

    app.drain().await;
    let detail = app.delivery(&key, &delivery).await;
    assert_eq!(detail["status"], "succeeded");
    let attempts = detail["attempts"].as_array().unwrap();
    let codes: Vec<_> = attempts
        .iter()
        .map(|a| a["status_code"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, [500, 502, 200]);
    assert_eq!(attempts[0]["error_kind"], "status");
    assert_eq!(attempts[0]["response_body"], "boom");
    let numbers: Vec<_> = receiver
        .received()
        .iter()
        .map(|r| r.header("herald-attempt").to_owned())
        .collect();
    assert_eq!(numbers, ["1", "2", "3"]);
    // The schedule's 200ms steps (±10% jitter) separate the tries.
    let got = receiver.received();
    for pair in got.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(
            gap >= Duration::from_millis(170),
            "retried after only {gap:?}"
        );
    }
    assert_eq!(receiver.received().len(), 3, "success stops the retries");
    app.stop().await;
}

async fn gives_up_when_the_schedule_runs_out(store: Store) {
    let (app, merchant, key) = setup_manual(store).await;
    let receiver = TestReceiver::start().await;
    receiver.always(Reply::status(500));
    app.endpoint(&key, json!({"url": receiver.url()})).await;
    let (_, accepted) = app.ingest(payin(&merchant)).await;
    let delivery = delivery_id(&app, &key, accepted["id"].as_str().unwrap()).await;
    app.drain().await;
    let detail = app.delivery(&key, &delivery).await;
    assert_eq!(detail["status"], "failed");
    // The test schedule has 4 steps: 4 attempts in all.
    assert_eq!(detail["attempts"].as_array().unwrap().len(), 4);
    assert_eq!(detail["attempt_count"], 4, "the count and the list agree");
    assert!(detail["failed_at"].is_string());
    assert!(detail["next_attempt_at"].is_null());
    app.stop().await;
}

async fn connection_refused_is_retried(store: Store) {
    let (app, merchant, key) = setup_manual(store).await;
    // A port nothing listens on: bind, note it, close.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    app.endpoint(&key, json!({"url": format!("http://{closed}/hook")}))
        .await;
    let (_, accepted) = app.ingest(payin(&merchant)).await;
    let delivery = delivery_id(&app, &key, accepted["id"].as_str().unwrap()).await;
    app.drain().await;
    let detail = app.delivery(&key, &delivery).await;
    assert!(detail["attempts"].as_array().is_some_and(|a| a.len() >= 2));
    assert_eq!(detail["attempts"][0]["error_kind"], "connect");
    assert!(detail["attempts"][0]["status_code"].is_null());
    app.stop().await;
}

async fn a_timeout_waits_at_least_a_minute(store: Store) {
    let mut config = test_config();
    config.request_timeout = Duration::from_millis(300);
    let app = TestApp::spawn_with(store, config).await;
    let (merchant, key) = app.merchant("Slow").await;
    let receiver = TestReceiver::start().await;
    receiver.always(Reply::status(200).after(Duration::from_secs(2)));
    app.endpoint(&key, json!({"url": receiver.url()})).await;
    let (_, accepted) = app.ingest(payin(&merchant.to_string())).await;
    let delivery = delivery_id(&app, &key, accepted["id"].as_str().unwrap()).await;
    let detail = app
        .wait_for_delivery(&key, &delivery, WAIT, |d| {
            // Both: the delivery and its attempts are read by two statements,
            // so on PostgreSQL one read can see the attempt committed and the
            // delivery row from just before.
            d["attempts"].as_array().is_some_and(|a| !a.is_empty())
                && d["last_attempt_at"].is_string()
        })
        .await;
    assert_eq!(detail["attempts"][0]["error_kind"], "timeout");
    assert_eq!(detail["status"], "pending");
    let last =
        chrono::DateTime::parse_from_rfc3339(detail["last_attempt_at"].as_str().unwrap()).unwrap();
    let next =
        chrono::DateTime::parse_from_rfc3339(detail["next_attempt_at"].as_str().unwrap()).unwrap();
    assert!(
        next - last >= chrono::Duration::seconds(60),
        "a timeout retried after {}",
        next - last
    );
    app.stop().await;
}

async fn the_same_idempotency_key_delivers_once(store: Store) {
    let (app, merchant, key) = setup_manual(store).await;
    let receiver = TestReceiver::start().await;
    app.endpoint(&key, json!({"url": receiver.url()})).await;
    let mut event = payin(&merchant);
    event["idempotency_key"] = json!("payin-pay_123-succeeded");
    let (first_status, first) = app.ingest(event.clone()).await;
    let (second_status, second) = app.ingest(event).await;
    assert_eq!(first_status, 202);
    assert_eq!(second_status, 200, "{second}");
    assert_eq!(first["id"], second["id"]);
    app.drain().await;
    assert_eq!(receiver.received().len(), 1);
    app.stop().await;
}

async fn fan_out_follows_filters_and_skips_disabled_endpoints(store: Store) {
    let (app, merchant, key) = setup_manual(store).await;
    let payins = TestReceiver::start().await;
    let everything = TestReceiver::start().await;
    let payouts = TestReceiver::start().await;
    let disabled = TestReceiver::start().await;
    app.endpoint(
        &key,
        json!({"url": payins.url(), "event_types": ["payin.*"]}),
    )
    .await;
    app.endpoint(&key, json!({"url": everything.url()})).await;
    app.endpoint(
        &key,
        json!({"url": payouts.url(), "event_types": ["payout.failed"]}),
    )
    .await;
    app.endpoint(&key, json!({"url": disabled.url(), "enabled": false}))
        .await;
    let (_, accepted) = app.ingest(payin(&merchant)).await;
    assert_eq!(accepted["deliveries"], 2);
    app.drain().await;
    assert!(!payins.received().is_empty());
    assert!(!everything.received().is_empty());
    assert!(payouts.received().is_empty());
    assert!(disabled.received().is_empty());
    app.stop().await;
}

async fn a_key_holds_later_events_back_but_not_other_keys(store: Store) {
    let mut config = test_config();
    config.retry_schedule = "0s,30s".parse().unwrap();
    let app = TestApp::spawn_with(store, config).await;
    let (merchant, key) = app.merchant("Ordered").await;
    let receiver = TestReceiver::start().await;
    receiver.script([Reply::status(500)]);
    app.endpoint(&key, json!({"url": receiver.url()})).await;
    let event = |ordering_key: &str, n: u32| {
        let mut e = payin(&merchant.to_string());
        e["ordering_key"] = json!(ordering_key);
        e["data"]["n"] = json!(n);
        e
    };
    let (_, first) = app.ingest(event("pay_1", 1)).await;
    receiver.wait_for(1, WAIT).await; // fails: retried in 30s
    let (_, held) = app.ingest(event("pay_1", 2)).await;
    let (_, other) = app.ingest(event("pay_2", 3)).await;
    let got = receiver.wait_for(2, WAIT).await;
    assert_eq!(
        got[1].header("webhook-id"),
        other["id"].as_str().unwrap(),
        "another key is not held up"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ids: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| r.header("webhook-id").to_owned())
        .collect();
    assert!(
        !ids.contains(&held["id"].as_str().unwrap().to_owned()),
        "same key waits for the earlier event"
    );
    assert_eq!(ids[0], first["id"].as_str().unwrap());
    app.stop().await;
}

async fn same_key_events_arrive_in_ingest_order(store: Store) {
    let (app, merchant, key) = setup(store).await;
    let receiver = TestReceiver::start().await;
    receiver.fail_first_try_of_each();
    app.endpoint(&key, json!({"url": receiver.url()})).await;
    let mut ids = Vec::new();
    for n in 0..20 {
        let mut e = payin(&merchant);
        e["ordering_key"] = json!("payout_77");
        e["data"]["n"] = json!(n);
        let (status, accepted) = app.ingest(e).await;
        assert_eq!(status, 202);
        ids.push(accepted["id"].as_str().unwrap().to_owned());
    }
    // Each event fails once, then succeeds: 40 requests.
    let got = receiver.wait_for(40, Duration::from_secs(30)).await;
    let order: Vec<&str> = got.iter().map(|r| r.header("webhook-id")).collect();
    let mut deduplicated: Vec<&str> = Vec::new();
    for id in order {
        if deduplicated.last() != Some(&id) {
            deduplicated.push(id);
        }
    }
    assert_eq!(
        deduplicated, ids,
        "every try of an event comes before any try of the next one"
    );
    app.stop().await;
}

async fn retry_after_is_honoured_within_bounds(store: Store) {
    let mut config = test_config();
    config.retry_schedule = "0s,2s".parse().unwrap();
    let app = TestApp::spawn_with(store, config).await;
    let (merchant, key) = app.merchant("Busy").await;
    let receiver = TestReceiver::start().await;
    receiver.script([Reply::status(503).header("retry-after", "3")]);
    app.endpoint(&key, json!({"url": receiver.url()})).await;
    let (_, accepted) = app.ingest(payin(&merchant.to_string())).await;
    let delivery = delivery_id(&app, &key, accepted["id"].as_str().unwrap()).await;
    // Judged by when the receiver saw the two tries: Retry-After 3 lies
    // within [step, 2 × step] = [2s, 4s], so it is honoured as asked.
    let got = receiver.wait_for(2, WAIT).await;
    let gap = got[1].at - got[0].at;
    assert!(
        gap >= Duration::from_millis(2900),
        "retried after {gap:?}, before Retry-After"
    );
    assert!(
        gap < Duration::from_millis(3900),
        "retried after {gap:?}, later than asked"
    );
    let detail = app
        .wait_for_delivery(&key, &delivery, WAIT, |d| d["status"] == "succeeded")
        .await;
    assert_eq!(detail["attempts"][0]["status_code"], 503);
    assert_eq!(
        detail["attempts"][0]["response_headers"]["retry-after"],
        "3"
    );
    app.stop().await;
}

async fn gone_disables_the_endpoint(store: Store) {
    let (app, merchant, key) = setup_manual(store).await;
    let receiver = TestReceiver::start().await;
    receiver.always(Reply::status(410));
    let (endpoint, _) = app.endpoint(&key, json!({"url": receiver.url()})).await;
    let (_, accepted) = app.ingest(payin(&merchant)).await;
    let delivery = delivery_id(&app, &key, accepted["id"].as_str().unwrap()).await;
    app.drain().await;
    assert_eq!(app.delivery(&key, &delivery).await["status"], "failed");
    let (_, ep) = app
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/endpoints/{endpoint}"),
            &key,
            None,
        )
        .await;
    assert_eq!(ep["enabled"], false);
    assert!(
        ep["disabled_reason"].as_str().unwrap().contains("410"),
        "{ep}"
    );
    assert_eq!(receiver.received().len(), 1, "no retries after 410");
    app.stop().await;
}

async fn a_slow_endpoint_does_not_delay_a_healthy_one(store: Store) {
    let mut config = test_config();
    config.request_timeout = Duration::from_secs(3);
    let app = TestApp::spawn_with(store, config).await;
    let (merchant, key) = app.merchant("Mixed").await;
    let slow = TestReceiver::start().await;
    slow.always(Reply::status(200).after(Duration::from_secs(5)));
    let healthy = TestReceiver::start().await;
    app.endpoint(
        &key,
        json!({"url": slow.url(), "event_types": ["payout.*"]}),
    )
    .await;
    app.endpoint(
        &key,
        json!({"url": healthy.url(), "event_types": ["payin.*"]}),
    )
    .await;
    for _ in 0..10 {
        let mut e = payin(&merchant.to_string());
        e["type"] = json!("payout.failed");
        app.ingest(e).await;
    }
    let started = std::time::Instant::now();
    for _ in 0..10 {
        app.ingest(payin(&merchant.to_string())).await;
    }
    healthy.wait_for(10, WAIT).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "healthy deliveries took {:?}",
        started.elapsed()
    );
    assert!(
        slow.received().len() <= 4,
        "at most 4 in flight per endpoint, got {}",
        slow.received().len()
    );
    app.stop().await;
}

async fn both_secrets_sign_during_rotation(store: Store) {
    let (app, merchant, key) = setup(store).await;
    let receiver = TestReceiver::start().await;
    let (endpoint, old_secret) = app.endpoint(&key, json!({"url": receiver.url()})).await;
    let (status, rotated) = app
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/endpoints/{endpoint}/secret/rotate"),
            &key,
            Some(json!({"grace_period_s": 3600})),
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, old_secret);
    let (_, shown) = app
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/endpoints/{endpoint}/secret"),
            &key,
            None,
        )
        .await;
    assert_eq!(shown["secret"], new_secret.as_str());

    app.ingest(payin(&merchant)).await;
    let got = receiver.wait_for(1, WAIT).await;
    assert_eq!(got[0].header("webhook-signature").split(' ').count(), 2);
    Webhook::new(&new_secret)
        .unwrap()
        .verify(&got[0].body, &got[0].headers)
        .expect("new secret verifies");
    Webhook::new(&old_secret)
        .unwrap()
        .verify(&got[0].body, &got[0].headers)
        .expect("old secret verifies");

    // A zero grace period: only the new secret signs.
    app.api(
        reqwest::Method::POST,
        &format!("/api/v1/endpoints/{endpoint}/secret/rotate"),
        &key,
        Some(json!({"grace_period_s": 0})),
    )
    .await;
    let (_, newest) = app
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/endpoints/{endpoint}/secret"),
            &key,
            None,
        )
        .await;
    app.ingest(payin(&merchant)).await;
    let got = receiver.wait_for(2, WAIT).await;
    assert_eq!(got[1].header("webhook-signature").split(' ').count(), 1);
    Webhook::new(newest["secret"].as_str().unwrap())
        .unwrap()
        .verify(&got[1].body, &got[1].headers)
        .unwrap();
    assert!(
        Webhook::new(&new_secret)
            .unwrap()
            .verify(&got[1].body, &got[1].headers)
            .is_err(),
        "expired secret no longer signs"
    );
    app.stop().await;
}

async fn a_name_resolving_to_a_refused_address_is_blocked(store: Store) {
    // Loopback is open only for 127.0.0.2 here; `localhost` resolves to
    // 127.0.0.1 and ::1, both refused. Nothing leaves this machine.
    let mut config = test_config();
    config.allowed_private_cidrs = herald::config::CidrList(vec!["127.0.0.2/32".parse().unwrap()]);
    let app = TestApp::spawn_with(store.clone(), config).await;
    let (merchant, key) = app.merchant("Rebind").await;
    let receiver = TestReceiver::start().await;
    // Creating it is refused up front…
    let (status, refused) = app
        .api(
            reqwest::Method::POST,
            "/api/v1/endpoints",
            &key,
            Some(json!({"url": format!("http://localhost:{}/hook", receiver.addr.port())})),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    // …so simulate a name that resolved elsewhere at creation (DNS rebinding).
    let url = format!("http://localhost:{}/hook", receiver.addr.port());
    insert_unchecked_endpoint(&store, &merchant, &url, &[]).await;
    let (_, accepted) = app.ingest(payin(&merchant.to_string())).await;
    let delivery = delivery_id(&app, &key, accepted["id"].as_str().unwrap()).await;
    let detail = app
        .wait_for_delivery(&key, &delivery, WAIT, |d| {
            d["attempts"].as_array().is_some_and(|a| !a.is_empty())
        })
        .await;
    assert_eq!(detail["attempts"][0]["error_kind"], "blocked", "{detail:#}");
    assert!(detail["attempts"][0]["error_message"]
        .as_str()
        .unwrap()
        .contains("loopback"));
    assert!(receiver.received().is_empty());
    app.stop().await;
}

async fn a_manual_retry_makes_a_new_attempt_now(store: Store) {
    let (app, merchant, key) = setup_manual(store).await;
    let receiver = TestReceiver::start().await;
    receiver.always(Reply::status(500));
    app.endpoint(&key, json!({"url": receiver.url()})).await;
    let (_, accepted) = app.ingest(payin(&merchant)).await;
    let delivery = delivery_id(&app, &key, accepted["id"].as_str().unwrap()).await;
    app.drain().await;
    assert_eq!(app.delivery(&key, &delivery).await["status"], "failed");

    receiver.always(Reply::status(200));
    let (status, queued) = app
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/deliveries/{delivery}/retry"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 202, "{queued}");
    app.drain().await;
    let detail = app.delivery(&key, &delivery).await;
    assert_eq!(detail["status"], "succeeded");
    let attempts = detail["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 5);
    assert_eq!(attempts[4]["manual"], true);
    assert_eq!(attempts[4]["status_code"], 200);

    // Another merchant cannot retry it.
    let (_, other_key) = app.merchant("Other").await;
    let (status, _) = app
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/deliveries/{delivery}/retry"),
            &other_key,
            None,
        )
        .await;
    assert_eq!(status, 404);
    app.stop().await;
}

async fn callback_url_takes_precedence_over_endpoints(store: Store) {
    let (app, merchant, key) = setup_manual(store).await;
    let endpoint = TestReceiver::start().await;
    let callback = TestReceiver::start().await;
    app.endpoint(&key, json!({"url": endpoint.url()})).await;
    let mut event = payin(&merchant);
    event["callback_url"] = json!(callback.url());
    let (status, accepted) = app.ingest(event).await;
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(accepted["deliveries"], 1);
    app.drain().await;
    let got = callback.received();
    assert!(got[0].header("webhook-signature").starts_with("v1,"));
    assert!(endpoint.received().is_empty());
    app.stop().await;
}

/// A 3xx is recorded as a failure and its Location is never visited, even
/// on loopback: the target here listens on 127.0.0.2, which the test
/// allow-list (127.0.0.1/32) does not open, and must see nothing.
async fn a_redirect_is_a_failure_and_never_followed(store: Store) {
    let (app, merchant, key) = setup_manual(store).await;
    let refused = TestReceiver::start_on("127.0.0.2").await;
    let receiver = TestReceiver::start().await;
    receiver.always(
        Reply::status(302)
            .header("location", &format!("http://{}/steal", refused.addr))
            .body("moved"),
    );
    app.endpoint(&key, json!({"url": receiver.url()})).await;
    let (_, accepted) = app.ingest(payin(&merchant)).await;
    let event = accepted["id"].as_str().expect("id").to_owned();
    let delivery = delivery_id(&app, &key, &event).await;
    app.drain().await;
    let detail = app.delivery(&key, &delivery).await;
    assert_eq!(detail["status"], "failed");
    let attempts = detail["attempts"].as_array().expect("attempts");
    assert!(!attempts.is_empty());
    for attempt in attempts {
        assert_eq!(attempt["status_code"], 302);
        assert_eq!(attempt["error_kind"], "status");
    }
    assert_eq!(receiver.received().len(), attempts.len());
    assert!(refused.received().is_empty(), "the redirect was followed");
    app.stop().await;
}
