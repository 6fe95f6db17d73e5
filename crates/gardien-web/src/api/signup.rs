//! `POST /api/v1/signup`: create an account and its organization (flow 1).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gardien_service::SignUpForm;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::context::Origin;
use crate::error::{ApiError, Problem};
use crate::i18n::Lang;
use crate::state::AppState;

/// A sign-up.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SignUpBody {
    pub email: String,
    /// 8 to 128 characters; not a common password; not containing the email.
    pub password: String,
    pub first_name: String,
    pub last_name: String,
    pub organization_name: String,
    /// `en` or `fr`; defaults to the request's language.
    #[serde(default)]
    pub language: Option<String>,
}

/// The answer to every valid sign-up, whether or not the address already
/// had an account (nothing tells a stranger who has one).
#[derive(Debug, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct SignUpAccepted {
    /// Always `verify_email`: the next step is the link sent by email.
    pub next: String,
}

/// Signs up: creates the account, an organization whose manager it is, and
/// emails a verification link. If the address already has an account, the
/// answer is the same and its owner is emailed instead.
#[utoipa::path(post, path = "/api/v1/signup", tag = "self", request_body = SignUpBody,
    responses(
        (status = 202, description = "Check your email", body = SignUpAccepted),
        (status = 422, description = "Invalid values, listed by field", body = Problem,
            content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts; see `Retry-After`", body = Problem,
            content_type = "application/problem+json"),
    ))]
pub(crate) async fn sign_up(
    State(state): State<AppState>,
    Lang(language): Lang,
    Origin(context): Origin,
    body: Result<Json<SignUpBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<SignUpAccepted>), ApiError> {
    let Json(body) = body?;
    state
        .rate_limits
        .sign_up(context.ip.as_deref(), &body.email)?;
    let form = SignUpForm {
        email: body.email,
        password: body.password,
        first_name: body.first_name,
        last_name: body.last_name,
        organization_name: body.organization_name,
        language: body.language.unwrap_or_default(),
    };
    state.services.sign_up(&form, language, &context).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(SignUpAccepted {
            next: "verify_email".into(),
        }),
    ))
}
