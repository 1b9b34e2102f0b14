//! Fuzz targets (bolero). Under `cargo test` each runs a bounded number of
//! random inputs; with `cargo bolero test --test fuzz <target>` the same
//! target runs under a coverage-guided fuzzer for as long as you let it.
//!
//! - `ingest_answers_every_body_with_a_clear_status`: any body posted to
//!   `POST /api/v1/events` gets 202/200 or a 4xx with the error body, never
//!   a 5xx or a panic; what is accepted gets an event id.
//! - `list_routes_answer_every_query_string_with_a_clear_status`: any query
//!   string on the list and stats routes gets 200 with JSON, or a 4xx with
//!   the error body; never a 5xx, a plain-text rejection or a panic.
//! - `url_rules_accept_only_safe_urls`: whatever string is offered as an
//!   endpoint URL, what passes is https, has no credentials, is not too long
//!   and does not name a refused address.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use bolero::check;
use herald::config::{SecretString, ServeConfig};
use herald::engine::ssrf::{literal_host_ip, AddressPolicy};
use herald::service::destination::UrlRules;
use herald::service::Accounts;
use herald::store::Store;
use herald::Herald;
use herald_app::model::merchant::Role;
use serde_json::{json, Value};
use std::time::Duration;
use tower::ServiceExt;

const PLATFORM_TOKEN: &str = "hpt_fuzz_0123456789abcdef0123456789abcdef";
const ITERATIONS: usize = 3000;
const TIME_LIMIT: Duration = Duration::from_secs(20);

/// Herald on a fresh SQLite file, in process: its router, and a merchant's
/// id and API key.
async fn herald(dir: &std::path::Path) -> (Router, String, String) {
    let store = Store::connect(&format!("sqlite:{}", dir.join("fuzz.db").display()))
        .await
        .expect("open SQLite");
    let mut config = ServeConfig {
        platform_token: Some(SecretString::new(PLATFORM_TOKEN.into())),
        ..ServeConfig::default()
    };
    // The fuzzer calls far faster than any merchant: no rate limit here.
    config.limits.api_key_rate = 0;
    let leptos = leptos::config::get_configuration(Some("Leptos.toml"))
        .expect("Leptos.toml")
        .leptos_options;
    let herald = Herald::build_with_store(store.clone(), config, leptos)
        .await
        .expect("build Herald");
    let (merchant, key) = Accounts::new(store)
        .create_merchant("Fuzz", "fuzz@example.test", None, Role::Merchant)
        .await
        .expect("merchant");
    (herald.router(), merchant.id.to_string(), key.key)
}

async fn call(
    app: &Router,
    method: &str,
    path: &str,
    token: &str,
    body: Vec<u8>,
) -> (StatusCode, Vec<u8>) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 4 << 20)
        .await
        .expect("body");
    (status, bytes.to_vec())
}

/// Builds a body from the fuzzer's input: raw bytes, or an event whose
/// fields the fuzzer fills (so inputs reach validation, not only the parser).
fn body(merchant: &str, input: &(u8, String, String, String, Vec<u8>)) -> Vec<u8> {
    let (mode, text_a, text_b, text_c, raw) = input;
    const TYPES: [&str; 4] = ["payin.succeeded", "payout.failed", "nope.unknown", "PAYIN"];
    let event_type = if mode & 0x10 == 0 {
        TYPES[usize::from(mode >> 6)].to_owned()
    } else {
        text_b.clone()
    };
    let merchant_id = if mode & 0x20 == 0 {
        merchant.to_owned()
    } else {
        text_a.clone()
    };
    let data: Value = serde_json::from_str(text_c).unwrap_or_else(|_| json!({"note": text_c}));
    match mode % 4 {
        0 => raw.clone(),
        1 => json!({"merchant_id": merchant_id, "type": event_type, "data": data})
            .to_string()
            .into_bytes(),
        2 => json!({"merchant_id": merchant_id, "type": event_type, "data": {"v": text_a},
                    "idempotency_key": text_b, "ordering_key": text_c,
                    "callback_url": text_a, "live_mode": mode & 1 == 0})
        .to_string()
        .into_bytes(),
        _ => {
            // A valid event with one field replaced by fuzzed JSON text.
            let mut event = json!({"merchant_id": merchant_id, "type": event_type, "data": {}});
            let field =
                ["merchant_id", "type", "data", "live_mode", "extra"][usize::from(mode >> 5) % 5];
            event[field] = serde_json::from_slice(raw).unwrap_or(Value::String(text_c.clone()));
            event.to_string().into_bytes()
        }
    }
}

#[test]
fn ingest_answers_every_body_with_a_clear_status() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let (app, merchant, _) = runtime.block_on(herald(dir.path()));
    // A failing input panics inside the closure, which bolero catches to
    // report it; nothing here is left half-updated by such a panic.
    let shared = std::panic::AssertUnwindSafe((runtime, app, merchant));
    let answers = std::sync::Mutex::new(std::collections::BTreeMap::<u16, usize>::new());
    check!()
        .with_type::<(u8, String, String, String, Vec<u8>)>()
        .with_iterations(ITERATIONS)
        .with_test_time(TIME_LIMIT)
        .for_each(|input| {
            let (runtime, app, merchant) = &*shared;
            runtime.block_on(async {
                let (status, answer) = call(
                    &app,
                    "POST",
                    "/api/v1/events",
                    PLATFORM_TOKEN,
                    body(&merchant, input),
                )
                .await;
                let answer: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
                if let Ok(mut answers) = answers.lock() {
                    *answers.entry(status.as_u16()).or_insert(0) += 1;
                }
                match status.as_u16() {
                    200 | 202 => {
                        let id = answer["id"].as_str().unwrap_or_default();
                        assert!(
                            id.starts_with("evt_"),
                            "accepted without an event id: {answer}"
                        );
                    }
                    400 | 404 | 413 | 415 | 422 => {
                        let error = &answer["error"];
                        assert!(
                            error["code"].as_str().is_some_and(|c| !c.is_empty())
                                && error["message"].as_str().is_some_and(|m| !m.is_empty()),
                            "a {status} without the error body: {answer}"
                        );
                    }
                    other => panic!("ingest answered {other} to {input:?}: {answer}"),
                }
            })
        });
    // The inputs must reach past the parser: some accepted, some refused by
    // validation, some not even JSON.
    let answers = answers.into_inner().unwrap_or_default();
    println!("ingest fuzz: answers by status {answers:?}");
    for status in [202, 400, 422] {
        assert!(answers.contains_key(&status), "no {status} in {answers:?}");
    }
}

/// A query string from the fuzzer's input: parameters the routes know (or
/// not) with fuzzed or tricky values, or raw text with only what a URI
/// cannot hold escaped (so malformed `%` sequences get through).
fn query(input: &(u8, Vec<(u8, String)>, String)) -> String {
    const NAMES: [&str; 12] = [
        "limit",
        "cursor",
        "since",
        "live_mode",
        "status",
        "event_type",
        "endpoint_id",
        "merchant_id",
        "window",
        "type",
        "event_id",
        "colour",
    ];
    const VALUES: [&str; 10] = [
        "abc",
        "-1",
        "0",
        "250",
        "99999999999999999999",
        "300000000d",
        "2026-01-01T00:00:00Z",
        "yesterday",
        "true",
        "maybe",
    ];
    let (mode, pairs, raw) = input;
    if mode % 3 == 0 {
        return raw
            .bytes()
            .map(|b| match b {
                b'a'..=b'z'
                | b'A'..=b'Z'
                | b'0'..=b'9'
                | b'&'
                | b'='
                | b'%'
                | b'-'
                | b'_'
                | b'.' => char::from(b).to_string(),
                other => format!("%{other:02X}"),
            })
            .collect();
    }
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (choice, text) in pairs.iter().take(6) {
        let name = NAMES[usize::from(*choice) % NAMES.len()];
        let value = if choice & 0x80 == 0 {
            VALUES[usize::from(*choice >> 4) % VALUES.len()]
        } else {
            text.as_str()
        };
        query.append_pair(name, value);
    }
    query.finish()
}

#[test]
fn list_routes_answer_every_query_string_with_a_clear_status() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let (app, _, key) = runtime.block_on(herald(dir.path()));
    let shared = std::panic::AssertUnwindSafe((runtime, app, key));
    let answers = std::sync::Mutex::new(std::collections::BTreeMap::<u16, usize>::new());
    check!()
        .with_type::<(u8, Vec<(u8, String)>, String)>()
        .with_iterations(ITERATIONS)
        .with_test_time(TIME_LIMIT)
        .for_each(|input| {
            let (runtime, app, key) = &*shared;
            const ROUTES: [&str; 4] = [
                "/api/v1/deliveries",
                "/api/v1/events",
                "/api/v1/stats",
                "/api/v1/admin/deliveries",
            ];
            let route = ROUTES[usize::from(input.0 >> 6)];
            let token = if route.contains("/admin/") {
                PLATFORM_TOKEN
            } else {
                key.as_str()
            };
            let path = format!("{route}?{}", query(input));
            runtime.block_on(async {
                let (status, answer) = call(app, "GET", &path, token, Vec::new()).await;
                let answer: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
                if let Ok(mut answers) = answers.lock() {
                    *answers.entry(status.as_u16()).or_insert(0) += 1;
                }
                match status.as_u16() {
                    200 => assert!(answer.is_object(), "{path}: 200 without JSON"),
                    400 | 404 | 422 => {
                        let error = &answer["error"];
                        assert!(
                            error["code"].as_str().is_some_and(|c| !c.is_empty())
                                && error["message"].as_str().is_some_and(|m| !m.is_empty()),
                            "{path}: a {status} without the error body: {answer}"
                        );
                    }
                    other => panic!("{path} answered {other}: {answer}"),
                }
            })
        });
    let answers = answers.into_inner().unwrap_or_default();
    println!("query fuzz: answers by status {answers:?}");
    for status in [200, 400] {
        assert!(answers.contains_key(&status), "no {status} in {answers:?}");
    }
}

fn candidate_url(input: &(u8, u8, String, u16)) -> String {
    let (scheme, host, text, port) = input;
    const SCHEMES: [&str; 6] = ["https", "http", "ftp", "javascript", "HTTPS", ""];
    const HOSTS: [&str; 12] = [
        "api.example.com",
        "127.0.0.1",
        "0x7f.1",
        "2130706433",
        "0177.0.0.1",
        "[::1]",
        "[::ffff:169.254.169.254]",
        "169.254.169.254",
        "10.0.0.1",
        "localhost",
        "user:pw@example.com",
        "[fd00::1]",
    ];
    let scheme = SCHEMES[usize::from(*scheme) % SCHEMES.len()];
    match usize::from(*host) % (HOSTS.len() + 2) {
        i if i < HOSTS.len() => format!("{scheme}://{}:{port}/{text}", HOSTS[i]),
        i if i == HOSTS.len() => format!("{scheme}://{text}"),
        _ => text.clone(),
    }
}

#[test]
fn url_rules_accept_only_safe_urls() {
    let rules = UrlRules {
        allow_http: false,
        policy: AddressPolicy::new(Vec::new()),
    };
    check!()
        .with_type::<(u8, u8, String, u16)>()
        .with_iterations(ITERATIONS * 10)
        .with_test_time(TIME_LIMIT)
        .for_each(|input| {
            let candidate = candidate_url(input);
            let Ok(accepted) = rules.check("url", &candidate) else {
                return;
            };
            let url = url::Url::parse(&accepted).expect("an accepted URL parses");
            assert_eq!(url.scheme(), "https", "{candidate}");
            assert!(
                url.username().is_empty() && url.password().is_none(),
                "{candidate}"
            );
            assert!(accepted.len() <= 2048);
            // No private range is listed, so only HERALD_ALLOWED_PORTS pass.
            let port = url.port_or_known_default().unwrap_or_default();
            assert!(rules.policy.port_is_open(port), "{candidate}");
            let host = url.host_str().expect("an accepted URL has a host");
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            if let Some(ip) = literal_host_ip(bare) {
                assert!(
                    rules.policy.check(ip).is_ok(),
                    "{candidate} names the refused address {ip}"
                );
            }
            assert!(
                !host.eq_ignore_ascii_case("localhost") && !host.ends_with(".localhost"),
                "{candidate}"
            );
        });
}
