//! The OpenID Connect provider's endpoints (see `gardien-oidc` for the
//! rules and `gardien-service`'s `oidc.rs` for the flow).
//!
//! Two families, on the two layer stacks of [`crate::router`]:
//! - the browser's: `GET /oidc/authorize` (through Gardien's login and
//!   organization picker), the consent form and RP-initiated logout — with
//!   the session, CSRF protection and pages;
//! - the client back end's: discovery, JWKS, token, userinfo, revocation and
//!   introspection — JSON, no cookie, no CSRF token (clients authenticate
//!   with their secret or a bearer token), `Cache-Control: no-store`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use gardien_oidc::discovery;
use gardien_oidc::request::{AuthorizeParams, Rejection};
use gardien_oidc::{ErrorCode, OAuthError};
use gardien_service::{
    AuthorizeStep, ClientCredentials, ConsentView, LogoutParams, LogoutStep, OidcFailure,
    TokenRequest,
};
use serde::Deserialize;

use crate::context::Origin;
use crate::csrf::CsrfToken;
use crate::error::ApiError;
use crate::pages::{render, PageContext};
use crate::session::{removal_cookie, MaybeSignedIn};
use crate::state::AppState;

/// The routes a browser visits (full stack: session, CSRF, pages).
pub(crate) fn browser_routes() -> Router<AppState> {
    Router::new()
        .route(discovery::AUTHORIZE, get(authorize))
        .route("/oidc/authorize/consent", post(consent))
        .route(discovery::LOGOUT, get(logout).post(logout_confirmed))
}

/// The routes a client's back end calls (lean stack). A browser
/// application (a public client) calls them too, from its own origin: CORS
/// lets any origin in, without credentials — these routes never read a
/// cookie, so no other site can act with the visitor's session through them.
pub(crate) fn back_channel_routes() -> Router<AppState> {
    let cors = tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]);
    Router::new()
        .route("/.well-known/openid-configuration", get(metadata))
        .route(discovery::JWKS, get(jwks))
        .route(discovery::TOKEN, post(token))
        .route(discovery::USERINFO, get(userinfo).post(userinfo))
        .route(discovery::REVOKE, post(revoke))
        .route(discovery::INTROSPECT, post(introspect))
        .layer(cors)
}

#[derive(Template)]
#[template(path = "oidc_refused.html")]
struct RefusedPage {
    page: PageContext,
    reason: String,
}

#[derive(Template)]
#[template(path = "oidc_consent.html")]
struct ConsentPage {
    page: PageContext,
    csrf: CsrfToken,
    view: ConsentView,
    /// The request's parameters, carried through the form.
    fields: Vec<(&'static str, String)>,
}

impl ConsentPage {
    fn scope_label(&self, scope: &str) -> String {
        self.page
            .t
            .get(&format!("oidc-scope-{}", scope.replace('_', "-")))
    }
}

#[derive(Template)]
#[template(path = "oidc_logout.html")]
struct LogoutPage {
    page: PageContext,
    csrf: CsrfToken,
    fields: Vec<(&'static str, String)>,
}

fn refused_page(page: PageContext, reason: String) -> Result<Response, ApiError> {
    let html = render(&RefusedPage { page, reason })?;
    Ok((StatusCode::BAD_REQUEST, html).into_response())
}

/// The authorization request's parameters as a list, for a form or a URL.
fn authorize_fields(params: &AuthorizeParams) -> Vec<(&'static str, String)> {
    let p = params.clone();
    [
        ("response_type", p.response_type),
        ("client_id", p.client_id),
        ("redirect_uri", p.redirect_uri),
        ("scope", p.scope),
        ("state", p.state),
        ("nonce", p.nonce),
        ("code_challenge", p.code_challenge),
        ("code_challenge_method", p.code_challenge_method),
        ("prompt", p.prompt),
        ("max_age", p.max_age),
        ("response_mode", p.response_mode),
        ("organization", p.organization),
        ("login_hint", p.login_hint),
        ("ui_locales", p.ui_locales),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.map(|v| (name, v)))
    .collect()
}

/// This request again, without what the person already answered
/// (`prompt`, which would send them to the login or the picker forever).
fn authorize_again(params: &AuthorizeParams) -> String {
    let mut again = params.clone();
    again.prompt = None;
    again.max_age = None;
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(authorize_fields(&again))
        .finish();
    format!("{}?{query}", discovery::AUTHORIZE)
}

fn to_client(redirect_uri: &str, state: Option<&str>, error: &OAuthError, issuer: &str) -> String {
    let mut pairs = vec![
        ("error", error.code.as_str()),
        ("error_description", error.description.as_str()),
    ];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    pairs.push(("iss", issuer));
    gardien_oidc::client::with_query(redirect_uri, &pairs)
}

fn step_response(
    state: &AppState,
    page: PageContext,
    csrf: CsrfToken,
    params: &AuthorizeParams,
    step: AuthorizeStep,
) -> Result<Response, ApiError> {
    match step {
        AuthorizeStep::Redirect(to) => Ok(Redirect::to(&to).into_response()),
        AuthorizeStep::Refused(Rejection::Page(reason)) => refused_page(page, reason),
        AuthorizeStep::Refused(Rejection::Redirect {
            redirect_uri,
            state: client_state,
            error,
        }) => Ok(Redirect::to(&to_client(
            &redirect_uri,
            client_state.as_deref(),
            &error,
            state.services.oidc_issuer(),
        ))
        .into_response()),
        AuthorizeStep::LogIn => Ok(Redirect::to(&crate::pages::login_then(Some(
            &authorize_again(params),
        )))
        .into_response()),
        AuthorizeStep::PickOrganization => {
            Ok(Redirect::to(&crate::pages::pick_then(&authorize_again(params))).into_response())
        }
        AuthorizeStep::Consent(view) => {
            Ok(crate::pages::leading_to_client(render(&ConsentPage {
                page,
                csrf,
                view,
                fields: authorize_fields(params),
            })?))
        }
    }
}

async fn authorize(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    Origin(context): Origin,
    signed_in: MaybeSignedIn,
    params: Result<Query<AuthorizeParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Ok(Query(params)) = params else {
        return refused_page(page, "the authorization request cannot be read".into());
    };
    let step = state
        .services
        .oidc_authorize(&params, signed_in.0.as_ref(), false, &context)
        .await?;
    step_response(&state, page, csrf, &params, step)
}

#[derive(Deserialize)]
struct ConsentForm {
    #[serde(flatten)]
    params: AuthorizeParams,
    decision: String,
}

async fn consent(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    Origin(context): Origin,
    signed_in: MaybeSignedIn,
    form: Result<Form<ConsentForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Ok(Form(form)) = form else {
        return refused_page(page, "the consent form cannot be read".into());
    };
    let step = if form.decision == "allow" {
        state
            .services
            .oidc_authorize(&form.params, signed_in.0.as_ref(), true, &context)
            .await?
    } else {
        state.services.oidc_deny(&form.params).await?
    };
    step_response(&state, page, csrf, &form.params, step)
}

fn logout_fields(params: &LogoutParams) -> Vec<(&'static str, String)> {
    let p = params.clone();
    [
        ("post_logout_redirect_uri", p.post_logout_redirect_uri),
        ("state", p.state),
        ("client_id", p.client_id),
        ("ui_locales", p.ui_locales),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.map(|v| (name, v)))
    .collect()
}

/// What both logout handlers take from the request.
struct LogoutRequest {
    page: PageContext,
    csrf: CsrfToken,
    context: gardien_core::audit::RequestContext,
    signed_in: MaybeSignedIn,
    jar: axum_extra::extract::CookieJar,
}

async fn run_logout(
    state: &AppState,
    request: LogoutRequest,
    params: LogoutParams,
    confirmed: bool,
) -> Result<Response, ApiError> {
    let LogoutRequest {
        page,
        csrf,
        context,
        signed_in,
        jar,
    } = request;
    let step = state
        .services
        .oidc_logout(&params, signed_in.0.as_ref(), confirmed, &context)
        .await?;
    match step {
        LogoutStep::Refused(reason) => refused_page(page, reason),
        LogoutStep::Confirm => Ok(crate::pages::leading_to_client(render(&LogoutPage {
            page,
            csrf,
            fields: logout_fields(&params),
        })?)),
        LogoutStep::Done(to) => {
            let jar = jar.add(removal_cookie(&state.settings));
            let to = to.unwrap_or_else(|| "/login".to_owned());
            Ok((jar, Redirect::to(&to)).into_response())
        }
    }
}

async fn logout(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    Origin(context): Origin,
    signed_in: MaybeSignedIn,
    jar: axum_extra::extract::CookieJar,
    params: Result<Query<LogoutParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Ok(Query(params)) = params else {
        return refused_page(page, "the logout request cannot be read".into());
    };
    let request = LogoutRequest {
        page,
        csrf,
        context,
        signed_in,
        jar,
    };
    run_logout(&state, request, params, false).await
}

async fn logout_confirmed(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    Origin(context): Origin,
    signed_in: MaybeSignedIn,
    jar: axum_extra::extract::CookieJar,
    form: Result<Form<LogoutParams>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Ok(Form(mut params)) = form else {
        return refused_page(page, "the logout form cannot be read".into());
    };
    // The confirmation form never carries a hint: the person said yes.
    params.id_token_hint = None;
    let request = LogoutRequest {
        page,
        csrf,
        context,
        signed_in,
        jar,
    };
    run_logout(&state, request, params, true).await
}

// ---- back channel ----

/// An OAuth error as RFC 6749 §5.2 sends it.
fn oauth_error(error: &OAuthError, basic_used: bool) -> Response {
    let status = match error.code {
        ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
        ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
        _ => StatusCode::BAD_REQUEST,
    };
    let body = serde_json::json!({
        "error": error.code.as_str(),
        "error_description": error.description,
    });
    let mut response = (status, Json(body)).into_response();
    response
        .extensions_mut()
        .insert(crate::error::SpecifiedBody);
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if error.code == ErrorCode::InvalidClient && basic_used {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"gardien\""),
        );
    }
    if error.code == ErrorCode::InvalidToken {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
    }
    response
}

fn failure(failure: OidcFailure, basic_used: bool) -> Result<Response, ApiError> {
    match failure {
        OidcFailure::OAuth(error) => Ok(oauth_error(&error, basic_used)),
        OidcFailure::Service(error) => Err(error.into()),
    }
}

/// `Authorization: Basic` credentials (RFC 6749 §2.3.1: each part is
/// form-urlencoded before base64).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| -> String {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}

fn credentials(
    headers: &HeaderMap,
    id: Option<String>,
    secret: Option<String>,
) -> ClientCredentials {
    ClientCredentials {
        basic: basic_credentials(headers),
        form_id: id.filter(|s| !s.is_empty()),
        form_secret: secret.filter(|s| !s.is_empty()),
    }
}

fn unreadable_form() -> Response {
    oauth_error(
        &OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded parameters",
        ),
        false,
    )
}

async fn metadata(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.services.oidc_metadata())
}

async fn jwks(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(state.services.oidc_jwks().await?))
}

async fn token(
    State(state): State<AppState>,
    Origin(context): Origin,
    headers: HeaderMap,
    form: Result<Form<TokenRequest>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Ok(Form(request)) = form else {
        return Ok(unreadable_form());
    };
    let credentials = credentials(
        &headers,
        request.client_id.clone(),
        request.client_secret.clone(),
    );
    let basic_used = credentials.basic.is_some();
    match state
        .services
        .oidc_token(&credentials, &request, &context)
        .await
    {
        Ok(response) => {
            let mut response = Json(response).into_response();
            response
                .headers_mut()
                .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            Ok(response)
        }
        Err(error) => failure(error, basic_used),
    }
}

#[derive(Deserialize, Default)]
struct UserinfoForm {
    access_token: Option<String>,
}

async fn userinfo(
    State(state): State<AppState>,
    method: axum::http::Method,
    headers: HeaderMap,
    form: Result<Form<UserinfoForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    // A token in the body only (RFC 6750 §2.2), never in the query string,
    // which logs and proxies keep.
    let form = form.ok().filter(|_| method == axum::http::Method::POST);
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").map(str::to_owned));
    let token = bearer.or_else(|| form.and_then(|Form(f)| f.access_token));
    let Some(token) = token else {
        let mut response = StatusCode::UNAUTHORIZED.into_response();
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return Ok(response);
    };
    match state.services.oidc_userinfo(token.trim()).await {
        Ok(claims) => Ok(Json(claims).into_response()),
        Err(error) => failure(error, false),
    }
}

#[derive(Deserialize)]
struct TokenForm {
    token: Option<String>,
    #[allow(dead_code)]
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

async fn revoke(
    State(state): State<AppState>,
    Origin(context): Origin,
    headers: HeaderMap,
    form: Result<Form<TokenForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Ok(Form(form)) = form else {
        return Ok(unreadable_form());
    };
    let credentials = credentials(&headers, form.client_id, form.client_secret);
    let basic_used = credentials.basic.is_some();
    match state
        .services
        .oidc_revoke(&credentials, form.token.as_deref(), &context)
        .await
    {
        Ok(()) => Ok(StatusCode::OK.into_response()),
        Err(error) => failure(error, basic_used),
    }
}

async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<TokenForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Ok(Form(form)) = form else {
        return Ok(unreadable_form());
    };
    let credentials = credentials(&headers, form.client_id, form.client_secret);
    let basic_used = credentials.basic.is_some();
    match state
        .services
        .oidc_introspect(&credentials, form.token.as_deref())
        .await
    {
        Ok(body) => Ok(Json(body).into_response()),
        Err(error) => failure(error, basic_used),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let mut headers = HeaderMap::new();
        let encoded = STANDARD.encode("my%20client:s%3Acret");
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {encoded}")).unwrap(),
        );
        assert_eq!(
            basic_credentials(&headers),
            Some(("my client".to_owned(), "s:cret".to_owned()))
        );
    }

    #[test]
    fn asking_again_drops_the_prompt() {
        let params = AuthorizeParams {
            client_id: Some("c".into()),
            prompt: Some("login".into()),
            state: Some("a&b".into()),
            ..Default::default()
        };
        let again = authorize_again(&params);
        assert_eq!(again, "/oidc/authorize?client_id=c&state=a%26b");
    }
}
