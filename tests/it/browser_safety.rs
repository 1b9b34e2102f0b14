//! What keeps a logged-in browser safe: cross-origin writes refused, the
//! security headers and script policy on every page, and log-in throttling.

use crate::both_backends;
use crate::helpers::{client, Browser, TestApp};
use herald::store::Store;
use serde_json::json;

both_backends!(
    cross_origin_writes_are_refused_and_change_nothing,
    pages_and_json_carry_the_security_headers,
    log_in_is_refused_after_ten_failures_even_with_the_right_password,
);

const PASSWORD: &str = "correct horse battery";

async fn signed_up(app: &TestApp, email: &str) -> Browser {
    let mut browser = app.browser();
    let (status, body) = browser
        .call(
            "sign_up",
            &[("name", "Acme"), ("email", email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    browser
}

async fn cross_origin_writes_are_refused_and_change_nothing(store: Store) {
    let app = TestApp::spawn(store).await;
    let browser = signed_up(&app, "dev@acme.test").await;
    let cookie = browser.cookie.clone().expect("session cookie");
    let endpoint = json!({"url": "http://127.0.0.1:9/hooks"});

    // A page on another site posting with the victim's cookie, as the
    // browser would label it: refused, nothing created.
    for (name, value) in [
        ("origin", "http://evil.example"),
        ("sec-fetch-site", "cross-site"),
        ("referer", "http://evil.example/attack.html"),
    ] {
        let response = client()
            .post(app.url("/api/v1/endpoints"))
            .header("cookie", &cookie)
            .header(name, value)
            .json(&endpoint)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 403, "{name}: {value}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "forbidden");
    }
    let listed: serde_json::Value = client()
        .get(app.url("/api/v1/endpoints"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["data"], json!([]), "no endpoint was created");

    // The same request from the dashboard's own origin works.
    let response = client()
        .post(app.url("/api/v1/endpoints"))
        .header("cookie", &cookie)
        .header("origin", app.url(""))
        .header("sec-fetch-site", "same-origin")
        .json(&endpoint)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);

    // Server functions too: a forged log-out leaves the session alive, a
    // forged sign-up creates nobody.
    let forged = client()
        .post(app.url("/_fn/log_out"))
        .header("cookie", &cookie)
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    let page = client()
        .get(app.url("/endpoints"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200, "still logged in");

    let forged = client()
        .post(app.url("/_fn/sign_up"))
        .header("origin", "http://evil.example")
        .form(&[
            ("name", "Mallory"),
            ("email", "mallory@evil.example"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    let (status, _) = app
        .browser()
        .call(
            "log_in",
            &[("email", "mallory@evil.example"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, 401, "the forged sign-up created no account");
    app.stop().await;
}

async fn pages_and_json_carry_the_security_headers(store: Store) {
    let app = TestApp::spawn(store).await;
    for path in ["/login", "/healthz", "/api/v1/nothing-here"] {
        let response = client().get(app.url(path)).send().await.unwrap();
        let headers = response.headers();
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert!(policy.contains("object-src 'none'"), "{path}: {policy}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
    }

    // The page's script policy names this response's nonce, and the
    // hydration script carries the same one: nothing else inline may run.
    let html = client()
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let meta = html
        .split("<meta http-equiv=\"Content-Security-Policy\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSP meta tag");
    assert!(meta.contains("'wasm-unsafe-eval'"), "{meta}");
    let script_src = meta
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .expect("a script-src directive");
    assert!(!script_src.contains("'unsafe-inline'"), "{script_src}");
    let nonce = meta
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in script-src");
    assert!(nonce.len() >= 16, "a nonce of 128 bits: {nonce}");
    assert!(
        html.contains(&format!("<script type=\"module\" nonce=\"{nonce}\">")),
        "the hydration script carries the nonce"
    );
    let again = client()
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!again.contains(nonce), "every response gets a new nonce");
    app.stop().await;
}

async fn log_in_is_refused_after_ten_failures_even_with_the_right_password(store: Store) {
    let app = TestApp::spawn(store).await;
    signed_up(&app, "dev@acme.test").await;
    signed_up(&app, "ops@acme.test").await;

    let mut attacker = app.browser();
    for n in 1..=10 {
        let (status, body) = attacker
            .call(
                "log_in",
                &[("email", "dev@acme.test"), ("password", "guess number x")],
            )
            .await;
        assert_eq!(status, 401, "attempt {n}: {body}");
    }
    let (status, body) = attacker
        .call(
            "log_in",
            &[("email", "DEV@acme.test"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, 429, "the 11th attempt is refused: {body}");
    assert_eq!(body["code"], "rate_limited", "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("Try again in") && message.contains(" s"),
        "the wait is stated: {message}"
    );
    assert!(attacker.cookie.is_none(), "no session was started");

    // Another account is not locked by this one's failures.
    let (status, body) = app
        .browser()
        .call(
            "log_in",
            &[("email", "ops@acme.test"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    app.stop().await;
}
