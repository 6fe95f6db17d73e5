//! Login pages (flow 6): `GET/POST /login`, the organization picker
//! (`GET/POST /select-organization`) and `POST /logout`.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::CookieJar;
use gardien_core::OrganizationId;
use gardien_service::{OrganizationChoice, ServiceError};
use serde::Deserialize;

use super::{render, PageContext};
use crate::context::Origin;
use crate::csrf::CsrfToken;
use crate::error::ApiError;
use crate::rate_limit;
use crate::session::{removal_cookie, session_cookie, MaybeSignedIn, SignedIn};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    page: PageContext,
    csrf: CsrfToken,
    email: String,
    failed: bool,
    /// Another refusal to show above the form (too many attempts).
    error: Option<String>,
    /// Where to go once logged in (a path of Gardien, such as an OpenID
    /// Connect authorization request).
    next: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// `?next=` of the login page and the organization picker.
#[derive(Deserialize)]
pub(super) struct NextQuery {
    #[serde(default)]
    next: Option<String>,
}

/// A `next` that stays on Gardien (see [`super::safe_return_path`]): an open
/// redirect would make Gardien's login a phishing relay.
pub(crate) fn local_path(next: Option<&str>) -> Option<String> {
    match super::safe_return_path(next.map(str::trim)) {
        "/" => None,
        path => Some(path.to_owned()),
    }
}

/// The organization picker, remembering where to go after it.
fn picker(next: Option<&str>) -> String {
    match next {
        Some(next) => format!(
            "/select-organization?next={}",
            url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        ),
        None => "/select-organization".to_owned(),
    }
}

pub(super) async fn show(
    page: PageContext,
    csrf: CsrfToken,
    query: Result<axum::extract::Query<NextQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let next = query.ok().and_then(|q| local_path(q.next.as_deref()));
    let leads_on = next.is_some();
    let html = render(&LoginPage {
        page,
        csrf,
        email: String::new(),
        failed: false,
        error: None,
        next,
    })?;
    Ok(if leads_on {
        super::leading_to_client(html)
    } else {
        html.into_response()
    })
}

pub(super) async fn submit(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    Origin(context): Origin,
    jar: CookieJar,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form?;
    let next = local_path(form.next.as_deref());
    if let Err(refused) = state.rate_limits.login(context.ip.as_deref(), &form.email) {
        let html = render(&LoginPage {
            error: Some(rate_limit::message(&refused, &page.t)),
            page,
            csrf,
            email: form.email,
            failed: false,
            next,
        })?;
        return Ok(rate_limit::refused_page(&refused, html));
    }
    match state
        .services
        .log_in(&form.email, &form.password, &context)
        .await
    {
        Ok(logged_in) => {
            let jar = jar.add(session_cookie(&state.settings, &logged_in.token));
            // A request that asked for the login (an OpenID Connect client) decides
            // itself whether an organization must be chosen.
            let to = match next {
                Some(next) => next,
                None if logged_in.bound.is_some() => "/".to_owned(),
                None => picker(None),
            };
            Ok((jar, Redirect::to(&to)).into_response())
        }
        Err(ServiceError::LoginFailed) => {
            let html = render(&LoginPage {
                page,
                csrf,
                email: form.email,
                failed: true,
                error: None,
                next,
            })?;
            Ok(super::leading_to_client((StatusCode::UNAUTHORIZED, html)))
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Template)]
#[template(path = "select_organization.html")]
struct SelectOrganizationPage {
    page: PageContext,
    csrf: CsrfToken,
    choices: Vec<OrganizationChoice>,
    next: Option<String>,
}

impl SelectOrganizationPage {
    fn kind_label(&self, choice: &OrganizationChoice) -> String {
        self.page.t.get(&format!("kind-{}", choice.kind.as_str()))
    }
}

pub(super) async fn choose(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    signed_in: MaybeSignedIn,
    query: Result<axum::extract::Query<NextQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let next = query.ok().and_then(|q| local_path(q.next.as_deref()));
    let Some(current) = signed_in.0 else {
        return Ok(Redirect::to(&login_then(next.as_deref())).into_response());
    };
    let choices = state.services.organization_choices(&current).await?;
    let leads_on = next.is_some();
    let html = render(&SelectOrganizationPage {
        page,
        csrf,
        choices,
        next,
    })?;
    Ok(if leads_on {
        super::leading_to_client(html)
    } else {
        html.into_response()
    })
}

/// The login page, then `next`.
pub(crate) fn login_then(next: Option<&str>) -> String {
    match next {
        Some(next) => format!(
            "/login?next={}",
            url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        ),
        None => "/login".to_owned(),
    }
}

/// The organization picker, then `next`.
pub(crate) fn pick_then(next: &str) -> String {
    picker(Some(next))
}

#[derive(Deserialize)]
pub(super) struct ChooseForm {
    organization_id: String,
    #[serde(default)]
    next: Option<String>,
}

pub(super) async fn chosen(
    State(state): State<AppState>,
    Origin(context): Origin,
    SignedIn(current): SignedIn,
    form: Result<Form<ChooseForm>, axum::extract::rejection::FormRejection>,
) -> Result<Redirect, ApiError> {
    let Form(form) = form?;
    let organization: OrganizationId = form
        .organization_id
        .parse()
        .map_err(|_| ApiError::bad_request())?;
    state
        .services
        .choose_organization(&current, organization, &context)
        .await?;
    Ok(Redirect::to(
        local_path(form.next.as_deref()).as_deref().unwrap_or("/"),
    ))
}

pub(super) async fn log_out(
    State(state): State<AppState>,
    Origin(context): Origin,
    signed_in: MaybeSignedIn,
    jar: CookieJar,
) -> Result<(CookieJar, Redirect), ApiError> {
    if let Some(current) = signed_in.0 {
        state.services.log_out(&current, &context).await?;
    }
    Ok((
        jar.add(removal_cookie(&state.settings)),
        Redirect::to("/login"),
    ))
}
