//! Health, the JSON error body, the body limit, and the pages' first paint.

use crate::both_backends;
use crate::helpers::{client, TestApp};
use herald::store::Store;

both_backends!(
    health_answers_ok,
    unknown_api_routes_get_the_error_body,
    public_pages_render
);

async fn health_answers_ok(store: Store) {
    let app = TestApp::spawn(store).await;
    let response = client().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "ok"}));
    app.stop().await;
}

async fn unknown_api_routes_get_the_error_body(store: Store) {
    let app = TestApp::spawn(store).await;
    let response = client()
        .get(app.url("/api/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    assert!(body["error"]["message"].is_string());
    app.stop().await;
}

async fn public_pages_render(store: Store) {
    let app = TestApp::spawn(store).await;
    for (path, text) in [
        ("/login", "Log in to Herald"),
        ("/signup", "Create your Herald account"),
    ] {
        let response = client().get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
        let html = response.text().await.unwrap();
        assert!(html.contains(text), "{path}");
        assert!(
            html.contains(r#"<label for="email""#),
            "{path} has labelled fields"
        );
    }
    app.stop().await;
}
