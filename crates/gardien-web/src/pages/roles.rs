//! The roles pages (flow 9): the list of the organization's roles
//! (`/o/{org}/roles`), the role editor (`/o/{org}/roles/new`,
//! `/o/{org}/roles/{role}`) with permission toggles grouped by area in the
//! page's language, and the deletion's confirmation, which asks where the
//! role's members go when someone holds it. Built-in roles are shown
//! read-only, with a way to duplicate them into a custom role.

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::CookieJar;
use gardien_core::role::RoleError;
use gardien_core::{OrganizationId, RoleId};
use gardien_service::{CurrentSession, RoleInput, RolePatch, RoleView, ServiceError};
use serde::Deserialize;
use uuid::Uuid;

use super::flash::Flash;
use super::{render, PageContext};
use crate::context::Origin;
use crate::csrf::CsrfToken;
use crate::error::{validation_message, ApiError};
use crate::session::MaybeSignedIn;
use crate::state::AppState;

fn to_login() -> Response {
    Redirect::to("/login").into_response()
}

fn org_name(current: &CurrentSession) -> String {
    current
        .organization
        .as_ref()
        .map(|c| c.organization.name.clone())
        .unwrap_or_default()
}

struct RoleRow {
    id: String,
    name: String,
    description: String,
    built_in: bool,
    scoped: bool,
    permissions: usize,
    members: u64,
}

#[derive(Template)]
#[template(path = "roles.html")]
struct ListPage {
    page: PageContext,
    org_id: String,
    org_name: String,
    roles: Vec<RoleRow>,
}

pub(super) async fn list(
    State(state): State<AppState>,
    page: PageContext,
    MaybeSignedIn(current): MaybeSignedIn,
    Path(org): Path<Uuid>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let roles = state
        .services
        .organization_roles(&current, OrganizationId::from_uuid(org))
        .await?;
    Ok(render(&ListPage {
        page,
        org_id: org.to_string(),
        org_name: org_name(&current),
        roles: roles
            .iter()
            .map(|v| RoleRow {
                id: v.role.id.to_string(),
                name: v.role.name.clone(),
                description: v.role.description.clone(),
                built_in: v.role.is_built_in(),
                scoped: v.role.scoped,
                permissions: v.role.permissions.len(),
                members: v.members,
            })
            .collect(),
    })?
    .into_response())
}

// The editor.

/// What the editor's form holds.
#[derive(Debug, Default, Clone)]
struct RoleValues {
    name: String,
    description: String,
    scoped: bool,
    permissions: BTreeSet<String>,
}

impl RoleValues {
    fn of(view: &RoleView) -> Self {
        Self {
            name: view.role.name.clone(),
            description: view.role.description.clone(),
            scoped: view.role.scoped,
            permissions: view
                .role
                .permissions
                .iter()
                .map(|p| p.as_str().to_owned())
                .collect(),
        }
    }

    /// The submitted form: `permissions` repeats once per ticked toggle.
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut values = Self::default();
        for (name, value) in pairs {
            match name.as_str() {
                "name" => values.name = value,
                "description" => values.description = value,
                "scoped" => values.scoped = true,
                "permissions" => {
                    values.permissions.insert(value);
                }
                _ => {}
            }
        }
        values
    }
}

/// One permission of the catalog, as a checkbox of a role form.
pub(super) struct Toggle {
    pub(super) key: String,
    pub(super) label: String,
    pub(super) description: String,
    pub(super) checked: bool,
}

/// A group of the catalog, as a fieldset of a role form.
pub(super) struct Area {
    pub(super) key: String,
    pub(super) label: String,
    pub(super) toggles: Vec<Toggle>,
}

#[derive(Template)]
#[template(path = "role_edit.html")]
struct EditPage {
    page: PageContext,
    csrf: CsrfToken,
    org_id: String,
    org_name: String,
    /// `None` for a new role.
    role_id: Option<String>,
    built_in: bool,
    members: u64,
    values: RoleValues,
    areas: Vec<Area>,
    errors: HashMap<String, String>,
}

impl EditPage {
    fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }
    fn has_error(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }
    fn action(&self) -> String {
        match &self.role_id {
            Some(id) => format!("/o/{}/roles/{id}", self.org_id),
            None => format!("/o/{}/roles/new", self.org_id),
        }
    }
}

/// The catalog's permissions by group, `checked` ticked (the role editor
/// and the invite form's new role).
pub(super) fn permission_areas(
    state: &AppState,
    page: &PageContext,
    checked: &BTreeSet<String>,
) -> Vec<Area> {
    let language = page.t.language();
    state
        .services
        .permission_catalog()
        .grouped()
        .into_iter()
        .map(|(group, permissions)| Area {
            key: group.key.clone(),
            label: group.label.get(language).to_owned(),
            toggles: permissions
                .into_iter()
                .map(|p| Toggle {
                    key: p.key.as_str().to_owned(),
                    label: p.label.get(language).to_owned(),
                    description: p.description.get(language).to_owned(),
                    checked: checked.contains(p.key.as_str()),
                })
                .collect(),
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn edit_page(
    state: &AppState,
    page: PageContext,
    csrf: CsrfToken,
    current: &CurrentSession,
    org: Uuid,
    role: Option<&RoleView>,
    values: RoleValues,
    errors: HashMap<String, String>,
) -> EditPage {
    EditPage {
        areas: permission_areas(state, &page, &values.permissions),
        page,
        csrf,
        org_id: org.to_string(),
        org_name: org_name(current),
        role_id: role.map(|r| r.role.id.to_string()),
        built_in: role.is_some_and(|r| r.role.is_built_in()),
        members: role.map_or(0, |r| r.members),
        values,
        errors,
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct NewQuery {
    /// A role to duplicate.
    from: Option<Uuid>,
}

pub(super) async fn new_form(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    MaybeSignedIn(current): MaybeSignedIn,
    Path(org): Path<Uuid>,
    Query(query): Query<NewQuery>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let organization = OrganizationId::from_uuid(org);
    let values = match query.from {
        Some(from) => {
            let source = state
                .services
                .organization_role(&current, organization, RoleId::from_uuid(from))
                .await?;
            let mut values = RoleValues::of(&source);
            values.name = page.t.arg("role-copy-of", "name", &source.role.name);
            values
        }
        None => {
            // Only to check the permission before showing an empty form.
            state
                .services
                .organization_roles(&current, organization)
                .await?;
            RoleValues::default()
        }
    };
    let html = render(&edit_page(
        &state,
        page,
        csrf,
        &current,
        org,
        None,
        values,
        HashMap::new(),
    ))?;
    Ok(html.into_response())
}

/// The messages next to the fields for a refused save, or the error itself
/// when it is not about a field.
fn field_errors(
    page: &PageContext,
    error: ServiceError,
) -> Result<HashMap<String, String>, ApiError> {
    Ok(match error {
        ServiceError::Invalid(errors) => errors
            .into_iter()
            .map(|(field, error)| (field.to_owned(), validation_message(&page.t, &error)))
            .collect(),
        ServiceError::Role(RoleError::NameTaken) => HashMap::from([(
            "name".to_owned(),
            page.t.get("problem-role-name-taken-detail"),
        )]),
        ServiceError::UnknownPermission { .. } => HashMap::from([(
            "permissions".to_owned(),
            page.t.get("role-unknown-permission"),
        )]),
        ServiceError::Lifecycle(gardien_core::membership::LifecycleError::LastAdministrator) => {
            HashMap::from([(
                "permissions".to_owned(),
                page.t.get("role-last-administrator"),
            )])
        }
        other => return Err(other.into()),
    })
}

// Axum extractors, one per argument.
#[allow(clippy::too_many_arguments)]
pub(super) async fn create(
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
    let values = RoleValues::from_pairs(pairs);
    let input = RoleInput {
        name: values.name.clone(),
        description: values.description.clone(),
        permissions: values.permissions.iter().cloned().collect(),
        scoped: values.scoped,
    };
    let result = state
        .services
        .create_role(&current, OrganizationId::from_uuid(org), &input, &context)
        .await;
    let errors = match result {
        Ok(view) => {
            let jar = jar.add(Flash::RoleSaved.cookie(state.settings.is_https()));
            let to = format!("/o/{org}/roles/{}", view.role.id);
            return Ok((jar, Redirect::to(&to)).into_response());
        }
        Err(error) => field_errors(&page, error)?,
    };
    let status = if errors.contains_key("name") && errors.len() == 1 {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let html = render(&edit_page(
        &state, page, csrf, &current, org, None, values, errors,
    ))?;
    Ok((status, html).into_response())
}

pub(super) async fn show(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    MaybeSignedIn(current): MaybeSignedIn,
    Path((org, role)): Path<(Uuid, Uuid)>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let view = state
        .services
        .organization_role(
            &current,
            OrganizationId::from_uuid(org),
            RoleId::from_uuid(role),
        )
        .await?;
    let values = RoleValues::of(&view);
    let html = render(&edit_page(
        &state,
        page,
        csrf,
        &current,
        org,
        Some(&view),
        values,
        HashMap::new(),
    ))?;
    Ok(html.into_response())
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn update(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    MaybeSignedIn(current): MaybeSignedIn,
    Origin(context): Origin,
    jar: CookieJar,
    Path((org, role)): Path<(Uuid, Uuid)>,
    form: Result<Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let Form(pairs) = form?;
    let values = RoleValues::from_pairs(pairs);
    let organization = OrganizationId::from_uuid(org);
    let id = RoleId::from_uuid(role);
    let patch = RolePatch {
        name: Some(values.name.clone()),
        description: Some(values.description.clone()),
        permissions: Some(values.permissions.iter().cloned().collect()),
        scoped: Some(values.scoped),
    };
    let result = state
        .services
        .update_role(&current, organization, id, &patch, &context)
        .await;
    let errors = match result {
        Ok(_) => {
            let jar = jar.add(Flash::RoleSaved.cookie(state.settings.is_https()));
            return Ok((jar, Redirect::to(&format!("/o/{org}/roles/{role}"))).into_response());
        }
        Err(error) => field_errors(&page, error)?,
    };
    let view = state
        .services
        .organization_role(&current, organization, id)
        .await?;
    let status = if errors.contains_key("name") && errors.len() == 1 {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let html = render(&edit_page(
        &state,
        page,
        csrf,
        &current,
        org,
        Some(&view),
        values,
        errors,
    ))?;
    Ok((status, html).into_response())
}

// Deletion, with its confirmation.

#[derive(Template)]
#[template(path = "role_delete.html")]
struct DeletePage {
    page: PageContext,
    csrf: CsrfToken,
    org_id: String,
    role_id: String,
    name: String,
    members: u64,
    /// The other roles members can move to: `(id, name)`.
    replacements: Vec<(String, String)>,
    replacement: String,
    error: String,
}

#[allow(clippy::too_many_arguments)]
async fn delete_page(
    state: &AppState,
    page: PageContext,
    csrf: CsrfToken,
    current: &CurrentSession,
    org: Uuid,
    role: Uuid,
    replacement: String,
    error: String,
) -> Result<DeletePage, ApiError> {
    let organization = OrganizationId::from_uuid(org);
    let roles = state
        .services
        .organization_roles(current, organization)
        .await?;
    let this = roles
        .iter()
        .find(|v| v.role.id.as_uuid() == role)
        .ok_or_else(ApiError::not_found)?;
    if this.role.is_built_in() {
        return Err(ServiceError::Role(RoleError::BuiltIn).into());
    }
    Ok(DeletePage {
        org_id: org.to_string(),
        role_id: role.to_string(),
        name: this.role.name.clone(),
        members: this.members,
        replacements: roles
            .iter()
            .filter(|v| v.role.id != this.role.id)
            .map(|v| (v.role.id.to_string(), v.role.name.clone()))
            .collect(),
        replacement,
        error,
        page,
        csrf,
    })
}

pub(super) async fn confirm_delete(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    MaybeSignedIn(current): MaybeSignedIn,
    Path((org, role)): Path<(Uuid, Uuid)>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let confirm = delete_page(
        &state,
        page,
        csrf,
        &current,
        org,
        role,
        String::new(),
        String::new(),
    )
    .await?;
    Ok(render(&confirm)?.into_response())
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct DeleteValues {
    #[serde(default)]
    replacement: String,
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn delete(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    MaybeSignedIn(current): MaybeSignedIn,
    Origin(context): Origin,
    jar: CookieJar,
    Path((org, role)): Path<(Uuid, Uuid)>,
    form: Result<Form<DeleteValues>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let Form(values) = form?;
    let result = state
        .services
        .delete_role(
            &current,
            OrganizationId::from_uuid(org),
            RoleId::from_uuid(role),
            Some(values.replacement.as_str()),
            &context,
        )
        .await;
    let error = match result {
        Ok(_) => {
            let jar = jar.add(Flash::RoleDeleted.cookie(state.settings.is_https()));
            return Ok((jar, Redirect::to(&format!("/o/{org}/roles"))).into_response());
        }
        Err(ServiceError::Role(RoleError::InUse { .. })) => {
            page.t.get("role-delete-replacement-required")
        }
        Err(ServiceError::Invalid(errors)) => errors
            .first()
            .map(|(_, e)| validation_message(&page.t, e))
            .unwrap_or_default(),
        Err(ServiceError::Lifecycle(
            gardien_core::membership::LifecycleError::LastAdministrator,
        )) => page.t.get("role-last-administrator"),
        Err(other) => return Err(other.into()),
    };
    let confirm = delete_page(
        &state,
        page,
        csrf,
        &current,
        org,
        role,
        values.replacement,
        error,
    )
    .await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&confirm)?).into_response())
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
    fn roles_catalogues_have_the_same_keys() {
        let en = keys(include_str!("../../locales/en/roles.ftl"));
        let fr = keys(include_str!("../../locales/fr/roles.ftl"));
        assert!(en.len() > 30);
        assert_eq!(en, fr);
    }

    #[test]
    fn repeated_toggles_are_all_kept() {
        let values = super::RoleValues::from_pairs(vec![
            ("csrf_token".into(), "x".into()),
            ("name".into(), "Accounting".into()),
            ("permissions".into(), "mail.read".into()),
            ("permissions".into(), "invoices.read".into()),
            ("scoped".into(), "yes".into()),
        ]);
        assert_eq!(values.name, "Accounting");
        assert!(values.scoped);
        assert_eq!(values.permissions.len(), 2);
    }
}
