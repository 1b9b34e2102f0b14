//! The merchant API's contract: tenants never see each other, every refusal
//! has the error body and changes nothing, and lists page stably.

use crate::both_backends;
use crate::helpers::{client, TestApp, PLATFORM_TOKEN};
use crate::receiver::TestReceiver;
use herald::store::Store;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

both_backends!(
    merchant_b_never_reaches_merchant_a,
    refusals_have_the_error_body_and_change_nothing,
    pages_return_each_item_once_while_new_ones_arrive,
);

async fn merchant_b_never_reaches_merchant_a(store: Store) {
    let app = TestApp::spawn(store).await;
    let (merchant_a, key_a) = app.merchant("Alpha").await;
    let (_, key_b) = app.merchant("Bravo").await;
    let receiver = TestReceiver::start().await;
    let (endpoint, secret) = app
        .endpoint(
            &key_a,
            json!({"url": receiver.url(), "description": "alpha's"}),
        )
        .await;
    let (status, accepted) = app
        .ingest(json!({"merchant_id": merchant_a.to_string(), "type": "payin.succeeded", "data": {"n": 1}}))
        .await;
    assert_eq!(status, 202, "{accepted}");
    let event = accepted["id"].as_str().unwrap().to_owned();
    receiver.wait_for(1, Duration::from_secs(10)).await;
    let delivery = app.deliveries_of(&key_a, &event).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, key_listing) = app.api(Method::GET, "/api/v1/api-keys", &key_a, None).await;
    let key_id = key_listing["data"][0]["id"].as_str().unwrap().to_owned();

    // Every merchant route with one of A's ids, called with B's valid key.
    let attempts: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/api/v1/endpoints/{endpoint}"), None),
        (
            Method::PATCH,
            format!("/api/v1/endpoints/{endpoint}"),
            Some(json!({"description": "owned by bravo", "enabled": false})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/endpoints/{endpoint}"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/endpoints/{endpoint}/secret"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/endpoints/{endpoint}/secret/rotate"),
            Some(json!({"grace_period_s": 0})),
        ),
        (
            Method::POST,
            format!("/api/v1/endpoints/{endpoint}/test"),
            Some(json!({"event_type": "payin.succeeded"})),
        ),
        (
            Method::POST,
            format!("/api/v1/endpoints/{endpoint}/replay"),
            Some(json!({"since": "2000-01-01T00:00:00Z", "status": "all"})),
        ),
        (Method::GET, format!("/api/v1/events/{event}"), None),
        (Method::GET, format!("/api/v1/deliveries/{delivery}"), None),
        (
            Method::POST,
            format!("/api/v1/deliveries/{delivery}/retry"),
            None,
        ),
        (Method::DELETE, format!("/api/v1/api-keys/{key_id}"), None),
    ];
    for (method, path, body) in attempts {
        let (status, error) = app.api(method.clone(), &path, &key_b, body).await;
        assert_eq!(status, 404, "{method} {path}: {error}");
        assert_eq!(error["error"]["code"], "not_found", "{method} {path}");
        assert!(
            !error.to_string().contains("alpha"),
            "nothing of A leaks in the error"
        );
    }

    // B's lists hold nothing of A's, filtered by A's ids or not.
    for path in [
        "/api/v1/endpoints".to_owned(),
        "/api/v1/events".to_owned(),
        "/api/v1/deliveries".to_owned(),
        format!("/api/v1/deliveries?endpoint_id={endpoint}"),
        format!("/api/v1/deliveries?event_id={event}"),
    ] {
        let (status, list) = app.api(Method::GET, &path, &key_b, None).await;
        assert_eq!(status, 200, "{path}: {list}");
        assert_eq!(list["data"], json!([]), "{path}");
    }
    let (_, keys) = app.api(Method::GET, "/api/v1/api-keys", &key_b, None).await;
    assert!(
        !keys.to_string().contains(&key_id),
        "B sees only its own keys"
    );

    // A's things are exactly as they were: nothing B did reached them.
    let (status, mine) = app
        .api(
            Method::GET,
            &format!("/api/v1/endpoints/{endpoint}"),
            &key_a,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(mine["description"], "alpha's");
    assert_eq!(mine["enabled"], true);
    let (_, current) = app
        .api(
            Method::GET,
            &format!("/api/v1/endpoints/{endpoint}/secret"),
            &key_a,
            None,
        )
        .await;
    assert_eq!(current["secret"], secret.as_str(), "not rotated");
    let (_, attempts) = app
        .api(
            Method::GET,
            &format!("/api/v1/deliveries/{delivery}"),
            &key_a,
            None,
        )
        .await;
    assert_eq!(
        attempts["attempts"].as_array().map(Vec::len),
        Some(1),
        "no retry"
    );
    let (status, _) = app.api(Method::GET, "/api/v1/events", &key_a, None).await;
    assert_eq!(status, 200, "A's key still works");
    assert_eq!(
        receiver.received().len(),
        1,
        "no test event or replay was sent"
    );

    // A merchant key is not an operator's.
    for (method, path) in [
        (Method::GET, "/api/v1/admin/merchants"),
        (Method::GET, "/api/v1/admin/deliveries"),
        (Method::POST, "/api/v1/admin/deliveries/retry"),
        (Method::POST, "/api/v1/events"),
    ] {
        let (status, error) = app.api(method.clone(), path, &key_a, Some(json!({}))).await;
        assert_eq!(status, 403, "{method} {path}: {error}");
        assert_eq!(error["error"]["code"], "forbidden");
    }
    app.stop().await;
}

/// What the merchant has, to check that a refusal changed nothing.
async fn footprint(app: &TestApp, key: &str) -> (usize, usize) {
    let count = |v: Value| v["data"].as_array().map(Vec::len).unwrap_or(usize::MAX);
    let (_, endpoints) = app.api(Method::GET, "/api/v1/endpoints", key, None).await;
    let (_, events) = app.api(Method::GET, "/api/v1/events", key, None).await;
    (count(endpoints), count(events))
}

async fn refusals_have_the_error_body_and_change_nothing(store: Store) {
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Strict").await;
    let merchant = merchant.to_string();
    let before = footprint(&app, &key).await;
    assert_eq!(before, (0, 0));

    let big = "x".repeat(2 * 1024 * 1024);
    // (route, token, raw body, expected status, expected code)
    let cases: Vec<(&str, &str, String, u16, &str)> = vec![
        ("/api/v1/endpoints", &key, "{\"url\": ".into(), 400, "bad_request"),
        ("/api/v1/endpoints", &key, "[1, 2]".into(), 422, "validation_failed"),
        ("/api/v1/endpoints", &key, json!({"url": 42}).to_string(), 422, "validation_failed"),
        ("/api/v1/endpoints", &key, json!({"description": "no url"}).to_string(), 422, "validation_failed"),
        ("/api/v1/endpoints", &key, json!({"url": "http://127.0.0.1:9/", "colour": "red"}).to_string(), 422, "validation_failed"),
        ("/api/v1/endpoints", &key, json!({"url": "ftp://example.test/"}).to_string(), 422, "validation_failed"),
        ("/api/v1/endpoints", &key, json!({"url": "http://127.0.0.1:9/", "event_types": ["payin.teleported"]}).to_string(), 422, "validation_failed"),
        ("/api/v1/endpoints", &key, json!({"url": "http://127.0.0.1:9/", "rate_limit_per_s": -1}).to_string(), 422, "validation_failed"),
        ("/api/v1/endpoints", &key, json!({"url": big}).to_string(), 413, "payload_too_large"),
        ("/api/v1/endpoints", "hk_not_a_real_key", json!({"url": "http://127.0.0.1:9/"}).to_string(), 401, "unauthenticated"),
        ("/api/v1/events", PLATFORM_TOKEN, "{".into(), 400, "bad_request"),
        ("/api/v1/events", PLATFORM_TOKEN, json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {"blob": big}}).to_string(), 413, "payload_too_large"),
        ("/api/v1/events", PLATFORM_TOKEN, json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {}, "live_mode": "yes"}).to_string(), 422, "validation_failed"),
        ("/api/v1/events", PLATFORM_TOKEN, json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {}, "callback_url": "not a url"}).to_string(), 422, "validation_failed"),
    ];
    for (path, token, body, status, code) in cases {
        // Raw, so the 2 MiB bodies' answers are read even when the server
        // stops reading them.
        let (got, error) = app.post_raw(path, token, body.clone().into_bytes()).await;
        let shown: String = body.chars().take(80).collect();
        assert_eq!(got, status, "{path} {shown}: {error}");
        assert_eq!(error["error"]["code"], code, "{path} {shown}: {error}");
        assert!(
            error["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{path} {shown}: a message for people"
        );
    }
    // A body that is not JSON at all.
    let response = client()
        .post(app.url("/api/v1/endpoints"))
        .bearer_auth(&key)
        .header("content-type", "text/plain")
        .body("url=http://127.0.0.1:9/")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 415);
    let error: Value = response.json().await.unwrap();
    assert!(error["error"]["code"].is_string(), "{error}");

    assert_eq!(footprint(&app, &key).await, (0, 0), "nothing was stored");
    app.stop().await;
}

async fn pages_return_each_item_once_while_new_ones_arrive(store: Store) {
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Pager").await;
    let merchant = merchant.to_string();
    let mut originals = Vec::new();
    for n in 0..120 {
        let (status, accepted) = app
            .ingest(json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {"n": n}}))
            .await;
        assert_eq!(status, 202, "{accepted}");
        originals.push(accepted["id"].as_str().unwrap().to_owned());
    }

    let mut seen: Vec<String> = Vec::new();
    let mut times: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        // New events keep arriving between pages; they are newer than the
        // cursor, so they belong to a later walk, never to this one.
        for n in 0..5 {
            let (status, _) = app
                .ingest(json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {"late": n}}))
                .await;
            assert_eq!(status, 202);
        }
        let path = match &cursor {
            None => "/api/v1/events?limit=50".to_owned(),
            Some(c) => format!("/api/v1/events?limit=50&cursor={c}"),
        };
        let (status, page) = app.api(Method::GET, &path, &key, None).await;
        assert_eq!(status, 200, "{page}");
        pages += 1;
        for event in page["data"].as_array().unwrap() {
            seen.push(event["id"].as_str().unwrap().to_owned());
            times.push(event["created_at"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(pages < 10, "the walk ends");
    }
    // The first page was fetched after 5 late events: 125 in the walk.
    let late_first = 5;
    assert_eq!(seen.len(), originals.len() + late_first, "{pages} pages");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no event twice");
    for id in &originals {
        assert!(seen.contains(id), "{id} was returned");
    }
    // Newest first: the originals come in reverse ingest order.
    let walked: Vec<&String> = seen.iter().filter(|id| originals.contains(id)).collect();
    let expected: Vec<&String> = originals.iter().rev().collect();
    assert_eq!(walked, expected);
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = times
        .iter()
        .map(|t| chrono::DateTime::parse_from_rfc3339(t).expect("RFC 3339"))
        .collect();
    assert!(
        times.windows(2).all(|pair| pair[0] >= pair[1]),
        "created_at never increases down the list"
    );
    app.stop().await;
}
