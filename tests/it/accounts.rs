//! Sign-up, log-in and log-out through the dashboard's server functions.

use crate::both_backends;
use crate::helpers::TestApp;
use herald::store::Store;

both_backends!(
    sign_up_logs_in_and_shows_the_dashboard,
    log_in_rotates_the_session_and_log_out_destroys_it,
    wrong_password_gives_one_message_for_every_case,
    sign_up_refuses_bad_input_with_the_field,
);

const PASSWORD: &str = "correct horse battery";

async fn sign_up_logs_in_and_shows_the_dashboard(store: Store) {
    let app = TestApp::spawn(store).await;
    let mut browser = app.browser();

    // Logged out: the dashboard sends you to log in.
    let page = browser.get("/").await;
    assert_eq!(page.status().as_u16(), 303);
    assert_eq!(page.headers()["location"], "/login");

    let (status, body) = browser
        .call(
            "sign_up",
            &[
                ("name", "Acme Payments"),
                ("email", "dev@acme.test"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(browser.cookie.is_some(), "sign-up starts a session");

    let page = browser.get("/endpoints").await;
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Acme Payments"),
        "the merchant's name is shown"
    );
    assert!(html.contains("No endpoints yet"), "an empty endpoints page");
    app.stop().await;
}

async fn log_in_rotates_the_session_and_log_out_destroys_it(store: Store) {
    let app = TestApp::spawn(store).await;
    let mut setup = app.browser();
    setup
        .call(
            "sign_up",
            &[
                ("name", "Acme"),
                ("email", "dev@acme.test"),
                ("password", PASSWORD),
            ],
        )
        .await;

    let mut browser = app.browser();
    // An anonymous session exists before log-in (the login page set none, so make one).
    browser.cookie = setup.cookie.clone();
    let before = browser.cookie.clone();
    let (status, body) = browser
        .call(
            "log_in",
            &[("email", "DEV@acme.test"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let after = browser.cookie.clone();
    assert!(after.is_some());
    assert_ne!(before, after, "log-in issues a new session id");

    // The old session id no longer works.
    let mut stale = app.browser();
    stale.cookie = before;
    assert_eq!(stale.get("/").await.status().as_u16(), 303);

    assert_eq!(browser.get("/").await.status().as_u16(), 200);
    let kept = browser.cookie.clone();
    let (status, _) = browser.call("log_out", &[]).await;
    assert_eq!(status, 200);
    let mut replay = app.browser();
    replay.cookie = kept;
    assert_eq!(
        replay.get("/").await.status().as_u16(),
        303,
        "logged-out session is gone"
    );
    app.stop().await;
}

async fn wrong_password_gives_one_message_for_every_case(store: Store) {
    let app = TestApp::spawn(store).await;
    app.browser()
        .call(
            "sign_up",
            &[
                ("name", "Acme"),
                ("email", "dev@acme.test"),
                ("password", PASSWORD),
            ],
        )
        .await;

    let mut browser = app.browser();
    let (_, wrong_password) = browser
        .call(
            "log_in",
            &[("email", "dev@acme.test"), ("password", "not the password")],
        )
        .await;
    let (_, unknown_email) = browser
        .call(
            "log_in",
            &[("email", "ghost@acme.test"), ("password", PASSWORD)],
        )
        .await;
    assert!(browser.cookie.is_none(), "no session after a failed log-in");
    let message = wrong_password.to_string();
    assert!(message.contains("do not match"), "{message}");
    assert_eq!(
        wrong_password, unknown_email,
        "no hint whether the email exists"
    );
    app.stop().await;
}

async fn sign_up_refuses_bad_input_with_the_field(store: Store) {
    let app = TestApp::spawn(store.clone()).await;
    let mut browser = app.browser();
    browser
        .call(
            "sign_up",
            &[
                ("name", "Acme"),
                ("email", "dev@acme.test"),
                ("password", PASSWORD),
            ],
        )
        .await;

    for (fields, field) in [
        (
            [
                ("name", "Other"),
                ("email", "DEV@acme.test"),
                ("password", PASSWORD),
            ],
            "email",
        ),
        (
            [
                ("name", "Other"),
                ("email", "new@acme.test"),
                ("password", ""),
            ],
            "password",
        ),
        (
            [
                ("name", "Other"),
                ("email", "not an email"),
                ("password", PASSWORD),
            ],
            "email",
        ),
        (
            [
                ("name", " "),
                ("email", "x@acme.test"),
                ("password", PASSWORD),
            ],
            "name",
        ),
    ] {
        let (status, body) = app.browser().call("sign_up", &fields).await;
        assert_ne!(status, 200, "{fields:?}");
        assert_eq!(body["field"], field, "{fields:?}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert_eq!(
        store.list_merchants().await.unwrap().len(),
        1,
        "nothing else was created"
    );
    app.stop().await;
}
