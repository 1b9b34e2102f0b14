//! Ingest validation, limits and the engine's per-endpoint rules.

use crate::both_backends;
use crate::helpers::{client, test_config, TestApp, PLATFORM_TOKEN};
use crate::receiver::{Reply, TestReceiver};
use herald::store::Store;
use serde_json::json;
use std::time::Duration;

both_backends!(
    bad_events_are_refused_and_store_nothing,
    platform_routes_need_the_platform_token,
    an_endpoint_failing_for_too_long_is_disabled_and_can_be_enabled_again,
    a_rate_limit_spaces_deliveries,
    a_refused_event_in_a_batch_leaves_the_others_stored,
    ingest_leases_what_its_caller_has_room_for_and_leaves_the_rest_to_claims,
    an_endpoint_deleted_while_its_batch_is_written_gets_no_delivery,
    a_key_stored_while_its_batch_is_written_makes_that_event_a_duplicate,
);

async fn event_count(app: &TestApp, key: &str) -> usize {
    let (status, page) = app
        .api(reqwest::Method::GET, "/api/v1/events", key, None)
        .await;
    assert_eq!(status, 200, "{page}");
    page["data"].as_array().map_or(0, Vec::len)
}

async fn bad_events_are_refused_and_store_nothing(store: Store) {
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Strict").await;
    let merchant = merchant.to_string();
    let cases = [
        (
            json!({"merchant_id": "mer_00000000000000000000000000", "type": "payin.succeeded", "data": {}}),
            404,
            "not_found",
        ),
        (
            json!({"merchant_id": "nonsense", "type": "payin.succeeded", "data": {}}),
            404,
            "not_found",
        ),
        (
            json!({"merchant_id": merchant, "type": "payin.teleported", "data": {}}),
            422,
            "validation_failed",
        ),
        (
            json!({"merchant_id": merchant, "type": "payin.succeeded", "data": [1, 2]}),
            422,
            "validation_failed",
        ),
        (
            json!({"merchant_id": merchant, "type": "payin.succeeded"}),
            422,
            "validation_failed",
        ),
        (
            json!({"merchant_id": merchant, "type": 7, "data": {}}),
            422,
            "validation_failed",
        ),
        (
            json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {}, "callback_url": "ftp://x.example"}),
            422,
            "validation_failed",
        ),
        (
            json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {}, "callback_url": "http://169.254.169.254/latest"}),
            422,
            "validation_failed",
        ),
        (
            json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {"blob": "x".repeat(300 * 1024)}}),
            413,
            "payload_too_large",
        ),
    ];
    for (body, status, code) in cases {
        let (got, error) = app.ingest(body.clone()).await;
        assert_eq!(got, status, "{body:.200}: {error}");
        assert_eq!(error["error"]["code"], code, "{error}");
        assert!(error["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    // Malformed JSON and a body over the request limit.
    let response = client()
        .post(app.url("/api/v1/events"))
        .bearer_auth(PLATFORM_TOKEN)
        .header("content-type", "application/json")
        .body("{\"merchant_id\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "bad_request");
    let (status, error) = app
        .post_raw(
            "/api/v1/events",
            PLATFORM_TOKEN,
            vec![b' '; 2 * 1024 * 1024],
        )
        .await;
    assert_eq!(status, 413, "{error}");
    assert_eq!(error["error"]["code"], "payload_too_large", "{error}");
    assert_eq!(event_count(&app, &key).await, 0, "nothing was stored");
    app.stop().await;
}

async fn platform_routes_need_the_platform_token(store: Store) {
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Keys").await;
    let body = json!({"merchant_id": merchant.to_string(), "type": "payin.succeeded", "data": {}});
    let (status, error) = app
        .api(
            reqwest::Method::POST,
            "/api/v1/events",
            &key,
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, 403, "a merchant key may not ingest: {error}");
    let (status, _) = app
        .api(
            reqwest::Method::POST,
            "/api/v1/events",
            "hpt_wrong_0123456789abcdef0123456789",
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, 401);
    let response = client()
        .post(app.url("/api/v1/events"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let (status, _) = app
        .api(
            reqwest::Method::GET,
            "/api/v1/endpoints",
            PLATFORM_TOKEN,
            None,
        )
        .await;
    assert_eq!(status, 403, "the platform token is not a merchant key");
    app.stop().await;
}

async fn an_endpoint_failing_for_too_long_is_disabled_and_can_be_enabled_again(store: Store) {
    let mut config = test_config();
    config.auto_disable_after = Duration::from_millis(500);
    config.retry_schedule = "0s,300ms,300ms,300ms,300ms".parse().unwrap();
    let app = TestApp::spawn_with(store, config).await;
    let (merchant, key) = app.merchant("Flaky").await;
    let receiver = TestReceiver::start().await;
    receiver.always(Reply::status(500));
    let (endpoint, _) = app.endpoint(&key, json!({"url": receiver.url()})).await;
    app.ingest(json!({"merchant_id": merchant.to_string(), "type": "payin.failed", "data": {}}))
        .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let disabled = loop {
        let (_, ep) = app
            .api(
                reqwest::Method::GET,
                &format!("/api/v1/endpoints/{endpoint}"),
                &key,
                None,
            )
            .await;
        if ep["enabled"] == false {
            break ep;
        }
        assert!(std::time::Instant::now() < deadline, "never disabled: {ep}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        disabled["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("failed"),
        "{disabled}"
    );
    let tries = receiver.received().len();
    assert!(tries < 5, "disabling stops the retries ({tries} tries)");

    // Re-enabled and healthy: the pending delivery goes through.
    receiver.always(Reply::status(200));
    let (status, enabled) = app
        .api(
            reqwest::Method::PATCH,
            &format!("/api/v1/endpoints/{endpoint}"),
            &key,
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(status, 200, "{enabled}");
    assert_eq!(enabled["enabled"], true);
    assert!(enabled["disabled_reason"].is_null());
    receiver.wait_for(tries + 1, Duration::from_secs(10)).await;
    app.stop().await;
}

async fn a_rate_limit_spaces_deliveries(store: Store) {
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Paced").await;
    let receiver = TestReceiver::start().await;
    app.endpoint(&key, json!({"url": receiver.url(), "rate_limit_per_s": 5}))
        .await;
    for n in 0..10 {
        app.ingest(json!({"merchant_id": merchant.to_string(), "type": "payin.succeeded", "data": {"n": n}})).await;
    }
    let got = receiver.wait_for(10, Duration::from_secs(10)).await;
    let span = got[9].at - got[0].at;
    // A burst of 5, then one every 200ms: at least ~1s for the other 5.
    assert!(
        span >= Duration::from_millis(900),
        "10 deliveries at 5/s took only {span:?}"
    );
    app.stop().await;
}

/// The writer checks merchants and event types once per batch: a refused
/// event is answered in its place and the rest of the batch is stored.
async fn a_refused_event_in_a_batch_leaves_the_others_stored(store: Store) {
    use herald::store::{IngestRefusal, Ingested, NewEvent};
    use herald_app::model::id::MerchantId;
    let app = TestApp::spawn(store.clone()).await;
    let (merchant, key) = app.merchant("Batch").await;
    let receiver = TestReceiver::start().await;
    app.endpoint(&key, json!({"url": receiver.url()})).await;
    assert!(store
        .set_event_type_archived("payout.failed", true, chrono::Utc::now())
        .await
        .expect("archive"));
    let event = |merchant_id: &MerchantId, event_type: &str| {
        NewEvent::new(merchant_id.clone(), event_type, "{}".into())
    };
    let unknown = MerchantId::generate();
    let batch = [
        event(&merchant, "payin.succeeded"),
        event(&unknown, "payin.succeeded"),
        event(&merchant, "payin.teleported"),
        event(&merchant, "payout.failed"),
        event(&merchant, "refund.initiated"),
    ];
    let stored = store
        .ingest(
            &batch,
            herald_app::model::event_filter::filter_matches,
            None,
        )
        .await
        .expect("the batch is written");
    assert_eq!(
        stored.answers,
        vec![
            Ok(Ingested::Created {
                id: batch[0].id.clone(),
                deliveries: 1
            }),
            Err(IngestRefusal::UnknownMerchant),
            Err(IngestRefusal::UnknownType),
            Err(IngestRefusal::ArchivedType),
            Ok(Ingested::Created {
                id: batch[4].id.clone(),
                deliveries: 1
            }),
        ]
    );
    assert_eq!(event_count(&app, &key).await, 2, "only the two good events");
    app.stop().await;
}

/// The hand-off to the engine: with a lease offer, the deliveries its
/// caller takes are written leased to it (claims leave them alone) and come
/// back ready to send; those it declines, and those with an ordering key
/// (which wait their turn), are left for claims and delivered as before. An
/// event with a callback URL goes there only, whatever its batch holds.
async fn ingest_leases_what_its_caller_has_room_for_and_leaves_the_rest_to_claims(store: Store) {
    use herald::store::{Destination, LeaseOffer, NewEvent};
    use herald_app::model::id::EndpointId;
    let app = TestApp::spawn(store.clone()).await;
    let (merchant, key) = app.merchant("Handoff").await;
    let (taken, declined) = (TestReceiver::start().await, TestReceiver::start().await);
    let (taken_id, _) = app.endpoint(&key, json!({"url": taken.url()})).await;
    let (declined_id, _) = app.endpoint(&key, json!({"url": declined.url()})).await;
    let taken_id = EndpointId::parse(&taken_id).expect("endpoint id");
    let callback = TestReceiver::start().await;
    let event = |ordering_key: Option<&str>, callback_url: Option<String>| NewEvent {
        callback_url,
        ordering_key: ordering_key.map(str::to_owned),
        ..NewEvent::new(
            merchant.clone(),
            "payin.succeeded",
            r#"{"utr":"U1"}"#.into(),
        )
    };
    let batch = [
        event(None, None),
        event(Some("txn_1"), None),
        event(None, Some(callback.url())),
    ];
    let mut asked = Vec::new();
    let mut take = |_merchant: &herald_app::model::id::MerchantId, endpoint: &EndpointId| {
        asked.push(endpoint.to_string());
        *endpoint == taken_id
    };
    let stored = store
        .ingest(
            &batch,
            herald_app::model::event_filter::filter_matches,
            Some(LeaseOffer {
                owner: "node_someone_else",
                lease_until: chrono::Utc::now() + chrono::Duration::hours(1),
                take: &mut take,
            }),
        )
        .await
        .expect("the batch is written");
    let mut both = vec![taken_id.to_string(), declined_id.clone()];
    both.sort();
    assert_eq!(
        asked, both,
        "asked once per endpoint of the event without a key"
    );
    let counts: Vec<u64> = stored
        .answers
        .iter()
        .map(|answer| match answer {
            Ok(herald::store::Ingested::Created { deliveries, .. }) => *deliveries,
            other => panic!("stored, not {other:?}"),
        })
        .collect();
    assert_eq!(counts, [2, 2, 1], "both endpoints, or the callback alone");
    assert_eq!(
        stored.unleased, 4,
        "declined, both of the keyed event, and the callback"
    );
    let [leased] = stored.leased.as_slice() else {
        panic!("one delivery leased: {:?}", stored.leased);
    };
    assert_eq!(leased.event_id, batch[0].id);
    assert_eq!(leased.payload, batch[0].payload);
    assert_eq!(leased.attempts_made, 0);
    match &leased.destination {
        Destination::Endpoint { id, url, .. } => {
            assert_eq!(*id, taken_id);
            assert_eq!(*url, taken.url());
        }
        other => panic!("leased to an endpoint, not {other:?}"),
    }

    // The running engine claims the three left to it (woken as the ingest
    // writer would wake it), and not the leased one.
    app.wakeup.wake();
    let got = declined.wait_for(2, Duration::from_secs(10)).await;
    let mut events: Vec<String> = got
        .iter()
        .map(|r| r.header("webhook-id").to_owned())
        .collect();
    events.sort();
    let mut expected = vec![batch[0].id.to_string(), batch[1].id.to_string()];
    expected.sort();
    assert_eq!(events, expected);
    let got = taken.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(
        got[0].header("webhook-id"),
        batch[1].id.to_string(),
        "the keyed event only"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        taken.received().len(),
        1,
        "the leased delivery is its lease holder's to send"
    );
    assert_eq!(declined.received().len(), 2, "the callback went elsewhere");
    app.stop().await;
}

/// Ingest reads a batch's endpoints before it writes; an endpoint deleted in
/// between fails the deliveries' foreign key, and the batch is read and
/// written again: stored, with no delivery to the deleted endpoint.
async fn an_endpoint_deleted_while_its_batch_is_written_gets_no_delivery(store: Store) {
    use herald::store::NewEvent;
    let app = TestApp::spawn(store.clone()).await;
    let (merchant, key) = app.merchant("Racing").await;
    let receiver = TestReceiver::start().await;
    let (endpoint, _) = app.endpoint(&key, json!({"url": receiver.url()})).await;
    let batch = [NewEvent::new(
        merchant.clone(),
        "payin.succeeded",
        "{}".into(),
    )];
    // The deletion is made and held uncommitted, so the batch reads the
    // endpoint, then waits at its writes until the deletion commits.
    let stored = ingest_while_uncommitted(
        &store,
        "DELETE FROM endpoints WHERE id = $1",
        &[&endpoint],
        &batch,
    )
    .await;
    let stored = stored.expect("the batch is stored despite the deletion");
    assert_eq!(
        stored.answers,
        vec![Ok(herald::store::Ingested::Created {
            id: batch[0].id.clone(),
            deliveries: 0
        })]
    );
    assert_eq!(event_count(&app, &key).await, 1);
    app.stop().await;
}

/// Ingest reads a batch's idempotency keys before it writes; a key that
/// another writer stores in between is skipped by the events' conflict
/// clause, and the batch is read and written again: that event is a
/// duplicate of the other writer's, and the rest is stored as before.
async fn a_key_stored_while_its_batch_is_written_makes_that_event_a_duplicate(store: Store) {
    use herald::store::{Ingested, NewEvent};
    use herald_app::model::id::EventId;
    let app = TestApp::spawn(store.clone()).await;
    let (merchant, key) = app.merchant("Racing keys").await;
    let receiver = TestReceiver::start().await;
    app.endpoint(&key, json!({"url": receiver.url()})).await;
    let event = |idempotency_key: &str| NewEvent {
        idempotency_key: Some(idempotency_key.to_owned()),
        ..NewEvent::new(merchant.clone(), "payin.succeeded", "{}".into())
    };
    let batch = [event("k1"), event("k2")];
    let other = EventId::generate();
    // Made now: an event dated 1970 is one the retention sweep (which the
    // running app starts with) may delete before the batch reads it again.
    let insert = format!(
        "INSERT INTO events (id, merchant_id, event_type, payload, idempotency_key, live_mode, \
                             created_at) \
         VALUES ($1, $2, 'payin.succeeded', '{{}}', 'k1', TRUE, {})",
        chrono::Utc::now().timestamp_millis()
    );
    let stored = ingest_while_uncommitted(
        &store,
        &insert,
        &[other.as_str(), merchant.as_str()],
        &batch,
    )
    .await
    .expect("the batch is stored despite the other writer");
    assert_eq!(
        stored.answers,
        vec![
            Ok(Ingested::Duplicate {
                id: other,
                deliveries: 0
            }),
            Ok(Ingested::Created {
                id: batch[1].id.clone(),
                deliveries: 1
            }),
        ]
    );
    assert_eq!(event_count(&app, &key).await, 2);
    app.stop().await;
}

/// Ingests `batch` while `sql` (text parameters `binds`) is written and
/// held uncommitted for half a second (SQLite: its write lock; PostgreSQL:
/// its rows' locks): the batch reads before it commits, and writes after.
async fn ingest_while_uncommitted(
    store: &Store,
    sql: &str,
    binds: &[&str],
    batch: &[herald::store::NewEvent],
) -> herald::store::StoreResult<herald::store::IngestedBatch> {
    let ingest = store.ingest(batch, herald_app::model::event_filter::filter_matches, None);
    // One body for both backends' pool types.
    macro_rules! while_uncommitted {
        ($pool:expr) => {{
            let mut tx = $pool.begin().await.expect("begin");
            let mut query = sqlx::query(sql);
            for bind in binds {
                query = query.bind(*bind);
            }
            query.execute(&mut *tx).await.expect("the other write");
            let (stored, ()) = tokio::join!(ingest, async {
                tokio::time::sleep(Duration::from_millis(500)).await;
                tx.commit().await.expect("commit");
            });
            stored
        }};
    }
    match store {
        Store::Sqlite(pools) => while_uncommitted!(pools.main),
        Store::Postgres(pools) => while_uncommitted!(pools.main),
    }
}
