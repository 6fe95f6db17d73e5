//! The tower layers every request goes through, and their order.

use std::any::Any;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::{Level, Span};

use crate::error::ApiError;
use crate::state::AppState;
use crate::{consent, csrf, error, i18n, pages, session};

/// How long a request may take before it is answered 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; frame-ancestors 'none'; \
     form-action 'self'; base-uri 'none'; object-src 'none'";
/// The policy of a page whose form may end, through redirects, at an OpenID
/// Connect client's registered redirect URI (the login and the organization
/// picker of an authorization request, the consent and logout pages):
/// browsers apply `form-action` to every redirect that follows the post, so
/// `'self'` would stop the person on Gardien. The forms themselves post to
/// Gardien, and scripts stay limited to `'self'`.
pub(crate) const CSP_LEADING_TO_CLIENT: &str =
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";
const PERMISSIONS_POLICY: &str =
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()";
const HSTS: &str = "max-age=63072000";

/// Wraps `routes` in the layers, outermost first:
/// request id → trace → propagate id → security headers → session → language →
/// flash →
/// error rendering → panic catching → timeout → CSRF → privacy-policy gate →
/// handler.
/// Error rendering sits inside the language layer (it localizes) and outside
/// everything that can fail (panics, timeouts, CSRF refusals).
pub(crate) fn apply(routes: Router<AppState>, state: AppState) -> Router<AppState> {
    let secure = state.settings.is_https();
    let layers = ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(make_span)
                .on_request(())
                .on_response(on_response)
                .on_failure(DefaultOnFailure::new().level(Level::ERROR)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(from_fn_with_state(state.clone(), security_headers))
        .layer(from_fn_with_state(state.clone(), session::load))
        .layer(from_fn(move |request: Request, next: Next| {
            i18n::negotiate(secure, request, next)
        }))
        .layer(from_fn(pages::flash::clear_shown))
        .layer(from_fn(error::render))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .layer(from_fn_with_state(state, csrf::protect))
        .layer(from_fn(consent::require));
    routes.layer(layers)
}

/// The layers of the check API (`api::checks::key_routes`), which a host's
/// back end calls on each of its own requests: request id → trace (a span
/// and a line per answer only at DEBUG; refusals at INFO) → propagate id →
/// the API's security headers → language → error rendering → panic
/// catching → timeout. No session, flash, CSRF or consent layer: these
/// routes take an API key (`Authorization: Bearer`), never a cookie.
///
/// The span is at DEBUG because, at INFO, the log formatter would format
/// its fields for every request even though no line is written (a fifth of
/// a check's time, measured with `perf`; bench/README.md).
pub(crate) fn apply_lean(routes: Router<AppState>, state: AppState) -> Router<AppState> {
    let secure = state.settings.is_https();
    let layers = ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(make_check_span)
                .on_request(())
                .on_response(on_check_response)
                .on_failure(DefaultOnFailure::new().level(Level::ERROR)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(from_fn(move |request: Request, next: Next| {
            api_security_headers(secure, request, next)
        }))
        .layer(from_fn(move |request: Request, next: Next| {
            i18n::negotiate(secure, request, next)
        }))
        .layer(from_fn(error::render))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ));
    routes.layer(layers)
}

/// A span's fields: the matched route, never the raw URI, whose path or
/// query may hold a token; and the request id.
fn route_and_request_id(request: &Request) -> (&str, &str) {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .unwrap_or("<unmatched>");
    (route, request_id(request.headers()))
}

/// The `x-request-id` of a request or response, empty when absent.
fn request_id(headers: &axum::http::HeaderMap) -> &str {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The span of a check request, at DEBUG (see [`apply_lean`]).
fn make_check_span(request: &Request) -> Span {
    let (route, request_id) = route_and_request_id(request);
    tracing::debug_span!(
        "request",
        method = %request.method(),
        route,
        request_id,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    )
}

/// Middleware: the security headers of a JSON response to a machine
/// (OWASP's REST cheat sheet): never cached, never sniffed, never framed,
/// HSTS over HTTPS. The document-only headers of pages (referrer,
/// permissions and opener policies) would only add bytes to every check.
async fn api_security_headers(secure: bool, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if secure {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    response
}

/// A check answered: tens of thousands a second, so one line each only at
/// DEBUG; a refusal (bad key, bad input) at INFO.
fn on_check_response(response: &Response, latency: Duration, span: &Span) {
    let status = response.status().as_u16();
    let latency_ms = latency.as_millis() as u64;
    span.record("status", status);
    span.record("latency_ms", latency_ms);
    if status >= 400 {
        // The span is off at INFO: the line carries the request id itself.
        let request_id = request_id(response.headers());
        tracing::info!(status, latency_ms, request_id, "check refused");
    } else {
        tracing::debug!(status, latency_ms, "response");
    }
}

/// The span of a request (see [`route_and_request_id`]).
fn make_span(request: &Request) -> Span {
    let (route, request_id) = route_and_request_id(request);
    tracing::info_span!(
        "request",
        method = %request.method(),
        route,
        request_id,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    )
}

fn on_response(response: &Response, latency: Duration, span: &Span) {
    let status = response.status().as_u16();
    let latency_ms = latency.as_millis() as u64;
    span.record("status", status);
    span.record("latency_ms", latency_ms);
    tracing::info!(status, latency_ms, "response");
}

fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %message, "handler panicked");
    ApiError::internal().into_response()
}

/// Middleware: the security headers of every response (those a response
/// already has, such as a stylesheet's `Cache-Control`, are kept).
async fn security_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    // Not `no-referrer`: with it, browsers send `Origin: null` on same-origin
    // form posts, which would defeat the Origin check of the CSRF layer.
    set(header::REFERRER_POLICY, "strict-origin-when-cross-origin");
    set(
        HeaderName::from_static("permissions-policy"),
        PERMISSIONS_POLICY,
    );
    set(
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    // Pages hold personal data and CSRF tokens: no caching unless a handler
    // says otherwise.
    set(header::CACHE_CONTROL, "no-store");
    if state.settings.is_https() {
        set(header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    response
}
