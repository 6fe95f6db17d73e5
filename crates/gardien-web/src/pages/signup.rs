//! Sign-up pages (flow 1): the form (`GET/POST /signup`), the "check your
//! email" page, and the verification link (`GET /verify-email/{token}`).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use gardien_service::{ServiceError, SignUpForm};
use serde::Deserialize;

use super::{render, PageContext};
use crate::context::Origin;
use crate::csrf::CsrfToken;
use crate::error::{validation_message, ApiError};
use crate::rate_limit;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "signup.html")]
struct SignUpPage {
    page: PageContext,
    csrf: CsrfToken,
    values: SignUpValues,
    errors: HashMap<String, String>,
}

impl SignUpPage {
    /// The message to show under `field`, or nothing.
    fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }
    fn has_error(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }
}

/// What the form sends (and shows again, except the password, on error).
#[derive(Debug, Default, Deserialize)]
pub(super) struct SignUpValues {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    organization_name: String,
}

pub(super) async fn show(page: PageContext, csrf: CsrfToken) -> Result<Html<String>, ApiError> {
    render(&SignUpPage {
        page,
        csrf,
        values: SignUpValues::default(),
        errors: HashMap::new(),
    })
}

pub(super) async fn submit(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    Origin(context): Origin,
    form: Result<Form<SignUpValues>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Form(mut values) = form?;
    if let Err(refused) = state
        .rate_limits
        .sign_up(context.ip.as_deref(), &values.email)
    {
        values.password.clear();
        let errors = HashMap::from([("email".to_owned(), rate_limit::message(&refused, &page.t))]);
        let html = render(&SignUpPage {
            page,
            csrf,
            values,
            errors,
        })?;
        return Ok(rate_limit::refused_page(&refused, html));
    }
    let language = page.t.language();
    let input = SignUpForm {
        email: values.email.clone(),
        password: std::mem::take(&mut values.password),
        first_name: values.first_name.clone(),
        last_name: values.last_name.clone(),
        organization_name: values.organization_name.clone(),
        language: language.code().to_owned(),
    };
    match state.services.sign_up(&input, language, &context).await {
        Ok(_) => Ok(Redirect::to("/signup/check-email").into_response()),
        Err(ServiceError::Invalid(errors)) => {
            let errors = errors
                .into_iter()
                .map(|(field, error)| (field.to_owned(), validation_message(&page.t, &error)))
                .collect();
            let html = render(&SignUpPage {
                page,
                csrf,
                values,
                errors,
            })?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Template)]
#[template(path = "signup_sent.html")]
struct CheckEmailPage {
    page: PageContext,
}

pub(super) async fn check_email(page: PageContext) -> Result<Html<String>, ApiError> {
    render(&CheckEmailPage { page })
}

#[derive(Template)]
#[template(path = "email_verified.html")]
struct EmailVerifiedPage {
    page: PageContext,
    verified: bool,
}

pub(super) async fn verify(
    State(state): State<AppState>,
    page: PageContext,
    Origin(context): Origin,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    state.rate_limits.emailed_link(context.ip.as_deref())?;
    match state.services.verify_email(&token, &context).await {
        Ok(_) => Ok(render(&EmailVerifiedPage {
            page,
            verified: true,
        })?
        .into_response()),
        Err(ServiceError::LinkUnusable) => {
            let html = render(&EmailVerifiedPage {
                page,
                verified: false,
            })?;
            Ok((StatusCode::GONE, html).into_response())
        }
        Err(other) => Err(other.into()),
    }
}
