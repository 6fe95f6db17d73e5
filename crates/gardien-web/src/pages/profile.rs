//! The profile page (flow 12): `GET/POST /me` for name, phone, title,
//! notification email and language; `POST /me/password` to change the
//! password (the current one is required); `GET /static/password.js`, the
//! "generate a strong password" helper and strength meter.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use gardien_core::ProfileInput;
use gardien_service::{CurrentSession, ProfilePatch, ServiceError};
use serde::Deserialize;

use super::PageContext;
use crate::context::Origin;
use crate::csrf::CsrfToken;
use crate::error::{validation_message, ApiError};
use crate::session::MaybeSignedIn;
use crate::state::AppState;

const PASSWORD_SCRIPT: &str = include_str!("../../static/password.js");

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    page: PageContext,
    csrf: CsrfToken,
    login_email: String,
    values: ProfileInput,
    errors: HashMap<String, String>,
    saved: String,
    sessions: Vec<SessionRow>,
    /// Why the account could not be deleted (not a field's problem).
    delete_error: String,
    /// The login email change form's value, kept after an error.
    new_email: String,
}

/// One line of "my sessions".
struct SessionRow {
    id: String,
    created: String,
    last_seen: String,
    ip: String,
    user_agent: String,
    current: bool,
}

fn minute(at: time::OffsetDateTime) -> String {
    at.format(time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute] UTC"
    ))
    .unwrap_or_default()
}

impl ProfilePage {
    fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }
    fn has_error(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }
}

#[derive(Deserialize)]
pub(super) struct Saved {
    saved: Option<String>,
}

async fn page_of(
    state: &AppState,
    current: &CurrentSession,
    page: PageContext,
    csrf: CsrfToken,
    values: Option<ProfileInput>,
    errors: HashMap<String, String>,
    saved: String,
) -> Result<ProfilePage, ApiError> {
    let values = match values {
        Some(values) => values,
        None => ProfileInput::from(&state.services.profile(current).await?),
    };
    let sessions = state
        .services
        .my_sessions(current)
        .await?
        .into_iter()
        .map(|s| SessionRow {
            id: s.session.id.as_str().to_owned(),
            created: minute(s.session.created_at),
            last_seen: minute(s.session.last_seen_at),
            ip: s.session.ip.unwrap_or_default(),
            user_agent: s.session.user_agent.unwrap_or_default(),
            current: s.current,
        })
        .collect();
    Ok(ProfilePage {
        page,
        csrf,
        login_email: current.account.email.as_str().to_owned(),
        values,
        errors,
        saved,
        sessions,
        delete_error: String::new(),
        new_email: String::new(),
    })
}

pub(super) async fn show(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    signed_in: MaybeSignedIn,
    Query(query): Query<Saved>,
) -> Result<Response, ApiError> {
    let Some(current) = signed_in.0 else {
        return Ok(Redirect::to("/login").into_response());
    };
    let saved = match query.saved.as_deref() {
        Some("profile") => page.t.get("profile-saved"),
        Some("password") => page.t.get("profile-password-saved"),
        Some("sessions") => page.t.get("sessions-revoked"),
        Some("email") => page.t.get("email-change-sent"),
        Some("verification") => page.t.get("verification-resent"),
        _ => String::new(),
    };
    let html = page_of(&state, &current, page, csrf, None, HashMap::new(), saved)
        .await?
        .render()?;
    Ok(axum::response::Html(html).into_response())
}

#[derive(Deserialize)]
pub(super) struct ProfileForm {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    notification_email: String,
    #[serde(default)]
    language: String,
}

fn field_errors(
    page: &PageContext,
    errors: Vec<(&'static str, gardien_core::ValidationError)>,
) -> HashMap<String, String> {
    errors
        .into_iter()
        .map(|(field, error)| (field.to_owned(), validation_message(&page.t, &error)))
        .collect()
}

pub(super) async fn submit(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    Origin(context): Origin,
    signed_in: MaybeSignedIn,
    form: Result<Form<ProfileForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form?;
    let Some(current) = signed_in.0 else {
        return Ok(Redirect::to("/login").into_response());
    };
    let patch = ProfilePatch {
        first_name: Some(form.first_name.clone()),
        last_name: Some(form.last_name.clone()),
        phone: Some(form.phone.clone()),
        title: Some(form.title.clone()),
        notification_email: Some(form.notification_email.clone()),
        language: Some(form.language.clone()),
    };
    match state
        .services
        .update_profile(&current, &patch, &context)
        .await
    {
        Ok(_) => Ok(Redirect::to("/me?saved=profile").into_response()),
        Err(ServiceError::Invalid(errors)) => {
            let errors = field_errors(&page, errors);
            let values = ProfileInput {
                first_name: form.first_name,
                last_name: form.last_name,
                phone: form.phone,
                title: form.title,
                notification_email: form.notification_email,
                language: form.language,
            };
            let html = page_of(
                &state,
                &current,
                page,
                csrf,
                Some(values),
                errors,
                String::new(),
            )
            .await?
            .render()?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, axum::response::Html(html)).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub(super) struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

pub(super) async fn change_password(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    Origin(context): Origin,
    signed_in: MaybeSignedIn,
    form: Result<Form<PasswordForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form?;
    let Some(current) = signed_in.0 else {
        return Ok(Redirect::to("/login").into_response());
    };
    state
        .rate_limits
        .login(context.ip.as_deref(), current.account.email.as_str())?;
    match state
        .services
        .change_password(
            &current,
            &form.current_password,
            &form.new_password,
            &context,
        )
        .await
    {
        Ok(()) => Ok(Redirect::to("/me?saved=password").into_response()),
        Err(ServiceError::Invalid(errors)) => {
            let errors = field_errors(&page, errors);
            let html = page_of(&state, &current, page, csrf, None, errors, String::new())
                .await?
                .render()?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, axum::response::Html(html)).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub(super) struct EmailChangeForm {
    #[serde(default)]
    new_email: String,
    #[serde(default)]
    current_password: String,
}

/// Asks to change the login email: a link goes to the new address.
pub(super) async fn request_email_change(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    Origin(context): Origin,
    signed_in: MaybeSignedIn,
    form: Result<Form<EmailChangeForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form?;
    let Some(current) = signed_in.0 else {
        return Ok(Redirect::to("/login").into_response());
    };
    state
        .rate_limits
        .login(context.ip.as_deref(), current.account.email.as_str())?;
    match state
        .services
        .request_email_change(&current, &form.new_email, &form.current_password, &context)
        .await
    {
        Ok(()) => Ok(Redirect::to("/me?saved=email").into_response()),
        Err(ServiceError::Invalid(errors)) => {
            // This form's password field is not the password form's.
            let errors = field_errors(&page, errors)
                .into_iter()
                .map(|(field, message)| match field.as_str() {
                    "current_password" => ("email_current_password".to_owned(), message),
                    _ => (field, message),
                })
                .collect();
            let mut profile_page =
                page_of(&state, &current, page, csrf, None, errors, String::new()).await?;
            profile_page.new_email = form.new_email;
            let html = profile_page.render()?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, axum::response::Html(html)).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Template)]
#[template(path = "email_change.html")]
struct EmailChangePage {
    page: PageContext,
    csrf: CsrfToken,
    token: String,
    outcome: EmailChangeOutcome,
}

#[derive(PartialEq)]
enum EmailChangeOutcome {
    /// The link was opened: ask to confirm (mail scanners only GET links).
    Confirm,
    Changed(String),
    Unusable,
    Taken,
}

/// The emailed link: a page with one button, so that merely fetching the
/// link (a mail scanner, a preview) changes nothing.
pub(super) async fn show_email_change(
    page: PageContext,
    csrf: CsrfToken,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    let html = EmailChangePage {
        page,
        csrf,
        token,
        outcome: EmailChangeOutcome::Confirm,
    }
    .render()?;
    Ok(axum::response::Html(html).into_response())
}

pub(super) async fn confirm_email_change(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    Origin(context): Origin,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    state.rate_limits.emailed_link(context.ip.as_deref())?;
    let (status, outcome) = match state.services.confirm_email_change(&token, &context).await {
        Ok(email) => (
            StatusCode::OK,
            EmailChangeOutcome::Changed(email.as_str().to_owned()),
        ),
        Err(ServiceError::LinkUnusable) => (StatusCode::GONE, EmailChangeOutcome::Unusable),
        Err(ServiceError::EmailTaken) => (StatusCode::CONFLICT, EmailChangeOutcome::Taken),
        Err(other) => return Err(other.into()),
    };
    let html = EmailChangePage {
        page,
        csrf,
        token: String::new(),
        outcome,
    }
    .render()?;
    Ok((status, axum::response::Html(html)).into_response())
}

pub(super) async fn revoke_session(
    State(state): State<AppState>,
    Origin(context): Origin,
    signed_in: MaybeSignedIn,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    let Some(current) = signed_in.0 else {
        return Ok(Redirect::to("/login").into_response());
    };
    state
        .services
        .revoke_my_session(&current, &id, &context)
        .await?;
    Ok(Redirect::to("/me?saved=sessions").into_response())
}

/// The banner's "send the link again": a new verification link, then the
/// profile page saying so.
pub(super) async fn resend_verification(
    State(state): State<AppState>,
    Origin(context): Origin,
    signed_in: MaybeSignedIn,
) -> Result<Response, ApiError> {
    let Some(current) = signed_in.0 else {
        return Ok(Redirect::to("/login").into_response());
    };
    state
        .rate_limits
        .verification_resend(context.ip.as_deref(), current.account.email.as_str())?;
    state
        .services
        .resend_verification(&current, &context)
        .await?;
    Ok(Redirect::to("/me?saved=verification").into_response())
}

pub(super) async fn revoke_other_sessions(
    State(state): State<AppState>,
    Origin(context): Origin,
    signed_in: MaybeSignedIn,
) -> Result<Response, ApiError> {
    let Some(current) = signed_in.0 else {
        return Ok(Redirect::to("/login").into_response());
    };
    state
        .services
        .revoke_my_other_sessions(&current, &context)
        .await?;
    Ok(Redirect::to("/me?saved=sessions").into_response())
}

#[derive(Deserialize)]
pub(super) struct DeleteForm {
    #[serde(default)]
    password: String,
}

pub(super) async fn delete_account(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    Origin(context): Origin,
    signed_in: MaybeSignedIn,
    jar: axum_extra::extract::CookieJar,
    form: Result<Form<DeleteForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form?;
    let Some(current) = signed_in.0 else {
        return Ok(Redirect::to("/login").into_response());
    };
    state
        .rate_limits
        .login(context.ip.as_deref(), current.account.email.as_str())?;
    let (errors, delete_error) = match state
        .services
        .delete_my_account(&current, &form.password, &context)
        .await
    {
        Ok(()) => {
            let jar = jar.add(crate::session::removal_cookie(&state.settings));
            return Ok((jar, Redirect::to("/?deleted=1")).into_response());
        }
        Err(ServiceError::Invalid(errors)) => (field_errors(&page, errors), String::new()),
        Err(ServiceError::Lifecycle(_)) => (HashMap::new(), page.t.get("data-delete-last-admin")),
        Err(other) => return Err(other.into()),
    };
    let mut profile_page =
        page_of(&state, &current, page, csrf, None, errors, String::new()).await?;
    profile_page.delete_error = delete_error;
    let html = profile_page.render()?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, axum::response::Html(html)).into_response())
}

/// The password helper script (no inline script: the CSP forbids it).
pub(super) async fn password_script() -> Response {
    super::script(PASSWORD_SCRIPT)
}
