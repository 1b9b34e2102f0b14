//! The audit log: one entry per audited action, each merchant sees only
//! its own, operators see all.

use crate::both_backends;
use crate::helpers::{TestApp, PLATFORM_TOKEN};
use herald::store::Store;
use reqwest::Method;
use serde_json::{json, Value};

both_backends!(
    each_audited_action_writes_one_entry,
    log_ins_and_login_links_are_logged_with_who_and_where,
    another_merchants_entries_are_never_visible,
    the_dashboard_shows_the_audit_log_pages,
    retention_never_purges_the_audit_log,
);

const PASSWORD: &str = "correct horse battery";

/// The merchant's audit log, newest first, as (action, object_id, detail).
async fn entries(app: &TestApp, key: &str) -> Vec<Value> {
    let page = app.get_ok(key, "/api/v1/audit-log?limit=250").await;
    page["data"].as_array().cloned().unwrap_or_default()
}

fn actions(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn each_audited_action_writes_one_entry(store: Store) {
    let app = TestApp::spawn(store).await;
    let (merchant, key) = app.merchant("Acme").await;
    let key_id = app.get_ok(&key, "/api/v1/api-keys").await["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (endpoint, _) = app
        .endpoint(
            &key,
            json!({"url": "http://127.0.0.1:9/a", "event_types": ["payin.*"]}),
        )
        .await;
    let ep = format!("/api/v1/endpoints/{endpoint}");
    let calls: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::PATCH,
            ep.clone(),
            Some(json!({"url": "http://127.0.0.1:9/b"})),
        ),
        (
            Method::PATCH,
            ep.clone(),
            Some(json!({"event_types": ["payout.*"]})),
        ),
        (
            Method::PATCH,
            ep.clone(),
            Some(json!({"url": "http://127.0.0.1:9/c", "description": "new"})),
        ),
        (Method::PATCH, ep.clone(), Some(json!({"enabled": false}))),
        (Method::PATCH, ep.clone(), Some(json!({"enabled": true}))),
        (Method::GET, format!("{ep}/secret"), None),
        (Method::POST, format!("{ep}/secret/rotate"), Some(json!({}))),
        (Method::GET, "/api/v1/callback-secret".into(), None),
        (
            Method::POST,
            "/api/v1/callback-secret/rotate".into(),
            Some(json!({})),
        ),
        (
            Method::PATCH,
            "/api/v1/callback-settings".into(),
            Some(json!({"profile": "payvost"})),
        ),
        (
            Method::POST,
            "/api/v1/api-keys".into(),
            Some(json!({"name": "ci"})),
        ),
    ];
    for (method, path, body) in calls {
        let (status, answer) = app.api(method.clone(), &path, &key, body).await;
        assert!((200..300).contains(&status), "{method} {path}: {answer}");
    }
    let new_key = entries(&app, &key).await[0]["object_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = app
        .api(
            Method::DELETE,
            &format!("/api/v1/api-keys/{new_key}"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = app.api(Method::DELETE, &ep, &key, None).await;
    assert_eq!(status, 204);
    // Reads change nothing and are not logged.
    app.get_ok(&key, "/api/v1/endpoints").await;

    let log = entries(&app, &key).await;
    let mut expected = vec![
        ("api_key.created", Some(key_id.as_str()), None, "herald"),
        ("endpoint.created", Some(endpoint.as_str()), None, "api_key"),
        (
            "endpoint.updated",
            Some(endpoint.as_str()),
            Some("url"),
            "api_key",
        ),
        (
            "endpoint.updated",
            Some(endpoint.as_str()),
            Some("event_types"),
            "api_key",
        ),
        (
            "endpoint.updated",
            Some(endpoint.as_str()),
            Some("url, settings"),
            "api_key",
        ),
        (
            "endpoint.disabled",
            Some(endpoint.as_str()),
            None,
            "api_key",
        ),
        ("endpoint.enabled", Some(endpoint.as_str()), None, "api_key"),
        ("secret.revealed", Some(endpoint.as_str()), None, "api_key"),
        ("secret.rotated", Some(endpoint.as_str()), None, "api_key"),
        ("secret.revealed", Some("callback_secret"), None, "api_key"),
        ("secret.rotated", Some("callback_secret"), None, "api_key"),
        (
            "callback_settings.updated",
            Some("callback_settings"),
            Some("profile: standard → payvost"),
            "api_key",
        ),
        ("api_key.created", Some(new_key.as_str()), None, "api_key"),
        ("api_key.revoked", Some(new_key.as_str()), None, "api_key"),
        ("endpoint.deleted", Some(endpoint.as_str()), None, "api_key"),
    ];
    expected.reverse();
    let got: Vec<(String, Option<String>, Option<String>, String)> = log
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["object_id"].as_str().map(str::to_owned),
                e["detail"].as_str().map(str::to_owned),
                e["actor_kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, Option<String>, Option<String>, String)> = expected
        .iter()
        .map(|(a, o, d, k)| {
            (
                (*a).to_owned(),
                o.map(str::to_owned),
                d.map(str::to_owned),
                (*k).to_owned(),
            )
        })
        .collect();
    assert_eq!(got, want, "newest first, one entry each");
    for entry in &log {
        assert_eq!(entry["merchant_id"], merchant.as_str());
        if entry["actor_kind"] == "api_key" {
            assert_eq!(entry["actor"], key_id.as_str(), "{entry}");
            assert_eq!(entry["client_address"], "127.0.0.1", "{entry}");
        }
    }

    // An operator's disable is the operator's.
    let (endpoint, _) = app
        .endpoint(&key, json!({"url": "http://127.0.0.1:9/d"}))
        .await;
    let (status, _) = app
        .api(
            Method::POST,
            &format!("/api/v1/admin/endpoints/{endpoint}/disable"),
            PLATFORM_TOKEN,
            Some(json!({"reason": "abuse report"})),
        )
        .await;
    assert_eq!(status, 200);
    let newest = &entries(&app, &key).await[0];
    assert_eq!(newest["action"], "endpoint.disabled");
    assert_eq!(newest["actor_kind"], "operator");
    assert_eq!(newest["detail"], "abuse report");

    // Pages follow the list conventions.
    let first = app.get_ok(&key, "/api/v1/audit-log?limit=2").await;
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = app
        .get_ok(&key, &format!("/api/v1/audit-log?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(
        second["data"][0]["id"], log[0]["id"],
        "the page after the newest two"
    );
    app.stop().await;
}

async fn log_ins_and_login_links_are_logged_with_who_and_where(store: Store) {
    let app = TestApp::spawn(store.clone()).await;
    let mut browser = app.browser();
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
    let merchant = store
        .merchant_by_email("dev@acme.test")
        .await
        .unwrap()
        .unwrap()
        .merchant;
    let mut other = app.browser();
    other
        .call(
            "log_in",
            &[("email", "dev@acme.test"), ("password", "wrong password!")],
        )
        .await;
    other
        .call(
            "log_in",
            &[("email", "ghost@acme.test"), ("password", PASSWORD)],
        )
        .await;
    let (status, _) = other
        .call(
            "log_in",
            &[("email", "dev@acme.test"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, 200);
    let (status, link) = app
        .api(
            Method::POST,
            &format!("/api/v1/admin/merchants/{}/login-links", merchant.id),
            PLATFORM_TOKEN,
            None,
        )
        .await;
    assert_eq!(status, 201);
    let url = link["url"].as_str().unwrap();
    app.browser()
        .get(&url[url.find("/login-link/").unwrap()..])
        .await;

    // The merchant's own log, through its session (server function).
    let (status, page) = browser.call("audit_log", &[]).await;
    assert_eq!(status, 200, "{page}");
    let log = page["data"].as_array().unwrap().clone();
    assert_eq!(
        actions(&log),
        ["login_link.used", "login.succeeded", "login.failed"],
        "{page:#}"
    );
    for entry in &log {
        assert_eq!(entry["actor_kind"], "member");
        assert_eq!(entry["actor"], "dev@acme.test");
        assert_eq!(entry["client_address"], "127.0.0.1");
    }
    // The unknown email's attempt is the operators' to see.
    let all = app.get_ok(PLATFORM_TOKEN, "/api/v1/admin/audit-log").await;
    assert!(
        all["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["actor"] == "ghost@acme.test"
                && e["action"] == "login.failed"
                && e["merchant_id"].is_null()),
        "{all:#}"
    );
    app.stop().await;
}

async fn another_merchants_entries_are_never_visible(store: Store) {
    let app = TestApp::spawn(store).await;
    let (acme, acme_key) = app.merchant("Acme").await;
    let (globex, globex_key) = app.merchant("Globex").await;
    app.endpoint(&acme_key, json!({"url": "http://127.0.0.1:9/a"}))
        .await;

    for entry in entries(&app, &globex_key).await {
        assert_eq!(entry["merchant_id"], globex.as_str(), "{entry}");
    }
    assert!(!actions(&entries(&app, &globex_key).await).contains(&"endpoint.created".to_owned()));
    // Through Globex's dashboard session too.
    let (status, link) = app
        .api(
            Method::POST,
            &format!("/api/v1/admin/merchants/{globex}/login-links"),
            PLATFORM_TOKEN,
            None,
        )
        .await;
    assert_eq!(status, 201);
    let url = link["url"].as_str().unwrap();
    let mut browser = app.browser();
    browser.get(&url[url.find("/login-link/").unwrap()..]).await;
    let (status, page) = browser.call("audit_log", &[]).await;
    assert_eq!(status, 200, "{page}");
    for entry in page["data"].as_array().unwrap() {
        assert_eq!(entry["merchant_id"], globex.as_str(), "{entry}");
    }
    // An operator's server function is refused to a merchant.
    let (status, _) = browser.call("admin/audit_log", &[]).await;
    assert_eq!(status, 403);
    // Operators narrow to one merchant.
    let only = app
        .get_ok(
            PLATFORM_TOKEN,
            &format!("/api/v1/admin/audit-log?merchant_id={acme}"),
        )
        .await;
    let only = only["data"].as_array().unwrap();
    assert!(only.iter().any(|e| e["action"] == "endpoint.created"));
    assert!(only.iter().all(|e| e["merchant_id"] == acme.as_str()));
    // A merchant key cannot read the operators' log.
    let (status, _) = app
        .api(Method::GET, "/api/v1/admin/audit-log", &acme_key, None)
        .await;
    assert_eq!(status, 403);
    app.stop().await;
}

async fn the_dashboard_shows_the_audit_log_pages(store: Store) {
    let app = TestApp::spawn(store).await;
    let mut browser = app.browser();
    let (status, _) = browser
        .call(
            "sign_up",
            &[
                ("name", "Acme"),
                ("email", "dev@acme.test"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 200);
    // A log-in from another browser, then the log as the first one sees it.
    let (status, _) = app
        .browser()
        .call(
            "log_in",
            &[("email", "dev@acme.test"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, 200);
    let page = browser.get("/audit-log").await;
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("audit-table"), "{html}");
    assert!(
        html.contains("Logged in") && html.contains("dev@acme.test"),
        "{html}"
    );
    // The operators' page is for operators.
    let page = browser.get("/admin/audit-log").await;
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("audit-table"),
        "a merchant never sees the operators' log"
    );
    app.stop().await;
}

async fn retention_never_purges_the_audit_log(store: Store) {
    let retention = std::time::Duration::from_millis(200);
    let config = herald::config::ServeConfig {
        retention: Some(retention),
        ..crate::helpers::test_config()
    };
    let app = TestApp::spawn_manual_with(store, config).await;
    let (merchant, key) = app.merchant("Acme").await;
    let (endpoint, _) = app
        .endpoint(&key, json!({"url": "http://127.0.0.1:9/a"}))
        .await;
    app.api(
        Method::DELETE,
        &format!("/api/v1/endpoints/{endpoint}"),
        &key,
        None,
    )
    .await;
    // An event no endpoint takes: settled history retention may delete.
    let (status, _) = app
        .ingest(json!({"merchant_id": merchant, "type": "refund.completed", "data": {}}))
        .await;
    assert_eq!(status, 202);
    let before = entries(&app, &key).await;
    assert_eq!(before.len(), 3, "{before:#?}");
    tokio::time::sleep(retention + std::time::Duration::from_millis(300)).await;
    assert!(app.sweep_retention().await >= 1, "the old event is deleted");
    assert_eq!(
        entries(&app, &key).await,
        before,
        "the audit log is kept whole"
    );
    app.stop().await;
}
