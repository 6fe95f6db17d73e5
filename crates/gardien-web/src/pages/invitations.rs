//! The invitee's side of an invitation (flows 2 and 3): `GET
//! /invitations/{token}` shows what to do, `POST` accepts. A new account sets
//! its details and password; an existing account logs in on the same page
//! (`POST /invitations/{token}/login`) and comes back to the link.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::CookieJar;
use gardien_core::MembershipStatus;
use gardien_service::{AcceptForm, Audience, InvitationView, ServiceError};
use serde::Deserialize;

use super::{render, PageContext};
use crate::context::Origin;
use crate::csrf::CsrfToken;
use crate::error::{validation_message, ApiError};
use crate::session::{session_cookie, MaybeSignedIn};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub(super) struct AcceptValues {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    accept_privacy: Option<String>,
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    page: PageContext,
    csrf: CsrfToken,
    token: String,
    organization: String,
    email: String,
    /// `new_account`, `signed_in_as_invitee`, `signed_in_as_other`, `signed_out`.
    audience: &'static str,
    values: AcceptValues,
    errors: HashMap<String, String>,
    login_failed: bool,
}

impl InvitationPage {
    fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }
    fn has_error(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }
}

fn audience_code(audience: Audience) -> &'static str {
    match audience {
        Audience::NewAccount => "new_account",
        Audience::SignedInAsInvitee => "signed_in_as_invitee",
        Audience::SignedInAsOther => "signed_in_as_other",
        Audience::SignedOut => "signed_out",
    }
}

fn page_of(
    page: PageContext,
    csrf: CsrfToken,
    token: String,
    view: InvitationView,
    values: Option<AcceptValues>,
    errors: HashMap<String, String>,
) -> InvitationPage {
    let values = values.unwrap_or(AcceptValues {
        first_name: view.first_name,
        last_name: view.last_name,
        ..AcceptValues::default()
    });
    InvitationPage {
        page,
        csrf,
        token,
        organization: view.organization.name,
        email: view.email.as_str().to_owned(),
        audience: audience_code(view.audience),
        values,
        errors,
        login_failed: false,
    }
}

pub(super) async fn show(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    MaybeSignedIn(current): MaybeSignedIn,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let view = state
        .services
        .open_invitation(&token, current.as_ref())
        .await?;
    let status = match view.audience {
        Audience::SignedInAsOther => StatusCode::FORBIDDEN,
        _ => StatusCode::OK,
    };
    let html = render(&page_of(page, csrf, token, view, None, HashMap::new()))?;
    Ok((status, html).into_response())
}

#[derive(Template)]
#[template(path = "invitation_accepted.html")]
struct AcceptedPage {
    page: PageContext,
    organization: String,
}

// Axum extractors, one per argument.
#[allow(clippy::too_many_arguments)]
pub(super) async fn accept(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    MaybeSignedIn(current): MaybeSignedIn,
    Origin(context): Origin,
    jar: CookieJar,
    Path(token): Path<String>,
    form: Result<Form<AcceptValues>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Form(mut values) = form?;
    let input = AcceptForm {
        first_name: values.first_name.clone(),
        last_name: values.last_name.clone(),
        title: values.title.clone(),
        phone: values.phone.clone(),
        password: std::mem::take(&mut values.password),
        accept_privacy: values.accept_privacy.is_some(),
    };
    match state
        .services
        .accept_invitation(&token, &input, current.as_ref(), &context)
        .await
    {
        Ok(accepted) => {
            let jar = match &accepted.session_token {
                Some(token) => jar.add(session_cookie(&state.settings, token)),
                None => jar,
            };
            if accepted.status == MembershipStatus::PendingActivation {
                let html = render(&AcceptedPage {
                    page,
                    organization: accepted.organization.name,
                })?;
                return Ok((jar, html).into_response());
            }
            Ok((jar, Redirect::to("/")).into_response())
        }
        Err(ServiceError::Invalid(errors)) => {
            let errors = errors
                .into_iter()
                .map(|(field, error)| (field.to_owned(), validation_message(&page.t, &error)))
                .collect();
            let view = state
                .services
                .open_invitation(&token, current.as_ref())
                .await?;
            let html = render(&page_of(page, csrf, token, view, Some(values), errors))?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub(super) struct LoginValues {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// Logs in from the invitation page, then back to the link.
pub(super) async fn log_in(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    Origin(context): Origin,
    jar: CookieJar,
    Path(token): Path<String>,
    form: Result<Form<LoginValues>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Form(values) = form?;
    match state
        .services
        .log_in(&values.email, &values.password, &context)
        .await
    {
        Ok(logged_in) => {
            let jar = jar.add(session_cookie(&state.settings, &logged_in.token));
            Ok((jar, Redirect::to(&format!("/invitations/{token}"))).into_response())
        }
        Err(ServiceError::LoginFailed) => {
            let view = state.services.open_invitation(&token, None).await?;
            let mut html = page_of(page, csrf, token, view, None, HashMap::new());
            html.login_failed = true;
            Ok((StatusCode::UNAUTHORIZED, render(&html)?).into_response())
        }
        Err(other) => Err(other.into()),
    }
}
