//! Dashboard sessions at rest and in time: the database holds only a hash of
//! each session id (a dump of it logs nobody in), and a session ends
//! `HERALD_SESSION_MAX_AGE` after log-in however busy it is.

use crate::both_backends;
use crate::helpers::{raw_texts, test_config, Browser, TestApp};
use herald::store::Store;
use std::time::{Duration, Instant};
use tower_sessions::session::Id;
use tower_sessions::session_store::ExpiredDeletion as _;

both_backends!(
    the_database_holds_only_hashes_of_session_ids,
    a_session_ends_at_its_max_age_however_active,
);

async fn logged_in(app: &TestApp) -> Browser {
    let browser = app.signed_up("Acme", "dev@acme.test").await;
    assert!(browser.cookie.is_some(), "signed up and logged in");
    browser
}

/// The session id the browser's cookie carries.
fn cookie_id(browser: &Browser) -> String {
    let cookie = browser.cookie.clone().expect("a session cookie");
    cookie
        .strip_prefix("herald_session=")
        .expect("herald_session")
        .to_owned()
}

async fn the_database_holds_only_hashes_of_session_ids(store: Store) {
    let app = TestApp::spawn(store).await;
    let mut browser = logged_in(&app).await;
    assert_eq!(browser.get("/").await.status().as_u16(), 200);
    let id = cookie_id(&browser);

    let stored = raw_texts(&app.store, "SELECT id FROM herald_sessions").await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert!(!stored.contains(&id), "the live id is in the database");
    let parsed: Id = id.parse().expect("a session id");
    assert_eq!(
        stored[0],
        herald::store::stored_session_id(&parsed).to_string(),
        "the row is keyed by the id's hash"
    );

    // What a dump holds is no session: sent as a cookie, it opens nothing.
    let mut thief = app.browser();
    thief.cookie = Some(format!("herald_session={}", stored[0]));
    assert_eq!(thief.get("/").await.status().as_u16(), 303);
    // While the real cookie still works.
    assert_eq!(browser.get("/").await.status().as_u16(), 200);
    app.stop().await;
}

async fn a_session_ends_at_its_max_age_however_active(store: Store) {
    let mut config = test_config();
    config.session_max_age = Duration::from_secs(2);
    let app = TestApp::spawn_with(store, config).await;
    let mut browser = logged_in(&app).await;
    let started = Instant::now();
    // Busy all along: well inside the idle limit every time.
    while started.elapsed() < Duration::from_millis(1500) {
        assert_eq!(browser.get("/").await.status().as_u16(), 200);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Past the max age by more than a second: SQLite keeps expiry times
    // to the whole second, and the sweep deletes only those strictly past.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let response = browser.get("/").await;
    assert_eq!(response.status().as_u16(), 303, "over after its max age");
    assert_eq!(response.headers()["location"], "/login");
    // Its row expires at the absolute end too, so the expired-session sweep
    // (hourly in `herald serve`) removes it.
    let sessions = app
        .store
        .session_store(Duration::from_secs(2))
        .await
        .expect("session store");
    sessions.delete_expired().await.expect("sweep");
    let rows = raw_texts(&app.store, "SELECT id FROM herald_sessions").await;
    assert!(rows.is_empty(), "the ended session is gone: {rows:?}");
    app.stop().await;
}
