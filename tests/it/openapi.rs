//! The OpenAPI document: it parses, lists every route of API.md, and every
//! route it lists is really served.

use crate::both_backends;
use crate::helpers::{client, TestApp};
use herald::store::Store;
use serde_json::Value;

both_backends!(the_document_lists_every_route_and_each_is_served);

/// Every route of `../shared/API.md` (and the additions the README lists),
/// as the document spells them.
const API_ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/metrics"),
    ("get", "/api/v1/openapi.json"),
    ("post", "/api/v1/events"),
    ("get", "/api/v1/events"),
    ("get", "/api/v1/events/{id}"),
    ("get", "/api/v1/admin/merchants"),
    ("post", "/api/v1/admin/merchants"),
    ("get", "/api/v1/admin/deliveries"),
    ("post", "/api/v1/admin/deliveries/retry"),
    ("get", "/api/v1/admin/endpoints"),
    ("post", "/api/v1/admin/endpoints/{id}/disable"),
    ("post", "/api/v1/admin/endpoints/{id}/enable"),
    ("get", "/api/v1/event-types"),
    ("get", "/api/v1/api-keys"),
    ("post", "/api/v1/api-keys"),
    ("delete", "/api/v1/api-keys/{id}"),
    ("get", "/api/v1/endpoints"),
    ("post", "/api/v1/endpoints"),
    ("get", "/api/v1/endpoints/{id}"),
    ("patch", "/api/v1/endpoints/{id}"),
    ("delete", "/api/v1/endpoints/{id}"),
    ("get", "/api/v1/endpoints/{id}/secret"),
    ("post", "/api/v1/endpoints/{id}/secret/rotate"),
    ("post", "/api/v1/endpoints/{id}/test"),
    ("post", "/api/v1/endpoints/{id}/replay"),
    ("post", "/api/v1/endpoints/{id}/recover"),
    ("get", "/api/v1/callback-secret"),
    ("post", "/api/v1/callback-secret/rotate"),
    ("get", "/api/v1/callback-settings"),
    ("patch", "/api/v1/callback-settings"),
    ("get", "/api/v1/deliveries"),
    ("get", "/api/v1/deliveries/{id}"),
    ("post", "/api/v1/deliveries/{id}/retry"),
    ("get", "/api/v1/stats"),
    ("get", "/api/v1/admin/event-types"),
    ("post", "/api/v1/admin/event-types"),
    ("patch", "/api/v1/admin/event-types/{name}"),
    ("post", "/api/v1/admin/merchants/{id}/login-links"),
    ("get", "/api/v1/audit-log"),
    ("get", "/api/v1/admin/audit-log"),
    ("get", "/api/v1/admin/profiles"),
    ("post", "/api/v1/admin/profiles"),
    ("patch", "/api/v1/admin/profiles/{name}"),
    ("get", "/api/v1/profiles"),
    ("get", "/api/v1/egress"),
    ("get", "/api/v1/members"),
    ("patch", "/api/v1/members/{id}"),
    ("delete", "/api/v1/members/{id}"),
    ("get", "/api/v1/invitations"),
    ("post", "/api/v1/invitations"),
    ("delete", "/api/v1/invitations/{id}"),
];

/// Routes anyone may call; every other one needs a credential.
const PUBLIC: &[&str] = &["/healthz", "/metrics", "/api/v1/openapi.json"];

async fn the_document_lists_every_route_and_each_is_served(store: Store) {
    let app = TestApp::spawn(store).await;
    let response = client()
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let document: Value = response.json().await.expect("the document is JSON");
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.")),
        "an OpenAPI 3 document: {}",
        document["openapi"]
    );
    let paths = document["paths"].as_object().expect("paths");

    let mut documented = Vec::new();
    for (path, item) in paths {
        for method in ["get", "post", "patch", "put", "delete"] {
            if let Some(operation) = item.get(method) {
                documented.push((method.to_owned(), path.clone()));
                assert!(
                    operation["responses"]
                        .as_object()
                        .is_some_and(|r| !r.is_empty()),
                    "{method} {path} documents its responses"
                );
            }
        }
    }
    for (method, path) in API_ROUTES {
        assert!(
            documented.iter().any(|(m, p)| m == method && p == path),
            "{method} {path} is missing from the OpenAPI document"
        );
    }

    // Every schema a route refers to is defined.
    let text = document.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap_or_default();
        assert!(
            document["components"]["schemas"].get(name).is_some(),
            "schema {name} is referred to but not defined"
        );
    }

    // And everything documented is really routed: without credentials a
    // private route refuses (401), it never falls through to "no such route".
    for (method, path) in &documented {
        let url = app.url(&path.replace("{id}", "x").replace("{name}", "x"));
        let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let response = client()
            .request(method.clone(), &url)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        if PUBLIC.contains(&path.as_str()) {
            assert_eq!(status, 200, "{method} {path}");
        } else {
            assert_eq!(
                status, 401,
                "{method} {path} is served and needs credentials"
            );
        }
    }
    app.stop().await;
}
