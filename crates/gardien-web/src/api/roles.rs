//! The permission catalog and an organization's roles (flow 9) under
//! `/api/v1`: built-in roles (read-only) and custom roles, created, edited
//! and deleted by members whose role holds `roles.manage`.

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::Json;
use gardien_core::permission::{Localized, PermissionCatalog};
use gardien_core::{OrganizationId, RoleId};
use gardien_service::{RoleInput, RolePatch, RoleView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::checks::Bearer;
use crate::context::Origin;
use crate::error::{ApiError, Problem};
use crate::session::{MaybeSignedIn, SignedIn};
use crate::state::AppState;

/// A text in French and English.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LocalizedBody {
    pub fr: String,
    pub en: String,
}

impl From<&Localized> for LocalizedBody {
    fn from(text: &Localized) -> Self {
        Self {
            fr: text.fr.clone(),
            en: text.en.clone(),
        }
    }
}

/// One permission of the catalog.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PermissionBody {
    /// Such as `mail.read`.
    pub key: String,
    pub label: LocalizedBody,
    /// Empty strings when the catalog gives none.
    pub description: LocalizedBody,
}

/// An area of the catalog with its permissions.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PermissionGroupBody {
    /// Such as `mail`.
    pub key: String,
    pub label: LocalizedBody,
    pub permissions: Vec<PermissionBody>,
}

/// The deployment's permission catalog, grouped by area, in its order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CatalogBody {
    pub groups: Vec<PermissionGroupBody>,
}

pub(crate) fn catalog_body(catalog: &PermissionCatalog) -> CatalogBody {
    CatalogBody {
        groups: catalog
            .grouped()
            .into_iter()
            .map(|(group, permissions)| PermissionGroupBody {
                key: group.key.clone(),
                label: (&group.label).into(),
                permissions: permissions
                    .into_iter()
                    .map(|p| PermissionBody {
                        key: p.key.as_str().to_owned(),
                        label: (&p.label).into(),
                        description: (&p.description).into(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// A signed-in person or a host back end's API key (an extractor): the
/// catalog is for both; anyone else gets 401.
pub struct SessionOrKey;

impl FromRequestParts<AppState> for SessionOrKey {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            Bearer::from_request_parts(parts, state).await?;
            return Ok(Self);
        }
        match MaybeSignedIn::from_request_parts(parts, state).await? {
            MaybeSignedIn(Some(_)) => Ok(Self),
            MaybeSignedIn(None) => Err(ApiError::unauthorized()),
        }
    }
}

/// The deployment's permission catalog (key, area, labels and descriptions
/// in French and English), for role editors and host back ends.
#[utoipa::path(get, path = "/api/v1/permissions", tag = "team",
    security((), ("api_key" = [])),
    responses(
        (status = 200, description = "The catalog, grouped by area", body = CatalogBody),
        (status = 401, description = "Neither a session nor a valid API key", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn permissions(
    State(state): State<AppState>,
    _caller: SessionOrKey,
) -> Json<CatalogBody> {
    Json(catalog_body(state.services.permission_catalog()))
}

/// A role of the organization.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RoleBody {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    /// Built-in roles are the same in every organization and cannot be
    /// changed or deleted (duplicate one into a custom role instead).
    pub built_in: bool,
    /// The built-in template (`administrator`, `manager`, `mail_management`,
    /// `billing`, `formalities`, `user`), `null` for a custom role.
    pub template: Option<String>,
    /// Holders get the permissions only on the resources assigned to them.
    pub scoped: bool,
    /// Keys of the catalog, sorted.
    pub permissions: Vec<String>,
    /// Unscoped with `team.manage`: its holders administer the organization.
    pub administrator: bool,
    /// How many members (of any status) hold it.
    pub members: u64,
}

pub(crate) fn role_body(view: &RoleView) -> RoleBody {
    let role = &view.role;
    RoleBody {
        id: role.id.as_uuid(),
        name: role.name.clone(),
        description: role.description.clone(),
        built_in: role.is_built_in(),
        template: role.template.clone(),
        scoped: role.scoped,
        permissions: role
            .permissions
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect(),
        administrator: role.is_administrator(),
        members: view.members,
    }
}

/// The organization's roles.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RoleList {
    /// Built-in roles first, then custom roles by name.
    pub items: Vec<RoleBody>,
}

/// A new custom role.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewRoleBody {
    /// 1 to 120 characters, unique in the organization (whatever the case).
    pub name: String,
    /// At most 500 characters.
    #[serde(default)]
    pub description: String,
    /// Keys of the catalog (`GET /api/v1/permissions`).
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Holders get the permissions only on the resources assigned to them.
    #[serde(default)]
    pub scoped: bool,
}

/// Changes to a custom role; absent fields stay as they are.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RolePatchBody {
    pub name: Option<String>,
    pub description: Option<String>,
    /// The whole new set of permissions (keys of the catalog).
    pub permissions: Option<Vec<String>>,
    pub scoped: Option<bool>,
}

/// Where the holders of a deleted role go.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct DeleteRoleQuery {
    /// A role id of the same organization; required when members hold the role.
    pub replacement: Option<String>,
}

/// What a deletion did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeletedRoleBody {
    /// The role the members moved to, `null` when nobody held the deleted one.
    pub replacement_id: Option<Uuid>,
    pub moved_members: u64,
}

/// The organization's roles, built-in and custom, with their member counts.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/roles", tag = "team",
    params(("org" = Uuid, Path, description = "The organization")),
    responses(
        (status = 200, description = "The roles", body = RoleList),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your role may not manage roles (`roles.manage`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not your session's organization", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Path(org): Path<Uuid>,
) -> Result<Json<RoleList>, ApiError> {
    let roles = state
        .services
        .organization_roles(&current, OrganizationId::from_uuid(org))
        .await?;
    Ok(Json(RoleList {
        items: roles.iter().map(role_body).collect(),
    }))
}

/// Creates a custom role.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/roles", tag = "team",
    request_body = NewRoleBody,
    params(("org" = Uuid, Path, description = "The organization")),
    responses(
        (status = 201, description = "Created", body = RoleBody),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your role may not manage roles (`roles.manage`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not your session's organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another role has this name (`/problems/role-name-taken`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name or description, or a permission not in the catalog (the detail lists the valid keys)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Origin(context): Origin,
    Path(org): Path<Uuid>,
    body: Result<Json<NewRoleBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<RoleBody>), ApiError> {
    let Json(body) = body?;
    let input = RoleInput {
        name: body.name,
        description: body.description,
        permissions: body.permissions,
        scoped: body.scoped,
    };
    let view = state
        .services
        .create_role(&current, OrganizationId::from_uuid(org), &input, &context)
        .await?;
    Ok((StatusCode::CREATED, Json(role_body(&view))))
}

/// One role of the organization.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/roles/{role}", tag = "team",
    params(("org" = Uuid, Path, description = "The organization"),
        ("role" = Uuid, Path, description = "The role")),
    responses(
        (status = 200, description = "The role", body = RoleBody),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your role may not manage roles (`roles.manage`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such role in your session's organization", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn show(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Path((org, role)): Path<(Uuid, Uuid)>,
) -> Result<Json<RoleBody>, ApiError> {
    let view = state
        .services
        .organization_role(
            &current,
            OrganizationId::from_uuid(org),
            RoleId::from_uuid(role),
        )
        .await?;
    Ok(Json(role_body(&view)))
}

/// Renames or edits a custom role; its holders get the new permissions at
/// once. Built-in roles cannot be changed.
#[utoipa::path(patch, path = "/api/v1/organizations/{org}/roles/{role}", tag = "team",
    request_body = RolePatchBody,
    params(("org" = Uuid, Path, description = "The organization"),
        ("role" = Uuid, Path, description = "The role")),
    responses(
        (status = 200, description = "Saved", body = RoleBody),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your role may not manage roles (`roles.manage`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such role in your session's organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A built-in role (`/problems/role-built-in`), a name another role has (`/problems/role-name-taken`), or a change that would leave no active administrator (`/problems/last-administrator`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name or description, or a permission not in the catalog (the detail lists the valid keys)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn patch(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Origin(context): Origin,
    Path((org, role)): Path<(Uuid, Uuid)>,
    body: Result<Json<RolePatchBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<RoleBody>, ApiError> {
    let Json(body) = body?;
    let patch = RolePatch {
        name: body.name,
        description: body.description,
        permissions: body.permissions,
        scoped: body.scoped,
    };
    let view = state
        .services
        .update_role(
            &current,
            OrganizationId::from_uuid(org),
            RoleId::from_uuid(role),
            &patch,
            &context,
        )
        .await?;
    Ok(Json(role_body(&view)))
}

/// Deletes a custom role. When members hold it, `replacement` names the
/// role of the same organization they move to, in the same transaction.
#[utoipa::path(delete, path = "/api/v1/organizations/{org}/roles/{role}", tag = "team",
    params(("org" = Uuid, Path, description = "The organization"),
        ("role" = Uuid, Path, description = "The role"),
        DeleteRoleQuery),
    responses(
        (status = 200, description = "Deleted", body = DeletedRoleBody),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your role may not manage roles (`roles.manage`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such role in your session's organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A built-in role (`/problems/role-built-in`), members hold it and no replacement was given (`/problems/role-in-use`), or the move would leave no active administrator (`/problems/last-administrator`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The replacement is not another role of this organization", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Origin(context): Origin,
    Path((org, role)): Path<(Uuid, Uuid)>,
    Query(query): Query<DeleteRoleQuery>,
) -> Result<Json<DeletedRoleBody>, ApiError> {
    let deleted = state
        .services
        .delete_role(
            &current,
            OrganizationId::from_uuid(org),
            RoleId::from_uuid(role),
            query.replacement.as_deref(),
            &context,
        )
        .await?;
    Ok(Json(DeletedRoleBody {
        replacement_id: deleted.replacement.map(|r| r.as_uuid()),
        moved_members: deleted.moved_members,
    }))
}
