//! Per-member overrides, assignments and effective access (flows 10 and 11,
//! seeds 001, 002, 003).
//!
//! - An override grants or denies one permission of the catalog to one
//!   member on top of their role; it is saved at once and the member gets
//!   no email (seed 003). Denying `team.manage` to the last active
//!   administrator is refused.
//! - An assignment gives a host resource to a member; a scoped role holds
//!   its permissions only on assigned resources. Assigning is idempotent;
//!   a call changes all its items or none (every item is checked first, and
//!   a refusal names the item and its field). Each member who received
//!   something gets one email listing it, in their language, unless every
//!   resource is of a type the deployment keeps silent.
//!
//! Every change goes through [`Services::commit_with_changes`]: the very
//! next check sees it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use gardien_authz::Change;
use gardien_core::access::{self, AccessLine, Assignment};
use gardien_core::audit::{Actor, RequestContext};
use gardien_core::evaluator::{OverrideEffect, ResourceRef};
use gardien_core::membership::ensure_an_administrator_remains;
use gardien_core::role::ADMINISTRATION_PERMISSION;
use gardien_core::{
    Membership, MembershipId, MembershipStatus, OrganizationId, PermissionKey, Role,
    ValidationError,
};
use gardien_mail::{new_mail, MailTemplate};
use gardien_store::{MemberSummary, Transaction};
use serde_json::json;
use time::OffsetDateTime;

use crate::{audit, CurrentSession, ServiceError, Services, TEAM_MANAGE, TEAM_READ};

/// The most assignment changes (added plus removed) one call may carry.
pub const MAX_ASSIGNMENT_CHANGES: usize = 1_000;

/// One member's access, as the member page and `GET …/access` show it.
#[derive(Debug, Clone)]
pub struct MemberAccess {
    pub member: MemberSummary,
    pub role: Role,
    pub overrides: BTreeMap<PermissionKey, OverrideEffect>,
    pub assignments: Vec<Assignment>,
    /// Every permission the role or an override mentions, with what decided it.
    pub lines: Vec<AccessLine>,
    /// The organization's roles (to change the member's role).
    pub roles: Vec<Role>,
    /// The acting member may change this member.
    pub can_manage: bool,
    /// The acting member is this member.
    pub is_self: bool,
}

/// One assignment change as received (nothing checked yet).
#[derive(Debug, Clone, Default)]
pub struct AssignmentItem {
    /// The membership id.
    pub member: String,
    pub resource_type: String,
    pub resource_id: String,
    pub label: Option<String>,
}

/// What one call assigns and unassigns.
#[derive(Debug, Clone, Default)]
pub struct AssignmentChanges {
    pub add: Vec<AssignmentItem>,
    pub remove: Vec<AssignmentItem>,
}

/// What a call changed.
#[derive(Debug, Clone, Default)]
pub struct AssignmentOutcome {
    /// Newly assigned (already assigned items are not repeated here).
    pub added: Vec<Assignment>,
    /// Unassigned (items that were not assigned are not repeated here).
    pub removed: Vec<Assignment>,
    /// Items that changed nothing.
    pub unchanged: usize,
}

fn effect_name(effect: Option<OverrideEffect>) -> Option<&'static str> {
    effect.map(|e| match e {
        OverrideEffect::Grant => "grant",
        OverrideEffect::Deny => "deny",
    })
}

/// `add[3].type` for an item of a bulk call, `type` for a single one.
fn item_field(list: Option<(&str, usize)>, name: &str) -> String {
    match list {
        Some((list, index)) => format!("{list}[{index}].{name}"),
        None => name.to_owned(),
    }
}

/// A checked item: the membership and the resource (and label when adding).
struct Checked {
    membership: Membership,
    resource: ResourceRef,
    label: String,
}

impl Services {
    async fn membership_in(
        &self,
        tx: &mut dyn Transaction,
        organization: OrganizationId,
        member: MembershipId,
    ) -> Result<Membership, ServiceError> {
        tx.membership(organization, member)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// Sets (`Some`) or clears (`None`: back to the role's value) one
    /// override of a member (needs `team.manage`). Returns the override now
    /// in force. Setting what is already set changes nothing.
    pub async fn set_member_override(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        member: MembershipId,
        permission: &str,
        effect: Option<OverrideEffect>,
        context: &RequestContext,
    ) -> Result<Option<OverrideEffect>, ServiceError> {
        let permission = self.catalog_permission(permission)?;
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[TEAM_MANAGE])
            .await?;
        let membership = self.membership_in(&mut *tx, organization, member).await?;
        let overrides = tx.overrides(member).await?;
        let before = overrides.get(&permission).copied();
        if before == effect {
            return Ok(before);
        }
        if permission.as_str() == ADMINISTRATION_PERMISSION {
            let role = tx
                .role(organization, membership.role_id)
                .await?
                .ok_or(ServiceError::NotFound)?;
            let active = membership.status == MembershipStatus::Active;
            let was = active && access::administers(&role, before);
            let stays = active && access::administers(&role, effect);
            let facts =
                crate::team::administrator_facts(&mut *tx, organization, member, was, stays)
                    .await?;
            ensure_an_administrator_remains(facts)?;
        }
        let change = match effect {
            Some(effect) => {
                tx.set_override(member, &permission, effect).await?;
                Change::OverrideSet {
                    organization_id: organization,
                    membership_id: member,
                    permission: permission.clone(),
                    effect,
                }
            }
            None => {
                tx.clear_override(member, &permission).await?;
                Change::OverrideCleared {
                    organization_id: organization,
                    membership_id: member,
                    permission: permission.clone(),
                }
            }
        };
        let mut event = audit(
            context,
            now,
            Some(organization),
            Actor::Account(current.account.id),
            "member.override_changed",
            Some(format!("membership:{member}")),
        );
        event.before = Some(json!({ "permission": permission, "effect": effect_name(before) }));
        event.after = Some(json!({ "permission": permission, "effect": effect_name(effect) }));
        tx.append_audit_event(&event).await?;
        self.commit_with_changes(tx, vec![change]).await?;
        Ok(effect)
    }

    /// A member's role, overrides, assignments and effective access (needs
    /// `team.read` or `team.manage`).
    pub async fn member_access(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        member: MembershipId,
    ) -> Result<MemberAccess, ServiceError> {
        let mut tx = self.store.begin().await?;
        let acting = self
            .authorize(&mut *tx, current, organization, &[TEAM_READ, TEAM_MANAGE])
            .await?;
        let membership = self.membership_in(&mut *tx, organization, member).await?;
        let account = tx
            .account(membership.account_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let roles = tx.roles(organization).await?;
        let role = roles
            .iter()
            .find(|r| r.id == membership.role_id)
            .cloned()
            .ok_or(ServiceError::NotFound)?;
        let overrides = tx.overrides(member).await?;
        let assignments = tx.assignments(organization, member).await?;
        let lines = access::explain_access(
            &role.permissions,
            role.scoped,
            &overrides,
            membership.status == MembershipStatus::Active,
        );
        // An invited account's own names are not the inviting organization's
        // to see (seed 000): only its address is shown until acceptance.
        let invited = membership.status == MembershipStatus::Invited;
        let is_self = membership.account_id == current.account.id;
        Ok(MemberAccess {
            member: MemberSummary {
                membership,
                email: account.email,
                first_name: if invited {
                    String::new()
                } else {
                    account.first_name
                },
                last_name: if invited {
                    String::new()
                } else {
                    account.last_name
                },
                last_login_at: None,
            },
            role,
            overrides,
            assignments,
            lines,
            roles,
            can_manage: acting.holds(TEAM_MANAGE),
            is_self,
        })
    }

    /// A member's assignments (needs `team.read` or `team.manage`).
    pub async fn member_assignments(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        member: MembershipId,
    ) -> Result<Vec<Assignment>, ServiceError> {
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[TEAM_READ, TEAM_MANAGE])
            .await?;
        self.membership_in(&mut *tx, organization, member).await?;
        Ok(tx.assignments(organization, member).await?)
    }

    /// Assigns and unassigns resources (needs `team.manage`): all of it or
    /// nothing. `bulk` says whether refusals name items (`add[3].type`) or
    /// plain fields (`type`, one item from a member's page).
    pub async fn change_assignments(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        changes: &AssignmentChanges,
        bulk: bool,
        context: &RequestContext,
    ) -> Result<AssignmentOutcome, ServiceError> {
        let count = changes.add.len() + changes.remove.len();
        if count > MAX_ASSIGNMENT_CHANGES {
            return Err(ServiceError::TooManyItems {
                max: MAX_ASSIGNMENT_CHANGES,
            });
        }
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[TEAM_MANAGE])
            .await?;

        // Check every item before changing anything.
        let mut errors: Vec<(String, ValidationError)> = Vec::new();
        let mut members: HashMap<String, Option<Membership>> = HashMap::new();
        let mut checked_lists: [Vec<Checked>; 2] = [Vec::new(), Vec::new()];
        for (slot, (list, items)) in [("add", &changes.add), ("remove", &changes.remove)]
            .into_iter()
            .enumerate()
        {
            for (index, item) in items.iter().enumerate() {
                let at = bulk.then_some((list, index));
                let field = |name: &str| item_field(at, name);
                let key = item.member.trim().to_owned();
                if !members.contains_key(&key) {
                    let found = match key.parse::<MembershipId>() {
                        Ok(id) => tx.membership(organization, id).await?,
                        Err(_) => None,
                    };
                    members.insert(key.clone(), found);
                }
                let membership = members.get(&key).cloned().flatten();
                let Some(membership) = membership else {
                    if !bulk {
                        // A single item names its member in the path.
                        return Err(ServiceError::NotFound);
                    }
                    errors.push((
                        field("member"),
                        ValidationError::UnknownValue(
                            item.member.chars().take(80).collect(),
                            "member of this organization",
                        ),
                    ));
                    continue;
                };
                let resource = match access::resource_type(&item.resource_type, "type") {
                    Ok(resource_type) => match access::resource_id(&item.resource_id, "id") {
                        Ok(resource_id) => ResourceRef {
                            resource_type,
                            resource_id,
                        },
                        Err(e) => {
                            errors.push((field("id"), e));
                            continue;
                        }
                    },
                    Err(e) => {
                        errors.push((field("type"), e));
                        continue;
                    }
                };
                let label = if slot == 0 {
                    match access::label(item.label.as_deref(), &resource) {
                        Ok(label) => label,
                        Err(e) => {
                            errors.push((field("label"), e));
                            continue;
                        }
                    }
                } else {
                    String::new()
                };
                checked_lists[slot].push(Checked {
                    membership,
                    resource,
                    label,
                });
            }
        }
        if !errors.is_empty() {
            return Err(ServiceError::InvalidItems(errors));
        }
        let [to_add, to_remove] = checked_lists;

        let mut outcome = AssignmentOutcome::default();
        let mut authz_changes = Vec::new();
        for item in &to_remove {
            match tx
                .delete_assignment(organization, item.membership.id, &item.resource)
                .await?
            {
                Some(removed) => {
                    let mut event = audit(
                        context,
                        now,
                        Some(organization),
                        Actor::Account(current.account.id),
                        "member.unassigned",
                        Some(format!("membership:{}", item.membership.id)),
                    );
                    event.before = Some(assignment_json(&removed));
                    tx.append_audit_event(&event).await?;
                    authz_changes.push(Change::AssignmentRemoved {
                        organization_id: organization,
                        membership_id: item.membership.id,
                        resource: item.resource.clone(),
                    });
                    outcome.removed.push(removed);
                }
                None => outcome.unchanged += 1,
            }
        }
        for item in to_add {
            let assignment = Assignment {
                organization_id: organization,
                membership_id: item.membership.id,
                resource: item.resource,
                label: item.label,
                created_at: now,
            };
            match self
                .insert_assignment_in(&mut *tx, current, &assignment, context, now)
                .await?
            {
                Some(change) => {
                    authz_changes.push(change);
                    outcome.added.push(assignment);
                }
                None => outcome.unchanged += 1,
            }
        }

        let mailed = self
            .mail_assignments(&mut *tx, organization, &outcome.added, &members, now)
            .await?;
        self.commit_with_changes(tx, authz_changes).await?;
        if mailed {
            self.mail_committed();
        }
        Ok(outcome)
    }

    /// Assigns one resource, with its audit event, in the caller's
    /// transaction: the change to commit, or `None` when it was already
    /// assigned.
    pub(crate) async fn insert_assignment_in(
        &self,
        tx: &mut dyn Transaction,
        current: &CurrentSession,
        assignment: &Assignment,
        context: &RequestContext,
        now: OffsetDateTime,
    ) -> Result<Option<Change>, ServiceError> {
        if !tx.insert_assignment(assignment).await? {
            return Ok(None);
        }
        let mut event = audit(
            context,
            now,
            Some(assignment.organization_id),
            Actor::Account(current.account.id),
            "member.assigned",
            Some(format!("membership:{}", assignment.membership_id)),
        );
        event.after = Some(assignment_json(assignment));
        tx.append_audit_event(&event).await?;
        Ok(Some(Change::AssignmentAdded {
            organization_id: assignment.organization_id,
            membership_id: assignment.membership_id,
            resource: assignment.resource.clone(),
        }))
    }

    /// One email per member who received resources of a type that is not
    /// silent, listing them, in the member's language. Whether any was queued.
    async fn mail_assignments(
        &self,
        tx: &mut dyn Transaction,
        organization: OrganizationId,
        added: &[Assignment],
        members: &HashMap<String, Option<Membership>>,
        now: OffsetDateTime,
    ) -> Result<bool, ServiceError> {
        let mut by_member: BTreeMap<MembershipId, Vec<&Assignment>> = BTreeMap::new();
        for assignment in added {
            if !self
                .silent_assignment_types
                .contains(&assignment.resource.resource_type)
            {
                by_member
                    .entry(assignment.membership_id)
                    .or_default()
                    .push(assignment);
            }
        }
        if by_member.is_empty() {
            return Ok(false);
        }
        let Some(org) = tx.organization(organization).await? else {
            return Ok(false);
        };
        let mut mailed = false;
        for (member, assignments) in by_member {
            let Some(membership) = members.values().flatten().find(|m| m.id == member) else {
                continue;
            };
            // Nobody to tell in a membership that no longer works.
            if matches!(
                membership.status,
                MembershipStatus::Suspended | MembershipStatus::Removed
            ) {
                continue;
            }
            let Some(account) = tx.account(membership.account_id).await? else {
                continue;
            };
            let to = crate::notification_address(tx, &account).await?;
            let mut labels: BTreeSet<String> = BTreeSet::new();
            for a in assignments {
                labels.insert(a.label.clone());
            }
            let mail = new_mail(
                to,
                &MailTemplate::ResourceAssigned {
                    organization: org.name.clone(),
                    resources: labels.into_iter().collect(),
                    link: self.link("/"),
                },
                account.language,
            );
            tx.enqueue_mail(&mail, now).await?;
            mailed = true;
        }
        Ok(mailed)
    }
}

fn assignment_json(assignment: &Assignment) -> serde_json::Value {
    json!({
        "type": assignment.resource.resource_type,
        "id": assignment.resource.resource_id,
        "label": assignment.label,
    })
}

/// Every permission a member holds or is denied by an override, with what
/// decided it, read from the authorization index (the check API's view).
#[derive(Debug, Clone)]
pub struct ExplainedPermissions {
    /// `None`: the account is not a member of the organization.
    pub status: Option<MembershipStatus>,
    pub lines: Vec<AccessLine>,
}

impl Services {
    /// A member's effective permissions with their reasons, for a host back
    /// end (API key): answered from the index, like every check.
    pub fn explain_permissions(
        &self,
        scope: crate::KeyScope,
        account: gardien_core::AccountId,
        organization: OrganizationId,
    ) -> Result<ExplainedPermissions, ServiceError> {
        scope.allows(organization)?;
        self.ensure_index_current()?;
        let Some(facts) = self.authz_index().member_facts(account, organization) else {
            return Ok(ExplainedPermissions {
                status: None,
                lines: Vec::new(),
            });
        };
        Ok(ExplainedPermissions {
            status: Some(facts.status),
            lines: access::explain_access(
                &facts.role_permissions,
                facts.role_scoped,
                &facts.overrides,
                facts.status == MembershipStatus::Active,
            ),
        })
    }
}
