//! Passwords: changing one (the current one required) and resetting a
//! forgotten one with a mailed link; either ends the account's other sessions.

use crate::both_backends;
use crate::helpers::{test_config, Browser, TestApp};
use crate::smtp::SmtpListener;
use chrono::{SubsecRound, Utc};
use herald::config::{MailSettings, SecretString, ServeConfig};
use herald::service::clock::Clock;
use herald::service::mail::Mailer;
use herald::service::passwords::{Passwords, ResetRefused};
use herald::service::Accounts;
use herald::store::Store;
use herald_app::model::audit::AuditAction;
use herald_app::model::merchant::Role;
use std::sync::{Arc, Mutex};
use std::time::Duration;

both_backends!(
    changing_a_password_needs_the_current_one_and_ends_the_other_sessions,
    a_mailed_reset_link_works_once_and_ends_every_session,
    a_reset_link_is_refused_after_thirty_minutes,
    without_smtp_the_forgot_password_page_says_so,
);

const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "a brand new passphrase";
const PUBLIC_URL: &str = "https://herald.example.test";
const WAIT: Duration = Duration::from_secs(10);

/// How many entries of `action` the account with `email` has in its log.
async fn logged(store: &Store, email: &str, action: AuditAction) -> usize {
    let merchant = store
        .merchant_by_email(email)
        .await
        .unwrap()
        .expect("account")
        .merchant
        .id;
    store
        .audit_entries(Some(&merchant), None, 250)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action == action)
        .count()
}

/// The status of a merchant API read with the browser's session (200 while
/// it is logged in, 401 once its session has ended).
async fn session_status(browser: &mut Browser) -> u16 {
    browser.get("/api/v1/endpoints").await.status().as_u16()
}

async fn logged_in(app: &TestApp, email: &str, password: &str) -> (u16, Browser) {
    let mut browser = app.browser();
    let (status, _) = browser
        .call("log_in", &[("email", email), ("password", password)])
        .await;
    (status, browser)
}

async fn changing_a_password_needs_the_current_one_and_ends_the_other_sessions(store: Store) {
    let app = TestApp::spawn(store.clone()).await;
    let email = "dev@acme.test";
    let mut here = app.signed_up("Acme", email).await;
    let (status, mut elsewhere) = logged_in(&app, email, PASSWORD).await;
    assert_eq!(status, 200);
    let mut other_merchant = app.signed_up("Globex", "dev@globex.test").await;

    let (status, body) = here
        .call(
            "change_password",
            &[
                ("current_password", "not my password at all"),
                ("new_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["field"], "current_password", "{body}");
    assert_eq!(session_status(&mut elsewhere).await, 200, "nothing changed");

    let (status, body) = here
        .call(
            "change_password",
            &[("current_password", PASSWORD), ("new_password", "short")],
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["field"], "new_password", "{body}");

    let before = here.cookie.clone();
    let (status, body) = here
        .call(
            "change_password",
            &[
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_ne!(here.cookie, before, "this session goes on under a new id");
    assert_eq!(session_status(&mut here).await, 200, "this session goes on");
    assert_eq!(
        session_status(&mut elsewhere).await,
        401,
        "the other session has ended"
    );
    assert_eq!(
        session_status(&mut other_merchant).await,
        200,
        "another merchant's session is untouched"
    );

    assert_eq!(
        logged_in(&app, email, PASSWORD).await.0,
        401,
        "old password"
    );
    assert_eq!(logged_in(&app, email, NEW_PASSWORD).await.0, 200);
    assert_eq!(
        logged_in(&app, "dev@globex.test", PASSWORD).await.0,
        200,
        "another merchant's password is untouched"
    );
    assert_eq!(logged(&store, email, AuditAction::PasswordChanged).await, 1);
    assert_eq!(
        logged(&store, "dev@globex.test", AuditAction::PasswordChanged).await,
        0
    );
    app.stop().await;
}

fn mailing(smtp: &SmtpListener) -> ServeConfig {
    ServeConfig {
        mail: MailSettings {
            smtp_url: Some(SecretString::new(smtp.url())),
            mail_from: Some("Herald <herald@example.test>".into()),
            public_url: Some(PUBLIC_URL.into()),
        },
        ..test_config()
    }
}

/// The reset link's path in a mail (its host is HERALD_PUBLIC_URL's).
fn reset_path(body: &str) -> String {
    let start = body.find("/reset-password/").expect("a reset link");
    body[start..]
        .split_whitespace()
        .next()
        .expect("link")
        .to_owned()
}

async fn a_mailed_reset_link_works_once_and_ends_every_session(store: Store) {
    let smtp = SmtpListener::start();
    let app = TestApp::spawn_with(store.clone(), mailing(&smtp)).await;
    let email = "dev@acme.test";
    let mut session = app.signed_up("Acme", email).await;
    let mut globex = app.signed_up("Globex", "dev@globex.test").await;

    let mut visitor = app.browser();
    let html = visitor.get("/forgot-password").await.text().await.unwrap();
    assert!(html.contains("forgot-password-form"), "{html}");
    for address in [email, "nobody@acme.test"] {
        let (status, body) = visitor
            .call("request_password_reset", &[("email", address)])
            .await;
        assert_eq!(status, 200, "the same answer for any address: {body}");
    }
    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!(mails[0].to, vec![email.to_owned()]);
    assert!(
        mails[0]
            .body()
            .contains(&format!("{PUBLIC_URL}/reset-password/hpr_")),
        "{}",
        mails[0].body()
    );
    let path = reset_path(&mails[0].body());

    let page = visitor.get(&path).await;
    assert_eq!(page.status().as_u16(), 200, "the reset page is public");
    assert!(page.text().await.unwrap().contains("reset-password-form"));
    let token = path.rsplit('/').next().unwrap().to_owned();
    let (status, body) = visitor
        .call(
            "reset_password",
            &[("token", token.as_str()), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(visitor.cookie.is_none(), "a reset logs no one in");
    assert_eq!(
        session_status(&mut session).await,
        401,
        "the account's sessions have ended"
    );
    assert_eq!(session_status(&mut globex).await, 200, "not another's");

    let (status, body) = visitor
        .call(
            "reset_password",
            &[
                ("token", token.as_str()),
                ("password", "yet another passphrase"),
            ],
        )
        .await;
    assert_eq!(status, 409, "never twice: {body}");
    assert!(body["message"].as_str().unwrap().contains("used"), "{body}");
    let (status, _) = visitor
        .call(
            "reset_password",
            &[
                ("token", "hpr_made-up"),
                ("password", "yet another passphrase"),
            ],
        )
        .await;
    assert_eq!(status, 404);

    assert_eq!(logged_in(&app, email, PASSWORD).await.0, 401);
    assert_eq!(logged_in(&app, email, NEW_PASSWORD).await.0, 200);
    assert_eq!(logged_in(&app, "dev@globex.test", PASSWORD).await.0, 200);
    assert!(
        smtp.messages()
            .iter()
            .all(|m| m.to == vec![email.to_owned()]),
        "no mail to an address that is no account"
    );
    assert_eq!(
        logged(&store, email, AuditAction::PasswordResetRequested).await,
        1
    );
    assert_eq!(logged(&store, email, AuditAction::PasswordReset).await, 1);
    assert_eq!(
        logged(&store, "dev@globex.test", AuditAction::PasswordReset).await,
        0
    );
    app.stop().await;
}

async fn a_reset_link_is_refused_after_thirty_minutes(store: Store) {
    store.migrate().await.unwrap();
    let smtp = SmtpListener::start();
    let email = "dev@acme.test";
    Accounts::new(store.clone())
        .create_merchant("Acme", email, Some(PASSWORD.into()), Role::Merchant)
        .await
        .unwrap();
    let start = Utc::now().trunc_subsecs(3);
    let now = Arc::new(Mutex::new(start));
    let clock = {
        let now = Arc::clone(&now);
        Clock::from_fn(move || *now.lock().unwrap())
    };
    let mailer = Mailer::new(&smtp.url(), "herald@example.test").unwrap();
    let passwords =
        Passwords::new(store.clone(), Some(mailer), PUBLIC_URL.into()).with_clock(clock);
    let set = |offset: chrono::Duration| *now.lock().unwrap() = start + offset;

    passwords.request_reset(email, None).await.unwrap();
    passwords.request_reset(email, None).await.unwrap();
    let mails = smtp.wait_for(2, WAIT).await;
    let tokens: Vec<String> = mails
        .iter()
        .map(|m| reset_path(&m.body()).rsplit('/').next().unwrap().to_owned())
        .collect();

    set(chrono::Duration::minutes(30));
    assert_eq!(
        passwords.reset(&tokens[0], NEW_PASSWORD).await.unwrap(),
        Err(ResetRefused::Expired),
        "not at thirty minutes"
    );
    set(chrono::Duration::minutes(29));
    assert!(passwords
        .reset(&tokens[0], NEW_PASSWORD)
        .await
        .unwrap()
        .is_ok());
    assert_eq!(
        passwords.reset(&tokens[1], NEW_PASSWORD).await.unwrap(),
        Err(ResetRefused::Used),
        "a reset voids the account's other links"
    );
}

async fn without_smtp_the_forgot_password_page_says_so(store: Store) {
    let app = TestApp::spawn(store).await;
    app.signed_up("Acme", "dev@acme.test").await;
    let mut visitor = app.browser();
    let html = visitor.get("/forgot-password").await.text().await.unwrap();
    assert!(html.contains("cannot send e-mail"), "{html}");
    assert!(!html.contains("forgot-password-form"));
    let html = visitor.get("/login").await.text().await.unwrap();
    assert!(html.contains("href=\"/forgot-password\""), "{html}");
    let (status, body) = visitor
        .call("request_password_reset", &[("email", "dev@acme.test")])
        .await;
    assert_eq!(status, 403, "{body}");
    app.stop().await;
}
