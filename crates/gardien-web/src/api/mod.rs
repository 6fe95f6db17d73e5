//! The JSON API under `/api/v1` and its OpenAPI document.
//!
//! To add an endpoint: annotate the handler with `#[utoipa::path]`, list it
//! in [`ApiDoc`]'s `paths(...)` (and its bodies in `schemas(...)`), and
//! route it in [`routes`]. Errors are [`crate::ApiError`] (problem JSON).

pub mod health;

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::csrf::{self, CsrfToken};
use crate::error::{Problem, ProblemFieldError};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(health::healthz, health::readyz, csrf_token, openapi_json),
    components(schemas(Problem, ProblemFieldError, health::Health, CsrfTokenBody)),
    tags(
        (name = "operations", description = "Probes and service documents"),
        (name = "security", description = "Tokens browsers need"),
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
