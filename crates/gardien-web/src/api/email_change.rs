//! Changing the login email (flow 12): request with the current password,
//! then confirmation with the link sent to the new address.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::context::Origin;
use crate::error::{ApiError, Problem};
use crate::session::SignedIn;
use crate::state::AppState;

/// A request to change the login email.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EmailChangeBody {
    /// The address that should become the login email.
    pub new_email: String,
    /// The account's current password.
    pub current_password: String,
}

/// The login email after a confirmed change.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EmailChangedBody {
    pub email: String,
}

/// Asks to change the login email: a link goes to the new address, and the
/// login email changes only when it is opened. The answer is the same
/// whether the new address has an account or not.
#[utoipa::path(post, path = "/api/v1/me/email", tag = "self", request_body = EmailChangeBody,
    responses(
        (status = 202, description = "A confirmation link was sent to the new address"),
        (status = 401, description = "No session", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Malformed new address, the current one, or a wrong password", body = Problem,
            content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn request(
    State(state): State<AppState>,
    Origin(context): Origin,
    SignedIn(current): SignedIn,
    body: Result<Json<EmailChangeBody>, axum::extract::rejection::JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(body) = body?;
    // It asks the password: guesses through a stolen session count as logins.
    state
        .rate_limits
        .login(context.ip.as_deref(), current.account.email.as_str())?;
    state
        .services
        .request_email_change(&current, &body.new_email, &body.current_password, &context)
        .await?;
    Ok(StatusCode::ACCEPTED)
}

/// Confirms a login email change with the token of the emailed link.
#[utoipa::path(post, path = "/api/v1/email-changes/{token}", tag = "self",
    params(("token" = String, Path, description = "The token of the emailed link")),
    responses(
        (status = 200, description = "The login email changed; the old address was told", body = EmailChangedBody),
        (status = 409, description = "The address got an account since the request", body = Problem,
            content_type = "application/problem+json"),
        (status = 410, description = "Unknown, used or expired link", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn confirm(
    State(state): State<AppState>,
    Origin(context): Origin,
    Path(token): Path<String>,
) -> Result<Json<EmailChangedBody>, ApiError> {
    state.rate_limits.emailed_link(context.ip.as_deref())?;
    let email = state
        .services
        .confirm_email_change(&token, &context)
        .await?;
    Ok(Json(EmailChangedBody {
        email: email.as_str().to_owned(),
    }))
}
