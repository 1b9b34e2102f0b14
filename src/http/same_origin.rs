//! Cross-site request forgery guard: a state-changing request that a browser
//! sent from another site is refused before it reaches a handler.
//!
//! The session cookie is already `SameSite=Strict`; this is the second lock,
//! for browsers or proxies that mishandle SameSite and for same-site (but
//! cross-origin) pages such as another app on a sibling subdomain. Browsers
//! say where a request comes from (`Sec-Fetch-Site`, `Origin`, `Referer`);
//! clients that are not browsers (curl, the platform's backend, an SDK) send
//! none of them and carry a bearer token, not a cookie, so they pass.

use crate::http::error::ApiError;
use axum::extract::Request;
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Refuses a cross-origin request that could change state.
pub async fn refuse_cross_origin(request: Request, next: Next) -> Response {
    if changes_state(request.method()) && !is_same_origin(request.headers()) {
        tracing::warn!(
            method = %request.method(),
            path = request.uri().path(),
            origin = ?request.headers().get(header::ORIGIN),
            "refused a cross-origin request"
        );
        return ApiError::forbidden("cross-origin requests are not accepted").into_response();
    }
    next.run(request).await
}

/// GET, HEAD and OPTIONS never change anything in Herald.
fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether the browser (if it is one) says the request comes from a page of
/// this very origin. Requests that carry no provenance at all are not from a
/// browser and are let through (see the module comment).
pub fn is_same_origin(headers: &HeaderMap) -> bool {
    // Sent by every current browser and not settable by page scripts.
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.to_str(), Ok("same-origin" | "none"));
    }
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        // A browser always sends Host; without it nothing can be compared.
        return !headers.contains_key(header::ORIGIN) && !headers.contains_key(header::REFERER);
    };
    if let Some(origin) = headers.get(header::ORIGIN) {
        return origin.to_str().ok().and_then(authority_of) == Some(host);
    }
    if let Some(referer) = headers.get(header::REFERER) {
        return referer.to_str().ok().and_then(authority_of) == Some(host);
    }
    true
}

/// `host[:port]` of an absolute http(s) URL or an Origin value.
/// An opaque origin (`null`, from a sandboxed frame or a file) has none.
fn authority_of(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    (!authority.is_empty() && !authority.contains('@')).then_some(authority)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn fetch_metadata_decides_when_present() {
        let host = ("host", "herald.example:3000");
        assert!(is_same_origin(&headers(&[
            host,
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(is_same_origin(&headers(&[
            host,
            ("sec-fetch-site", "none")
        ])));
        assert!(!is_same_origin(&headers(&[
            host,
            ("sec-fetch-site", "cross-site")
        ])));
        // A sibling subdomain is same-site but not same-origin.
        assert!(!is_same_origin(&headers(&[
            host,
            ("sec-fetch-site", "same-site")
        ])));
        // Fetch metadata wins over an Origin that would match.
        assert!(!is_same_origin(&headers(&[
            host,
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://herald.example:3000"),
        ])));
    }

    #[test]
    fn origin_must_name_this_host_and_port() {
        let host = ("host", "herald.example:3000");
        assert!(is_same_origin(&headers(&[
            host,
            ("origin", "http://herald.example:3000")
        ])));
        assert!(!is_same_origin(&headers(&[
            host,
            ("origin", "http://evil.example:3000")
        ])));
        assert!(!is_same_origin(&headers(&[
            host,
            ("origin", "http://herald.example:4000")
        ])));
        assert!(!is_same_origin(&headers(&[host, ("origin", "null")])));
        assert!(!is_same_origin(&headers(&[
            host,
            ("origin", "http://herald.example:3000@evil.example")
        ])));
    }

    #[test]
    fn referer_is_the_fallback() {
        let host = ("host", "herald.example");
        assert!(is_same_origin(&headers(&[
            host,
            ("referer", "https://herald.example/endpoints?x=1")
        ])));
        assert!(!is_same_origin(&headers(&[
            host,
            ("referer", "https://herald.example.evil.test/")
        ])));
    }

    #[test]
    fn requests_without_provenance_are_not_from_browsers() {
        assert!(is_same_origin(&headers(&[("host", "herald.example")])));
        assert!(is_same_origin(&HeaderMap::new()));
        assert!(!is_same_origin(&headers(&[(
            "origin",
            "http://evil.example"
        )])));
    }

    #[test]
    fn only_unsafe_methods_are_checked() {
        assert!(!changes_state(&Method::GET));
        assert!(!changes_state(&Method::HEAD));
        assert!(changes_state(&Method::POST));
        assert!(changes_state(&Method::PATCH));
        assert!(changes_state(&Method::DELETE));
    }
}
