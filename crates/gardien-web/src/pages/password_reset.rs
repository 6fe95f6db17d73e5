//! Forgotten password pages (flow 13): ask for a link
//! (`GET/POST /password-resets/new`), then choose a new password with it
//! (`GET/POST /password-resets/{token}`).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use gardien_service::ServiceError;
use serde::Deserialize;

use super::{render, PageContext};
use crate::context::Origin;
use crate::csrf::CsrfToken;
use crate::error::{validation_message, ApiError};
use crate::rate_limit;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "password_reset_request.html")]
struct RequestPage {
    page: PageContext,
    csrf: CsrfToken,
    email: String,
    error: String,
    sent: bool,
}

#[derive(Deserialize)]
pub(super) struct RequestForm {
    #[serde(default)]
    email: String,
}

pub(super) async fn show_request(
    page: PageContext,
    csrf: CsrfToken,
) -> Result<Html<String>, ApiError> {
    render(&RequestPage {
        page,
        csrf,
        email: String::new(),
        error: String::new(),
        sent: false,
    })
}

pub(super) async fn submit_request(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    Origin(context): Origin,
    form: Result<Form<RequestForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form?;
    if let Err(refused) = state
        .rate_limits
        .password_reset_request(context.ip.as_deref(), &form.email)
    {
        let html = render(&RequestPage {
            error: rate_limit::message(&refused, &page.t),
            page,
            csrf,
            email: form.email,
            sent: false,
        })?;
        return Ok(rate_limit::refused_page(&refused, html));
    }
    match state
        .services
        .request_password_reset(&form.email, &context)
        .await
    {
        Ok(()) => Ok(Redirect::to("/password-resets/sent").into_response()),
        Err(ServiceError::Invalid(errors)) => {
            let error = errors
                .first()
                .map(|(_, e)| validation_message(&page.t, e))
                .unwrap_or_default();
            let html = render(&RequestPage {
                page,
                csrf,
                email: form.email,
                error,
                sent: false,
            })?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

pub(super) async fn sent(page: PageContext, csrf: CsrfToken) -> Result<Html<String>, ApiError> {
    render(&RequestPage {
        page,
        csrf,
        email: String::new(),
        error: String::new(),
        sent: true,
    })
}

#[derive(Template)]
#[template(path = "password_reset.html")]
struct ResetPage {
    page: PageContext,
    csrf: CsrfToken,
    token: String,
    usable: bool,
    done: bool,
    error: String,
}

#[derive(Deserialize)]
pub(super) struct ResetForm {
    #[serde(default)]
    password: String,
}

pub(super) async fn show_reset(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let usable = state.services.password_reset_is_usable(&token).await?;
    let html = render(&ResetPage {
        page,
        csrf,
        token,
        usable,
        done: false,
        error: String::new(),
    })?;
    let status = if usable {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    Ok((status, html).into_response())
}

pub(super) async fn submit_reset(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    Origin(context): Origin,
    Path(token): Path<String>,
    form: Result<Form<ResetForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form?;
    if let Err(refused) = state.rate_limits.emailed_link(context.ip.as_deref()) {
        let html = render(&ResetPage {
            error: rate_limit::message(&refused, &page.t),
            page,
            csrf,
            token,
            usable: true,
            done: false,
        })?;
        return Ok(rate_limit::refused_page(&refused, html));
    }
    let (status, usable, done, error) = match state
        .services
        .reset_password(&token, &form.password, &context)
        .await
    {
        Ok(()) => (StatusCode::OK, true, true, String::new()),
        Err(ServiceError::Invalid(errors)) => {
            let error = errors
                .first()
                .map(|(_, e)| validation_message(&page.t, e))
                .unwrap_or_default();
            (StatusCode::UNPROCESSABLE_ENTITY, true, false, error)
        }
        Err(ServiceError::LinkUnusable) => (StatusCode::GONE, false, false, String::new()),
        Err(other) => return Err(other.into()),
    };
    let html = render(&ResetPage {
        page,
        csrf,
        token,
        usable,
        done,
        error,
    })?;
    Ok((status, html).into_response())
}
