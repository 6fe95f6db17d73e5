//! The JSON API under `/api/v1` and its OpenAPI document.
//!
//! To add an endpoint: annotate the handler with `#[utoipa::path]`, list it
//! in [`ApiDoc`]'s `paths(...)` (and its bodies in `schemas(...)`), and
//! route it in [`routes`]. Errors are [`crate::ApiError`] (problem JSON).

pub mod health;
pub mod password_reset;
pub mod session;
pub mod signup;

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::csrf::{self, CsrfToken};
use crate::error::{Problem, ProblemFieldError};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(
        health::healthz,
        health::readyz,
        csrf_token,
        openapi_json,
        signup::sign_up,
        session::log_in,
        session::choose_organization,
        session::introspect,
        session::log_out,
        password_reset::request,
        password_reset::reset
    ),
    components(schemas(
        Problem,
        ProblemFieldError,
        health::Health,
        CsrfTokenBody,
        signup::SignUpBody,
        signup::SignUpAccepted,
        session::LoginBody,
        session::ChooseOrganizationBody,
        session::AccountSummary,
        session::OrganizationSummary,
        session::OrganizationChoiceBody,
        session::Introspection,
        session::LoginResult,
        password_reset::PasswordResetRequest,
        password_reset::PasswordResetAccepted,
        password_reset::NewPassword
    )),
    tags(
        (name = "operations", description = "Probes and service documents"),
        (name = "security", description = "Tokens browsers need"),
        (name = "self", description = "A person's own account: sign-up, login, logout, password reset"),
        (name = "host", description = "What the host application asks about its visitors"),
    )
)]
pub struct ApiDoc;

/// The OpenAPI document of the service.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.title = "Gardien".into();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc.info.description = Some(
        "Team and access management for B2B customer portals. Errors are RFC 9457 \
         problem documents (application/problem+json)."
            .into(),
    );
    doc
}

static OPENAPI_JSON: LazyLock<String> =
    LazyLock::new(|| openapi().to_pretty_json().unwrap_or_else(|_| "{}".into()));

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/v1/csrf-token", get(csrf_token))
        .route("/api/v1/signup", post(signup::sign_up))
        .route("/api/v1/login", post(session::log_in))
        .route("/api/v1/logout", post(session::log_out))
        .route(
            "/api/v1/session/organization",
            post(session::choose_organization),
        )
        .route("/api/v1/session/introspect", get(session::introspect))
        .route("/api/v1/password-resets", post(password_reset::request))
        .route(
            "/api/v1/password-resets/{token}",
            post(password_reset::reset),
        )
}

/// The OpenAPI document (this one).
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
async fn openapi_json() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        OPENAPI_JSON.as_str(),
    )
}

/// The CSRF token of this browser.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CsrfTokenBody {
    /// Send it in the `x-csrf-token` header of state-changing requests that
    /// rely on the session cookie (not needed with `Authorization: Bearer`).
    pub token: String,
    /// The header name, `x-csrf-token`.
    pub header: String,
    /// The form field name, `csrf_token`.
    pub field: String,
}

/// The CSRF token for `fetch` calls of a browser front end; sets its cookie.
#[utoipa::path(get, path = "/api/v1/csrf-token", tag = "security",
    responses((status = 200, description = "The token of this browser's CSRF cookie", body = CsrfTokenBody)))]
async fn csrf_token(token: CsrfToken) -> Json<CsrfTokenBody> {
    Json(CsrfTokenBody {
        token: token.value().to_owned(),
        header: csrf::HEADER.into(),
        field: csrf::FORM_FIELD.into(),
    })
}
