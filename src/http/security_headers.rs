//! Headers every response carries so that browsers treat Herald's pages and
//! JSON defensively.
//!
//! The script policy is not here: it needs the per-response nonce that the
//! page render generates, so the page shell states it in a
//! `<meta http-equiv="Content-Security-Policy">` (see `herald_app::shell`).
//! A browser enforces every policy it is given, so the header below and the
//! meta tag add up. `frame-ancestors` only works in a header, hence this one.
//!
//! Every response but the static files is `Cache-Control: no-store`: pages,
//! server-function answers and JSON carry secrets, keys and merchants'
//! payloads, which no browser cache or shared proxy may keep. The site's
//! files whose names carry their content's hash (`herald.<hash>.wasm`) are
//! kept for a year (`immutable`: a new build has new names); the others are
//! revalidated on each use (`no-cache`, answered 304 when unchanged).

use axum::extract::{Request, State};
use axum::http::header::{
    HeaderName, CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
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

/// HSTS: a year, subdomains included. Sent only when Herald is served over
/// TLS (secure cookies): over plain http a browser ignores it anyway, and a
/// developer's `localhost` must not be pinned to https.
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// What differs between deployments.
#[derive(Debug, Clone, Copy, Default)]
pub struct SecurityHeaders {
    /// Herald is served over TLS: send `Strict-Transport-Security`.
    pub https: bool,
}

/// Adds the headers to a response that does not set them itself.
pub async fn add_security_headers(
    State(deployment): State<SecurityHeaders>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let cacheable = is_static_file(&path);
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in HEADERS {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    let cache = match cacheable {
        false => "no-store",
        true if is_content_hashed(&path) => "public, max-age=31536000, immutable",
        true => "no-cache",
    };
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    if deployment.https {
        headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    response
}

/// The site's own files: the WASM bundle, scripts and styles under `/pkg/`
/// and the top-level files of `public/` (`/favicon.svg`). The same for
/// everyone, and nothing secret in them.
fn is_static_file(path: &str) -> bool {
    path.starts_with("/pkg/")
        || path
            .strip_prefix('/')
            .is_some_and(|name| !name.contains('/') && name.contains('.'))
}

/// A file under `/pkg/` named `<name>.<hash>.<extension>` by cargo-leptos'
/// `hash-files`: the hash is 22 characters of unpadded base64url (MD5).
fn is_content_hashed(path: &str) -> bool {
    let Some(name) = path.strip_prefix("/pkg/") else {
        return false;
    };
    let mut parts = name.rsplit('.');
    let (_extension, hash) = (parts.next(), parts.next());
    parts.next().is_some()
        && hash.is_some_and(|hash| {
            hash.len() == 22
                && hash
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::{is_content_hashed, is_static_file};

    #[test]
    fn only_files_named_by_their_content_are_kept_for_a_year() {
        for path in [
            "/pkg/herald.Zk3v8uK2-Qm_7xYtR1sN0a.wasm",
            "/pkg/herald.Zk3v8uK2-Qm_7xYtR1sN0a.js",
            "/pkg/herald.AAAAAAAAAAAAAAAAAAAAAA.css",
        ] {
            assert!(is_content_hashed(path), "{path}");
        }
        for path in [
            "/pkg/herald.wasm",
            "/pkg/herald.css",
            "/favicon.svg",
            "/pkg/herald.short.js",
            "/pkg/Zk3v8uK2-Qm_7xYtR1sN0a.js",
            "/api/v1/x.Zk3v8uK2-Qm_7xYtR1sN0a.js",
        ] {
            assert!(!is_content_hashed(path), "{path}");
        }
    }

    #[test]
    fn only_the_sites_own_files_may_be_cached() {
        for path in ["/pkg/herald.wasm", "/pkg/herald.js", "/favicon.svg"] {
            assert!(is_static_file(path), "{path}");
        }
        for path in [
            "/",
            "/endpoints/ep_1",
            "/api/v1/endpoints/ep_1/secret",
            "/api/v1/openapi.json",
            "/_fn/reveal_secret",
            "/healthz",
            "/login",
        ] {
            assert!(!is_static_file(path), "{path}");
        }
    }
}
