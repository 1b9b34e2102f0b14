//! Who gets in: sign-up modes and login links.

use crate::both_backends;
use crate::helpers::{test_config, Browser, TestApp, PLATFORM_TOKEN};
use chrono::{DateTime, SubsecRound, Utc};
use herald::config::SignUpMode;
use herald::service::clock::Clock;
use herald::service::login_links::{LinkRefused, LoginLinks};
use herald::service::Accounts;
use herald::store::Store;
use herald_app::model::merchant::Role;
use reqwest::Method;
use serde_json::json;
use std::sync::{Arc, Mutex};

both_backends!(
    closed_sign_up_shows_no_form_and_refuses,
    open_sign_up_shows_the_form,
    a_login_link_logs_in_once_and_never_twice,
    a_login_link_opens_only_its_own_merchant,
    login_links_are_for_operators_and_known_merchants,
    a_login_link_is_refused_after_ten_minutes,
);

const PASSWORD: &str = "correct horse battery";

async fn closed_sign_up_shows_no_form_and_refuses(store: Store) {
    let config = herald::config::ServeConfig {
        signup: SignUpMode::Closed,
        ..test_config()
    };
    let app = TestApp::spawn_with(store.clone(), config).await;
    let mut browser = app.browser();

    let page = browser.get("/signup").await;
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Sign-up is closed"), "{html}");
    assert!(!html.contains("signup-form"), "no sign-up form");
    assert!(html.contains("href=\"/login\""), "a way to log in");

    let html = browser.get("/login").await.text().await.unwrap();
    assert!(html.contains("login-form"));
    assert!(
        !html.contains("href=\"/signup\""),
        "no link to a closed sign-up"
    );

    let (status, body) = browser
        .call(
            "sign_up",
            &[
                ("name", "Acme"),
                ("email", "dev@acme.test"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "sign_up_closed", "{body}");
    assert!(browser.cookie.is_none(), "no session");
    assert!(
        store.list_merchants().await.unwrap().is_empty(),
        "no account"
    );
    app.stop().await;
}

async fn open_sign_up_shows_the_form(store: Store) {
    let app = TestApp::spawn(store.clone()).await;
    let mut browser = app.browser();
    let html = browser.get("/signup").await.text().await.unwrap();
    assert!(html.contains("signup-form"), "{html}");
    assert!(!html.contains("Sign-up is closed"));
    let html = browser.get("/login").await.text().await.unwrap();
    assert!(html.contains("href=\"/signup\""), "log-in links to sign-up");
    let (status, body) = browser
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
    assert_eq!(store.list_merchants().await.unwrap().len(), 1);
    app.stop().await;
}

/// Asks for a login link as the platform; (url, expires_at).
async fn login_link(
    app: &TestApp,
    merchant: &str,
    body: Option<serde_json::Value>,
) -> (String, DateTime<Utc>) {
    let (status, link) = app
        .api(
            Method::POST,
            &format!("/api/v1/admin/merchants/{merchant}/login-links"),
            PLATFORM_TOKEN,
            body,
        )
        .await;
    assert_eq!(status, 201, "{link}");
    let expires_at: DateTime<Utc> = link["expires_at"]
        .as_str()
        .expect("expires_at")
        .parse()
        .expect("RFC 3339");
    (link["url"].as_str().expect("url").to_owned(), expires_at)
}

/// The link's path on the test app (its host is HERALD_PUBLIC_URL's).
fn path_of(url: &str) -> String {
    let start = url.find("/login-link/").expect("a login-link URL");
    url[start..].to_owned()
}

async fn a_login_link_logs_in_once_and_never_twice(store: Store) {
    let app = TestApp::spawn(store).await;
    // A merchant made by the platform, without a password.
    let (merchant, _) = app.merchant("Acme Payments").await;

    let before = Utc::now();
    let (url, expires_at) = login_link(&app, merchant.as_str(), None).await;
    let after = Utc::now();
    let ten = chrono::Duration::minutes(10);
    // Stored to the millisecond: the end may be up to 1 ms before ten
    // minutes after the request began.
    assert!(
        expires_at > before + ten - chrono::Duration::milliseconds(1) && expires_at <= after + ten,
        "valid 10 minutes: {before} .. {after} -> {expires_at}"
    );
    let path = path_of(&url);

    let mut browser = app.browser();
    // A session that existed before the link (fixed by someone else, say).
    browser.get("/login").await;
    let fixed = browser.cookie.clone();
    let opened = browser.get(&path).await;
    assert_eq!(opened.status().as_u16(), 303);
    assert_eq!(opened.headers()["location"], "/");
    assert!(browser.cookie.is_some(), "a session started");
    assert_ne!(browser.cookie, fixed, "with a new session id");
    let page = browser.get("/endpoints").await;
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("Acme Payments"));

    // Never twice, whoever opens it.
    let mut again = app.browser();
    let refused = again.get(&path).await;
    assert_eq!(refused.status().as_u16(), 303);
    assert_eq!(refused.headers()["location"], "/login?link=used");
    assert!(again.cookie.is_none(), "no one is logged in");
    assert_eq!(again.get("/").await.status().as_u16(), 303);
    let html = again.get("/login?link=used").await.text().await.unwrap();
    assert!(html.contains("used already"), "{html}");

    // A made-up link opens nothing either.
    let mut stranger = app.browser();
    let refused = stranger.get("/login-link/hll_not-a-real-token").await;
    assert_eq!(refused.headers()["location"], "/login?link=invalid");
    assert!(stranger.cookie.is_none());
    app.stop().await;
}

async fn a_login_link_opens_only_its_own_merchant(store: Store) {
    let app = TestApp::spawn(store).await;
    let (_acme, acme_key) = app.merchant("Acme").await;
    let (globex, _) = app.merchant("Globex").await;
    app.endpoint(&acme_key, json!({"url": "http://127.0.0.1:9/acme"}))
        .await;

    let (url, _) = login_link(&app, globex.as_str(), None).await;
    let mut browser = app.browser();
    browser.get(&path_of(&url)).await;
    let me = browser_json(&mut browser, "/api/v1/endpoints").await;
    assert_eq!(
        me["data"],
        json!([]),
        "Globex sees none of Acme's endpoints"
    );
    let html = browser.get("/").await.text().await.unwrap();
    assert!(html.contains("Globex") && !html.contains("Acme"), "{html}");
    app.stop().await;
}

/// GETs a JSON API route with the browser's session.
async fn browser_json(browser: &mut Browser, path: &str) -> serde_json::Value {
    let response = browser.get(path).await;
    assert_eq!(response.status().as_u16(), 200, "{path}");
    response.json().await.expect("JSON")
}

async fn login_links_are_for_operators_and_known_merchants(store: Store) {
    let app = TestApp::spawn(store.clone()).await;
    let (merchant, key) = app.merchant("Acme").await;
    let path = format!("/api/v1/admin/merchants/{merchant}/login-links");

    let unknown = herald_app::model::id::MerchantId::generate();
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/admin/merchants/{unknown}/login-links"),
            PLATFORM_TOKEN,
            None,
        )
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("not_found")),
        "{body}"
    );

    let (status, _) = app.api(Method::POST, &path, &key, None).await;
    assert_eq!(status, 403, "a merchant key cannot make links");
    let (status, _) = app.api(Method::POST, &path, "wrong", None).await;
    assert_eq!(status, 401);

    let (status, body) = app
        .api(
            Method::POST,
            &path,
            PLATFORM_TOKEN,
            Some(json!({"member_email": "ghost@acme.test"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("member_email"));

    // The owner by email works like no email at all.
    let owner = store
        .merchant_by_id(&merchant)
        .await
        .unwrap()
        .unwrap()
        .email;
    let (url, _) = login_link(
        &app,
        merchant.as_str(),
        Some(json!({"member_email": owner.to_uppercase()})),
    )
    .await;
    let mut browser = app.browser();
    assert_eq!(browser.get(&path_of(&url)).await.headers()["location"], "/");
    app.stop().await;
}

async fn a_login_link_is_refused_after_ten_minutes(store: Store) {
    store.migrate().await.unwrap();
    let (merchant, _) = Accounts::new(store.clone())
        .create_merchant("Acme", "dev@acme.test", None, Role::Merchant)
        .await
        .unwrap();
    let start = Utc::now().trunc_subsecs(3);
    let now = Arc::new(Mutex::new(start));
    let clock = {
        let now = Arc::clone(&now);
        Clock::from_fn(move || *now.lock().unwrap())
    };
    let links = LoginLinks::new(store.clone(), "http://127.0.0.1:3000".into()).with_clock(clock);
    let set = |offset: chrono::Duration| *now.lock().unwrap() = start + offset;
    let token = |url: &str| url.rsplit('/').next().unwrap().to_owned();

    let late = links.issue(&merchant.id, None).await.unwrap();
    assert_eq!(late.expires_at - start, chrono::Duration::minutes(10));
    let in_time = links.issue(&merchant.id, None).await.unwrap();

    set(chrono::Duration::minutes(9) + chrono::Duration::seconds(59));
    let opened = links.redeem(&token(&in_time.url)).await.unwrap();
    assert_eq!(
        opened.map(|account| account.merchant.id),
        Ok(merchant.id.clone()),
        "in time it opens"
    );
    set(chrono::Duration::minutes(10));
    assert_eq!(
        links.redeem(&token(&late.url)).await.unwrap(),
        Err(LinkRefused::Expired),
        "not at ten minutes"
    );
    set(chrono::Duration::hours(1));
    assert_eq!(
        links.redeem(&token(&late.url)).await.unwrap(),
        Err(LinkRefused::Expired),
        "nor later"
    );
    assert_eq!(
        links.redeem(&token(&in_time.url)).await.unwrap(),
        Err(LinkRefused::Used),
        "a used link says so, however late"
    );
}
