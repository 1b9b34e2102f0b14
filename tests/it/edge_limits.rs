//! Abuse at the edge: the log-in burst, rate limits and quotas with their
//! 429/422 and the setting named, bad query strings answered with the JSON
//! error body, `no-store` and HSTS, and the accept loop's connection cap and
//! read timeouts.

use crate::both_backends;
use crate::helpers::{client, test_config, TestApp, PLATFORM_TOKEN};
use herald::config::ServeConfig;
use herald::http::connections::{self, ConnectionLimits};
use herald::store::Store;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

both_backends!(
    a_burst_of_wrong_log_ins_reaches_argon2_only_up_to_the_limit,
    sign_ups_from_one_address_are_limited,
    a_merchants_api_keys_are_rate_limited_and_others_are_not,
    the_platform_token_is_unlimited_unless_configured,
    test_events_and_replays_have_caps_per_merchant,
    a_merchant_has_at_most_the_configured_endpoints,
    bad_query_strings_answer_the_json_error_body,
    answers_carrying_secrets_are_never_cached,
);

const PASSWORD: &str = "correct horse battery";

fn config(change: impl FnOnce(&mut ServeConfig)) -> ServeConfig {
    let mut config = test_config();
    change(&mut config);
    config
}

/// A 4xx with the API's error body; returns (code, message).
fn error_of(status: u16, body: &Value) -> (String, String) {
    assert!((400..500).contains(&status), "{status}: {body}");
    let code = body["error"]["code"].as_str();
    let message = body["error"]["message"].as_str();
    assert!(
        code.is_some() && message.is_some(),
        "the JSON error body: {body}"
    );
    (
        code.unwrap_or_default().into(),
        message.unwrap_or_default().into(),
    )
}

async fn a_burst_of_wrong_log_ins_reaches_argon2_only_up_to_the_limit(store: Store) {
    let app = TestApp::spawn(store).await;
    let (status, body) = app
        .browser()
        .call(
            "sign_up",
            &[
                ("name", "Acme"),
                ("email", "dev@acme.test"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // 100 wrong passwords at once: each is counted before it is checked,
    // so only the account's limit (10) is checked and the rest are refused
    // without running argon2.
    let attempts: Vec<_> = (0..100)
        .map(|_| {
            let url = app.url("/_fn/log_in");
            let origin = app.url("");
            tokio::spawn(async move {
                let response = client()
                    .post(url)
                    .header("origin", origin)
                    .form(&[("email", "dev@acme.test"), ("password", "a wrong guess")])
                    .send()
                    .await
                    .expect("log-in request");
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                (response.status().as_u16(), retry_after)
            })
        })
        .collect();
    let mut checked = 0;
    let mut refused = 0;
    for attempt in attempts {
        match attempt.await.expect("task") {
            (401, _) => checked += 1,
            (429, Some(wait)) => {
                assert!((1..=60).contains(&wait), "Retry-After {wait}");
                refused += 1;
            }
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!(checked, 10, "only the limit reached the password check");
    assert_eq!(refused, 90);
    app.stop().await;
}

async fn sign_ups_from_one_address_are_limited(store: Store) {
    let app = TestApp::spawn_with(store, config(|c| c.limits.sign_ups_per_hour = 2)).await;
    for n in 0..2 {
        let (status, body) = app
            .browser()
            .call(
                "sign_up",
                &[
                    ("name", "Acme"),
                    ("email", &format!("dev{n}@acme.test")),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(status, 200, "sign-up {n}: {body}");
    }
    let mut third = app.browser();
    let (status, body) = third
        .call(
            "sign_up",
            &[
                ("name", "Acme"),
                ("email", "dev3@acme.test"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["code"], "rate_limited");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("HERALD_SIGNUPS_PER_HOUR"), "{message}");
    assert!(third.cookie.is_none(), "no account, no session");
    let (status, _) = app
        .browser()
        .call(
            "log_in",
            &[("email", "dev3@acme.test"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, 401, "the refused sign-up created nothing");
    app.stop().await;
}

async fn a_merchants_api_keys_are_rate_limited_and_others_are_not(store: Store) {
    // Two a second: a burst of two, then one more each 500 ms.
    let app = TestApp::spawn_with(store, config(|c| c.limits.api_key_rate = 2)).await;
    let (_, noisy) = app.merchant("Noisy").await;
    let (_, quiet) = app.merchant("Quiet").await;
    let get = || {
        client()
            .get(app.url("/api/v1/endpoints"))
            .bearer_auth(&noisy)
            .send()
    };
    for n in 0..2 {
        let response = get().await.expect("request");
        assert_eq!(response.status(), 200, "request {n} of the burst");
    }
    let refused = get().await.expect("request");
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert_eq!(retry_after, 1, "under a second, rounded up");
    let body: Value = refused.json().await.expect("JSON");
    let (code, message) = error_of(429, &body);
    assert_eq!(code, "rate_limited");
    assert!(message.contains("2 a second per merchant"), "{message}");
    assert!(message.contains("HERALD_API_KEY_RATE"), "{message}");

    let (status, body) = app
        .api(Method::GET, "/api/v1/endpoints", &quiet, None)
        .await;
    assert_eq!(status, 200, "another merchant is not slowed: {body}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _) = app
        .api(Method::GET, "/api/v1/endpoints", &noisy, None)
        .await;
    assert_eq!(status, 200, "allowed again after the wait");
    app.stop().await;
}

async fn the_platform_token_is_unlimited_unless_configured(store: Store) {
    // Two processes on one database (stopping one closes the store).
    let app = TestApp::spawn(store.clone()).await;
    let limited = TestApp::spawn_with(store, config(|c| c.limits.platform_rate = 1)).await;
    for n in 0..30 {
        let (status, body) = app
            .api(Method::GET, "/api/v1/admin/merchants", PLATFORM_TOKEN, None)
            .await;
        assert_eq!(status, 200, "request {n}: {body}");
    }

    // One a second: the second request within the second is refused.
    let (status, body) = limited
        .api(Method::GET, "/api/v1/admin/merchants", PLATFORM_TOKEN, None)
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = limited
        .ingest(json!({"merchant_id": "mer_x", "type": "payin.succeeded", "data": {}}))
        .await;
    let (code, message) = error_of(status, &body);
    assert_eq!(
        (status, code.as_str()),
        (429, "rate_limited"),
        "ingest counts too"
    );
    assert!(message.contains("HERALD_PLATFORM_RATE"), "{message}");
    limited.stop().await;
    app.stop().await;
}

async fn test_events_and_replays_have_caps_per_merchant(store: Store) {
    let app = TestApp::spawn_with(
        store,
        config(|c| {
            c.limits.test_events_per_minute = 2;
            c.limits.replays_per_hour = 1;
        }),
    )
    .await;
    let (_, key) = app.merchant("Acme").await;
    let (endpoint, _) = app
        .endpoint(&key, json!({"url": "http://127.0.0.1:9/hook"}))
        .await;
    let test = format!("/api/v1/endpoints/{endpoint}/test");
    let event = json!({"event_type": "payin.succeeded"});
    for n in 0..2 {
        let (status, body) = app
            .api(Method::POST, &test, &key, Some(event.clone()))
            .await;
        assert_eq!(status, 202, "test event {n}: {body}");
    }
    let (status, body) = app.api(Method::POST, &test, &key, Some(event)).await;
    let (code, message) = error_of(status, &body);
    assert_eq!((status, code.as_str()), (429, "rate_limited"));
    assert!(
        message.contains("HERALD_TEST_EVENTS_PER_MINUTE"),
        "{message}"
    );

    let replay = format!("/api/v1/endpoints/{endpoint}/replay");
    let since = json!({"since": "2020-01-01T00:00:00Z", "status": "all"});
    let (status, body) = app
        .api(Method::POST, &replay, &key, Some(since.clone()))
        .await;
    assert_eq!(status, 202, "{body}");
    let (status, body) = app.api(Method::POST, &replay, &key, Some(since)).await;
    let (code, message) = error_of(status, &body);
    assert_eq!((status, code.as_str()), (429, "rate_limited"));
    assert!(message.contains("HERALD_REPLAYS_PER_HOUR"), "{message}");

    // Another merchant has its own allowance.
    let (_, other) = app.merchant("Other").await;
    let (other_endpoint, _) = app
        .endpoint(&other, json!({"url": "http://127.0.0.1:9/hook"}))
        .await;
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/endpoints/{other_endpoint}/test"),
            &other,
            Some(json!({"event_type": "payin.succeeded"})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    app.stop().await;
}

async fn a_merchant_has_at_most_the_configured_endpoints(store: Store) {
    let app = TestApp::spawn_with(store, config(|c| c.limits.max_endpoints = 2)).await;
    let (_, key) = app.merchant("Acme").await;
    for n in 0..2 {
        app.endpoint(&key, json!({"url": format!("http://127.0.0.1:9/hook{n}")}))
            .await;
    }
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/endpoints",
            &key,
            Some(json!({"url": "http://127.0.0.1:9/hook3"})),
        )
        .await;
    let (code, message) = error_of(status, &body);
    assert_eq!((status, code.as_str()), (422, "limit_reached"));
    assert!(message.contains("HERALD_MAX_ENDPOINTS"), "{message}");
    let (_, list) = app.api(Method::GET, "/api/v1/endpoints", &key, None).await;
    assert_eq!(
        list["data"].as_array().map(Vec::len),
        Some(2),
        "nothing was added"
    );
    app.stop().await;
}

async fn bad_query_strings_answer_the_json_error_body(store: Store) {
    let app = TestApp::spawn(store).await;
    let (_, key) = app.merchant("Acme").await;
    let merchant_paths = [
        "/api/v1/deliveries?limit=abc",
        "/api/v1/deliveries?since=yesterday",
        "/api/v1/deliveries?live_mode=maybe",
        "/api/v1/deliveries?since=300000000d",
        "/api/v1/deliveries?colour=blue",
        "/api/v1/deliveries?limit=99999999999999999999",
        "/api/v1/events?since=yesterday",
        "/api/v1/events?limit=-1",
        "/api/v1/events?live_mode=2",
        "/api/v1/stats?window=yesterday",
        "/api/v1/stats?window=300000000d",
        "/api/v1/stats?window=99999999999999999999h",
        "/api/v1/stats?live_mode=maybe",
        "/api/v1/deliveries?cursor=%FF%FE",
    ];
    for path in merchant_paths {
        let (status, body) = app.api(Method::GET, path, &key, None).await;
        let (_, message) = error_of(status, &body);
        assert!(!message.is_empty(), "{path}");
    }
    let operator_paths = [
        "/api/v1/admin/deliveries?since=yesterday",
        "/api/v1/admin/deliveries?limit=abc",
        "/api/v1/admin/event-types/%FF",
    ];
    for path in operator_paths {
        let method = if path.contains("event-types") {
            Method::PATCH
        } else {
            Method::GET
        };
        let (status, body) = app.api(method, path, PLATFORM_TOKEN, Some(json!({}))).await;
        error_of(status, &body);
    }
    // A server function whose form does not decode: 400 with the
    // dashboard's error body, not a 500.
    for body in ["email=only", "%FF=%FE", ""] {
        let response = client()
            .post(app.url("/_fn/log_in"))
            .header("origin", app.url(""))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("server fn");
        assert_eq!(response.status(), 400, "{body:?}");
        let answer: Value = response.json().await.expect("JSON");
        assert_eq!(answer["code"], "request", "{answer}");
    }
    // A method a route does not take.
    let (status, body) = app.api(Method::DELETE, "/api/v1/events", &key, None).await;
    let (code, _) = error_of(status, &body);
    assert_eq!((status, code.as_str()), (405, "method_not_allowed"));
    app.stop().await;
}

async fn answers_carrying_secrets_are_never_cached(store: Store) {
    let app = TestApp::spawn(store.clone()).await;
    let behind_tls = TestApp::spawn_with(store, config(|c| c.secure_cookies = true)).await;
    let (_, key) = app.merchant("Acme").await;
    let (endpoint, _) = app
        .endpoint(&key, json!({"url": "http://127.0.0.1:9/hook"}))
        .await;
    for (method, path) in [
        (Method::GET, format!("/api/v1/endpoints/{endpoint}/secret")),
        (
            Method::POST,
            format!("/api/v1/endpoints/{endpoint}/secret/rotate"),
        ),
        (Method::POST, "/api/v1/api-keys".to_owned()),
        (Method::GET, "/login".to_owned()),
    ] {
        let mut request = client().request(method, app.url(&path)).bearer_auth(&key);
        if path.starts_with("/api/v1/api-keys") {
            request = request.json(&json!({"name": "ci"}));
        } else if path.ends_with("rotate") {
            request = request.json(&json!({}));
        }
        let response = request.send().await.expect("request");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
        assert!(
            response
                .headers()
                .get("strict-transport-security")
                .is_none(),
            "no HSTS over plain http"
        );
    }

    let response = client()
        .get(behind_tls.url("/login"))
        .send()
        .await
        .expect("page");
    let hsts = response.headers()["strict-transport-security"]
        .to_str()
        .expect("ascii");
    assert!(hsts.starts_with("max-age=31536000"), "{hsts}");
    behind_tls.stop().await;
    app.stop().await;
}

/// A tiny app behind `connections::serve` with short limits.
async fn limited_server(limits: ConnectionLimits) -> std::net::SocketAddr {
    let app = axum::Router::new().route(
        "/",
        axum::routing::post(|body: String| async move { format!("got {}", body.len()) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(connections::serve(
        listener,
        app,
        limits,
        std::future::pending(),
    ));
    addr
}

/// Writes `bytes`, then reads until the server closes or answers; returns
/// what was read and how long it took.
async fn exchange(addr: std::net::SocketAddr, bytes: &[u8]) -> (String, Duration) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(bytes).await.expect("write");
    let started = Instant::now();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("the server ends a stalled request")
        .ok();
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let addr = limited_server(ConnectionLimits {
        header_read_timeout: Duration::from_millis(500),
        ..ConnectionLimits::default()
    })
    .await;
    let (_, took) = exchange(addr, b"POST / HTTP/1.1\r\nhost: x\r\nx-slow: ").await;
    assert!(took < Duration::from_secs(5), "closed after {took:?}");
}

#[tokio::test]
async fn a_client_that_never_finishes_its_body_is_cut_off() {
    let addr = limited_server(ConnectionLimits {
        body_read_timeout: Duration::from_millis(500),
        ..ConnectionLimits::default()
    })
    .await;
    let (answer, took) = exchange(
        addr,
        b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\nconnection: close\r\n\r\nonly part",
    )
    .await;
    assert!(took < Duration::from_secs(5), "closed after {took:?}");
    assert!(!answer.contains("got 100"), "{answer}");
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_place() {
    let addr = limited_server(ConnectionLimits {
        max_connections: 2,
        ..ConnectionLimits::default()
    })
    .await;
    let request = b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\nhi";
    // Two kept-alive connections hold both places.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream.write_all(request).await.expect("write");
        let mut buf = [0u8; 256];
        let n = stream.read(&mut buf).await.expect("answer");
        assert!(String::from_utf8_lossy(&buf[..n]).contains("got 2"));
        held.push(stream);
    }
    // A third is not served while they stay open...
    let mut third = TcpStream::connect(addr)
        .await
        .expect("the kernel queues it");
    third.write_all(request).await.expect("write");
    let mut buf = [0u8; 256];
    let waited = tokio::time::timeout(Duration::from_millis(500), third.read(&mut buf)).await;
    assert!(waited.is_err(), "served beyond the cap");
    // ...and is as soon as one closes.
    drop(held.pop());
    let n = tokio::time::timeout(Duration::from_secs(5), third.read(&mut buf))
        .await
        .expect("served once a place is free")
        .expect("read");
    assert!(String::from_utf8_lossy(&buf[..n]).contains("got 2"));
}
