//! Protection against cross-site request forgery: signed double-submit tokens.
//!
//! Each browser holds a random value in a cookie; forms carry
//! `csrf_token = base64url(HMAC-SHA256(secret_key, value))` (and `fetch` calls
//! the `x-csrf-token` header). A state-changing request (POST, PUT, PATCH,
//! DELETE) must present the token of its own cookie. The HMAC means an
//! attacker able to plant a cookie (from a sibling subdomain, say) still
//! cannot forge the matching token without the server's key.
//!
//! The cookie is `__Host-csrf` when Gardien is served over https: the prefix
//! pins it to this host and path `/`. Browsers refuse `__Host-` cookies that
//! are not `Secure`, and `Secure` cookies are not kept over plain http, so on
//! http (local use, tests) the cookie is named `gardien_csrf` instead.
//!
//! Requests authenticated by `Authorization: Bearer` (API keys) carry no
//! ambient credentials and are exempt. As defence in depth, requests a
//! browser marks as cross-site (`Sec-Fetch-Site`, `Origin`) are refused first.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use askama::filters::Safe;
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use axum::Form;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use serde::Deserialize;
use sha2::Sha256;

use crate::error::ApiError;
use crate::state::{AppState, WebSettings};

/// The form field carrying the token.
pub const FORM_FIELD: &str = "csrf_token";
/// The header carrying the token for `fetch` calls.
pub const HEADER: &str = "x-csrf-token";
/// The cookie name over https.
pub const SECURE_COOKIE: &str = "__Host-csrf";
/// The cookie name over plain http (see the module documentation).
pub const PLAIN_COOKIE: &str = "gardien_csrf";

const FORM_LIMIT: usize = 1024 * 1024;
const MULTIPART_LIMIT: usize = 16 * 1024 * 1024;

/// Why a request was refused; each has its own localized message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsrfReason {
    /// The browser says the request comes from another site.
    CrossSite,
    /// No CSRF cookie (cookies off, or the page is older than the cookie).
    MissingCookie,
    /// No token in the form or header.
    MissingToken,
    /// A token that does not belong to this browser's cookie.
    InvalidToken,
}

impl CsrfReason {
    pub(crate) fn message_key(self) -> &'static str {
        match self {
            Self::CrossSite => "problem-csrf-cross-site",
            Self::MissingCookie => "problem-csrf-missing-cookie",
            Self::MissingToken | Self::InvalidToken => "problem-csrf-invalid-token",
        }
    }
}

/// The token of the current browser, for forms (an extractor). Using it makes
/// sure the browser receives the cookie it belongs to.
#[derive(Debug, Clone)]
pub struct CsrfToken {
    token: String,
    used: Arc<AtomicBool>,
}

impl CsrfToken {
    /// The token itself (for the `x-csrf-token` header of `fetch` calls).
    pub fn value(&self) -> &str {
        self.used.store(true, Ordering::Relaxed);
        &self.token
    }

    /// The hidden form field: `{{ csrf.field() }}` inside a `<form>`.
    pub fn field(&self) -> Safe<String> {
        // The token is base64url: nothing to escape.
        Safe(format!(
            r#"<input type="hidden" name="{FORM_FIELD}" value="{}">"#,
            self.value()
        ))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<CsrfToken>().cloned().ok_or_else(|| {
            tracing::error!("CsrfToken used on a route without the csrf layer");
            ApiError::internal()
        })
    }
}

/// The token for a cookie value.
fn sign(key: &[u8; 32], cookie_value: &str) -> String {
    URL_SAFE_NO_PAD.encode(mac(key, cookie_value).finalize().into_bytes())
}

fn mac(key: &[u8; 32], cookie_value: &str) -> Hmac<Sha256> {
    // HMAC accepts keys of any length: this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(cookie_value.as_bytes());
    mac
}

/// Whether `token` is the token of `cookie_value`, compared in constant time.
fn verify(key: &[u8; 32], cookie_value: &str, token: &str) -> bool {
    match URL_SAFE_NO_PAD.decode(token.trim()) {
        Ok(bytes) => mac(key, cookie_value).verify_slice(&bytes).is_ok(),
        Err(_) => false,
    }
}

fn cookie_name(settings: &WebSettings) -> &'static str {
    if settings.is_https() {
        SECURE_COOKIE
    } else {
        PLAIN_COOKIE
    }
}

fn new_cookie_value() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A cookie value as we issue them (43 base64url characters), else `None`.
fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    let jar = CookieJar::from_headers(headers);
    let value = jar.get(name)?.value();
    let valid = value.len() == 43 && URL_SAFE_NO_PAD.decode(value).is_ok_and(|b| b.len() == 32);
    valid.then(|| value.to_owned())
}

fn is_state_changing(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

fn has_bearer(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.get(..7))
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("bearer "))
}

/// Whether the browser tells us the request comes from another site.
fn is_cross_site(headers: &HeaderMap, settings: &WebSettings) -> bool {
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if fetch_site == Some("cross-site") {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    // `null` comes from sandboxed frames, data: URLs and the like; our own
    // pages send their origin (Referrer-Policy strict-origin-when-cross-origin).
    let Some((_, authority)) = origin.split_once("://") else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let same_as_host = host.is_some_and(|host| host.eq_ignore_ascii_case(authority));
    let same_as_public = settings
        .public_authority()
        .is_some_and(|public| public.eq_ignore_ascii_case(authority));
    !(same_as_host || same_as_public)
}

#[derive(Deserialize)]
struct TokenField {
    csrf_token: Option<String>,
}

/// The token presented by a request: header, else form field. Returns the
/// request rebuilt with its body, which had to be read for a form.
async fn presented_token(request: Request) -> Result<(Option<String>, Request), ApiError> {
    if let Some(token) = request.headers().get(HEADER).and_then(|v| v.to_str().ok()) {
        let token = token.to_owned();
        return Ok((Some(token), request));
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let content_type = content_type.to_ascii_lowercase();
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    let is_multipart = content_type.starts_with("multipart/form-data");
    if !is_form && !is_multipart {
        return Ok((None, request));
    }
    let (parts, body) = request.into_parts();
    let limit = if is_form { FORM_LIMIT } else { MULTIPART_LIMIT };
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::body_too_large())?;
    let token = if is_form {
        let probe = Request::from_parts(parts.clone(), Body::from(bytes.clone()));
        Form::<TokenField>::from_request(probe, &())
            .await
            .ok()
            .and_then(|f| f.0.csrf_token)
    } else {
        multipart_field(&bytes, FORM_FIELD)
    };
    Ok((token, Request::from_parts(parts, Body::from(bytes))))
}

/// The value of a small text part of a multipart body (forms put the hidden
/// field first, so this finds it without a full multipart parser).
fn multipart_field(body: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(body.get(..body.len().min(64 * 1024))?);
    let marker = format!("name=\"{name}\"");
    let after = &text[text.find(&marker)? + marker.len()..];
    let value = &after[after.find("\r\n\r\n")? + 4..];
    Some(value[..value.find("\r\n")?].trim().to_owned())
}

/// Middleware: refuses forged state-changing requests and gives handlers the
/// browser's [`CsrfToken`], issuing the cookie when a page uses it first.
pub(crate) async fn protect(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let settings = &state.settings;
    let name = cookie_name(settings);
    let existing = cookie_value(request.headers(), name);

    let mut request = request;
    if is_state_changing(request.method()) && !has_bearer(request.headers()) {
        if is_cross_site(request.headers(), settings) {
            return Err(ApiError::csrf(CsrfReason::CrossSite));
        }
        let Some(cookie_value) = existing.as_deref() else {
            return Err(ApiError::csrf(CsrfReason::MissingCookie));
        };
        let (token, rebuilt) = presented_token(request).await?;
        request = rebuilt;
        match token {
            None => return Err(ApiError::csrf(CsrfReason::MissingToken)),
            Some(token) if !verify(&settings.secret_key, cookie_value, &token) => {
                return Err(ApiError::csrf(CsrfReason::InvalidToken))
            }
            Some(_) => {}
        }
    }

    let is_new = existing.is_none();
    let value = existing.unwrap_or_else(new_cookie_value);
    let used = Arc::new(AtomicBool::new(false));
    let token = CsrfToken {
        token: sign(&settings.secret_key, &value),
        used: used.clone(),
    };
    request.extensions_mut().insert(token);

    let mut response = next.run(request).await;
    if is_new && used.load(Ordering::Relaxed) {
        let cookie = Cookie::build((name, value))
            .path("/")
            .http_only(true)
            .secure(settings.is_https())
            .same_site(SameSite::Lax)
            .build();
        if let Ok(header_value) = HeaderValue::from_str(&cookie.to_string()) {
            response
                .headers_mut()
                .append(header::SET_COOKIE, header_value);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn a_token_verifies_only_against_its_own_cookie() {
        let value = new_cookie_value();
        let token = sign(&KEY, &value);
        assert!(verify(&KEY, &value, &token));
        assert!(!verify(&KEY, &new_cookie_value(), &token));
        assert!(!verify(&[8; 32], &value, &token));
        assert!(!verify(&KEY, &value, "not base64 !"));
        assert!(!verify(&KEY, &value, ""));
    }

    #[test]
    fn finds_the_token_in_a_multipart_body() {
        let body =
            "--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nabc\r\n--b--\r\n";
        assert_eq!(
            multipart_field(body.as_bytes(), FORM_FIELD).as_deref(),
            Some("abc")
        );
        assert_eq!(multipart_field(b"garbage", FORM_FIELD), None);
    }

    #[test]
    fn origin_of_another_site_is_cross_site() {
        let settings = WebSettings {
            public_url: "https://team.example.com".into(),
            secret_key: KEY,
            trusted_proxies: Vec::new(),
        };
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(!is_cross_site(&headers, &settings));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(!is_cross_site(&headers, &settings));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://team.example.com"),
        );
        assert!(!is_cross_site(&headers, &settings));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(is_cross_site(&headers, &settings));
        headers.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(is_cross_site(&headers, &settings));
        headers.remove(header::ORIGIN);
        headers.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(is_cross_site(&headers, &settings));
    }
}
