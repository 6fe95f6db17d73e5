//! Forgotten password (flow 13) under `/api/v1`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::context::Origin;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// The address to send a reset link to.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordResetRequest {
    pub email: String,
}

/// The answer to every reset request, whether or not the address has an account.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PasswordResetAccepted {
    /// Always `check_email`.
    pub next: String,
}

/// The new password.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewPassword {
    pub password: String,
}

/// Emails a single-use, 30-minute link to choose a new password, if the
/// address has an account; the answer is the same if not.
#[utoipa::path(post, path = "/api/v1/password-resets", tag = "self",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "Check your email", body = PasswordResetAccepted),
        (status = 422, description = "Not an email address", body = Problem,
            content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts; see `Retry-After`", body = Problem,
            content_type = "application/problem+json"),
    ))]
pub(crate) async fn request(
    State(state): State<AppState>,
    Origin(context): Origin,
    body: Result<Json<PasswordResetRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<PasswordResetAccepted>), ApiError> {
    let Json(body) = body?;
    state
        .rate_limits
        .password_reset_request(context.ip.as_deref(), &body.email)?;
    state
        .services
        .request_password_reset(&body.email, &context)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(PasswordResetAccepted {
            next: "check_email".into(),
        }),
    ))
}

/// Sets a new password with the emailed link's token; ends every session
/// of the account.
#[utoipa::path(post, path = "/api/v1/password-resets/{token}", tag = "self",
    request_body = NewPassword,
    params(("token" = String, Path, description = "The token of the emailed link")),
    responses(
        (status = 204, description = "The password is changed"),
        (status = 410, description = "The link is unknown, used or expired", body = Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "The password breaks a rule", body = Problem,
            content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts; see `Retry-After`", body = Problem,
            content_type = "application/problem+json"),
    ))]
pub(crate) async fn reset(
    State(state): State<AppState>,
    Origin(context): Origin,
    Path(token): Path<String>,
    body: Result<Json<NewPassword>, axum::extract::rejection::JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(body) = body?;
    state.rate_limits.emailed_link(context.ip.as_deref())?;
    state
        .services
        .reset_password(&token, &body.password, &context)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
