//! Operational events (issue #18): Herald tells a merchant about its own
//! endpoints — failing, disabled, recovered, a delivery failed for good —
//! with `herald.*` events delivered and signed like any other, to the
//! merchant's endpoints that ask for them (never to the endpoint they are
//! about), and by mail when SMTP is configured. Each change is told once,
//! however many deliveries, attempts or processes see it.

use crate::both_backends;
use crate::helpers::{client, raw_texts, test_config, TestApp, TestDb, PLATFORM_TOKEN};
use crate::processes::{create_merchant_as, HeraldProcess};
use crate::receiver::{Received, Reply, TestReceiver};
use crate::smtp::{Mail, SmtpListener};
use chrono::{DateTime, Utc};
use herald::config::{MailSettings, SecretString, ServeConfig};
use herald::store::Store;
use rand::Rng;
use reqwest::Method;
use serde_json::{json, Value};
use standardwebhooks::Webhook;
use std::time::{Duration, Instant};

both_backends!(
    a_410_is_told_once_as_disabled_and_never_to_the_endpoint_itself,
    failing_is_told_once_and_a_success_tells_recovered,
    a_failure_too_short_to_tell_tells_nothing_when_it_ends,
    failing_too_long_disables_and_enabling_again_recovers,
    operators_and_merchants_disabling_is_told_with_who_did_it,
    a_delivery_that_fails_for_good_is_told_once,
    only_endpoints_that_name_herald_types_get_them,
    the_platform_cannot_send_herald_types_but_a_merchant_can_test_them,
    the_catalog_describes_the_herald_types,
    a_running_herald_tells_by_itself,
    each_change_is_mailed_once_to_the_merchant,
    without_smtp_the_events_are_told_and_nothing_is_mailed,
    a_merchant_can_stop_the_mails_of_one_kind,
);

const FAILING: &str = "herald.endpoint.failing";
const DISABLED: &str = "herald.endpoint.disabled";
const RECOVERED: &str = "herald.endpoint.recovered";
const DELIVERY_FAILED: &str = "herald.delivery.failed";
const HERALD_TYPES: [&str; 4] = [FAILING, DISABLED, RECOVERED, DELIVERY_FAILED];

const MAIL_FROM: &str = "Herald <herald@example.test>";
const MAIL_FROM_ADDRESS: &str = "herald@example.test";
const PUBLIC_URL: &str = "https://herald.example.test";
/// The dashboard's server function that sets which alerts are mailed.
const SET_MAIL_PREFERENCES: &str = "notifications/set_mail_preferences";

/// `failing_alert_after` in the tests that watch an endpoint fail: short,
/// yet far longer than an ingest and a drain.
const ALERT_AFTER: Duration = Duration::from_millis(300);
/// A pause that takes a failing endpoint past `ALERT_AFTER`.
const PAST_ALERT_AFTER: Duration = Duration::from_millis(600);
const HOUR: Duration = Duration::from_secs(3600);
const WAIT: Duration = Duration::from_secs(10);

async fn a_410_is_told_once_as_disabled_and_never_to_the_endpoint_itself(store: Store) {
    let app = TestApp::spawn_manual(store.clone()).await;
    let (merchant, key) = app.merchant("Gone").await;
    let merchant = merchant.to_string();
    let gone = TestReceiver::start().await;
    gone.always(Reply::status(410));
    let watcher = TestReceiver::start().await;
    // The endpoint that goes away asks for Herald's events too: it must
    // still never get one about itself.
    let (gone_id, _) = app
        .endpoint(
            &key,
            json!({"url": gone.url(), "event_types": ["payin.*", "herald.*"]}),
        )
        .await;
    let (watcher_id, _) = app
        .endpoint(
            &key,
            json!({"url": watcher.url(), "event_types": ["herald.*"]}),
        )
        .await;
    let secret = secret_of(&app, &key, &watcher_id).await;

    // Three deliveries due at once: several may be under way when the first
    // 410 comes back, and each 410 disables the endpoint; it is told once.
    let before = Utc::now();
    for n in 0..3 {
        let (_, deliveries) = ingest_event(&app, payin(&merchant, n)).await;
        assert_eq!(deliveries, 1, "to the payin endpoint only");
    }
    app.drain().await;
    let after = Utc::now();
    assert!(!gone.received().is_empty(), "the endpoint answered 410");
    let seen = endpoint_json(&app, &key, &gone_id).await;
    assert_eq!(seen["enabled"], false, "{seen}");

    let event = told_once(&watcher, DISABLED, &secret);
    let data = &event["data"];
    assert_eq!(data["endpoint_id"], gone_id.as_str(), "{event}");
    assert_eq!(data["url"], gone.url().as_str(), "{event}");
    assert_eq!(data["disabled_by"], "herald", "{event}");
    assert_eq!(
        data["reason"], seen["disabled_reason"],
        "the reason the endpoint shows: {event}"
    );
    assert!(
        data["reason"].as_str().unwrap_or_default().contains("410"),
        "{event}"
    );
    within(at(&data["disabled_at"]), before, after);

    // Delivered to the subscribed endpoint alone: not to the one it is about.
    assert_eq!(
        event_types(&gone),
        vec!["payin.succeeded"; gone.received().len()],
        "the endpoint that went away gets no event about itself"
    );
    let deliveries = app.deliveries_of(&key, event_id(&event)).await;
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    assert_eq!(deliveries[0]["endpoint_id"], watcher_id.as_str());

    // More events: none goes to the disabled endpoint, nothing is told again.
    for n in 3..5 {
        let (_, deliveries) = ingest_event(&app, payin(&merchant, n)).await;
        assert_eq!(deliveries, 0, "nothing for a disabled endpoint");
    }
    app.drain().await;
    assert_eq!(
        told(&watcher, DISABLED).len(),
        1,
        "{:?}",
        event_types(&watcher)
    );
    assert_eq!(
        raw_texts(&store, "SELECT kind FROM alerts WHERE kind = 'disabled'")
            .await
            .len(),
        1,
        "one change, one alert"
    );
    app.stop().await;
}

async fn failing_is_told_once_and_a_success_tells_recovered(store: Store) {
    let app = TestApp::spawn_manual_with(store, alerting(ALERT_AFTER, HOUR)).await;
    let (merchant, key) = app.merchant("Flaky").await;
    let merchant = merchant.to_string();
    let flaky = TestReceiver::start().await;
    flaky.always(Reply::status(500));
    let watcher = TestReceiver::start().await;
    // One attempt per event: each event is one failure, when the test says.
    let (flaky_id, _) = app
        .endpoint(
            &key,
            json!({"url": flaky.url(), "event_types": ["payin.*", "herald.*"], "retry_schedule": ["0s"]}),
        )
        .await;
    let (watcher_id, _) = app
        .endpoint(
            &key,
            json!({"url": watcher.url(), "event_types": ["herald.endpoint.*"]}),
        )
        .await;
    let secret = secret_of(&app, &key, &watcher_id).await;

    // Healthy: both fields are there, and null.
    let healthy = endpoint_json(&app, &key, &flaky_id).await;
    for field in ["failing_since", "disables_at"] {
        assert!(has(&healthy, field), "{field} in {healthy}");
        assert!(healthy[field].is_null(), "{healthy}");
    }

    let before = Utc::now();
    ingest_event(&app, payin(&merchant, 0)).await;
    app.drain().await;
    let after = Utc::now();
    let failing = endpoint_json(&app, &key, &flaky_id).await;
    let since = at(&failing["failing_since"]);
    within(since, before, after);
    assert_eq!(
        at(&failing["disables_at"]) - since,
        chrono::Duration::hours(1),
        "auto_disable_after later: {failing}"
    );
    assert!(
        told(&watcher, FAILING).is_empty(),
        "failing for less than failing_alert_after is not told yet"
    );

    tokio::time::sleep(PAST_ALERT_AFTER).await;
    ingest_event(&app, payin(&merchant, 1)).await;
    app.drain().await;
    let event = told_once(&watcher, FAILING, &secret);
    let data = &event["data"];
    assert_eq!(data["endpoint_id"], flaky_id.as_str(), "{event}");
    assert_eq!(data["url"], flaky.url().as_str(), "{event}");
    assert_eq!(at(&data["failing_since"]), since, "{event}");
    assert_eq!(
        at(&data["disables_at"]),
        since + chrono::Duration::hours(1),
        "{event}"
    );
    let shown = endpoint_json(&app, &key, &flaky_id).await;
    assert_eq!(shown["enabled"], true, "{shown}");
    assert_eq!(at(&shown["failing_since"]), since, "{shown}");
    assert_eq!(
        at(&shown["disables_at"]),
        since + chrono::Duration::hours(1)
    );

    // Still failing: the same run is not told again.
    ingest_event(&app, payin(&merchant, 2)).await;
    app.drain().await;
    assert_eq!(
        told(&watcher, FAILING).len(),
        1,
        "{:?}",
        event_types(&watcher)
    );

    flaky.always(Reply::status(200));
    let before = Utc::now();
    ingest_event(&app, payin(&merchant, 3)).await;
    app.drain().await;
    let after = Utc::now();
    let recovered = told_once(&watcher, RECOVERED, &secret);
    let data = &recovered["data"];
    assert_eq!(data["endpoint_id"], flaky_id.as_str(), "{recovered}");
    assert_eq!(data["url"], flaky.url().as_str(), "{recovered}");
    assert_eq!(data["how"], "delivered", "{recovered}");
    assert_eq!(at(&data["failing_since"]), since, "{recovered}");
    within(at(&data["recovered_at"]), before, after);
    assert_eq!(
        event_types(&watcher),
        [FAILING, RECOVERED],
        "failing, then recovered"
    );
    let healthy = endpoint_json(&app, &key, &flaky_id).await;
    assert!(healthy["failing_since"].is_null(), "{healthy}");
    assert!(healthy["disables_at"].is_null(), "{healthy}");

    // Healthy: more successes tell nothing.
    ingest_event(&app, payin(&merchant, 4)).await;
    app.drain().await;
    assert_eq!(event_types(&watcher), [FAILING, RECOVERED]);

    // Neither went to the endpoint it is about, though it asks for herald.*.
    assert_eq!(
        event_types(&flaky),
        vec!["payin.succeeded"; flaky.received().len()]
    );
    for sent in [&event, &recovered] {
        let deliveries = app.deliveries_of(&key, event_id(sent)).await;
        assert_eq!(deliveries.len(), 1, "{deliveries:?}");
        assert_eq!(deliveries[0]["endpoint_id"], watcher_id.as_str());
    }
    app.stop().await;
}

async fn a_failure_too_short_to_tell_tells_nothing_when_it_ends(store: Store) {
    let app = TestApp::spawn_manual_with(store.clone(), alerting(HOUR, HOUR)).await;
    let (merchant, key) = app.merchant("Blip").await;
    let blip = TestReceiver::start().await;
    // Two failures then success, within the test schedule's 200 ms steps.
    blip.script([Reply::status(500), Reply::status(503)]);
    let watcher = TestReceiver::start().await;
    let (blip_id, _) = app
        .endpoint(&key, json!({"url": blip.url(), "event_types": ["payin.*"]}))
        .await;
    app.endpoint(
        &key,
        json!({"url": watcher.url(), "event_types": ["herald.*"]}),
    )
    .await;
    let (event, _) = ingest_event(&app, payin(&merchant.to_string(), 0)).await;
    app.drain().await;
    let deliveries = app.deliveries_of(&key, &event).await;
    assert_eq!(deliveries[0]["status"], "succeeded", "{deliveries:?}");
    assert_eq!(blip.received().len(), 3);

    // It was failing, never long enough to be told: its recovery is not news.
    assert!(
        watcher.received().is_empty(),
        "nothing to tell: {:?}",
        event_types(&watcher)
    );
    let seen = endpoint_json(&app, &key, &blip_id).await;
    assert!(seen["failing_since"].is_null(), "{seen}");
    assert!(
        raw_texts(&store, "SELECT kind FROM alerts")
            .await
            .is_empty(),
        "no alert"
    );
    app.stop().await;
}

async fn failing_too_long_disables_and_enabling_again_recovers(store: Store) {
    let auto_disable_after = Duration::from_millis(1500);
    let app = TestApp::spawn_manual_with(store, alerting(ALERT_AFTER, auto_disable_after)).await;
    let (merchant, key) = app.merchant("Dead").await;
    let merchant = merchant.to_string();
    let dead = TestReceiver::start().await;
    dead.always(Reply::status(500));
    let watcher = TestReceiver::start().await;
    let (dead_id, _) = app
        .endpoint(
            &key,
            json!({"url": dead.url(), "event_types": ["payin.*"], "retry_schedule": ["0s"]}),
        )
        .await;
    let (watcher_id, _) = app
        .endpoint(
            &key,
            json!({"url": watcher.url(), "event_types": ["herald.endpoint.*"]}),
        )
        .await;
    let secret = secret_of(&app, &key, &watcher_id).await;

    ingest_event(&app, payin(&merchant, 0)).await;
    app.drain().await;
    let since = at(&endpoint_json(&app, &key, &dead_id).await["failing_since"]);

    // Past failing_alert_after, well before auto_disable_after: told failing.
    tokio::time::sleep(PAST_ALERT_AFTER).await;
    ingest_event(&app, payin(&merchant, 1)).await;
    app.drain().await;
    let failing = told_once(&watcher, FAILING, &secret);
    assert_eq!(
        at(&failing["data"]["disables_at"]),
        since + chrono::Duration::milliseconds(1500),
        "{failing}"
    );
    assert_eq!(endpoint_json(&app, &key, &dead_id).await["enabled"], true);

    // Past auto_disable_after: the next failure disables it.
    let past = since + chrono::Duration::milliseconds(1800) - Utc::now();
    if let Ok(wait) = past.to_std() {
        tokio::time::sleep(wait).await;
    }
    ingest_event(&app, payin(&merchant, 2)).await;
    app.drain().await;
    let seen = endpoint_json(&app, &key, &dead_id).await;
    assert_eq!(seen["enabled"], false, "{seen}");
    assert!(
        seen["disables_at"].is_null(),
        "nothing left to disable: {seen}"
    );
    let disabled = told_once(&watcher, DISABLED, &secret);
    let data = &disabled["data"];
    assert_eq!(data["endpoint_id"], dead_id.as_str(), "{disabled}");
    assert_eq!(data["disabled_by"], "herald", "{disabled}");
    assert_eq!(data["reason"], seen["disabled_reason"], "{disabled}");
    assert!(
        data["reason"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase()
            .contains("fail"),
        "the reason says it kept failing: {disabled}"
    );
    assert_eq!(told(&watcher, FAILING).len(), 1);
    // The audit log names Herald as the one that disabled it, with why.
    let audit = app.get_ok(&key, "/api/v1/audit-log?limit=250").await;
    let by_herald: Vec<&serde_json::Value> = audit["data"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .filter(|e| {
                    e["action"] == "endpoint.disabled" && e["object_id"] == dead_id.as_str()
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(by_herald.len(), 1, "{audit}");
    assert_eq!(by_herald[0]["actor_kind"], "herald", "{audit}");
    assert_eq!(by_herald[0]["detail"], seen["disabled_reason"], "{audit}");

    // The merchant fixes its receiver and enables the endpoint: recovered.
    dead.always(Reply::status(200));
    set_enabled(&app, &key, &dead_id, true).await;
    app.drain().await;
    let recovered = told_once(&watcher, RECOVERED, &secret);
    assert_eq!(recovered["data"]["endpoint_id"], dead_id.as_str());
    assert_eq!(recovered["data"]["how"], "enabled", "{recovered}");

    // The failing run ended when it was disabled: a success now tells nothing.
    let (_, deliveries) = ingest_event(&app, payin(&merchant, 3)).await;
    assert_eq!(deliveries, 1);
    app.drain().await;
    assert_eq!(
        event_types(&watcher),
        [FAILING, DISABLED, RECOVERED],
        "each change once, in order"
    );
    app.stop().await;
}

async fn operators_and_merchants_disabling_is_told_with_who_did_it(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let (_, key) = app.merchant("Switched").await;
    let subject = TestReceiver::start().await;
    let watcher = TestReceiver::start().await;
    // It asks for Herald's events too: none about itself may reach it.
    let (subject_id, _) = app
        .endpoint(
            &key,
            json!({"url": subject.url(), "event_types": ["payin.*", "herald.*"]}),
        )
        .await;
    let (watcher_id, _) = app
        .endpoint(
            &key,
            json!({"url": watcher.url(), "event_types": [DISABLED, RECOVERED]}),
        )
        .await;
    let secret = secret_of(&app, &key, &watcher_id).await;

    // An operator disables it, saying why.
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/admin/endpoints/{subject_id}/disable"),
            PLATFORM_TOKEN,
            Some(json!({"reason": "abuse report #12"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    app.drain().await;
    let by_operator = told_once(&watcher, DISABLED, &secret);
    let data = &by_operator["data"];
    assert_eq!(data["endpoint_id"], subject_id.as_str(), "{by_operator}");
    assert_eq!(data["url"], subject.url().as_str(), "{by_operator}");
    assert_eq!(data["disabled_by"], "operator", "{by_operator}");
    assert!(
        data["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("abuse report #12"),
        "the operator's reason: {by_operator}"
    );

    // An operator enables it again.
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/admin/endpoints/{subject_id}/enable"),
            PLATFORM_TOKEN,
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    app.drain().await;
    let enabled = told_once(&watcher, RECOVERED, &secret);
    assert_eq!(enabled["data"]["how"], "enabled", "{enabled}");
    assert_eq!(enabled["data"]["endpoint_id"], subject_id.as_str());

    // The merchant disables it (twice: the second changes nothing), then enables it.
    set_enabled(&app, &key, &subject_id, false).await;
    set_enabled(&app, &key, &subject_id, false).await;
    app.drain().await;
    let disables = told(&watcher, DISABLED);
    assert_eq!(disables.len(), 2, "{:?}", event_types(&watcher));
    let by_merchant = verified(&disables[1], &secret);
    assert_eq!(
        by_merchant["data"]["disabled_by"], "merchant",
        "{by_merchant}"
    );
    assert_eq!(by_merchant["data"]["endpoint_id"], subject_id.as_str());
    set_enabled(&app, &key, &subject_id, true).await;
    app.drain().await;
    let recoveries = told(&watcher, RECOVERED);
    assert_eq!(recoveries.len(), 2, "{:?}", event_types(&watcher));
    assert_eq!(verified(&recoveries[1], &secret)["data"]["how"], "enabled");

    // A change that leaves it enabled is no news.
    let (status, body) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/endpoints/{subject_id}"),
            &key,
            Some(json!({"description": "still here", "enabled": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    app.drain().await;
    assert_eq!(
        event_types(&watcher),
        [DISABLED, RECOVERED, DISABLED, RECOVERED]
    );
    assert!(subject.received().is_empty(), "no event about itself");
    app.stop().await;
}

async fn a_delivery_that_fails_for_good_is_told_once(store: Store) {
    let app = TestApp::spawn_manual(store.clone()).await;
    let (merchant, key) = app.merchant("Exhausted").await;
    let merchant = merchant.to_string();
    let flaky = TestReceiver::start().await;
    flaky.always(Reply::status(500));
    let watcher = TestReceiver::start().await;
    // A second subscriber that fails too: a herald.* event failing for good
    // is not told again (that would never end).
    let broken = TestReceiver::start().await;
    broken.always(Reply::status(500));
    let callback = TestReceiver::start().await;
    callback.always(Reply::status(500));
    let (flaky_id, _) = app
        .endpoint(
            &key,
            json!({"url": flaky.url(), "event_types": ["payin.*"]}),
        )
        .await;
    let (watcher_id, _) = app
        .endpoint(
            &key,
            json!({"url": watcher.url(), "event_types": [DELIVERY_FAILED]}),
        )
        .await;
    app.endpoint(
        &key,
        json!({"url": broken.url(), "event_types": [DELIVERY_FAILED]}),
    )
    .await;
    let secret = secret_of(&app, &key, &watcher_id).await;

    let (event, deliveries) = ingest_event(&app, payin(&merchant, 0)).await;
    assert_eq!(deliveries, 1);
    let delivery = app.deliveries_of(&key, &event).await[0]["id"]
        .as_str()
        .expect("delivery id")
        .to_owned();
    let before = Utc::now();
    app.drain().await;
    let after = Utc::now();
    let detail = app.delivery(&key, &delivery).await;
    assert_eq!(detail["status"], "failed", "{detail}");

    let failed = told_once(&watcher, DELIVERY_FAILED, &secret);
    let data = &failed["data"];
    assert_eq!(data["delivery_id"], delivery.as_str(), "{failed}");
    assert_eq!(data["endpoint_id"], flaky_id.as_str(), "{failed}");
    assert_eq!(data["url"], flaky.url().as_str(), "{failed}");
    assert_eq!(data["event_id"], event.as_str(), "{failed}");
    assert_eq!(data["event_type"], "payin.succeeded", "{failed}");
    assert_eq!(data["attempts"], 4, "the test schedule's four: {failed}");
    assert_eq!(data["last_status_code"], 500, "{failed}");
    within(at(&data["failed_at"]), before, after);
    // The broken subscriber got that one event (every try of it), no other.
    assert!(!broken.received().is_empty());
    assert_eq!(
        distinct_ids(&broken),
        [event_id(&failed).to_owned()],
        "its own failure to receive is not told"
    );

    // Not for deliveries to a callback URL, nor for a manual retry that fails.
    let mut to_callback = payin(&merchant, 1);
    to_callback["callback_url"] = json!(callback.url());
    let (_, deliveries) = ingest_event(&app, to_callback).await;
    assert_eq!(deliveries, 1, "the callback");
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/deliveries/{delivery}/retry"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 202, "{body}");
    app.drain().await;
    assert!(!callback.received().is_empty(), "the callback was tried");
    assert_eq!(app.delivery(&key, &delivery).await["attempt_count"], 5);
    assert_eq!(
        told_ids(&watcher, DELIVERY_FAILED),
        [event_id(&failed).to_owned()],
        "told once, for the scheduled tries only"
    );
    assert_eq!(
        raw_texts(
            &store,
            "SELECT kind FROM alerts WHERE kind = 'delivery_failed'"
        )
        .await
        .len(),
        1
    );
    app.stop().await;
}

async fn only_endpoints_that_name_herald_types_get_them(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let (merchant, key) = app.merchant("Filters").await;
    let gone = TestReceiver::start().await;
    gone.always(Reply::status(410));
    let flaky = TestReceiver::start().await;
    flaky.always(Reply::status(500));
    let everything = TestReceiver::start().await;
    let only_disabled = TestReceiver::start().await;
    let all_herald = TestReceiver::start().await;
    let (gone_id, _) = app
        .endpoint(&key, json!({"url": gone.url(), "event_types": ["payin.*"]}))
        .await;
    let (flaky_id, _) = app
        .endpoint(
            &key,
            json!({"url": flaky.url(), "event_types": ["payin.*"]}),
        )
        .await;
    // An empty filter takes every type of the platform's, not Herald's own.
    app.endpoint(&key, json!({"url": everything.url()})).await;
    let (only_disabled_id, _) = app
        .endpoint(
            &key,
            json!({"url": only_disabled.url(), "event_types": [DISABLED]}),
        )
        .await;
    app.endpoint(
        &key,
        json!({"url": all_herald.url(), "event_types": ["herald.*"]}),
    )
    .await;
    let secret = secret_of(&app, &key, &only_disabled_id).await;

    let (_, deliveries) = ingest_event(&app, payin(&merchant.to_string(), 0)).await;
    assert_eq!(deliveries, 3, "gone, flaky and the one taking everything");
    app.drain().await;

    // Both kinds were told (so their absence below means something)…
    let disabled = told(&all_herald, DISABLED);
    assert_eq!(disabled.len(), 1, "{:?}", event_types(&all_herald));
    assert!(
        told(&all_herald, DELIVERY_FAILED)
            .iter()
            .any(|r| r.json()["data"]["endpoint_id"] == flaky_id.as_str()),
        "{:?}",
        event_types(&all_herald)
    );
    // …the endpoint taking everything got the payin and nothing of Herald's…
    assert_eq!(event_types(&everything), ["payin.succeeded"]);
    // …and the one naming a single type got that type only.
    assert_eq!(event_types(&only_disabled), [DISABLED]);
    let event = verified(&only_disabled.received()[0], &secret);
    assert_eq!(event["data"]["endpoint_id"], gone_id.as_str(), "{event}");
    app.stop().await;
}

async fn the_platform_cannot_send_herald_types_but_a_merchant_can_test_them(store: Store) {
    let app = TestApp::spawn_manual(store.clone()).await;
    let (merchant, key) = app.merchant("Tester").await;
    let merchant = merchant.to_string();
    let watcher = TestReceiver::start().await;
    let other = TestReceiver::start().await;
    let (watcher_id, _) = app
        .endpoint(
            &key,
            json!({"url": watcher.url(), "event_types": ["herald.*"]}),
        )
        .await;
    app.endpoint(
        &key,
        json!({"url": other.url(), "event_types": ["herald.*"]}),
    )
    .await;
    let secret = secret_of(&app, &key, &watcher_id).await;

    // Only Herald says these things: the platform is refused, with the type named.
    for event_type in HERALD_TYPES {
        let (status, refused) = app
            .ingest(json!({
                "merchant_id": merchant,
                "type": event_type,
                "data": {"endpoint_id": watcher_id, "url": watcher.url()},
            }))
            .await;
        assert_eq!(status, 422, "{event_type}: {refused}");
        assert!(refused["error"]["code"].is_string(), "{refused}");
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains(event_type),
            "{refused}"
        );
    }
    app.drain().await;
    assert!(watcher.received().is_empty());
    assert!(other.received().is_empty());
    assert!(
        raw_texts(&store, "SELECT id FROM events").await.is_empty(),
        "nothing stored"
    );

    // A merchant tries its handler with one: sent to that endpoint alone,
    // signed, with the catalog's example as its data.
    let example = app.catalog_entry(&key, FAILING).await["example"].clone();
    let (status, sent) = app
        .api(
            Method::POST,
            &format!("/api/v1/endpoints/{watcher_id}/test"),
            &key,
            Some(json!({"event_type": FAILING})),
        )
        .await;
    assert_eq!(status, 202, "{sent}");
    assert_eq!(sent["deliveries"], 1, "{sent}");
    app.drain().await;
    let got = watcher.received();
    assert_eq!(got.len(), 1);
    let body = verified(&got[0], &secret);
    assert_eq!(body["id"], sent["id"], "{body}");
    assert_eq!(body["type"], FAILING, "{body}");
    assert_eq!(body["live_mode"], false, "a test: {body}");
    assert_eq!(body["data"], example, "{body}");
    assert!(other.received().is_empty(), "a test goes to one endpoint");
    app.stop().await;
}

async fn the_catalog_describes_the_herald_types(store: Store) {
    let app = TestApp::spawn(store).await;
    let (_, key) = app.merchant("Reader").await;
    // What a receiver of each type reads in `data`.
    let fields: [(&str, &[&str]); 4] = [
        (
            FAILING,
            &["endpoint_id", "url", "failing_since", "disables_at"],
        ),
        (
            DISABLED,
            &["endpoint_id", "url", "disabled_at", "disabled_by", "reason"],
        ),
        (
            RECOVERED,
            &["endpoint_id", "url", "recovered_at", "how", "failing_since"],
        ),
        (
            DELIVERY_FAILED,
            &[
                "delivery_id",
                "endpoint_id",
                "url",
                "event_id",
                "event_type",
                "attempts",
                "last_status_code",
                "failed_at",
            ],
        ),
    ];
    for (name, keys) in fields {
        let entry = app.catalog_entry(&key, name).await;
        assert_eq!(entry["category"], "herald", "{entry}");
        assert_eq!(entry["archived"], false, "{entry}");
        assert!(
            !entry["description"].as_str().unwrap_or_default().is_empty(),
            "{entry}"
        );
        for field in keys {
            assert!(
                has(&entry["example"], field),
                "the example shows `{field}`: {entry}"
            );
        }
    }
    app.stop().await;
}

async fn a_running_herald_tells_by_itself(store: Store) {
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Unattended").await;
    let gone = TestReceiver::start().await;
    gone.always(Reply::status(410));
    let watcher = TestReceiver::start().await;
    let (gone_id, _) = app
        .endpoint(&key, json!({"url": gone.url(), "event_types": ["payin.*"]}))
        .await;
    let (watcher_id, _) = app
        .endpoint(
            &key,
            json!({"url": watcher.url(), "event_types": ["herald.*"]}),
        )
        .await;
    let secret = secret_of(&app, &key, &watcher_id).await;
    ingest_event(&app, payin(&merchant.to_string(), 0)).await;

    let deadline = Instant::now() + WAIT;
    while told(&watcher, DISABLED).is_empty() {
        assert!(
            Instant::now() < deadline,
            "never told: {:?}",
            event_types(&watcher)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Longer than a round of the loop that tells: no second telling.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let event = told_once(&watcher, DISABLED, &secret);
    assert_eq!(event["data"]["endpoint_id"], gone_id.as_str(), "{event}");
    app.stop().await;
}

async fn each_change_is_mailed_once_to_the_merchant(store: Store) {
    let smtp = SmtpListener::start();
    let app =
        TestApp::spawn_manual_with(store.clone(), mailing(alerting(ALERT_AFTER, HOUR), &smtp))
            .await;
    let (merchant, key, email) = merchant_with_email(&app, "Mailed").await;
    let scenario = Scenario::set_up(&app, &merchant, &key).await;

    scenario.gone_away(&app).await;
    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!(mails.len(), 1, "{:?}", subjects(&mails));
    assert_mail(&mails[0], &email, &scenario.gone.url(), &scenario.gone_id);

    scenario.start_failing(&app).await;
    let mails = smtp.wait_for(2, WAIT).await;
    assert_eq!(mails.len(), 2, "{:?}", subjects(&mails));
    assert_mail(&mails[1], &email, &scenario.flaky.url(), &scenario.flaky_id);

    scenario.recover(&app).await;
    let mails = smtp.wait_for(3, WAIT).await;
    assert_eq!(mails.len(), 3, "{:?}", subjects(&mails));
    assert_mail(&mails[2], &email, &scenario.flaky.url(), &scenario.flaky_id);
    assert_ne!(
        mails[1].subject(),
        mails[2].subject(),
        "failing and recovered read differently"
    );

    // The failed deliveries were told (as events) but are not mailed by
    // default; nothing else is mailed later.
    assert!(!told(&scenario.watcher, DELIVERY_FAILED).is_empty());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.messages().len(), 3, "{:?}", subjects(&smtp.messages()));
    assert_eq!(
        raw_texts(&store, "SELECT kind FROM alerts WHERE mailed ORDER BY kind").await,
        ["disabled", "failing", "recovered"]
    );
    app.stop().await;
}

async fn without_smtp_the_events_are_told_and_nothing_is_mailed(store: Store) {
    // A mail server is there, but Herald is not told about it.
    let smtp = SmtpListener::start();
    let app = TestApp::spawn_manual_with(store.clone(), alerting(ALERT_AFTER, HOUR)).await;
    let (merchant, key, _) = merchant_with_email(&app, "Unmailed").await;
    let scenario = Scenario::set_up(&app, &merchant, &key).await;
    scenario.gone_away(&app).await;
    scenario.start_failing(&app).await;
    scenario.recover(&app).await;

    assert!(smtp.messages().is_empty());
    assert!(
        raw_texts(&store, "SELECT kind FROM alerts WHERE mailed")
            .await
            .is_empty(),
        "nothing counts as mailed"
    );
    assert!(
        raw_texts(&store, "SELECT kind FROM alerts WHERE event_id IS NULL")
            .await
            .is_empty(),
        "every alert was told, none left waiting for mail"
    );
    app.stop().await;
}

async fn a_merchant_can_stop_the_mails_of_one_kind(store: Store) {
    let smtp = SmtpListener::start();
    let app = TestApp::spawn_manual_with(store, mailing(alerting(ALERT_AFTER, HOUR), &smtp)).await;
    let email = format!("prefs-{:08x}@example.test", rand::thread_rng().gen::<u32>());
    let mut browser = app.signed_up("Prefs", &email).await;
    let (status, issued) = browser.call("api_keys/create", &[("name", "ci")]).await;
    assert_eq!(status, 200, "{issued}");
    let key = issued["key"].as_str().expect("key").to_owned();
    let (status, me) = browser.call("me", &[]).await;
    assert_eq!(status, 200, "{me}");
    let merchant = me["id"].as_str().expect("merchant id").to_owned();

    // No more mail about disabled endpoints; failing and recovered still.
    let (status, saved) = browser
        .call_json(
            SET_MAIL_PREFERENCES,
            json!({"preferences": {"kinds": ["failing", "recovered"]}}),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(kinds(&saved), ["failing", "recovered"], "{saved}");

    let scenario = Scenario::set_up(&app, &merchant, &key).await;
    scenario.gone_away(&app).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        smtp.messages().is_empty(),
        "told, not mailed: {:?}",
        subjects(&smtp.messages())
    );

    // Mail still goes for the kinds it kept.
    scenario.start_failing(&app).await;
    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!(mails.len(), 1, "{:?}", subjects(&mails));
    assert_mail(&mails[0], &email, &scenario.flaky.url(), &scenario.flaky_id);

    // The dashboard shows what is set, and that the disabled one was not mailed.
    let (status, shown) = browser.call("notifications/get", &[]).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["email"], email.as_str(), "{shown}");
    assert_eq!(shown["mail_configured"], true, "{shown}");
    assert_eq!(kinds(&shown["preferences"]), ["failing", "recovered"]);
    let alerts = shown["alerts"].as_array().cloned().unwrap_or_default();
    let disabled = alerts
        .iter()
        .find(|a| a["kind"] == "disabled")
        .unwrap_or_else(|| panic!("the disabled alert is listed: {shown}"));
    assert_eq!(disabled["mailed"], false, "{disabled}");
    app.stop().await;
}

/// Two processes on one PostgreSQL share the deliveries of an endpoint that
/// is gone and of one that keeps failing: each change is told once, as one
/// event and one mail, whichever process saw it (and however many times).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_tell_each_change_once_and_mail_it_once() {
    let db = TestDb::postgres().await;
    let url = db.url();
    let smtp = SmtpListener::start();
    let smtp_url = smtp.url();
    let email = "two-processes@example.test";
    let (merchant, key) = create_merchant_as(&url, "Two Processes", email);
    let env = [
        ("HERALD_FAILING_ALERT_AFTER", "300ms"),
        ("HERALD_AUTO_DISABLE_AFTER", "1h"),
        ("HERALD_SMTP_URL", smtp_url.as_str()),
        ("HERALD_MAIL_FROM", MAIL_FROM),
        ("HERALD_PUBLIC_URL", PUBLIC_URL),
    ];
    let a = HeraldProcess::start_with(&url, &env).await;
    let b = HeraldProcess::start_with(&url, &env).await;
    let gone = TestReceiver::start().await;
    gone.always(Reply::status(410));
    let flaky = TestReceiver::start().await;
    flaky.always(Reply::status(500));
    let watcher = TestReceiver::start().await;
    let gone_id = create_endpoint_at(&a.base, &key, &gone.url(), &["payin.*"]).await;
    let flaky_id = create_endpoint_at(&b.base, &key, &flaky.url(), &["payout.*"]).await;
    let watcher_id =
        create_endpoint_at(&a.base, &key, &watcher.url(), &["herald.endpoint.*"]).await;
    let (status, shown) = request_at(
        &b.base,
        &key,
        Method::GET,
        &format!("/api/v1/endpoints/{watcher_id}/secret"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{shown}");
    let secret = shown["secret"].as_str().expect("secret").to_owned();

    // Both processes take the events, and with them the deliveries (the
    // processes' retry schedule runs about a second).
    for n in 0..10 {
        let process = if n % 2 == 0 { &a } else { &b };
        for event_type in ["payin.succeeded", "payout.failed"] {
            let (status, accepted) = request_at(
                &process.base,
                PLATFORM_TOKEN,
                Method::POST,
                "/api/v1/events",
                Some(json!({"merchant_id": merchant, "type": event_type, "data": {"n": n}})),
            )
            .await;
            assert_eq!(status, 202, "{accepted}");
        }
    }

    let deadline = Instant::now() + Duration::from_secs(30);
    while told(&watcher, DISABLED).is_empty() || told(&watcher, FAILING).is_empty() {
        assert!(
            Instant::now() < deadline,
            "not both told: {:?}",
            event_types(&watcher)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Time for every retry to end and both processes' telling loops to run
    // again: a second telling would arrive by then.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let disabled = told_once(&watcher, DISABLED, &secret);
    assert_eq!(
        disabled["data"]["endpoint_id"],
        gone_id.as_str(),
        "{disabled}"
    );
    let failing = told_once(&watcher, FAILING, &secret);
    assert_eq!(
        failing["data"]["endpoint_id"],
        flaky_id.as_str(),
        "{failing}"
    );

    let mails = smtp.wait_for(2, WAIT).await;
    assert_eq!(mails.len(), 2, "{:?}", subjects(&mails));
    let (gone_mails, flaky_mails) = (
        mails_about(&mails, &gone.url()),
        mails_about(&mails, &flaky.url()),
    );
    assert_eq!(gone_mails.len(), 1, "{:?}", subjects(&mails));
    assert_eq!(flaky_mails.len(), 1, "{:?}", subjects(&mails));
    assert_mail(gone_mails[0], email, &gone.url(), &gone_id);
    assert_mail(flaky_mails[0], email, &flaky.url(), &flaky_id);
    assert_eq!(
        raw_texts(
            &db.store,
            "SELECT kind FROM alerts WHERE kind IN ('failing', 'disabled') ORDER BY kind"
        )
        .await,
        ["disabled", "failing"]
    );
    drop((a, b));
}

// --- helpers for this file ---

/// The test configuration with these alert thresholds.
fn alerting(failing_alert_after: Duration, auto_disable_after: Duration) -> ServeConfig {
    ServeConfig {
        failing_alert_after,
        auto_disable_after,
        ..test_config()
    }
}

/// `config`, mailing through `smtp` from `MAIL_FROM`, links to `PUBLIC_URL`.
fn mailing(config: ServeConfig, smtp: &SmtpListener) -> ServeConfig {
    ServeConfig {
        mail: MailSettings {
            smtp_url: Some(SecretString::new(smtp.url())),
            mail_from: Some(MAIL_FROM.into()),
            public_url: Some(PUBLIC_URL.into()),
        },
        ..config
    }
}

/// A merchant with an address the test knows: (id, API key, e-mail).
async fn merchant_with_email(app: &TestApp, name: &str) -> (String, String, String) {
    let email = format!(
        "{}-{:08x}@example.test",
        name.to_lowercase(),
        rand::thread_rng().gen::<u32>()
    );
    let (merchant, key) = herald::service::Accounts::new(app.store.clone())
        .create_merchant(
            name,
            &email,
            None,
            herald_app::model::merchant::Role::Merchant,
        )
        .await
        .expect("create merchant");
    (merchant.id.to_string(), key.key, email)
}

/// Three endpoints: `gone` takes payins and answers 410; `flaky` takes
/// payouts, one attempt each, and fails until told otherwise; `watcher`
/// takes every `herald.*` event.
struct Scenario {
    merchant: String,
    key: String,
    gone: TestReceiver,
    gone_id: String,
    flaky: TestReceiver,
    flaky_id: String,
    watcher: TestReceiver,
    watcher_secret: String,
}

impl Scenario {
    async fn set_up(app: &TestApp, merchant: &str, key: &str) -> Scenario {
        let gone = TestReceiver::start().await;
        gone.always(Reply::status(410));
        let flaky = TestReceiver::start().await;
        flaky.always(Reply::status(500));
        let watcher = TestReceiver::start().await;
        let (gone_id, _) = app
            .endpoint(key, json!({"url": gone.url(), "event_types": ["payin.*"]}))
            .await;
        let (flaky_id, _) = app
            .endpoint(
                key,
                json!({"url": flaky.url(), "event_types": ["payout.*"], "retry_schedule": ["0s"]}),
            )
            .await;
        let (watcher_id, _) = app
            .endpoint(
                key,
                json!({"url": watcher.url(), "event_types": ["herald.*"]}),
            )
            .await;
        let watcher_secret = secret_of(app, key, &watcher_id).await;
        Scenario {
            merchant: merchant.to_owned(),
            key: key.to_owned(),
            gone,
            gone_id,
            flaky,
            flaky_id,
            watcher,
            watcher_secret,
        }
    }

    /// A payin `gone` answers 410: it is disabled, and that is told.
    async fn gone_away(&self, app: &TestApp) {
        ingest_event(app, payin(&self.merchant, 0)).await;
        app.drain().await;
        let seen = endpoint_json(app, &self.key, &self.gone_id).await;
        assert_eq!(seen["enabled"], false, "{seen}");
        let event = told_once(&self.watcher, DISABLED, &self.watcher_secret);
        assert_eq!(event["data"]["endpoint_id"], self.gone_id.as_str());
    }

    /// Two payouts `flaky` fails, the second past `ALERT_AFTER`: told failing.
    async fn start_failing(&self, app: &TestApp) {
        ingest_event(app, payout(&self.merchant, 0)).await;
        app.drain().await;
        assert!(told(&self.watcher, FAILING).is_empty());
        tokio::time::sleep(PAST_ALERT_AFTER).await;
        ingest_event(app, payout(&self.merchant, 1)).await;
        app.drain().await;
        let event = told_once(&self.watcher, FAILING, &self.watcher_secret);
        assert_eq!(event["data"]["endpoint_id"], self.flaky_id.as_str());
    }

    /// A payout `flaky` accepts: told recovered.
    async fn recover(&self, app: &TestApp) {
        self.flaky.always(Reply::status(200));
        ingest_event(app, payout(&self.merchant, 2)).await;
        app.drain().await;
        let event = told_once(&self.watcher, RECOVERED, &self.watcher_secret);
        assert_eq!(event["data"]["endpoint_id"], self.flaky_id.as_str());
        assert_eq!(event["data"]["how"], "delivered");
    }
}

/// A mail about the endpoint at `url`, as the merchant gets it: to its
/// address, from Herald's, the URL in the subject, a link to the endpoint's
/// page in the body.
fn assert_mail(mail: &Mail, email: &str, url: &str, endpoint_id: &str) {
    assert_eq!(mail.to, [email.to_owned()], "{}", mail.data);
    assert_eq!(mail.from, MAIL_FROM_ADDRESS, "{}", mail.data);
    let from = mail.header("from").unwrap_or_default();
    assert!(from.contains(MAIL_FROM_ADDRESS), "From: {from}");
    let to = mail.header("to").unwrap_or_default();
    assert!(to.contains(email), "To: {to}");
    assert!(
        mail.subject().contains(url),
        "the subject names {url}: {}",
        mail.subject()
    );
    let link = format!("{PUBLIC_URL}/endpoints/{endpoint_id}");
    assert!(mail.body().contains(&link), "{link} in: {}", mail.body());
}

/// The mails whose subject names `url`.
fn mails_about<'a>(mails: &'a [Mail], url: &str) -> Vec<&'a Mail> {
    mails
        .iter()
        .filter(|mail| mail.subject().contains(url))
        .collect()
}

fn subjects(mails: &[Mail]) -> Vec<String> {
    mails.iter().map(Mail::subject).collect()
}

/// The `kinds` of mail preferences, sorted.
fn kinds(preferences: &Value) -> Vec<String> {
    let mut kinds: Vec<String> = preferences["kinds"]
        .as_array()
        .unwrap_or_else(|| panic!("kinds in {preferences}"))
        .iter()
        .filter_map(|k| k.as_str().map(str::to_owned))
        .collect();
    kinds.sort();
    kinds
}

fn payin(merchant: &str, n: u32) -> Value {
    json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {"n": n}})
}

fn payout(merchant: &str, n: u32) -> Value {
    json!({"merchant_id": merchant, "type": "payout.failed", "data": {"n": n}})
}

/// Ingests an event, which must be accepted; returns (event id, deliveries).
async fn ingest_event(app: &TestApp, body: Value) -> (String, u64) {
    let (status, accepted) = app.ingest(body).await;
    assert_eq!(status, 202, "ingest: {accepted}");
    (
        accepted["id"].as_str().expect("event id").to_owned(),
        accepted["deliveries"].as_u64().expect("deliveries"),
    )
}

async fn endpoint_json(app: &TestApp, key: &str, endpoint: &str) -> Value {
    app.get_ok(key, &format!("/api/v1/endpoints/{endpoint}"))
        .await
}

/// The endpoint's signing secret, as the merchant reads it.
async fn secret_of(app: &TestApp, key: &str, endpoint: &str) -> String {
    let shown = app
        .get_ok(key, &format!("/api/v1/endpoints/{endpoint}/secret"))
        .await;
    shown["secret"].as_str().expect("secret").to_owned()
}

/// PATCHes `enabled`, which must succeed.
async fn set_enabled(app: &TestApp, key: &str, endpoint: &str, enabled: bool) {
    let (status, body) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/endpoints/{endpoint}"),
            key,
            Some(json!({ "enabled": enabled })),
        )
        .await;
    assert_eq!(status, 200, "PATCH enabled={enabled}: {body}");
}

/// The requests the receiver got carrying an event of `event_type`.
fn told(receiver: &TestReceiver, event_type: &str) -> Vec<Received> {
    receiver
        .received()
        .into_iter()
        .filter(|r| r.json()["type"] == event_type)
        .collect()
}

/// The distinct event ids of `event_type` the receiver got.
fn told_ids(receiver: &TestReceiver, event_type: &str) -> Vec<String> {
    let mut ids: Vec<String> = told(receiver, event_type)
        .iter()
        .map(|r| r.header("webhook-id").to_owned())
        .collect();
    ids.dedup();
    ids
}

/// The distinct event ids the receiver got, in arrival order.
fn distinct_ids(receiver: &TestReceiver) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for request in receiver.received() {
        let id = request.header("webhook-id").to_owned();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// The type of each request the receiver got, in arrival order.
fn event_types(receiver: &TestReceiver) -> Vec<String> {
    receiver
        .received()
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The one `event_type` event the receiver got, checked as a merchant's
/// handler checks it; panics unless there is exactly one request with it.
fn told_once(receiver: &TestReceiver, event_type: &str, secret: &str) -> Value {
    let got = told(receiver, event_type);
    assert_eq!(
        got.len(),
        1,
        "exactly one {event_type}: {:?}",
        event_types(receiver)
    );
    let body = verified(&got[0], secret);
    assert_eq!(body["type"], event_type, "{body}");
    body
}

/// The body of a request, once the independent Standard Webhooks verifier
/// accepts its signature with the endpoint's secret; its envelope is
/// Herald's usual one.
fn verified(request: &Received, secret: &str) -> Value {
    Webhook::new(secret)
        .expect("secret")
        .verify(&request.body, &request.headers)
        .expect("signed with the endpoint's secret");
    let body = request.json();
    assert_eq!(body["id"], request.header("webhook-id"), "{body}");
    assert_eq!(
        request.header("herald-event-type"),
        body["type"].as_str().unwrap_or_default()
    );
    assert!(body["timestamp"].is_string(), "{body}");
    assert!(body["data"].is_object(), "{body}");
    body
}

fn event_id(event: &Value) -> &str {
    event["id"].as_str().expect("event id")
}

fn has(object: &Value, field: &str) -> bool {
    object.as_object().is_some_and(|o| o.contains_key(field))
}

/// An RFC 3339 time.
fn at(value: &Value) -> DateTime<Utc> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("an RFC 3339 time, not {value}"));
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .with_timezone(&Utc)
}

/// `time` lies between `before` and `after`, give or take a second (times
/// are kept to the millisecond, and the clocks are the same machine's).
fn within(time: DateTime<Utc>, before: DateTime<Utc>, after: DateTime<Utc>) {
    let slack = chrono::Duration::seconds(1);
    assert!(
        before - slack <= time && time <= after + slack,
        "{time} is not between {before} and {after}"
    );
}

/// Creates an endpoint on a running process; returns its id.
async fn create_endpoint_at(base: &str, key: &str, url: &str, event_types: &[&str]) -> String {
    let (status, created) = request_at(
        base,
        key,
        Method::POST,
        "/api/v1/endpoints",
        Some(json!({"url": url, "event_types": event_types})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().expect("endpoint id").to_owned()
}

/// A JSON request to a running process; returns (status, body).
async fn request_at(
    base: &str,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = client()
        .request(method, format!("{base}{path}"))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}
