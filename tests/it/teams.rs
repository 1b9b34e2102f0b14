//! Teams: members with roles. A viewer reads and is refused every write and
//! every reveal, by the REST API and by the server functions alike; owners
//! invite, change roles and remove; a removed member's session ends at
//! once; the last owner stays; each action writes one audit entry.

use crate::both_backends;
use crate::helpers::{Browser, TestApp, PLATFORM_TOKEN};
use crate::smtp::SmtpListener;
use herald::config::{MailSettings, SecretString, ServeConfig};
use herald::store::Store;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

both_backends!(
    a_viewer_reads_and_every_write_and_reveal_is_refused,
    a_developer_changes_endpoints_but_not_the_team,
    invite_accept_and_log_in,
    a_removed_members_session_ends_at_once,
    the_last_owner_is_never_removed_or_demoted,
    each_team_action_writes_one_entry,
    a_login_link_logs_in_as_the_member_it_names,
);

const PASSWORD: &str = "correct horse battery staple";
const OWNER: &str = "owner@acme.test";

/// The invitation's token, from its link.
fn token_of(url: &str) -> String {
    url.rsplit('/').next().expect("token").to_owned()
}

/// The owner invites `email` as `role`; the invitation as answered.
async fn invite(owner: &mut Browser, email: &str, role: &str) -> Value {
    let (status, body) = owner
        .call("members/invite", &[("email", email), ("role", role)])
        .await;
    assert_eq!(status, 200, "invite {email}: {body}");
    body
}

/// A new member who accepted the owner's invitation (and so is logged in).
async fn member(app: &TestApp, owner: &mut Browser, email: &str, role: &str) -> Browser {
    let invitation = invite(owner, email, role).await;
    let token = token_of(invitation["url"].as_str().expect("url"));
    let mut browser = app.browser();
    let (status, body) = browser
        .call(
            "invitations/accept",
            &[("token", token.as_str()), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, 200, "accept: {body}");
    assert!(browser.cookie.is_some(), "accepting logs in");
    browser
}

/// The members of the owner's team.
async fn members(owner: &mut Browser) -> Vec<Value> {
    let (status, body) = owner.api(Method::GET, "/api/v1/members", None).await;
    assert_eq!(status, 200, "{body}");
    body["data"].as_array().cloned().unwrap_or_default()
}

fn id_of(members: &[Value], email: &str) -> String {
    members
        .iter()
        .find(|m| m["email"] == email)
        .and_then(|m| m["id"].as_str())
        .unwrap_or_else(|| panic!("{email} in {members:?}"))
        .to_owned()
}

/// An owner with an endpoint and an API key: (owner, endpoint id, key id, key).
async fn owner_with_endpoint(app: &TestApp) -> (Browser, String, String, String) {
    let mut owner = app.signed_up("Acme", OWNER).await;
    let (status, endpoint) = owner
        .api(
            Method::POST,
            "/api/v1/endpoints",
            Some(json!({"url": "http://127.0.0.1:9/hooks"})),
        )
        .await;
    assert_eq!(status, 201, "{endpoint}");
    let (status, key) = owner
        .api(
            Method::POST,
            "/api/v1/api-keys",
            Some(json!({"name": "ci"})),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    (
        owner,
        endpoint["id"].as_str().unwrap().to_owned(),
        key["id"].as_str().unwrap().to_owned(),
        key["key"].as_str().unwrap().to_owned(),
    )
}

fn endpoint_form() -> Value {
    json!({"url": "http://127.0.0.1:9/other", "description": "", "event_types": [],
           "headers": "", "rate_limit_per_s": "", "enabled": true,
           "signature_scheme": "hmac", "encrypted": false,
           "legacy_signature": false, "retry_schedule": ""})
}

async fn a_viewer_reads_and_every_write_and_reveal_is_refused(store: Store) {
    let app = TestApp::spawn(store.clone()).await;
    let (mut owner, endpoint, key_id, key) = owner_with_endpoint(&app).await;
    let mut viewer = member(&app, &mut owner, "viewer@acme.test", "viewer").await;
    let owner_id = id_of(&members(&mut owner).await, OWNER);
    let ep = format!("/api/v1/endpoints/{endpoint}");

    // Reads work.
    for path in [
        "/api/v1/endpoints".to_owned(),
        ep.clone(),
        "/api/v1/deliveries".to_owned(),
        "/api/v1/events".to_owned(),
        "/api/v1/api-keys".to_owned(),
        "/api/v1/members".to_owned(),
        "/api/v1/audit-log".to_owned(),
    ] {
        let (status, body) = viewer.api(Method::GET, &path, None).await;
        assert_eq!(status, 200, "{path}: {body}");
    }

    // Every write and every reveal through the REST API: 403.
    let refused: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::POST,
            "/api/v1/endpoints".into(),
            Some(json!({"url": "http://127.0.0.1:9/x"})),
        ),
        (
            Method::PATCH,
            ep.clone(),
            Some(json!({"url": "http://127.0.0.1:9/y"})),
        ),
        (Method::PATCH, ep.clone(), Some(json!({"enabled": false}))),
        (Method::DELETE, ep.clone(), None),
        (Method::GET, format!("{ep}/secret"), None),
        (Method::POST, format!("{ep}/secret/rotate"), Some(json!({}))),
        (
            Method::POST,
            format!("{ep}/test"),
            Some(json!({"event_type": "payin.succeeded"})),
        ),
        (
            Method::POST,
            format!("{ep}/replay"),
            Some(json!({"since": "2020-01-01T00:00:00Z", "status": "all"})),
        ),
        (
            Method::POST,
            format!("{ep}/recover"),
            Some(json!({"since": "2020-01-01T00:00:00Z"})),
        ),
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
            Some(json!({"name": "mine"})),
        ),
        (Method::DELETE, format!("/api/v1/api-keys/{key_id}"), None),
        (
            Method::POST,
            "/api/v1/deliveries/dlv_00000000000000000000000000/retry".into(),
            None,
        ),
        (
            Method::POST,
            "/api/v1/invitations".into(),
            Some(json!({"email": "x@acme.test", "role": "owner"})),
        ),
        (
            Method::PATCH,
            format!("/api/v1/members/{owner_id}"),
            Some(json!({"role": "viewer"})),
        ),
        (Method::DELETE, format!("/api/v1/members/{owner_id}"), None),
    ];
    for (method, path, body) in refused {
        let (status, answer) = viewer.api(method.clone(), &path, body).await;
        assert_eq!(status, 403, "{method} {path}: {answer}");
        assert_eq!(answer["error"]["code"], "forbidden", "{answer}");
    }

    // And through the dashboard's server functions: 403.
    let forms: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("endpoints/secret", vec![("id", endpoint.as_str())]),
        (
            "endpoints/rotate",
            vec![("id", endpoint.as_str()), ("grace_s", "0")],
        ),
        ("endpoints/delete", vec![("id", endpoint.as_str())]),
        (
            "endpoints/set_enabled",
            vec![("id", endpoint.as_str()), ("enabled", "false")],
        ),
        (
            "endpoints/test",
            vec![
                ("id", endpoint.as_str()),
                ("event_type", "payin.succeeded"),
                ("data", ""),
            ],
        ),
        (
            "endpoints/replay_failed",
            vec![("id", endpoint.as_str()), ("since", "24h")],
        ),
        ("callback_secret/get", vec![]),
        ("callback_secret/rotate", vec![("grace_s", "0")]),
        ("callback_settings/set", vec![("profile", "payvost")]),
        ("api_keys/create", vec![("name", "mine")]),
        ("api_keys/revoke", vec![("id", key_id.as_str())]),
        (
            "deliveries/retry",
            vec![("id", "dlv_00000000000000000000000000")],
        ),
        (
            "members/invite",
            vec![("email", "x@acme.test"), ("role", "owner")],
        ),
        (
            "members/set_role",
            vec![("id", owner_id.as_str()), ("role", "viewer")],
        ),
        ("members/remove", vec![("id", owner_id.as_str())]),
    ];
    for (name, fields) in forms {
        let (status, body) = viewer.call(name, &fields).await;
        assert_eq!(status, 403, "{name}: {body}");
        assert_eq!(body["code"], "forbidden", "{name}: {body}");
    }
    let json_calls = vec![
        ("endpoints/create", json!({"input": endpoint_form()})),
        (
            "endpoints/update",
            json!({"id": endpoint, "input": endpoint_form()}),
        ),
        (
            "deliveries/retry_selected",
            json!({"ids": ["dlv_00000000000000000000000000"]}),
        ),
    ];
    for (name, body) in json_calls {
        let (status, answer) = viewer.call_json(name, body).await;
        assert_eq!(status, 403, "{name}: {answer}");
    }

    // Nothing changed: the endpoint, its URL, the key, the team.
    let (status, after) = owner.api(Method::GET, &ep, None).await;
    assert_eq!(status, 200);
    assert_eq!(after["url"], "http://127.0.0.1:9/hooks");
    assert_eq!(after["enabled"], true);
    assert_eq!(members(&mut owner).await.len(), 2);
    let audited = store
        .audit_entries(None, None, 250)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.actor.as_deref() == Some("viewer@acme.test"))
        .map(|e| e.action.as_str().to_owned())
        .collect::<Vec<_>>();
    assert_eq!(audited, vec!["member.joined"], "a viewer revealed nothing");

    // An API key keeps the merchant's full rights.
    let (status, body) = app
        .api(Method::GET, &format!("{ep}/secret"), &key, None)
        .await;
    assert_eq!(status, 200, "{body}");
    app.stop().await;
}

async fn a_developer_changes_endpoints_but_not_the_team(store: Store) {
    let app = TestApp::spawn(store).await;
    let (mut owner, endpoint, _, _) = owner_with_endpoint(&app).await;
    let mut developer = member(&app, &mut owner, "dev@acme.test", "developer").await;
    let ep = format!("/api/v1/endpoints/{endpoint}");

    let (status, body) = developer
        .api(Method::GET, &format!("{ep}/secret"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = developer
        .api(
            Method::PATCH,
            &ep,
            Some(json!({"url": "http://127.0.0.1:9/moved"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = developer.call("api_keys/create", &[("name", "dev")]).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = developer
        .call("endpoints/secret", &[("id", endpoint.as_str())])
        .await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = developer
        .call(
            "members/invite",
            &[("email", "x@acme.test"), ("role", "viewer")],
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let dev_id = id_of(&members(&mut owner).await, "dev@acme.test");
    let (status, body) = developer
        .api(
            Method::PATCH,
            &format!("/api/v1/members/{dev_id}"),
            Some(json!({"role": "owner"})),
        )
        .await;
    assert_eq!(status, 403, "no one promotes themselves: {body}");
    app.stop().await;
}

async fn invite_accept_and_log_in(store: Store) {
    let smtp = SmtpListener::start();
    let config = ServeConfig {
        mail: MailSettings {
            smtp_url: Some(SecretString::new(smtp.url())),
            mail_from: Some("Herald <herald@example.test>".into()),
            public_url: Some("https://herald.example.test".into()),
        },
        ..crate::helpers::test_config()
    };
    let app = TestApp::spawn_with(store, config).await;
    let mut owner = app.signed_up("Acme", OWNER).await;
    let invitation = invite(&mut owner, "Dev@Acme.test", "developer").await;
    assert_eq!(invitation["email"], "dev@acme.test");
    assert_eq!(invitation["role"], "developer");
    assert_eq!(invitation["mailed"], true);
    let url = invitation["url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with("https://herald.example.test/invitations/hin_"),
        "{url}"
    );
    let mails = smtp.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(mails[0].to, vec!["dev@acme.test".to_owned()]);
    assert!(mails[0].body().contains(&url), "{}", mails[0].body());
    let token = token_of(&url);

    // The open invitation is listed, without its link.
    let (status, open) = owner.api(Method::GET, "/api/v1/invitations", None).await;
    assert_eq!(status, 200);
    assert_eq!(open["data"].as_array().unwrap().len(), 1);
    assert!(!open.to_string().contains(&token));

    // The page shows what it offers; accepting sets a password and logs in.
    let mut dev = app.browser();
    let page = dev.get(&format!("/invitations/{token}")).await;
    assert_eq!(page.status().as_u16(), 200, "the page is public");
    let html = page.text().await.unwrap();
    assert!(html.contains("Join Acme on Herald"), "{html}");
    let (status, body) = dev
        .call(
            "invitations/accept",
            &[("token", token.as_str()), ("password", "short")],
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = dev
        .call(
            "invitations/accept",
            &[("token", token.as_str()), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, me) = dev.call("whoami", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(me["member"]["email"], "dev@acme.test");
    assert_eq!(me["member"]["role"], "developer");
    assert_eq!(me["merchant"]["name"], "Acme");

    // Once only.
    let mut again = app.browser();
    let (status, _) = again
        .call(
            "invitations/accept",
            &[("token", token.as_str()), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, 404);
    assert!(again.cookie.is_none());

    // The new member logs in with their password, into the same merchant.
    let mut later = app.browser();
    let (status, _) = later
        .call(
            "log_in",
            &[("email", "dev@acme.test"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, 200);
    let (status, list) = later.api(Method::GET, "/api/v1/members", None).await;
    assert_eq!(status, 200);
    assert_eq!(list["data"].as_array().unwrap().len(), 2);

    // Someone already in a team cannot be invited again.
    let (status, body) = owner
        .call(
            "members/invite",
            &[("email", "dev@acme.test"), ("role", "viewer")],
        )
        .await;
    assert_eq!(status, 409, "{body}");
    app.stop().await;
}

async fn a_removed_members_session_ends_at_once(store: Store) {
    let app = TestApp::spawn(store).await;
    let mut owner = app.signed_up("Acme", OWNER).await;
    let mut dev = member(&app, &mut owner, "dev@acme.test", "developer").await;
    assert_eq!(dev.api(Method::GET, "/api/v1/endpoints", None).await.0, 200);
    let dev_id = id_of(&members(&mut owner).await, "dev@acme.test");

    let (status, body) = owner
        .call("members/remove", &[("id", dev_id.as_str())])
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = dev.api(Method::GET, "/api/v1/endpoints", None).await;
    assert_eq!(status, 401, "the removed member's session has ended");
    assert_eq!(dev.get("/endpoints").await.status().as_u16(), 303);
    let mut again = app.browser();
    let (status, _) = again
        .call(
            "log_in",
            &[("email", "dev@acme.test"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, 401, "nor can they log in");
    assert_eq!(members(&mut owner).await.len(), 1);
    app.stop().await;
}

async fn the_last_owner_is_never_removed_or_demoted(store: Store) {
    let app = TestApp::spawn(store).await;
    let mut owner = app.signed_up("Acme", OWNER).await;
    let owner_id = id_of(&members(&mut owner).await, OWNER);
    let (status, body) = owner
        .call(
            "members/set_role",
            &[("id", owner_id.as_str()), ("role", "developer")],
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = owner
        .api(Method::DELETE, &format!("/api/v1/members/{owner_id}"), None)
        .await;
    assert_eq!(status, 409, "{body}");

    // With a second owner, the first may step down; then the second is the last.
    let mut second = member(&app, &mut owner, "second@acme.test", "owner").await;
    let (status, body) = owner
        .call(
            "members/set_role",
            &[("id", owner_id.as_str()), ("role", "viewer")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let second_id = id_of(&members(&mut second).await, "second@acme.test");
    let (status, body) = second
        .call("members/remove", &[("id", second_id.as_str())])
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = second
        .call(
            "members/set_role",
            &[("id", second_id.as_str()), ("role", "viewer")],
        )
        .await;
    assert_eq!(status, 409, "{body}");
    // The demoted first owner is a viewer now, at once.
    let (status, _) = owner
        .call("members/remove", &[("id", second_id.as_str())])
        .await;
    assert_eq!(status, 403);
    app.stop().await;
}

async fn each_team_action_writes_one_entry(store: Store) {
    let app = TestApp::spawn(store.clone()).await;
    let mut owner = app.signed_up("Acme", OWNER).await;
    let _dev = member(&app, &mut owner, "dev@acme.test", "developer").await;
    let dev_id = id_of(&members(&mut owner).await, "dev@acme.test");
    let withdrawn = invite(&mut owner, "later@acme.test", "viewer").await;
    let (status, _) = owner
        .call(
            "members/revoke_invitation",
            &[("id", withdrawn["id"].as_str().unwrap())],
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = owner
        .call(
            "members/set_role",
            &[("id", dev_id.as_str()), ("role", "viewer")],
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = owner
        .call("members/remove", &[("id", dev_id.as_str())])
        .await;
    assert_eq!(status, 200);

    let (status, log) = owner.api(Method::GET, "/api/v1/audit-log", None).await;
    assert_eq!(status, 200);
    let entries = log["data"].as_array().unwrap();
    let one = |action: &str| -> Value {
        let found: Vec<&Value> = entries.iter().filter(|e| e["action"] == action).collect();
        assert_eq!(found.len(), 1, "{action}: {entries:?}");
        found[0].clone()
    };
    let invited = entries
        .iter()
        .filter(|e| e["action"] == "member.invited")
        .count();
    assert_eq!(invited, 2, "two invitations, two entries");
    let joined = one("member.joined");
    assert_eq!(joined["actor"], "dev@acme.test");
    assert_eq!(joined["detail"], "as developer");
    let changed = one("member.role_changed");
    assert_eq!(changed["actor"], OWNER);
    assert_eq!(changed["actor_kind"], "member");
    assert_eq!(changed["object_id"], "dev@acme.test");
    assert_eq!(changed["detail"], "developer → viewer");
    let removed = one("member.removed");
    assert_eq!(removed["actor"], OWNER);
    assert_eq!(removed["object_id"], "dev@acme.test");
    assert_eq!(one("invitation.revoked")["actor"], OWNER);
    app.stop().await;
}

async fn a_login_link_logs_in_as_the_member_it_names(store: Store) {
    let app = TestApp::spawn(store).await;
    let (mut owner, endpoint, _, _) = owner_with_endpoint(&app).await;
    member(&app, &mut owner, "viewer@acme.test", "viewer").await;
    let merchant = app
        .store
        .member_by_email(OWNER)
        .await
        .unwrap()
        .unwrap()
        .merchant_id;
    let (status, link) = app
        .api(
            Method::POST,
            &format!("/api/v1/admin/merchants/{merchant}/login-links"),
            PLATFORM_TOKEN,
            Some(json!({"member_email": "Viewer@acme.test"})),
        )
        .await;
    assert_eq!(status, 201, "{link}");
    let url = link["url"].as_str().unwrap();
    let path = &url[url.find("/login-link/").unwrap()..];
    let mut browser = app.browser();
    assert_eq!(browser.get(path).await.headers()["location"], "/");
    let (_, me) = browser.call("whoami", &[]).await;
    assert_eq!(me["member"]["email"], "viewer@acme.test");
    assert_eq!(me["member"]["role"], "viewer");
    let (status, _) = browser
        .api(
            Method::GET,
            &format!("/api/v1/endpoints/{endpoint}/secret"),
            None,
        )
        .await;
    assert_eq!(status, 403, "with the viewer's role");
    let html = browser
        .get(&format!("/endpoints/{endpoint}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains("reveal-secret"),
        "no Reveal button for a viewer"
    );
    assert!(html.contains("secret-hidden-for-role"), "{html}");
    app.stop().await;
}
