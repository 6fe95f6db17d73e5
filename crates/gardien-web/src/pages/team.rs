//! The team page (`/o/{org}/team`, flow 8), the invite form (flow 2), the
//! confirmation step of member actions, and invitation management (flow 4).
//! Destructive actions go through a confirmation page (no script needed).

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::CookieJar;
use gardien_core::role::RoleError;
use gardien_core::{
    InvitationId, Language, MembershipId, MembershipStatus, OrganizationId, StatusChange,
};
use gardien_service::{
    CurrentSession, HandOver, InviteAssignment, InviteForm, MemberQuery, RoleInput, ServiceError,
};
use gardien_store::{MemberSummary, PageRequest};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::flash::Flash;
use super::roles::{permission_areas, Area};
use super::{render, PageContext};
use crate::api::members::status_change;
use crate::context::Origin;
use crate::csrf::CsrfToken;
use crate::error::{validation_message, ApiError};
use crate::session::MaybeSignedIn;
use crate::state::AppState;

/// Where a page that needs a session sends a visitor without one.
fn to_login() -> Response {
    Redirect::to("/login").into_response()
}

fn short_time(at: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

/// The badge class of a status (`badge-pending` for `pending_activation`).
fn badge(status: MembershipStatus) -> &'static str {
    match status {
        MembershipStatus::PendingActivation => "pending",
        other => other.as_str(),
    }
}

struct MemberRow {
    id: String,
    name: String,
    email: String,
    kind: &'static str,
    role_id: String,
    role_name: String,
    status: &'static str,
    badge: &'static str,
    last_login: String,
    is_self: bool,
    is_owner: bool,
    /// The acting member owns the organization and may hand it to this one.
    can_receive_ownership: bool,
}

struct InvitationRow {
    id: String,
    email: String,
    state: &'static str,
    badge: &'static str,
    expires: String,
    open: bool,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct TeamQuery {
    #[serde(default)]
    search: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    kind: String,
    cursor: Option<Uuid>,
}

#[derive(Template)]
#[template(path = "team.html")]
struct TeamPage {
    page: PageContext,
    csrf: CsrfToken,
    org_id: String,
    org_name: String,
    members: Vec<MemberRow>,
    invitations: Vec<InvitationRow>,
    roles: Vec<(String, String)>,
    query: TeamQuery,
    next_href: Option<String>,
    can_manage: bool,
    can_invite: bool,
    requires_activation: bool,
}

impl TeamPage {
    fn status_options(&self) -> Vec<(&'static str, String)> {
        MembershipStatus::ALL
            .into_iter()
            .map(|s| {
                let key = format!("status-{}", s.as_str().replace('_', "-"));
                (s.as_str(), self.page.t.get(&key))
            })
            .collect()
    }
    fn status_label(&self, status: &str) -> String {
        self.page
            .t
            .get(&format!("status-{}", status.replace('_', "-")))
    }
    fn kind_label(&self, kind: &str) -> String {
        self.page.t.get(&format!("kind-{kind}"))
    }
    fn invitation_state_label(&self, state: &str) -> String {
        self.page.t.get(&format!("invitation-state-{state}"))
    }
}

pub(super) async fn show(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    MaybeSignedIn(current): MaybeSignedIn,
    Path(org): Path<Uuid>,
    Query(query): Query<TeamQuery>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let organization = OrganizationId::from_uuid(org);
    let filter =
        gardien_service::member_filter(Some(&query.status), Some(&query.role), Some(&query.kind))?;
    let list = state
        .services
        .members(
            &current,
            organization,
            &MemberQuery {
                filter,
                search: Some(query.search.clone()),
                page: Some(PageRequest {
                    after: query.cursor,
                    limit: 50,
                }),
            },
        )
        .await?;
    let invitations = if list.can_invite {
        state
            .services
            .invitations(&current, organization, PageRequest::first(50))
            .await?
            .items
    } else {
        Vec::new()
    };
    let now = OffsetDateTime::now_utc();
    let role_name = |m: &MemberSummary| {
        list.roles
            .iter()
            .find(|r| r.id == m.membership.role_id)
            .map(|r| r.name.clone())
            .unwrap_or_default()
    };
    let members = list
        .page
        .items
        .iter()
        .map(|m| MemberRow {
            id: m.membership.id.to_string(),
            name: format!("{} {}", m.first_name, m.last_name),
            email: m.email.as_str().to_owned(),
            kind: m.membership.kind.as_str(),
            role_id: m.membership.role_id.to_string(),
            role_name: role_name(m),
            status: m.membership.status.as_str(),
            badge: badge(m.membership.status),
            last_login: m.last_login_at.map(short_time).unwrap_or_default(),
            is_self: m.membership.account_id == current.account.id,
            is_owner: list.owner == Some(m.membership.id),
            can_receive_ownership: list.owner == Some(list.acting)
                && m.membership.id != list.acting
                && m.membership.status == MembershipStatus::Active
                && m.membership.kind == gardien_core::Kind::Staff,
        })
        .collect();
    let invitations = invitations
        .iter()
        .map(|i| {
            let state = i.state(now);
            let (code, badge) = match state {
                gardien_core::invitation::InvitationState::Pending => ("pending", "invited"),
                gardien_core::invitation::InvitationState::Accepted => ("accepted", "active"),
                gardien_core::invitation::InvitationState::Revoked => ("revoked", "removed"),
                gardien_core::invitation::InvitationState::Expired => ("expired", "suspended"),
            };
            InvitationRow {
                id: i.id.to_string(),
                email: i.email.as_str().to_owned(),
                state: code,
                badge,
                expires: short_time(i.expires_at),
                open: !matches!(
                    state,
                    gardien_core::invitation::InvitationState::Accepted
                        | gardien_core::invitation::InvitationState::Revoked
                ),
            }
        })
        .collect();
    let next_href = list.page.next_cursor.map(|cursor| {
        let mut params = url_params(&query);
        params.push(format!("cursor={cursor}"));
        format!("/o/{org}/team?{}", params.join("&"))
    });
    let org_name = current
        .organization
        .as_ref()
        .map(|c| c.organization.name.clone())
        .unwrap_or_default();
    let requires_activation = current
        .organization
        .as_ref()
        .is_some_and(|c| c.organization.requires_activation);
    Ok(render(&TeamPage {
        page,
        csrf,
        org_id: org.to_string(),
        org_name,
        members,
        invitations,
        roles: list
            .roles
            .iter()
            .map(|r| (r.id.to_string(), r.name.clone()))
            .collect(),
        query,
        next_href,
        can_manage: list.can_manage,
        can_invite: list.can_invite,
        requires_activation,
    })?
    .into_response())
}

fn url_params(query: &TeamQuery) -> Vec<String> {
    let mut params = Vec::new();
    for (name, value) in [
        ("search", &query.search),
        ("status", &query.status),
        ("role", &query.role),
        ("kind", &query.kind),
    ] {
        if !value.is_empty() {
            params.push(format!("{name}={}", urlencode(value)));
        }
    }
    params
}

fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// The invite form.

const INVITE_SCRIPT: &str = include_str!("../../static/invite.js");

pub(super) async fn invite_script() -> Response {
    super::script(INVITE_SCRIPT)
}

/// The role select's value that opens the "new role" fieldset.
const NEW_ROLE: &str = "new";

/// One resource row of the invite form.
#[derive(Debug, Default, Clone)]
pub(super) struct AssignmentRow {
    resource_type: String,
    id: String,
    label: String,
}

impl AssignmentRow {
    fn is_blank(&self) -> bool {
        self.resource_type.trim().is_empty()
            && self.id.trim().is_empty()
            && self.label.trim().is_empty()
    }
}

/// What the invite form holds. `assignment_*` and `new_role_permissions`
/// repeat, so the form is read as pairs.
#[derive(Debug, Default)]
pub(super) struct InviteValues {
    email: String,
    first_name: String,
    last_name: String,
    phone: String,
    kind: String,
    role_id: String,
    personal_message: String,
    language: String,
    new_role_name: String,
    new_role_description: String,
    new_role_scoped: bool,
    new_role_permissions: BTreeSet<String>,
    /// The rows typed in, blank rows left out.
    assignments: Vec<AssignmentRow>,
}

impl InviteValues {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut values = Self::default();
        let (mut types, mut ids, mut labels) = (Vec::new(), Vec::new(), Vec::new());
        for (name, value) in pairs {
            match name.as_str() {
                "email" => values.email = value,
                "first_name" => values.first_name = value,
                "last_name" => values.last_name = value,
                "phone" => values.phone = value,
                "kind" => values.kind = value,
                "role_id" => values.role_id = value,
                "personal_message" => values.personal_message = value,
                "language" => values.language = value,
                "new_role_name" => values.new_role_name = value,
                "new_role_description" => values.new_role_description = value,
                "new_role_scoped" => values.new_role_scoped = true,
                "new_role_permissions" => {
                    values.new_role_permissions.insert(value);
                }
                "assignment_type" => types.push(value),
                "assignment_id" => ids.push(value),
                "assignment_label" => labels.push(value),
                _ => {}
            }
        }
        let rows = types.len().max(ids.len()).max(labels.len());
        let at = |list: &[String], i: usize| list.get(i).cloned().unwrap_or_default();
        values.assignments = (0..rows)
            .map(|i| AssignmentRow {
                resource_type: at(&types, i),
                id: at(&ids, i),
                label: at(&labels, i),
            })
            .filter(|row| !row.is_blank())
            .collect();
        values
    }

    fn to_form(&self) -> InviteForm {
        let new_role = (self.role_id == NEW_ROLE).then(|| RoleInput {
            name: self.new_role_name.clone(),
            description: self.new_role_description.clone(),
            permissions: self.new_role_permissions.iter().cloned().collect(),
            scoped: self.new_role_scoped,
        });
        InviteForm {
            email: self.email.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            phone: self.phone.clone(),
            kind: self.kind.clone(),
            role_id: if new_role.is_some() {
                String::new()
            } else {
                self.role_id.clone()
            },
            personal_message: self.personal_message.clone(),
            language: self.language.clone(),
            new_role,
            assignments: self
                .assignments
                .iter()
                .map(|row| InviteAssignment {
                    resource_type: row.resource_type.clone(),
                    resource_id: row.id.clone(),
                    label: Some(row.label.clone()),
                })
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "team_invite.html")]
struct InvitePage {
    page: PageContext,
    csrf: CsrfToken,
    org_id: String,
    org_name: String,
    roles: Vec<(String, String)>,
    values: InviteValues,
    errors: HashMap<String, String>,
    /// May create a role from the form.
    can_manage_roles: bool,
    /// May give resources with the invitation.
    can_assign: bool,
    /// The permissions of the new role, by area.
    areas: Vec<Area>,
    /// The resource rows shown: those typed, then blank ones.
    rows: Vec<AssignmentRow>,
    /// How many days the link works (`--invitation-days`).
    invitation_days: u64,
}

impl InvitePage {
    fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }
    fn has_error(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }
    fn row_error(&self, row: &usize, field: &str) -> String {
        self.error(&format!("assignments[{row}].{field}"))
    }
    fn new_role_chosen(&self) -> bool {
        self.values.role_id == NEW_ROLE
    }
}

/// Blank resource rows always offered below the typed ones.
const BLANK_ROWS: usize = 2;

async fn invite_page(
    state: &AppState,
    page: PageContext,
    csrf: CsrfToken,
    current: &CurrentSession,
    org: Uuid,
    values: InviteValues,
    errors: HashMap<String, String>,
) -> Result<Html<String>, ApiError> {
    let organization = OrganizationId::from_uuid(org);
    let list = state
        .services
        .members(
            current,
            organization,
            &MemberQuery {
                page: Some(PageRequest::first(1)),
                ..MemberQuery::default()
            },
        )
        .await?;
    if !list.can_invite {
        return Err(ApiError::forbidden());
    }
    let mut values = values;
    if values.role_id.is_empty() {
        // The least-privileged built-in role is the safe default.
        if let Some(role) = list
            .roles
            .iter()
            .find(|r| r.template.as_deref() == Some("user"))
        {
            values.role_id = role.id.to_string();
        }
    }
    let org_name = current
        .organization
        .as_ref()
        .map(|c| c.organization.name.clone())
        .unwrap_or_default();
    let mut rows = values.assignments.clone();
    rows.extend(std::iter::repeat_n(AssignmentRow::default(), BLANK_ROWS));
    render(&InvitePage {
        areas: permission_areas(state, &page, &values.new_role_permissions),
        page,
        csrf,
        org_id: org.to_string(),
        org_name,
        roles: list
            .roles
            .iter()
            .map(|r| (r.id.to_string(), r.name.clone()))
            .collect(),
        values,
        errors,
        can_manage_roles: list.can_manage_roles,
        can_assign: list.can_manage,
        rows,
        invitation_days: u64::from(state.services.invitation_lifetime_days()),
    })
}

pub(super) async fn invite_form(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    MaybeSignedIn(current): MaybeSignedIn,
    Path(org): Path<Uuid>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let values = InviteValues {
        kind: "staff".into(),
        language: current.account.language.code().into(),
        ..InviteValues::default()
    };
    Ok(
        invite_page(&state, page, csrf, &current, org, values, HashMap::new())
            .await?
            .into_response(),
    )
}

// Axum extractors, one per argument.
#[allow(clippy::too_many_arguments)]
pub(super) async fn invite_submit(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    MaybeSignedIn(current): MaybeSignedIn,
    Origin(context): Origin,
    jar: CookieJar,
    Path(org): Path<Uuid>,
    form: Result<Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let Form(pairs) = form?;
    let values = InviteValues::from_pairs(pairs);
    let result = state
        .services
        .invite(
            &current,
            OrganizationId::from_uuid(org),
            &values.to_form(),
            &context,
        )
        .await;
    let message = |error: &gardien_core::ValidationError| validation_message(&page.t, error);
    let errors: HashMap<String, String> = match result {
        Ok(_) => {
            let jar = jar.add(Flash::InvitationSent.cookie(state.settings.is_https()));
            return Ok((jar, Redirect::to(&format!("/o/{org}/team"))).into_response());
        }
        Err(ServiceError::Invalid(errors)) => errors
            .into_iter()
            .map(|(field, error)| (field.to_owned(), message(&error)))
            .collect(),
        Err(ServiceError::InvalidItems(errors)) => errors
            .into_iter()
            .map(|(field, error)| (field, message(&error)))
            .collect(),
        Err(ServiceError::AlreadyInOrganization) => HashMap::from([(
            "email".to_owned(),
            page.t.get("problem-already-in-organization-detail"),
        )]),
        Err(ServiceError::Role(RoleError::NameTaken)) => HashMap::from([(
            "new_role.name".to_owned(),
            page.t.get("problem-role-name-taken-detail"),
        )]),
        Err(ServiceError::UnknownPermission { key, .. }) => HashMap::from([(
            "new_role.permissions".to_owned(),
            page.t.arg("invite-unknown-permission", "key", key),
        )]),
        Err(other) => return Err(other.into()),
    };
    let status = if errors.contains_key("email") && errors.len() == 1 {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let html = invite_page(&state, page, csrf, &current, org, values, errors).await?;
    Ok((status, html).into_response())
}

// Member actions, with a confirmation step.

#[derive(Template)]
#[template(path = "team_confirm.html")]
struct ConfirmPage {
    page: PageContext,
    csrf: CsrfToken,
    org_id: String,
    member_id: String,
    action: String,
    name: String,
    email: String,
    danger: bool,
}

impl ConfirmPage {
    fn message(&self, part: &str) -> String {
        self.page.t.get(&format!("confirm-{}-{part}", self.action))
    }
}

pub(super) async fn confirm(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    MaybeSignedIn(current): MaybeSignedIn,
    Path((org, member, action)): Path<(Uuid, Uuid, String)>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let change = status_change(&action).ok_or_else(ApiError::not_found)?;
    let summary = state
        .services
        .member(
            &current,
            OrganizationId::from_uuid(org),
            MembershipId::from_uuid(member),
        )
        .await?;
    Ok(render(&ConfirmPage {
        page,
        csrf,
        org_id: org.to_string(),
        member_id: member.to_string(),
        action,
        name: format!("{} {}", summary.first_name, summary.last_name),
        email: summary.email.as_str().to_owned(),
        danger: matches!(change, StatusChange::Suspend | StatusChange::Remove),
    })?
    .into_response())
}

pub(super) async fn perform(
    State(state): State<AppState>,
    MaybeSignedIn(current): MaybeSignedIn,
    Origin(context): Origin,
    jar: CookieJar,
    Path((org, member, action)): Path<(Uuid, Uuid, String)>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let change = status_change(&action).ok_or_else(ApiError::not_found)?;
    state
        .services
        .change_member_status(
            &current,
            OrganizationId::from_uuid(org),
            MembershipId::from_uuid(member),
            change,
            &context,
        )
        .await?;
    let jar = jar.add(Flash::MemberUpdated.cookie(state.settings.is_https()));
    Ok((jar, Redirect::to(&format!("/o/{org}/team"))).into_response())
}

#[derive(Deserialize)]
pub(super) struct RoleValues {
    #[serde(default)]
    role_id: String,
}

pub(super) async fn change_role(
    State(state): State<AppState>,
    MaybeSignedIn(current): MaybeSignedIn,
    Origin(context): Origin,
    jar: CookieJar,
    Path((org, member)): Path<(Uuid, Uuid)>,
    form: Result<Form<RoleValues>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let Form(values) = form?;
    state
        .services
        .change_member_role(
            &current,
            OrganizationId::from_uuid(org),
            MembershipId::from_uuid(member),
            &values.role_id,
            &context,
        )
        .await?;
    let jar = jar.add(Flash::MemberUpdated.cookie(state.settings.is_https()));
    Ok((jar, Redirect::to(&format!("/o/{org}/team"))).into_response())
}

pub(super) async fn invitation_action(
    State(state): State<AppState>,
    MaybeSignedIn(current): MaybeSignedIn,
    Origin(context): Origin,
    jar: CookieJar,
    Path((org, id, action)): Path<(Uuid, Uuid, String)>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let organization = OrganizationId::from_uuid(org);
    let id = InvitationId::from_uuid(id);
    let flash = match action.as_str() {
        "resend" => {
            state
                .services
                .resend_invitation(&current, organization, id, &context)
                .await?;
            Flash::InvitationResent
        }
        "revoke" => {
            state
                .services
                .revoke_invitation(&current, organization, id, &context)
                .await?;
            Flash::InvitationRevoked
        }
        _ => return Err(ApiError::not_found()),
    };
    let jar = jar.add(flash.cookie(state.settings.is_https()));
    Ok((jar, Redirect::to(&format!("/o/{org}/team"))).into_response())
}

/// The languages an invitation can be written in, each named in the page's language.
pub(super) fn language_choices(page: &PageContext) -> Vec<(&'static str, String)> {
    Language::ALL
        .into_iter()
        .map(|l| {
            (
                l.code(),
                page.t.get(&format!("invite-language-{}", l.code())),
            )
        })
        .collect()
}

impl InvitePage {
    fn languages(&self) -> Vec<(&'static str, String)> {
        language_choices(&self.page)
    }
}

#[derive(Deserialize)]
pub(super) struct SettingsValues {
    requires_activation: Option<String>,
}

pub(super) async fn save_settings(
    State(state): State<AppState>,
    MaybeSignedIn(current): MaybeSignedIn,
    Origin(context): Origin,
    jar: CookieJar,
    Path(org): Path<Uuid>,
    form: Result<Form<SettingsValues>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let Form(values) = form?;
    state
        .services
        .set_requires_activation(
            &current,
            OrganizationId::from_uuid(org),
            values.requires_activation.is_some(),
            &context,
        )
        .await?;
    let jar = jar.add(Flash::SettingsSaved.cookie(state.settings.is_https()));
    Ok((jar, Redirect::to(&format!("/o/{org}/team"))).into_response())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    fn keys(source: &str) -> BTreeSet<&str> {
        source
            .lines()
            .filter(|line| line.starts_with(|c: char| c.is_ascii_alphabetic()))
            .filter_map(|line| line.split_once('=').map(|(key, _)| key.trim()))
            .collect()
    }

    #[test]
    fn team_catalogues_have_the_same_keys() {
        let en = keys(include_str!("../../locales/en/team.ftl"));
        let fr = keys(include_str!("../../locales/fr/team.ftl"));
        assert!(en.len() > 50);
        assert_eq!(en, fr);
    }

    #[test]
    fn filter_values_are_url_encoded() {
        assert_eq!(super::urlencode("a b&c=é"), "a%20b%26c%3D%C3%A9");
    }
}

// Ownership hand-over, with a confirmation step.

#[derive(Template)]
#[template(path = "team_ownership.html")]
struct OwnershipPage {
    page: PageContext,
    csrf: CsrfToken,
    org_id: String,
    org_name: String,
    member_id: String,
    name: String,
    email: String,
    /// The organization's roles, for "your role afterwards".
    roles: Vec<(String, String)>,
    error: String,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct OwnershipValues {
    #[serde(default)]
    previous_owner_role_id: String,
}

async fn ownership_page(
    state: &AppState,
    page: PageContext,
    csrf: CsrfToken,
    current: &CurrentSession,
    org: Uuid,
    member: Uuid,
    error: String,
) -> Result<Html<String>, ApiError> {
    let organization = OrganizationId::from_uuid(org);
    let summary = state
        .services
        .member(current, organization, MembershipId::from_uuid(member))
        .await?;
    let list = state
        .services
        .members(
            current,
            organization,
            &MemberQuery {
                page: Some(PageRequest::first(1)),
                ..MemberQuery::default()
            },
        )
        .await?;
    if list.owner != Some(list.acting) {
        return Err(ServiceError::NotOwner.into());
    }
    render(&OwnershipPage {
        page,
        csrf,
        org_id: org.to_string(),
        org_name: current
            .organization
            .as_ref()
            .map(|c| c.organization.name.clone())
            .unwrap_or_default(),
        member_id: member.to_string(),
        name: format!("{} {}", summary.first_name, summary.last_name),
        email: summary.email.as_str().to_owned(),
        roles: list
            .roles
            .iter()
            .map(|r| (r.id.to_string(), r.name.clone()))
            .collect(),
        error,
    })
}

pub(super) async fn ownership_confirm(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    MaybeSignedIn(current): MaybeSignedIn,
    Path((org, member)): Path<(Uuid, Uuid)>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    Ok(
        ownership_page(&state, page, csrf, &current, org, member, String::new())
            .await?
            .into_response(),
    )
}

// Axum extractors, one per argument.
#[allow(clippy::too_many_arguments)]
pub(super) async fn ownership_submit(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    MaybeSignedIn(current): MaybeSignedIn,
    Origin(context): Origin,
    jar: CookieJar,
    Path((org, member)): Path<(Uuid, Uuid)>,
    form: Result<Form<OwnershipValues>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let Form(values) = form?;
    let result = state
        .services
        .hand_over_ownership(
            &current,
            OrganizationId::from_uuid(org),
            &HandOver {
                to: member.to_string(),
                previous_owner_role_id: values.previous_owner_role_id,
            },
            &context,
        )
        .await;
    let error = match result {
        Ok(_) => {
            let jar = jar.add(Flash::OwnershipHandedOver.cookie(state.settings.is_https()));
            // Stepping down may take the team page away from the former owner.
            let sees_team = state
                .services
                .organization_owner(&current, OrganizationId::from_uuid(org))
                .await
                .is_ok();
            let to = if sees_team {
                format!("/o/{org}/team")
            } else {
                "/".to_owned()
            };
            return Ok((jar, Redirect::to(&to)).into_response());
        }
        Err(ServiceError::Invalid(errors)) => errors
            .first()
            .map(|(_, e)| validation_message(&page.t, e))
            .unwrap_or_default(),
        Err(other) => return Err(other.into()),
    };
    let html = ownership_page(&state, page, csrf, &current, org, member, error).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
}
