//! The member page (`/o/{org}/team/{member}`, flows 8 and 10, seeds 001,
//! 002, 003): who the member is, their role, their overrides grouped by
//! area with a three-way control per permission (role default / grant /
//! deny) that saves itself on change (`/static/member.js`; without script,
//! each row is a form with its own button), their assignments, and their
//! effective access in plain words.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use axum_extra::extract::CookieJar;
use gardien_core::access::AccessSource;
use gardien_core::evaluator::OverrideEffect;
use gardien_core::{MembershipId, OrganizationId};
use gardien_service::{AssignmentChanges, AssignmentItem, CurrentSession, ServiceError};
use serde::Deserialize;
use uuid::Uuid;

use super::flash::Flash;
use super::{render, PageContext};
use crate::context::Origin;
use crate::csrf::CsrfToken;
use crate::error::{validation_message, ApiError};
use crate::session::MaybeSignedIn;
use crate::state::AppState;

const MEMBER_SCRIPT: &str = include_str!("../../static/member.js");

struct OverrideRow {
    key: String,
    label: String,
    /// The role alone grants it.
    role_grants: bool,
    /// `role`, `grant` or `deny`.
    choice: &'static str,
}

struct Area {
    label: String,
    rows: Vec<OverrideRow>,
}

struct AssignmentRow {
    resource_type: String,
    id: String,
    label: String,
}

struct AccessRow {
    label: String,
    allowed: bool,
    reason: String,
}

#[derive(Template)]
#[template(path = "member.html")]
struct MemberPage {
    page: PageContext,
    csrf: CsrfToken,
    org_id: String,
    member_id: String,
    name: String,
    email: String,
    kind: &'static str,
    status: &'static str,
    role_id: String,
    role_name: String,
    role_scoped: bool,
    roles: Vec<(String, String)>,
    can_manage: bool,
    is_self: bool,
    areas: Vec<Area>,
    assignments: Vec<AssignmentRow>,
    access: Vec<AccessRow>,
    /// The add form's values and errors (after a refused submission).
    add: AssignmentValues,
    errors: HashMap<String, String>,
}

impl MemberPage {
    fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }
    fn has_error(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }
    fn status_label(&self) -> String {
        self.page
            .t
            .get(&format!("status-{}", self.status.replace('_', "-")))
    }
    fn kind_label(&self) -> String {
        self.page.t.get(&format!("kind-{}", self.kind))
    }
    fn badge(&self) -> &'static str {
        if self.status == "pending_activation" {
            "pending"
        } else {
            self.status
        }
    }
}

fn to_login() -> Response {
    Redirect::to("/login").into_response()
}

#[allow(clippy::too_many_arguments)]
async fn member_page(
    state: &AppState,
    page: PageContext,
    csrf: CsrfToken,
    current: &CurrentSession,
    org: Uuid,
    member: Uuid,
    add: AssignmentValues,
    errors: HashMap<String, String>,
) -> Result<MemberPage, ApiError> {
    let access = state
        .services
        .member_access(
            current,
            OrganizationId::from_uuid(org),
            MembershipId::from_uuid(member),
        )
        .await?;
    let language = page.t.language();
    let catalog = state.services.permission_catalog();
    let label_of = |key: &str| {
        catalog
            .get(key)
            .map(|p| p.label.get(language).to_owned())
            .unwrap_or_else(|| key.to_owned())
    };
    let areas = catalog
        .grouped()
        .into_iter()
        .map(|(group, permissions)| Area {
            label: group.label.get(language).to_owned(),
            rows: permissions
                .into_iter()
                .map(|p| OverrideRow {
                    key: p.key.as_str().to_owned(),
                    label: p.label.get(language).to_owned(),
                    role_grants: access.role.permissions.contains(&p.key),
                    choice: match access.overrides.get(&p.key) {
                        Some(OverrideEffect::Grant) => "grant",
                        Some(OverrideEffect::Deny) => "deny",
                        None => "role",
                    },
                })
                .collect(),
        })
        .collect();
    let t = &page.t;
    let access_rows = access
        .lines
        .iter()
        .map(|line| {
            let mut reason = t.get(match line.source {
                AccessSource::Role => "member-reason-role",
                AccessSource::OverrideGrant => "member-reason-grant",
                AccessSource::OverrideDeny => "member-reason-deny",
            });
            if line.only_assigned {
                reason = format!("{reason} {}", t.get("member-reason-scoped"));
            }
            AccessRow {
                label: label_of(line.permission.as_str()),
                allowed: line.allowed,
                reason,
            }
        })
        .collect();
    let m = &access.member;
    let name = format!("{} {}", m.first_name, m.last_name);
    Ok(MemberPage {
        csrf,
        org_id: org.to_string(),
        member_id: member.to_string(),
        name: if name.trim().is_empty() {
            m.email.as_str().to_owned()
        } else {
            name
        },
        email: m.email.as_str().to_owned(),
        kind: m.membership.kind.as_str(),
        status: m.membership.status.as_str(),
        role_id: access.role.id.to_string(),
        role_name: access.role.name.clone(),
        role_scoped: access.role.scoped,
        roles: access
            .roles
            .iter()
            .map(|r| (r.id.to_string(), r.name.clone()))
            .collect(),
        can_manage: access.can_manage,
        is_self: access.is_self,
        areas,
        assignments: access
            .assignments
            .iter()
            .map(|a| AssignmentRow {
                resource_type: a.resource.resource_type.clone(),
                id: a.resource.resource_id.clone(),
                label: a.label.clone(),
            })
            .collect(),
        access: access_rows,
        add,
        errors,
        page,
    })
}

pub(super) async fn show(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    MaybeSignedIn(current): MaybeSignedIn,
    Path((org, member)): Path<(Uuid, Uuid)>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let view = member_page(
        &state,
        page,
        csrf,
        &current,
        org,
        member,
        AssignmentValues::default(),
        HashMap::new(),
    )
    .await?;
    Ok(render(&view)?.into_response())
}

#[derive(Deserialize)]
pub(super) struct OverrideValues {
    #[serde(default)]
    permission: String,
    /// `role`, `grant` or `deny`.
    #[serde(default)]
    effect: String,
}

/// Saves one row of the overrides table. The script sends it with
/// `Accept: application/json` and gets `{"effect": …}` back; a plain form
/// post comes back to the page.
pub(super) async fn save_override(
    State(state): State<AppState>,
    MaybeSignedIn(current): MaybeSignedIn,
    Origin(context): Origin,
    headers: HeaderMap,
    jar: CookieJar,
    Path((org, member)): Path<(Uuid, Uuid)>,
    form: Result<Form<OverrideValues>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let Form(values) = form?;
    let effect = match values.effect.as_str() {
        "role" => None,
        "grant" => Some(OverrideEffect::Grant),
        "deny" => Some(OverrideEffect::Deny),
        other => {
            return Err(ApiError::validation(
                "effect",
                gardien_core::ValidationError::UnknownValue(
                    other.chars().take(40).collect(),
                    "override (role, grant, deny)",
                ),
            ))
        }
    };
    let saved = state
        .services
        .set_member_override(
            &current,
            OrganizationId::from_uuid(org),
            MembershipId::from_uuid(member),
            &values.permission,
            effect,
            &context,
        )
        .await?;
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    if wants_json {
        let effect = match saved {
            Some(OverrideEffect::Grant) => "grant",
            Some(OverrideEffect::Deny) => "deny",
            None => "role",
        };
        return Ok(Json(serde_json::json!({ "effect": effect })).into_response());
    }
    let jar = jar.add(Flash::MemberUpdated.cookie(state.settings.is_https()));
    Ok((
        jar,
        Redirect::to(&format!("/o/{org}/team/{member}#overrides")),
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct AssignmentValues {
    #[serde(default, rename = "type")]
    resource_type: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    label: String,
}

/// Assigns one resource from the member page; refusals come back next to
/// their fields.
#[allow(clippy::too_many_arguments)]
pub(super) async fn add_assignment(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    MaybeSignedIn(current): MaybeSignedIn,
    Origin(context): Origin,
    jar: CookieJar,
    Path((org, member)): Path<(Uuid, Uuid)>,
    form: Result<Form<AssignmentValues>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let Form(values) = form?;
    let changes = AssignmentChanges {
        add: vec![AssignmentItem {
            member: member.to_string(),
            resource_type: values.resource_type.clone(),
            resource_id: values.id.clone(),
            label: Some(values.label.clone()),
        }],
        remove: Vec::new(),
    };
    match state
        .services
        .change_assignments(
            &current,
            OrganizationId::from_uuid(org),
            &changes,
            false,
            &context,
        )
        .await
    {
        Ok(_) => {
            let jar = jar.add(Flash::MemberUpdated.cookie(state.settings.is_https()));
            Ok((
                jar,
                Redirect::to(&format!("/o/{org}/team/{member}#assignments")),
            )
                .into_response())
        }
        Err(ServiceError::InvalidItems(issues)) => {
            let errors = issues
                .iter()
                .map(|(field, error)| (field.clone(), validation_message(&page.t, error)))
                .collect();
            let view =
                member_page(&state, page, csrf, &current, org, member, values, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&view)?).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

/// Unassigns one resource (after the row's confirmation).
pub(super) async fn remove_assignment(
    State(state): State<AppState>,
    MaybeSignedIn(current): MaybeSignedIn,
    Origin(context): Origin,
    jar: CookieJar,
    Path((org, member)): Path<(Uuid, Uuid)>,
    form: Result<Form<AssignmentValues>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let Form(values) = form?;
    let changes = AssignmentChanges {
        add: Vec::new(),
        remove: vec![AssignmentItem {
            member: member.to_string(),
            resource_type: values.resource_type,
            resource_id: values.id,
            label: None,
        }],
    };
    state
        .services
        .change_assignments(
            &current,
            OrganizationId::from_uuid(org),
            &changes,
            false,
            &context,
        )
        .await?;
    let jar = jar.add(Flash::MemberUpdated.cookie(state.settings.is_https()));
    Ok((
        jar,
        Redirect::to(&format!("/o/{org}/team/{member}#assignments")),
    )
        .into_response())
}

/// `GET /static/member.js`: the overrides table's autosave.
pub(super) async fn script() -> Response {
    super::script(MEMBER_SCRIPT)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    fn keys(source: &str) -> BTreeSet<&str> {
        source
            .lines()
            .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim()))
            .filter(|k| !k.is_empty() && !k.starts_with('#'))
            .collect()
    }

    #[test]
    fn member_catalogues_have_the_same_keys() {
        assert_eq!(
            keys(include_str!("../../locales/en/member.ftl")),
            keys(include_str!("../../locales/fr/member.ftl"))
        );
    }
}
