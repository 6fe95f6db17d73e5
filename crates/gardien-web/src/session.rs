//! The session cookie and the [`SignedIn`] extractor.
//!
//! A layer (outside the language layer) loads the session of the request's
//! cookie once, through `gardien-service`, which refuses revoked, expired
//! and idle sessions and those whose membership is no longer active. It
//! puts the result and the account's language ([`AccountLanguage`]) in the
//! request's extensions, where extractors read it.
//!
//! The cookie is `__Host-gardien_session` over https (pinned to this host
//! and path, `Secure`), `gardien_session` on plain http (local use, tests).

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use gardien_core::Token;
use gardien_service::{CurrentSession, ServiceError};

use crate::error::ApiError;
use crate::i18n::AccountLanguage;
use crate::state::{AppState, WebSettings};

/// The cookie name over https.
pub const SECURE_COOKIE: &str = "__Host-gardien_session";
/// The cookie name over plain http.
pub const PLAIN_COOKIE: &str = "gardien_session";

pub(crate) fn cookie_name(settings: &WebSettings) -> &'static str {
    if settings.is_https() {
        SECURE_COOKIE
    } else {
        PLAIN_COOKIE
    }
}

/// The cookie that carries a new session's token.
pub(crate) fn session_cookie(settings: &WebSettings, token: &Token) -> Cookie<'static> {
    Cookie::build((cookie_name(settings), token.expose().to_owned()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .secure(settings.is_https())
        .build()
}

/// The cookie that makes the browser forget its session.
pub(crate) fn removal_cookie(settings: &WebSettings) -> Cookie<'static> {
    let mut cookie = session_cookie(settings, &Token::from_random_bytes([0; 32]));
    cookie.set_value("");
    cookie.make_removal();
    cookie
}

/// What the layer found for this request.
#[derive(Clone)]
enum Lookup {
    None,
    Live(Box<CurrentSession>),
    /// The store failed: not "logged out", but "try again".
    Failed,
}

/// The layer: loads the request's session once.
pub(crate) async fn load(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let jar = CookieJar::from_headers(request.headers());
    let lookup = match jar.get(cookie_name(&state.settings)) {
        None => Lookup::None,
        Some(cookie) => match state.services.current_session(cookie.value()).await {
            Ok(current) => Lookup::Live(Box::new(current)),
            Err(ServiceError::Unauthenticated) => Lookup::None,
            Err(error) => {
                tracing::error!(%error, "loading the session failed");
                Lookup::Failed
            }
        },
    };
    if let Lookup::Live(current) = &lookup {
        request
            .extensions_mut()
            .insert(AccountLanguage(current.account.language));
    }
    request.extensions_mut().insert(lookup);
    next.run(request).await
}

/// The live session the layer found, if any (for the page layout).
pub(crate) fn live_session(parts: &Parts) -> Option<&CurrentSession> {
    match parts.extensions.get::<Lookup>() {
        Some(Lookup::Live(current)) => Some(current),
        _ => None,
    }
}

/// A request with a live session (an extractor); without one, 401.
#[derive(Debug, Clone)]
pub struct SignedIn(pub CurrentSession);

/// The live session, if any (an extractor that only fails on outages).
#[derive(Debug, Clone)]
pub struct MaybeSignedIn(pub Option<CurrentSession>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeSignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Lookup>() {
            Some(Lookup::Live(current)) => Ok(Self(Some((**current).clone()))),
            Some(Lookup::None) => Ok(Self(None)),
            Some(Lookup::Failed) => Err(ApiError::unavailable()),
            None => {
                tracing::error!("session extractor used on a route without the session layer");
                Err(ApiError::internal())
            }
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        MaybeSignedIn::from_request_parts(parts, state)
            .await?
            .0
            .map(SignedIn)
            .ok_or_else(ApiError::unauthorized)
    }
}
