//! A person's own account under `/api/v1/me`: the privacy policy consent
//! (flow 7), the profile (flow 12) and the password change (flow 13).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::context::Origin;
use crate::error::{ApiError, Problem};
use crate::session::SignedIn;
use crate::state::AppState;

/// The deployment's privacy policy and whether this person accepted it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConsentStatus {
    /// The current version; `null` when no consent is asked.
    pub policy_version: Option<String>,
    /// Where to read the policy.
    pub policy_url: String,
    /// `true` until the current version is accepted: every other call is
    /// refused with `403 consent-required` meanwhile.
    pub required: bool,
}

/// The version accepted: the one the person was shown.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConsentBody {
    pub policy_version: String,
}

fn status(state: &AppState, required: bool) -> ConsentStatus {
    let policy = state.services.privacy_policy();
    ConsentStatus {
        policy_version: policy.version.clone(),
        policy_url: policy.url.clone().unwrap_or_else(|| "/privacy".into()),
        required,
    }
}

/// The current privacy policy and whether it must be accepted.
#[utoipa::path(get, path = "/api/v1/me/consent", tag = "self",
    responses(
        (status = 200, description = "The policy and this person's consent", body = ConsentStatus),
        (status = 401, description = "No session", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn consent(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
) -> Json<ConsentStatus> {
    Json(status(&state, current.consent_required))
}

/// Accepts the current privacy policy (recorded with its version and time).
#[utoipa::path(post, path = "/api/v1/me/consent", tag = "self", request_body = ConsentBody,
    responses(
        (status = 200, description = "Accepted", body = ConsentStatus),
        (status = 401, description = "No session", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not the current version (it changed: read it again)", body = Problem,
            content_type = "application/problem+json"),
    ))]
pub(crate) async fn accept_consent(
    State(state): State<AppState>,
    Origin(context): Origin,
    SignedIn(current): SignedIn,
    body: Result<Json<ConsentBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<ConsentStatus>), ApiError> {
    let Json(body) = body?;
    state
        .services
        .accept_privacy_policy(&current, &body.policy_version, &context)
        .await?;
    Ok((StatusCode::OK, Json(status(&state, false))))
}

/// A person's profile (flow 12). The login email changes only through a
/// confirmed link, not here.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProfileBody {
    pub id: uuid::Uuid,
    /// The login email (read-only here).
    pub email: String,
    pub email_verified: bool,
    pub first_name: String,
    pub last_name: String,
    pub phone: Option<String>,
    pub title: Option<String>,
    /// Where messages go when set; never the login email.
    pub notification_email: Option<String>,
    /// `en` or `fr`.
    pub language: String,
}

/// A change of profile: absent fields are kept; `""` clears an optional one.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ProfilePatchBody {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub title: Option<String>,
    pub notification_email: Option<String>,
    pub language: Option<String>,
}

/// The current and the new password.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordChangeBody {
    pub current_password: String,
    /// 8 to 128 characters; not a common password; not containing the email.
    pub new_password: String,
}

fn profile_body(
    current: &gardien_service::CurrentSession,
    profile: gardien_core::Profile,
) -> ProfileBody {
    ProfileBody {
        id: current.account.id.as_uuid(),
        email: current.account.email.as_str().to_owned(),
        email_verified: current.account.email_verified_at.is_some(),
        first_name: profile.first_name,
        last_name: profile.last_name,
        phone: profile.phone,
        title: profile.title,
        notification_email: profile.notification_email.map(|e| e.as_str().to_owned()),
        language: profile.language.code().to_owned(),
    }
}

/// The profile of the logged-in person.
#[utoipa::path(get, path = "/api/v1/me", tag = "self",
    responses(
        (status = 200, description = "The profile", body = ProfileBody),
        (status = 401, description = "No session", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn profile(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
) -> Result<Json<ProfileBody>, ApiError> {
    let profile = state.services.profile(&current).await?;
    Ok(Json(profile_body(&current, profile)))
}

/// Changes the profile; every invalid field is listed and nothing is saved.
#[utoipa::path(patch, path = "/api/v1/me", tag = "self", request_body = ProfilePatchBody,
    responses(
        (status = 200, description = "The saved profile", body = ProfileBody),
        (status = 401, description = "No session", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values, listed by field", body = Problem,
            content_type = "application/problem+json"),
    ))]
pub(crate) async fn update_profile(
    State(state): State<AppState>,
    Origin(context): Origin,
    SignedIn(current): SignedIn,
    body: Result<Json<ProfilePatchBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<ProfileBody>, ApiError> {
    let Json(body) = body?;
    let patch = gardien_service::ProfilePatch {
        first_name: body.first_name,
        last_name: body.last_name,
        phone: body.phone,
        title: body.title,
        notification_email: body.notification_email,
        language: body.language,
    };
    let profile = state
        .services
        .update_profile(&current, &patch, &context)
        .await?;
    Ok(Json(profile_body(&current, profile)))
}

/// Changes the password (the current one is required); every other session
/// of the account ends, this one stays.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "self", request_body = PasswordChangeBody,
    responses(
        (status = 204, description = "Changed; other sessions ended"),
        (status = 401, description = "No session", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong current password, or the new one breaks a rule", body = Problem,
            content_type = "application/problem+json"),
    ))]
pub(crate) async fn change_password(
    State(state): State<AppState>,
    Origin(context): Origin,
    SignedIn(current): SignedIn,
    body: Result<Json<PasswordChangeBody>, axum::extract::rejection::JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(body) = body?;
    // Guessing the current password through a stolen session counts as logins.
    state
        .rate_limits
        .login(context.ip.as_deref(), current.account.email.as_str())?;
    state
        .services
        .change_password(
            &current,
            &body.current_password,
            &body.new_password,
            &context,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One live session of the person.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionBody {
    /// Use it to end this session (`DELETE /api/v1/me/sessions/{id}`).
    pub id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: time::OffsetDateTime,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The session of this request.
    pub current: bool,
}

/// The person's live sessions, most recently seen first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionList {
    pub items: Vec<SessionBody>,
}

/// The person's live sessions.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "self",
    responses(
        (status = 200, description = "Live sessions, most recently seen first", body = SessionList),
        (status = 401, description = "No session", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn sessions(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
) -> Result<Json<SessionList>, ApiError> {
    let items = state
        .services
        .my_sessions(&current)
        .await?
        .into_iter()
        .map(|s| SessionBody {
            id: s.session.id.as_str().to_owned(),
            created_at: s.session.created_at,
            last_seen_at: s.session.last_seen_at,
            ip: s.session.ip,
            user_agent: s.session.user_agent,
            current: s.current,
        })
        .collect();
    Ok(Json(SessionList { items }))
}

/// Ends one of the person's sessions (this one included: that is a logout).
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "self",
    params(("id" = String, Path, description = "The session's id from the list")),
    responses(
        (status = 204, description = "Ended"),
        (status = 401, description = "No session", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No live session of yours has this id", body = Problem,
            content_type = "application/problem+json"),
    ))]
pub(crate) async fn revoke_session(
    State(state): State<AppState>,
    Origin(context): Origin,
    SignedIn(current): SignedIn,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .revoke_my_session(&current, &id, &context)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of the person except this one.
#[utoipa::path(delete, path = "/api/v1/me/sessions", tag = "self",
    responses(
        (status = 204, description = "Every other session ended"),
        (status = 401, description = "No session", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn revoke_other_sessions(
    State(state): State<AppState>,
    Origin(context): Origin,
    SignedIn(current): SignedIn,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .revoke_my_other_sessions(&current, &context)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The password, asked again before deleting the account.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeleteAccountBody {
    pub password: String,
}

/// Sends a new email-verification link to the login address (nothing when
/// it is verified already). Until verified, an account cannot invite anyone.
#[utoipa::path(post, path = "/api/v1/me/email-verification", tag = "self",
    responses(
        (status = 202, description = "A new link is on its way (or the address is verified already)"),
        (status = 401, description = "No session", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many links asked: try again later", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn resend_verification(
    State(state): State<AppState>,
    Origin(context): Origin,
    SignedIn(current): SignedIn,
) -> Result<StatusCode, ApiError> {
    state
        .rate_limits
        .verification_resend(context.ip.as_deref(), current.account.email.as_str())?;
    state
        .services
        .resend_verification(&current, &context)
        .await?;
    Ok(StatusCode::ACCEPTED)
}

/// Everything Gardien holds about the person, as a JSON download.
#[utoipa::path(get, path = "/api/v1/me/export", tag = "self",
    responses(
        (status = 200, description = "Account, memberships, consents, sessions and the audit events the person is the actor of",
            content_type = "application/json"),
        (status = 401, description = "No session", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn export(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let document = state.services.export_my_data(&current).await?;
    Ok((
        [(
            axum::http::header::CONTENT_DISPOSITION,
            "attachment; filename=\"gardien-my-data.json\"",
        )],
        Json(document),
    )
        .into_response())
}

/// Deletes the account: it is anonymized, its memberships removed and its
/// sessions ended; refused while it is the last active administrator of an
/// organization.
#[utoipa::path(delete, path = "/api/v1/me", tag = "self", request_body = DeleteAccountBody,
    responses(
        (status = 204, description = "Deleted; the session cookie is removed"),
        (status = 401, description = "No session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last active administrator of an organization: make someone else an administrator first",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong password", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn delete_account(
    State(state): State<AppState>,
    Origin(context): Origin,
    SignedIn(current): SignedIn,
    jar: axum_extra::extract::CookieJar,
    body: Result<Json<DeleteAccountBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(axum_extra::extract::CookieJar, StatusCode), ApiError> {
    let Json(body) = body?;
    state
        .rate_limits
        .login(context.ip.as_deref(), current.account.email.as_str())?;
    state
        .services
        .delete_my_account(&current, &body.password, &context)
        .await?;
    Ok((
        jar.add(crate::session::removal_cookie(&state.settings)),
        StatusCode::NO_CONTENT,
    ))
}
