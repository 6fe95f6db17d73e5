//! The team (flow 8): the member list, lifecycle actions (suspend,
//! reactivate, remove, restore, activate) and role changes.
//!
//! Every use case starts with [`Services::authorize`]: the session must be
//! in the organization of the request, and its member's role must hold the
//! permission. Ids of another organization are simply not found.
//! Suspension and removal take effect on the member's next request because
//! [`Services::current_session`] re-reads the membership every time.

use gardien_core::audit::{Actor, RequestContext};
use gardien_core::membership::{ensure_an_administrator_remains, AdministratorCount};
use gardien_core::{
    Kind, Membership, MembershipId, MembershipStatus, Organization, OrganizationId, Role, RoleId,
    StatusChange, ValidationError,
};
use gardien_mail::{new_mail, MailTemplate};
use gardien_store::{MemberFilter, MemberSummary, Page, PageRequest, Transaction};
use serde_json::json;
use time::OffsetDateTime;

use crate::{audit, CurrentSession, ServiceError, Services};

/// May see the team.
pub const TEAM_READ: &str = "team.read";
/// May invite members and manage invitations.
pub const TEAM_INVITE: &str = "team.invite";
/// May change members (status, role): an administrator's permission.
pub const TEAM_MANAGE: &str = "team.manage";

/// The member acting in an organization, once authorized.
#[derive(Debug, Clone)]
pub struct Acting {
    pub membership: Membership,
    pub role: Role,
    /// The member's own overrides (seed 003), which win over the role.
    pub overrides: std::collections::BTreeMap<
        gardien_core::PermissionKey,
        gardien_core::evaluator::OverrideEffect,
    >,
}

impl Acting {
    pub fn holds(&self, permission: &str) -> bool {
        use gardien_core::evaluator::OverrideEffect;
        match self
            .overrides
            .iter()
            .find(|(key, _)| key.as_str() == permission)
        {
            Some((_, OverrideEffect::Grant)) => true,
            Some((_, OverrideEffect::Deny)) => false,
            None => self
                .role
                .permissions
                .iter()
                .any(|p| p.as_str() == permission),
        }
    }
}

/// A page of the member list, with the organization's roles to name them.
#[derive(Debug, Clone)]
pub struct MemberList {
    pub page: Page<MemberSummary>,
    pub roles: Vec<Role>,
    /// The acting member may change members (shows the actions).
    pub can_manage: bool,
    /// The acting member may invite.
    pub can_invite: bool,
    /// The acting member may create roles (from the invite form, too).
    pub can_manage_roles: bool,
    /// The membership that owns the organization.
    pub owner: Option<MembershipId>,
    /// The acting member's own membership.
    pub acting: MembershipId,
}

/// What the member list is asked for.
#[derive(Debug, Clone, Default)]
pub struct MemberQuery {
    pub filter: MemberFilter,
    pub search: Option<String>,
    pub page: Option<PageRequest>,
}

impl Services {
    /// The session's member in `organization`, if their role holds one of
    /// `permissions`. Another organization than the session's is
    /// [`ServiceError::NotFound`]; a missing permission [`ServiceError::Forbidden`].
    pub(crate) async fn authorize(
        &self,
        tx: &mut dyn Transaction,
        current: &CurrentSession,
        organization: OrganizationId,
        permissions: &[&str],
    ) -> Result<Acting, ServiceError> {
        let in_organization = current
            .organization
            .as_ref()
            .is_some_and(|c| c.organization.id == organization);
        if !in_organization {
            return Err(ServiceError::NotFound);
        }
        let membership = tx
            .membership_of(organization, current.account.id)
            .await?
            .filter(|m| m.status == MembershipStatus::Active)
            .ok_or(ServiceError::Unauthenticated)?;
        let role = tx
            .role(organization, membership.role_id)
            .await?
            .ok_or(ServiceError::Forbidden)?;
        let overrides = tx.overrides(membership.id).await?;
        let acting = Acting {
            membership,
            role,
            overrides,
        };
        if permissions.iter().any(|p| acting.holds(p)) {
            Ok(acting)
        } else {
            Err(ServiceError::Forbidden)
        }
    }

    /// Inviting needs a confirmed email address (until then the account
    /// sees a banner and may use everything else): an address nobody proved
    /// must not send mail in an organization's name.
    pub(crate) fn ensure_email_verified(current: &CurrentSession) -> Result<(), ServiceError> {
        if current.account.email_verified_at.is_some() {
            Ok(())
        } else {
            Err(ServiceError::EmailNotVerified)
        }
    }

    /// The team page's list (needs `team.read`, `team.invite` or `team.manage`).
    pub async fn members(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        query: &MemberQuery,
    ) -> Result<MemberList, ServiceError> {
        let mut tx = self.store.begin_read().await?;
        let acting = self
            .authorize(
                &mut *tx,
                current,
                organization,
                &[TEAM_READ, TEAM_INVITE, TEAM_MANAGE],
            )
            .await?;
        let page = tx
            .members(
                organization,
                &query.filter,
                query.search.as_deref(),
                query.page.unwrap_or(PageRequest::first(50)),
            )
            .await?;
        let roles = tx.roles(organization).await?;
        Ok(MemberList {
            page,
            roles,
            can_manage: acting.holds(TEAM_MANAGE),
            can_invite: acting.holds(TEAM_INVITE) || acting.holds(TEAM_MANAGE),
            can_manage_roles: acting.holds(crate::ROLES_MANAGE),
            owner: tx.organization_owner(organization).await?,
            acting: acting.membership.id,
        })
    }

    /// One member of the organization (for a confirmation page).
    pub async fn member(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        member: MembershipId,
    ) -> Result<MemberSummary, ServiceError> {
        let mut tx = self.store.begin_read().await?;
        self.authorize(&mut *tx, current, organization, &[TEAM_MANAGE])
            .await?;
        let membership = tx
            .membership(organization, member)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let account = tx
            .account(membership.account_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        // An invited account's own names are not the inviting organization's
        // to see (seed 000): only its address is shown until acceptance.
        let invited = membership.status == MembershipStatus::Invited;
        Ok(MemberSummary {
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
        })
    }

    /// Moves a member through its lifecycle (needs `team.manage`). The last
    /// active administrator cannot be suspended or removed. Activation
    /// emails the member.
    pub async fn change_member_status(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        member: MembershipId,
        change: StatusChange,
        context: &RequestContext,
    ) -> Result<Membership, ServiceError> {
        if matches!(change, StatusChange::Accept { .. }) {
            // Only the invitee accepts, through their link.
            return Err(ServiceError::Forbidden);
        }
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[TEAM_MANAGE])
            .await?;
        let mut membership = tx
            .membership(organization, member)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let before = membership.status;
        let next = before.apply(change)?;
        let role = tx
            .role(organization, membership.role_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let is_admin_role =
            gardien_core::access::administers(&role, team_manage_override(&mut *tx, member).await?);
        let facts = administrator_facts(
            &mut *tx,
            organization,
            member,
            before == MembershipStatus::Active && is_admin_role,
            next == MembershipStatus::Active && is_admin_role,
        )
        .await?;
        ensure_an_administrator_remains(facts)?;
        tx.set_membership_status(organization, member, next, now)
            .await?;
        let mut event = audit(
            context,
            now,
            Some(organization),
            Actor::Account(current.account.id),
            &format!("membership.{}", change_action(change)),
            Some(format!("membership:{member}")),
        );
        event.before = Some(json!({ "status": before.as_str() }));
        event.after = Some(json!({ "status": next.as_str() }));
        tx.append_audit_event(&event).await?;
        let mut mailed = false;
        if change == StatusChange::Activate {
            if let (Some(account), Some(org)) = (
                tx.account(membership.account_id).await?,
                tx.organization(organization).await?,
            ) {
                let mail = new_mail(
                    crate::notification_address(&mut *tx, &account).await?,
                    &MailTemplate::MembershipActivated {
                        organization: org.name,
                        link: self.link("/login"),
                    },
                    account.language,
                );
                tx.enqueue_mail(&mail, now).await?;
                mailed = true;
            }
        }
        let change = gardien_authz::Change::MembershipStatusChanged {
            organization_id: organization,
            membership_id: member,
            status: next,
        };
        self.commit_with_changes(tx, vec![change]).await?;
        if mailed {
            self.mail_committed();
        }
        membership.status = next;
        membership.updated_at = now;
        Ok(membership)
    }

    /// Gives a member another role of the organization (needs
    /// `team.manage`). The last active administrator cannot be demoted.
    pub async fn change_member_role(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        member: MembershipId,
        role_id: &str,
        context: &RequestContext,
    ) -> Result<Membership, ServiceError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[TEAM_MANAGE])
            .await?;
        let new_role = match role_id.trim().parse::<RoleId>() {
            Ok(id) => tx.role(organization, id).await?,
            Err(_) => None,
        }
        .ok_or_else(|| {
            ServiceError::Invalid(vec![(
                "role_id",
                ValidationError::UnknownValue(role_id.to_owned(), "role of this organization"),
            )])
        })?;
        let mut membership = tx
            .membership(organization, member)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let old_role = tx
            .role(organization, membership.role_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let active = membership.status == MembershipStatus::Active;
        let own = team_manage_override(&mut *tx, member).await?;
        let facts = administrator_facts(
            &mut *tx,
            organization,
            member,
            active && gardien_core::access::administers(&old_role, own),
            active && gardien_core::access::administers(&new_role, own),
        )
        .await?;
        ensure_an_administrator_remains(facts)?;
        self.move_role(
            &mut *tx,
            current,
            organization,
            member,
            (&old_role, &new_role),
            context,
            now,
        )
        .await?;
        let change = gardien_authz::Change::MembershipRoleChanged {
            organization_id: organization,
            membership_id: member,
            role_id: new_role.id,
        };
        self.commit_with_changes(tx, vec![change]).await?;
        membership.role_id = new_role.id;
        membership.updated_at = now;
        Ok(membership)
    }
}

impl Services {
    /// The organization's settings (needs `team.manage`).
    pub async fn organization_settings(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
    ) -> Result<Organization, ServiceError> {
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[TEAM_MANAGE])
            .await?;
        tx.organization(organization)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// Saves the setting "new members need an administrator's activation"
    /// (seed 001; needs `team.manage`). Members who already accepted keep
    /// their status.
    pub async fn set_requires_activation(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        requires_activation: bool,
        context: &RequestContext,
    ) -> Result<Organization, ServiceError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[TEAM_MANAGE])
            .await?;
        let mut org = tx
            .organization(organization)
            .await?
            .ok_or(ServiceError::NotFound)?;
        tx.set_requires_activation(organization, requires_activation)
            .await?;
        let mut event = audit(
            context,
            now,
            Some(organization),
            Actor::Account(current.account.id),
            "organization.settings_changed",
            Some(format!("organization:{organization}")),
        );
        event.before = Some(json!({ "requires_activation": org.requires_activation }));
        event.after = Some(json!({ "requires_activation": requires_activation }));
        tx.append_audit_event(&event).await?;
        tx.commit().await?;
        org.requires_activation = requires_activation;
        Ok(org)
    }
}

/// The audit action of a lifecycle change (`membership.suspended`, …).
fn change_action(change: StatusChange) -> &'static str {
    match change {
        StatusChange::Accept { .. } => "accepted",
        StatusChange::Activate => "activated",
        StatusChange::Suspend => "suspended",
        StatusChange::Reactivate => "reactivated",
        StatusChange::Remove => "removed",
        StatusChange::Restore => "restored",
    }
}

/// The member's override of `team.manage`, if any (it decides whether
/// they administer, see [`gardien_core::access::administers`]).
pub(crate) async fn team_manage_override(
    tx: &mut dyn Transaction,
    member: MembershipId,
) -> Result<Option<gardien_core::evaluator::OverrideEffect>, ServiceError> {
    Ok(tx
        .overrides(member)
        .await?
        .into_iter()
        .find(|(key, _)| key.as_str() == TEAM_MANAGE)
        .map(|(_, effect)| effect))
}

/// Refuses a change (already written in `tx`, which the caller then drops)
/// that left the organization's owner without administration.
pub(crate) async fn ensure_owner_administers(
    tx: &mut dyn Transaction,
    organization: OrganizationId,
) -> Result<(), ServiceError> {
    let Some(owner) = tx.organization_owner(organization).await? else {
        return Ok(());
    };
    let Some(membership) = tx.membership(organization, owner).await? else {
        return Ok(());
    };
    if membership.status != MembershipStatus::Active {
        return Ok(());
    }
    let own = team_manage_override(tx, owner).await?;
    let administers = tx
        .role(organization, membership.role_id)
        .await?
        .is_some_and(|role| gardien_core::access::administers(&role, own));
    if administers {
        Ok(())
    } else {
        Err(gardien_core::membership::LifecycleError::OwnerMustHandOver.into())
    }
}

/// What the last-administrator and owner rules need about a change of
/// `member`.
pub(crate) async fn administrator_facts(
    tx: &mut dyn Transaction,
    organization: OrganizationId,
    member: MembershipId,
    target_is_active_administrator: bool,
    target_stays_active_administrator: bool,
) -> Result<AdministratorCount, ServiceError> {
    let total = tx.count_active_administrators(organization).await?;
    let others = total.saturating_sub(u64::from(target_is_active_administrator));
    Ok(AdministratorCount {
        target_is_active_administrator,
        target_stays_active_administrator,
        other_active_administrators: usize::try_from(others).unwrap_or(usize::MAX),
        target_is_owner: tx.organization_owner(organization).await? == Some(member),
    })
}

fn blank(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// Parses the list's filters as the API and the page receive them; blank
/// values mean "any".
pub fn member_filter(
    status: Option<&str>,
    role: Option<&str>,
    kind: Option<&str>,
) -> Result<MemberFilter, ServiceError> {
    let mut errors = Vec::new();
    let status = blank(status)
        .map(|s| s.parse::<MembershipStatus>())
        .transpose()
        .map_err(|e| errors.push(("status", e)))
        .ok()
        .flatten();
    let role_id = blank(role)
        .map(|r| {
            r.parse::<RoleId>()
                .map_err(|_| ValidationError::UnknownValue(r.to_owned(), "role id"))
        })
        .transpose()
        .map_err(|e| errors.push(("role", e)))
        .ok()
        .flatten();
    let kind = blank(kind)
        .map(|k| k.parse::<Kind>())
        .transpose()
        .map_err(|e| errors.push(("kind", e)))
        .ok()
        .flatten();
    if errors.is_empty() {
        Ok(MemberFilter {
            status,
            role_id,
            kind,
        })
    } else {
        Err(ServiceError::Invalid(errors))
    }
}
