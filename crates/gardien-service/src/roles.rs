//! Roles (flow 9): the organization's built-in roles, which every
//! organization has and nobody edits, and its custom roles, created,
//! renamed, edited and deleted by members whose role holds `roles.manage`.
//!
//! - Permissions are keys of the deployment's catalog; an unknown key is
//!   refused with the list of valid ones.
//! - Every change commits through [`Services::commit_with_changes`], so a
//!   role edit is in force for every holder before the editor sees "saved".
//! - Deleting a role someone holds needs a replacement role of the same
//!   organization; its holders move there in the same transaction.
//! - No change may leave the organization without an active administrator
//!   (an unscoped role holding `team.manage`, see [`Role::is_administrator`]).

use std::collections::BTreeSet;

use gardien_authz::Change;
use gardien_core::audit::{Actor, RequestContext};
use gardien_core::membership::LifecycleError;
use gardien_core::permission::PermissionCatalog;
use gardien_core::role::{role_description, role_name, RoleError};
use gardien_core::{OrganizationId, PermissionKey, Role, RoleId, ValidationError};
use gardien_store::{StoreError, Transaction};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::{audit, CurrentSession, ServiceError, Services};

/// May create, edit and delete the organization's custom roles.
pub const ROLES_MANAGE: &str = "roles.manage";

/// A role with how many memberships (of any status) hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleView {
    pub role: Role,
    pub members: u64,
}

/// A new custom role, as received.
#[derive(Debug, Clone, Default)]
pub struct RoleInput {
    pub name: String,
    pub description: String,
    pub permissions: Vec<String>,
    pub scoped: bool,
}

/// Changes to a custom role; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct RolePatch {
    pub name: Option<String>,
    pub description: Option<String>,
    /// The whole new set of permissions.
    pub permissions: Option<Vec<String>>,
    pub scoped: Option<bool>,
}

/// What a deletion did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedRole {
    /// The role the holders moved to, when there were holders.
    pub replacement: Option<RoleId>,
    pub moved_members: u64,
}

/// A role as its audit events record it.
fn role_json(role: &Role) -> Value {
    json!({
        "id": role.id,
        "name": role.name,
        "description": role.description,
        "scoped": role.scoped,
        "permissions": role.permissions.iter().map(PermissionKey::as_str).collect::<Vec<_>>(),
    })
}

fn name_taken(error: StoreError) -> ServiceError {
    match error {
        StoreError::Conflict {
            constraint: "roles_name",
        } => ServiceError::Role(RoleError::NameTaken),
        other => other.into(),
    }
}

impl Services {
    /// The deployment's permission catalog.
    pub fn permission_catalog(&self) -> &PermissionCatalog {
        &self.catalog
    }

    /// A key of the deployment's catalog, or [`ServiceError::UnknownPermission`]
    /// with every valid key.
    pub fn catalog_permission(&self, key: &str) -> Result<PermissionKey, ServiceError> {
        match self.catalog.get(key.trim()) {
            Some(entry) => Ok(entry.key.clone()),
            None => Err(ServiceError::UnknownPermission {
                key: key.chars().take(80).collect(),
                valid: self.catalog.keys(),
            }),
        }
    }

    fn catalog_permissions(
        &self,
        keys: &[String],
    ) -> Result<BTreeSet<PermissionKey>, ServiceError> {
        keys.iter().map(|k| self.catalog_permission(k)).collect()
    }

    /// The organization's roles, built-in first, with their member counts
    /// (needs `roles.manage`).
    pub async fn organization_roles(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
    ) -> Result<Vec<RoleView>, ServiceError> {
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[ROLES_MANAGE])
            .await?;
        let counts = tx.role_member_counts(organization).await?;
        let mut roles: Vec<RoleView> = tx
            .roles(organization)
            .await?
            .into_iter()
            .map(|role| RoleView {
                members: counts.get(&role.id).copied().unwrap_or(0),
                role,
            })
            .collect();
        let template_rank = |role: &Role| {
            role.template.as_deref().map_or(usize::MAX, |key| {
                gardien_core::role::BUILT_IN_ROLES
                    .iter()
                    .position(|t| t.key == key)
                    .unwrap_or(usize::MAX - 1)
            })
        };
        roles.sort_by(|a, b| {
            template_rank(&a.role)
                .cmp(&template_rank(&b.role))
                .then_with(|| a.role.name.to_lowercase().cmp(&b.role.name.to_lowercase()))
        });
        Ok(roles)
    }

    /// One role of the organization (needs `roles.manage`); another
    /// organization's is [`ServiceError::NotFound`].
    pub async fn organization_role(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        id: RoleId,
    ) -> Result<RoleView, ServiceError> {
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[ROLES_MANAGE])
            .await?;
        let role = tx
            .role(organization, id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let members = member_count(&mut *tx, organization, id).await?;
        Ok(RoleView { role, members })
    }

    /// Creates a custom role (needs `roles.manage`).
    pub async fn create_role(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        input: &RoleInput,
        context: &RequestContext,
    ) -> Result<RoleView, ServiceError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[ROLES_MANAGE])
            .await?;
        let (role, change) = self
            .create_role_in(&mut *tx, current, organization, input, context, now)
            .await?;
        self.commit_with_changes(tx, vec![change]).await?;
        Ok(RoleView { role, members: 0 })
    }

    /// The writes of a new custom role in the caller's transaction, once
    /// `roles.manage` is checked: the role and its audit event. The caller
    /// commits with the returned change.
    pub(crate) async fn create_role_in(
        &self,
        tx: &mut dyn Transaction,
        current: &CurrentSession,
        organization: OrganizationId,
        input: &RoleInput,
        context: &RequestContext,
        now: OffsetDateTime,
    ) -> Result<(Role, Change), ServiceError> {
        let (name, description) = valid_texts(Some(&input.name), Some(&input.description))?;
        let role = Role {
            id: RoleId::new(),
            organization_id: organization,
            template: None,
            name: name.unwrap_or_default(),
            description: description.unwrap_or_default(),
            permissions: self.catalog_permissions(&input.permissions)?,
            scoped: input.scoped,
        };
        ensure_name_free(&mut *tx, &role).await?;
        tx.insert_role(&role).await.map_err(name_taken)?;
        let mut event = audit(
            context,
            now,
            Some(organization),
            Actor::Account(current.account.id),
            "role.created",
            Some(format!("role:{}", role.id)),
        );
        event.after = Some(role_json(&role));
        tx.append_audit_event(&event).await?;
        let change = Change::RoleUpserted {
            organization_id: organization,
            role_id: role.id,
            permissions: role.permissions.clone(),
            scoped: role.scoped,
        };
        Ok((role, change))
    }

    /// Renames or edits a custom role (needs `roles.manage`). Its holders
    /// get the new permissions at once. Built-in roles are refused.
    pub async fn update_role(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        id: RoleId,
        patch: &RolePatch,
        context: &RequestContext,
    ) -> Result<RoleView, ServiceError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[ROLES_MANAGE])
            .await?;
        let before = tx
            .role(organization, id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if before.is_built_in() {
            return Err(RoleError::BuiltIn.into());
        }
        let (name, description) = valid_texts(patch.name.as_deref(), patch.description.as_deref())?;
        let mut role = before.clone();
        if let Some(name) = name {
            role.name = name;
        }
        if let Some(description) = description {
            role.description = description;
        }
        if let Some(permissions) = &patch.permissions {
            role.permissions = self.catalog_permissions(permissions)?;
        }
        if let Some(scoped) = patch.scoped {
            role.scoped = scoped;
        }
        let members = member_count(&mut *tx, organization, id).await?;
        if role == before {
            return Ok(RoleView { role, members });
        }
        ensure_name_free(&mut *tx, &role).await?;
        let administrators_before = tx.count_active_administrators(organization).await?;
        tx.update_role(&role).await.map_err(name_taken)?;
        ensure_administrator_remains(&mut *tx, organization, administrators_before).await?;
        let mut event = audit(
            context,
            now,
            Some(organization),
            Actor::Account(current.account.id),
            "role.updated",
            Some(format!("role:{id}")),
        );
        event.before = Some(role_json(&before));
        event.after = Some(role_json(&role));
        tx.append_audit_event(&event).await?;
        let access_changed = role.permissions != before.permissions || role.scoped != before.scoped;
        let changes = if access_changed {
            vec![Change::RoleUpserted {
                organization_id: organization,
                role_id: id,
                permissions: role.permissions.clone(),
                scoped: role.scoped,
            }]
        } else {
            Vec::new()
        };
        self.commit_with_changes(tx, changes).await?;
        Ok(RoleView { role, members })
    }

    /// Deletes a custom role (needs `roles.manage`). When members hold it,
    /// `replacement` (a role id of the same organization) is required and
    /// they move to it in the same transaction.
    pub async fn delete_role(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        id: RoleId,
        replacement: Option<&str>,
        context: &RequestContext,
    ) -> Result<DeletedRole, ServiceError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[ROLES_MANAGE])
            .await?;
        let role = tx
            .role(organization, id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if role.is_built_in() {
            return Err(RoleError::BuiltIn.into());
        }
        let replacement = match replacement.map(str::trim).filter(|r| !r.is_empty()) {
            None => None,
            Some(text) => {
                let unknown = || {
                    ServiceError::Invalid(vec![(
                        "replacement",
                        ValidationError::UnknownValue(
                            text.chars().take(80).collect(),
                            "role of this organization",
                        ),
                    )])
                };
                let replacement_id = text.parse::<RoleId>().map_err(|_| unknown())?;
                if replacement_id == id {
                    return Err(RoleError::ReplacementIsTheRole.into());
                }
                Some(
                    tx.role(organization, replacement_id)
                        .await?
                        .ok_or_else(unknown)?,
                )
            }
        };
        let members = member_count(&mut *tx, organization, id).await?;
        let mut changes = Vec::new();
        let moved = match (&replacement, members) {
            (_, 0) => Vec::new(),
            (None, members) => return Err(RoleError::InUse { members }.into()),
            (Some(to), _) => {
                let administrators_before = tx.count_active_administrators(organization).await?;
                let moved = tx.move_role_members(organization, id, to.id, now).await?;
                ensure_administrator_remains(&mut *tx, organization, administrators_before).await?;
                moved
            }
        };
        for membership in &moved {
            changes.push(Change::MembershipRoleChanged {
                organization_id: organization,
                membership_id: *membership,
                role_id: replacement.as_ref().map_or(id, |r| r.id),
            });
        }
        tx.delete_role(organization, id).await?;
        changes.push(Change::RoleDeleted {
            organization_id: organization,
            role_id: id,
        });
        let moved_members = u64::try_from(moved.len()).unwrap_or(u64::MAX);
        let mut event = audit(
            context,
            now,
            Some(organization),
            Actor::Account(current.account.id),
            "role.deleted",
            Some(format!("role:{id}")),
        );
        let mut before = role_json(&role);
        before["members"] = json!(members);
        event.before = Some(before);
        event.after = Some(json!({
            "replacement": replacement.as_ref().map(|r| json!({ "id": r.id, "name": r.name })),
            "moved_members": moved_members,
        }));
        tx.append_audit_event(&event).await?;
        self.commit_with_changes(tx, changes).await?;
        Ok(DeletedRole {
            replacement: replacement.map(|r| r.id),
            moved_members,
        })
    }
}

/// The checked name and description, when given; both errors at once.
fn valid_texts(
    name: Option<&str>,
    description: Option<&str>,
) -> Result<(Option<String>, Option<String>), ServiceError> {
    let mut errors = Vec::new();
    let name = name
        .map(role_name)
        .transpose()
        .map_err(|e| errors.push(("name", e)))
        .ok()
        .flatten();
    let description = description
        .map(role_description)
        .transpose()
        .map_err(|e| errors.push(("description", e)))
        .ok()
        .flatten();
    if errors.is_empty() {
        Ok((name, description))
    } else {
        Err(ServiceError::Invalid(errors))
    }
}

/// Refuses a name another role of the organization has, whatever its case.
async fn ensure_name_free(tx: &mut dyn Transaction, role: &Role) -> Result<(), ServiceError> {
    let taken = tx
        .roles(role.organization_id)
        .await?
        .iter()
        .any(|other| other.id != role.id && other.is_named(&role.name));
    if taken {
        Err(RoleError::NameTaken.into())
    } else {
        Ok(())
    }
}

async fn member_count(
    tx: &mut dyn Transaction,
    organization: OrganizationId,
    role: RoleId,
) -> Result<u64, ServiceError> {
    Ok(tx
        .role_member_counts(organization)
        .await?
        .get(&role)
        .copied()
        .unwrap_or(0))
}

/// Refuses a change (already written in `tx`, which the caller then drops)
/// that took the organization's last active administrator away, or its
/// owner's administration.
async fn ensure_administrator_remains(
    tx: &mut dyn Transaction,
    organization: OrganizationId,
    before: u64,
) -> Result<(), ServiceError> {
    let after = tx.count_active_administrators(organization).await?;
    if before > 0 && after == 0 {
        Err(LifecycleError::LastAdministrator.into())
    } else {
        crate::team::ensure_owner_administers(tx, organization).await
    }
}
