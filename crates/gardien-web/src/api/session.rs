//! Login, the organization picker, logout and session introspection
//! (flow 6) under `/api/v1`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use axum_extra::extract::CookieJar;
use gardien_service::{CurrentSession, OrganizationChoice};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::context::Origin;
use crate::error::{ApiError, Problem};
use crate::session::{removal_cookie, session_cookie, SignedIn};
use crate::state::AppState;

/// Email and password.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginBody {
    pub email: String,
    pub password: String,
}

/// The organization to bind the session to.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ChooseOrganizationBody {
    pub organization_id: Uuid,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AccountSummary {
    pub id: Uuid,
    pub email: String,
    /// First and last name.
    pub name: String,
    /// `en` or `fr`.
    pub language: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrganizationSummary {
    pub id: Uuid,
    pub name: String,
}

/// An organization the person may enter, with the kind of their membership.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrganizationChoiceBody {
    pub id: Uuid,
    pub name: String,
    /// `staff` or `client`.
    pub kind: String,
}

/// Who is logged in, in which organization, as which kind.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Introspection {
    pub account: AccountSummary,
    /// `null` until an organization is chosen.
    pub organization: Option<OrganizationSummary>,
    /// `staff` or `client`; `null` until an organization is chosen.
    pub kind: Option<String>,
    /// `true` until the person accepts the current privacy policy
    /// (`POST /api/v1/me/consent`); meanwhile other calls answer 403.
    #[serde(default)]
    pub consent_required: bool,
}

/// A successful login.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LoginResult {
    #[serde(flatten)]
    pub session: Introspection,
    /// Every organization the person may enter; with several and no
    /// `organization` yet, choose one with `POST /api/v1/session/organization`.
    pub organizations: Vec<OrganizationChoiceBody>,
}

fn introspection(current: &CurrentSession) -> Introspection {
    let account = &current.account;
    Introspection {
        account: AccountSummary {
            id: account.id.as_uuid(),
            email: account.email.as_str().to_owned(),
            name: format!("{} {}", account.first_name, account.last_name),
            language: account.language.code().to_owned(),
        },
        organization: current.organization.as_ref().map(|c| OrganizationSummary {
            id: c.organization.id.as_uuid(),
            name: c.organization.name.clone(),
        }),
        kind: current
            .organization
            .as_ref()
            .map(|c| c.kind.as_str().to_owned()),
        consent_required: current.consent_required,
    }
}

fn choice_body(choice: &OrganizationChoice) -> OrganizationChoiceBody {
    OrganizationChoiceBody {
        id: choice.organization.id.as_uuid(),
        name: choice.organization.name.clone(),
        kind: choice.kind.as_str().to_owned(),
    }
}

/// Logs in and sets the session cookie. With one active membership the
/// session is bound to that organization at once.
#[utoipa::path(post, path = "/api/v1/login", tag = "self", request_body = LoginBody,
    responses(
        (status = 200, description = "Logged in; the session cookie is set", body = LoginResult),
        (status = 401, description = "The email or the password is wrong", body = Problem,
            content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts; see `Retry-After`", body = Problem,
            content_type = "application/problem+json"),
    ))]
pub(crate) async fn log_in(
    State(state): State<AppState>,
    Origin(context): Origin,
    jar: CookieJar,
    body: Result<Json<LoginBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(CookieJar, Json<LoginResult>), ApiError> {
    let Json(body) = body?;
    state
        .rate_limits
        .login(context.ip.as_deref(), &body.email)?;
    let logged_in = state
        .services
        .log_in(&body.email, &body.password, &context)
        .await?;
    let account = &logged_in.account;
    let result = LoginResult {
        session: Introspection {
            account: AccountSummary {
                id: account.id.as_uuid(),
                email: account.email.as_str().to_owned(),
                name: format!("{} {}", account.first_name, account.last_name),
                language: account.language.code().to_owned(),
            },
            organization: logged_in.bound.as_ref().map(|c| OrganizationSummary {
                id: c.organization.id.as_uuid(),
                name: c.organization.name.clone(),
            }),
            kind: logged_in.bound.as_ref().map(|c| c.kind.as_str().to_owned()),
            consent_required: logged_in.consent_required,
        },
        organizations: logged_in.choices.iter().map(choice_body).collect(),
    };
    let jar = jar.add(session_cookie(&state.settings, &logged_in.token));
    Ok((jar, Json(result)))
}

/// Binds the session to one of the person's organizations (switching needs
/// no new login).
#[utoipa::path(post, path = "/api/v1/session/organization", tag = "self",
    request_body = ChooseOrganizationBody,
    responses(
        (status = 200, description = "The session, now in that organization", body = Introspection),
        (status = 401, description = "No session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an active member there", body = Problem,
            content_type = "application/problem+json"),
    ))]
pub(crate) async fn choose_organization(
    State(state): State<AppState>,
    Origin(context): Origin,
    SignedIn(current): SignedIn,
    body: Result<Json<ChooseOrganizationBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Introspection>, ApiError> {
    let Json(body) = body?;
    let organization = gardien_core::OrganizationId::from_uuid(body.organization_id);
    let choice = state
        .services
        .choose_organization(&current, organization, &context)
        .await?;
    let mut current = current;
    current.organization = Some(choice);
    Ok(Json(introspection(&current)))
}

/// Who is logged in with this session cookie (for the host's pages).
#[utoipa::path(get, path = "/api/v1/session/introspect", tag = "host",
    responses(
        (status = 200, description = "The live session", body = Introspection),
        (status = 401, description = "No live session", body = Problem,
            content_type = "application/problem+json"),
    ))]
pub(crate) async fn introspect(SignedIn(current): SignedIn) -> Json<Introspection> {
    Json(introspection(&current))
}

/// Ends the session of this cookie.
#[utoipa::path(post, path = "/api/v1/logout", tag = "self",
    responses(
        (status = 204, description = "Logged out; the cookie is removed"),
        (status = 401, description = "No session", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn log_out(
    State(state): State<AppState>,
    Origin(context): Origin,
    SignedIn(current): SignedIn,
    jar: CookieJar,
) -> Result<(CookieJar, StatusCode), ApiError> {
    state.services.log_out(&current, &context).await?;
    Ok((
        jar.add(removal_cookie(&state.settings)),
        StatusCode::NO_CONTENT,
    ))
}
