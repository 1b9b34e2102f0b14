//! Per-endpoint delivery options for receivers written for other providers:
//! the legacy body signature and an endpoint's own retry schedule.

use crate::both_backends;
use crate::helpers::TestApp;
use crate::receiver::{Reply, TestReceiver};
use herald::store::Store;
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::json;
use sha2::Sha256;
use standardwebhooks::Webhook;
use std::time::Duration;

both_backends!(
    the_legacy_signature_verifies_with_a_plain_hmac_of_the_body,
    an_endpoint_schedule_replaces_the_servers,
    every_wrong_field_is_named_at_once,
);

const WAIT: Duration = Duration::from_secs(10);

async fn the_legacy_signature_verifies_with_a_plain_hmac_of_the_body(store: Store) {
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Legacy").await;
    let receiver = TestReceiver::start().await;
    let (endpoint, secret) = app
        .endpoint(
            &key,
            json!({"url": receiver.url(), "legacy_signature": true}),
        )
        .await;
    app.ingest(json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {"utr": "U1"}}))
        .await;
    let got = receiver.wait_for(1, WAIT).await;

    // What a receiver written for "sha256=<hex hmac of the raw body>" computes.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(&got[0].body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(got[0].header("x-herald-signature"), format!("sha256={hex}"));
    assert_eq!(
        got[0].header("x-herald-timestamp"),
        got[0].header("webhook-timestamp")
    );
    Webhook::new(&secret)
        .expect("secret")
        .verify(&got[0].body, &got[0].headers)
        .expect("the Standard Webhooks signature is still there");

    // Off again: the header is gone; and a merchant cannot set it themselves.
    let (status, updated) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/endpoints/{endpoint}"),
            &key,
            Some(json!({"legacy_signature": false})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["legacy_signature"], false);
    app.ingest(json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {}}))
        .await;
    let got = receiver.wait_for(2, WAIT).await;
    assert!(got[1].headers.get("x-herald-signature").is_none());
    let (status, refused) = app
        .api(
            Method::POST,
            "/api/v1/endpoints",
            &key,
            Some(json!({"url": receiver.url(), "headers": {"X-Herald-Signature": "forged"}})),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    app.stop().await;
}

async fn an_endpoint_schedule_replaces_the_servers(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let (merchant, key) = app.merchant("Schedule").await;
    let receiver = TestReceiver::start().await;
    receiver.always(Reply::status(500));

    // Bad schedules are refused with the field named, and create nothing.
    for bad in [
        json!(["soon"]),
        json!(["0s", "2d"]),
        json!(["5s", "1m"]),
        json!([]),
        json!(vec!["1s"; 21]),
    ] {
        let (status, error) = app
            .api(
                Method::POST,
                "/api/v1/endpoints",
                &key,
                Some(json!({"url": receiver.url(), "retry_schedule": bad})),
            )
            .await;
        assert_eq!(status, 422, "{bad}: {error}");
        assert!(error["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("retry_schedule"));
    }
    let (_, list) = app.api(Method::GET, "/api/v1/endpoints", &key, None).await;
    assert_eq!(list["data"].as_array().map(Vec::len), Some(0));

    // Two attempts instead of the server's four; written back canonical.
    let (status, created) = app
        .api(
            Method::POST,
            "/api/v1/endpoints",
            &key,
            Some(json!({"url": receiver.url(), "retry_schedule": ["0s", "300ms"]})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["retry_schedule"], json!(["0s", "300ms"]));
    let endpoint = created["id"].as_str().expect("id").to_owned();
    let (_, accepted) = app
        .ingest(json!({"merchant_id": merchant, "type": "payin.succeeded", "data": {}}))
        .await;
    let event = accepted["id"].as_str().expect("id");
    let delivery = app.deliveries_of(&key, event).await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.drain().await;
    let detail = app.delivery(&key, &delivery).await;
    assert_eq!(detail["status"], "failed");
    assert_eq!(detail["attempts"].as_array().map(Vec::len), Some(2));

    // null goes back to the server's schedule.
    let (status, updated) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/endpoints/{endpoint}"),
            &key,
            Some(json!({"retry_schedule": null})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert!(updated["retry_schedule"].is_null());
    app.stop().await;
}

/// Four mistakes are four messages, each next to its field, in one answer;
/// nothing is created or changed.
async fn every_wrong_field_is_named_at_once(store: Store) {
    let app = TestApp::spawn(store).await;
    let (_, key) = app.merchant("Many mistakes").await;
    let fields_of = |error: &serde_json::Value| -> Vec<String> {
        error["error"]["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|f| f["field"].as_str().expect("field").to_owned())
            .collect()
    };

    // REST: every problem in `fields`, and all named in the message.
    let (status, error) = app
        .api(
            Method::POST,
            "/api/v1/endpoints",
            &key,
            Some(
                json!({"url": "ftp://example.com/hook", "rate_limit_per_s": 0,
                        "headers": {"Bad Name": "x"}, "retry_schedule": ["soon"],
                        "event_types": ["payin.nothing"]}),
            ),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(
        fields_of(&error),
        [
            "url",
            "event_types",
            "rate_limit_per_s",
            "headers",
            "retry_schedule"
        ]
    );
    let message = error["error"]["message"].as_str().expect("message");
    for field in fields_of(&error) {
        assert!(message.contains(&format!("{field}: ")), "{message}");
    }
    // One mistake: the same shape, one field.
    let (status, error) = app
        .api(
            Method::POST,
            "/api/v1/endpoints",
            &key,
            Some(json!({"url": "ftp://example.com/hook"})),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(fields_of(&error), ["url"]);
    assert!(error["error"]["message"]
        .as_str()
        .expect("message")
        .starts_with("url: "));

    // The dashboard's form: the boxes it reads itself (rate limit, headers,
    // timeout) and the service's rules, together, in plain words.
    let mut browser = app
        .signed_up("Form mistakes", "form-mistakes@example.com")
        .await;
    let (status, error) = browser
        .call_json(
            "endpoints/create",
            json!({"input": {"url": "not a url", "description": "", "event_types": [],
                             "headers": "no colon here", "rate_limit_per_s": "fast", "enabled": true,
                             "signature_scheme": "hmac", "encrypted": false,
                             "legacy_signature": false, "retry_schedule": "1y", "timeout": "90s"}}),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    let fields: Vec<&str> = error["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["field"].as_str().expect("field"))
        .collect();
    for field in [
        "url",
        "headers",
        "rate_limit_per_s",
        "timeout",
        "retry_schedule",
    ] {
        assert!(fields.contains(&field), "{field} missing from {error}");
    }
    assert_eq!(fields.len(), 5, "{error}");
    let text = error.to_string();
    assert!(!text.contains('`'), "code quotes reach the page: {text}");
    assert!(error["message"]
        .as_str()
        .expect("message")
        .starts_with("5 fields need changing"));

    // Nothing was created by either.
    assert_eq!(
        app.get_ok(&key, "/api/v1/endpoints").await["data"],
        json!([])
    );
    let (_, listed) = browser.call("endpoints/list", &[]).await;
    assert_eq!(listed, json!([]), "{listed}");
    app.stop().await;
}
