//! A merchant's API keys over the REST API.

use crate::both_backends;
use crate::helpers::TestApp;
use herald::store::Store;
use reqwest::Method;
use serde_json::json;

both_backends!(api_keys_are_shown_once_listed_by_prefix_and_revocable);

async fn api_keys_are_shown_once_listed_by_prefix_and_revocable(store: Store) {
    let app = TestApp::spawn(store).await;
    let (_, key) = app.merchant("Keys").await;
    let (status, created) = app
        .api(
            Method::POST,
            "/api/v1/api-keys",
            &key,
            Some(json!({"name": "ci deploys"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let new_key = created["key"].as_str().unwrap().to_owned();
    assert!(new_key.starts_with("hk_"));
    assert!(new_key.starts_with(created["prefix"].as_str().unwrap()));

    // The new key works; the list shows prefixes and last use, never a key.
    let (status, list) = app
        .api(Method::GET, "/api/v1/api-keys", &new_key, None)
        .await;
    assert_eq!(status, 200);
    let keys = list["data"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert!(
        !list.to_string().contains(&new_key),
        "a key is shown only once"
    );
    assert!(keys
        .iter()
        .any(|k| k["name"] == "ci deploys" && k["last_used_at"].is_string()));

    let (status, error) = app
        .api(
            Method::POST,
            "/api/v1/api-keys",
            &key,
            Some(json!({"name": ""})),
        )
        .await;
    assert_eq!(status, 422, "{error}");

    // Another merchant cannot revoke it; its owner can, and then it stops working.
    let (_, other) = app.merchant("Other").await;
    let id = created["id"].as_str().unwrap();
    let (status, _) = app
        .api(
            Method::DELETE,
            &format!("/api/v1/api-keys/{id}"),
            &other,
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .api(
            Method::DELETE,
            &format!("/api/v1/api-keys/{id}"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = app
        .api(Method::GET, "/api/v1/api-keys", &new_key, None)
        .await;
    assert_eq!(status, 401);
    app.stop().await;
}
