//! The privacy policy (flow 7): `GET/POST /consent`, where a signed-in
//! person accepts the current version before anything else, and
//! `GET /privacy`, the built-in policy text (or a redirect to the
//! deployment's own policy).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use gardien_service::ServiceError;
use serde::Deserialize;

use super::{render, safe_return_path, PageContext};
use crate::context::Origin;
use crate::csrf::CsrfToken;
use crate::error::ApiError;
use crate::session::MaybeSignedIn;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage {
    page: PageContext,
    csrf: CsrfToken,
    version: String,
    policy_href: String,
    return_to: String,
    error: String,
}

#[derive(Deserialize)]
pub(super) struct ReturnTo {
    return_to: Option<String>,
}

fn policy_href(state: &AppState) -> String {
    state
        .services
        .privacy_policy()
        .url
        .clone()
        .unwrap_or_else(|| "/privacy".into())
}

pub(super) async fn show(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    signed_in: MaybeSignedIn,
    Query(query): Query<ReturnTo>,
) -> Result<Response, ApiError> {
    let return_to = safe_return_path(query.return_to.as_deref()).to_owned();
    let Some(current) = signed_in.0 else {
        return Ok(Redirect::to("/login").into_response());
    };
    let Some(version) = state.services.privacy_policy().version.clone() else {
        return Ok(Redirect::to(&return_to).into_response());
    };
    if !current.consent_required {
        return Ok(Redirect::to(&return_to).into_response());
    }
    Ok(render(&ConsentPage {
        page,
        csrf,
        version,
        policy_href: policy_href(&state),
        return_to,
        error: String::new(),
    })?
    .into_response())
}

#[derive(Deserialize)]
pub(super) struct ConsentForm {
    #[serde(default)]
    policy_version: String,
    #[serde(default)]
    accept: Option<String>,
    #[serde(default)]
    return_to: Option<String>,
}

pub(super) async fn submit(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    Origin(context): Origin,
    signed_in: MaybeSignedIn,
    form: Result<Form<ConsentForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form?;
    let return_to = safe_return_path(form.return_to.as_deref()).to_owned();
    let Some(current) = signed_in.0 else {
        return Ok(Redirect::to("/login").into_response());
    };
    let version = state
        .services
        .privacy_policy()
        .version
        .clone()
        .unwrap_or_default();
    let error_page = |page: PageContext, csrf: CsrfToken, key: &str| {
        let error = page.t.get(key);
        render(&ConsentPage {
            page,
            csrf,
            version: version.clone(),
            policy_href: policy_href(&state),
            return_to: return_to.clone(),
            error,
        })
        .map(|html| (StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
    };
    if form.accept.is_none() {
        return error_page(page, csrf, "consent-not-checked");
    }
    match state
        .services
        .accept_privacy_policy(&current, &form.policy_version, &context)
        .await
    {
        Ok(()) => Ok(Redirect::to(&return_to).into_response()),
        // The policy changed while the page was open: show the new one.
        Err(ServiceError::Invalid(_)) => error_page(page, csrf, "consent-version-changed"),
        Err(other) => Err(other.into()),
    }
}

#[derive(Template)]
#[template(path = "privacy.html")]
struct PrivacyPage {
    page: PageContext,
    version: String,
}

pub(super) async fn privacy(
    State(state): State<AppState>,
    page: PageContext,
) -> Result<Response, ApiError> {
    let policy = state.services.privacy_policy();
    if let Some(url) = &policy.url {
        return Ok(Redirect::to(url).into_response());
    }
    Ok(render(&PrivacyPage {
        page,
        version: policy.version.clone().unwrap_or_default(),
    })?
    .into_response())
}
