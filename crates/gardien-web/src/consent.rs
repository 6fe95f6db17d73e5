//! The privacy-policy gate (flow 7): a signed-in person who has not accepted
//! the deployment's current policy reaches nothing but the consent page, the
//! policy, logout and the few documents every page needs. Pages redirect to
//! `/consent?return_to=…`; the API answers 403 `consent-required`.

use axum::extract::{FromRequestParts, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::error::ApiError;
use crate::session::MaybeSignedIn;

/// Paths reachable before accepting (exact, or a prefix ending in `/`).
const OPEN_PATHS: &[&str] = &[
    "/consent",
    "/privacy",
    "/logout",
    "/language",
    "/healthz",
    "/readyz",
    "/static/",
    "/api/v1/me/consent",
    "/api/v1/logout",
    "/api/v1/csrf-token",
    "/api/v1/openapi.json",
    "/api/v1/session/introspect",
];

fn is_open(path: &str) -> bool {
    OPEN_PATHS.iter().any(|open| {
        if open.ends_with('/') {
            path.starts_with(open)
        } else {
            path == *open
        }
    })
}

/// Middleware: see the module documentation.
pub(crate) async fn require(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if is_open(path) {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let required = matches!(
        MaybeSignedIn::from_request_parts(&mut parts, &()).await,
        Ok(MaybeSignedIn(Some(current))) if current.consent_required
    );
    if !required {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let path = parts.uri.path();
    if path == "/api" || path.starts_with("/api/") {
        return ApiError::consent_required().into_response();
    }
    let back = if parts.method == Method::GET {
        parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into())
    } else {
        "/".into()
    };
    let target = format!("/consent?return_to={}", encode(&back));
    Redirect::to(&target).into_response()
}

/// Percent-encodes a path for a query value.
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_consent_page_and_its_needs_are_open() {
        assert!(is_open("/consent"));
        assert!(is_open("/static/gardien.css"));
        assert!(is_open("/api/v1/me/consent"));
        assert!(!is_open("/"));
        assert!(!is_open("/consentx"));
        assert!(!is_open("/api/v1/me"));
        assert!(!is_open("/select-organization"));
    }

    #[test]
    fn return_paths_are_encoded() {
        assert_eq!(encode("/o/1/team?x=a&b"), "/o/1/team%3Fx%3Da%26b");
    }
}
