//! Secrets never reach the log: a full run of the real binary at debug
//! level, then every secret it handled is looked for in what it printed.

use crate::helpers::{client, Browser, TestDb, PLATFORM_TOKEN};
use crate::processes::{create_endpoint, create_merchant, HeraldProcess};
use crate::receiver::{Reply, TestReceiver};
use serde_json::{json, Value};
use std::time::Duration;

const PASSWORD: &str = "a password nobody logs 42";
const SECRET_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

async fn api(base: &str, method: reqwest::Method, path: &str, token: &str, body: Value) -> Value {
    let response = client()
        .request(method, format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("API request");
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{path}: {status} {body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_appears_in_the_log_of_a_full_run() {
    let db = TestDb::postgres().await;
    let url = db.url();
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("herald.log");
    let (merchant, key) = create_merchant(&url);
    let herald = HeraldProcess::start_logging(
        &url,
        &[
            ("RUST_LOG", "debug,herald=trace"),
            ("HERALD_SECRET_KEY", SECRET_KEY),
        ],
        &log,
    )
    .await;
    let base = herald.base.clone();
    let mut secrets: Vec<String> = vec![
        PLATFORM_TOKEN.to_owned(),
        key.clone(),
        PASSWORD.to_owned(),
        SECRET_KEY.to_owned(),
    ];

    // The merchant's developer: an endpoint, its secret, a rotation, a new API key.
    let receiver = TestReceiver::start().await;
    receiver.script([Reply::status(500).body("first try fails")]);
    create_endpoint(&base, &key, &receiver.url()).await;
    let endpoints = api(
        &base,
        reqwest::Method::GET,
        "/api/v1/endpoints",
        &key,
        Value::Null,
    )
    .await;
    let endpoint = endpoints["data"][0]["id"].as_str().expect("id").to_owned();
    let shown = api(
        &base,
        reqwest::Method::GET,
        &format!("/api/v1/endpoints/{endpoint}/secret"),
        &key,
        Value::Null,
    )
    .await;
    secrets.push(shown["secret"].as_str().expect("secret").to_owned());
    let rotated = api(
        &base,
        reqwest::Method::POST,
        &format!("/api/v1/endpoints/{endpoint}/secret/rotate"),
        &key,
        json!({"grace_period_s": 3600}),
    )
    .await;
    secrets.push(rotated["secret"].as_str().expect("secret").to_owned());
    let issued = api(
        &base,
        reqwest::Method::POST,
        "/api/v1/api-keys",
        &key,
        json!({"name": "ci"}),
    )
    .await;
    secrets.push(issued["key"].as_str().expect("key").to_owned());

    // The platform: events, one retried, one to a callback URL.
    let callback = TestReceiver::start().await;
    for body in [
        json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {"n": 1}}),
        json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {"n": 2},
               "callback_url": callback.url()}),
    ] {
        api(
            &base,
            reqwest::Method::POST,
            "/api/v1/events",
            PLATFORM_TOKEN,
            body,
        )
        .await;
    }
    receiver.wait_for(2, Duration::from_secs(10)).await;
    callback.wait_for(1, Duration::from_secs(10)).await;

    // The dashboard: a sign-up with a password, a wrong log-in, a right one.
    let mut browser = Browser::new(&base);
    let (status, body) = browser
        .call(
            "sign_up",
            &[
                ("name", "Log Check"),
                ("email", "logs@example.test"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let session = browser.cookie.clone().expect("session cookie");
    secrets.push(session.trim_start_matches("herald_session=").to_owned());
    browser.call("log_out", &[]).await;
    let mut other = Browser::new(&base);
    let wrong = "wrong password typed by mistake";
    secrets.push(wrong.to_owned());
    other
        .call(
            "log_in",
            &[("email", "logs@example.test"), ("password", wrong)],
        )
        .await;
    let (status, _) = other
        .call(
            "log_in",
            &[("email", "logs@example.test"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, 200);
    drop(herald);

    let text = std::fs::read_to_string(&log).expect("log");
    assert!(
        text.lines().count() > 20,
        "the run should have logged at debug level:\n{text}"
    );
    for secret in &secrets {
        // The whole secret, and its distinctive part without a known prefix.
        let core = secret
            .trim_start_matches("whsec_")
            .trim_start_matches("hk_");
        assert!(
            !text.contains(secret.as_str()) && !text.contains(core),
            "a secret ({}…) appears in the log",
            &secret[..secret.len().min(8)]
        );
    }
}
