//! Headers every response carries so that browsers treat Herald's pages and
//! JSON defensively.
//!
//! The script policy is not here: it needs the per-response nonce that the
//! page render generates, so the page shell states it in a
//! `<meta http-equiv="Content-Security-Policy">` (see `herald_app::shell`).
//! A browser enforces every policy it is given, so the header below and the
//! meta tag add up. `frame-ancestors` only works in a header, hence this one.

use axum::extract::Request;
use axum::http::header::{
    HeaderName, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// The policy that holds for every response, pages and JSON alike.
pub const BASE_POLICY: &str =
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self'";

const HEADERS: [(HeaderName, &str); 4] = [
    (CONTENT_SECURITY_POLICY, BASE_POLICY),
    // Never sniff a JSON body or a stored payload into something runnable.
    (X_CONTENT_TYPE_OPTIONS, "nosniff"),
    // For browsers that predate frame-ancestors.
    (X_FRAME_OPTIONS, "DENY"),
    // Dashboard URLs carry filters and ids; other sites need none of it.
    (REFERRER_POLICY, "same-origin"),
];

/// Adds the headers to a response that does not set them itself.
pub async fn add_security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in HEADERS {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}
