//! Ownership (DESIGN: "Ownership can be handed over").
//!
//! Every organization has one owner: its founder at sign-up, then whoever
//! the owner hands it over to. The owner stays an active administrator —
//! suspending, removing or demoting them, or denying them `team.manage`, is
//! refused
//! ([`gardien_core::membership::LifecycleError::OwnerMustHandOver`]) — so an organization is
//! never taken from its owner by another administrator.
//!
//! Handing over is one action, in one transaction: only the owner does it,
//! to an active staff member; a member whose role does not administer
//! receives the built-in Administrator role; the previous owner keeps their
//! role or steps down to the role they choose. The new owner is emailed.

use gardien_authz::Change;
use gardien_core::audit::{Actor, RequestContext};
use gardien_core::{Kind, MembershipId, MembershipStatus, OrganizationId, RoleId, ValidationError};
use gardien_mail::{new_mail, MailTemplate};
use gardien_store::Transaction;
use serde_json::json;
use time::OffsetDateTime;

use crate::invitations::display_name;
use crate::{audit, CurrentSession, ServiceError, Services, TEAM_MANAGE};

/// A hand-over, as received.
#[derive(Debug, Clone, Default)]
pub struct HandOver {
    /// The membership id of the new owner.
    pub to: String,
    /// The role the previous owner takes; empty: they keep theirs.
    pub previous_owner_role_id: String,
}

/// A hand-over done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandedOver {
    pub owner: MembershipId,
    /// The new owner received the Administrator role with the ownership.
    pub promoted: bool,
    /// The previous owner's new role, when they stepped down.
    pub previous_owner_role: Option<RoleId>,
}

fn refused(field: &'static str, value: &str, expected: &'static str) -> ServiceError {
    ServiceError::Invalid(vec![(
        field,
        ValidationError::UnknownValue(value.chars().take(80).collect(), expected),
    )])
}

impl Services {
    /// The membership that owns the organization (needs `team.read`,
    /// `team.invite` or `team.manage`).
    pub async fn organization_owner(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
    ) -> Result<Option<MembershipId>, ServiceError> {
        let mut tx = self.store.begin().await?;
        self.authorize(
            &mut *tx,
            current,
            organization,
            &[crate::TEAM_READ, crate::TEAM_INVITE, TEAM_MANAGE],
        )
        .await?;
        Ok(tx.organization_owner(organization).await?)
    }

    /// Hands the organization's ownership over (only its owner may); see
    /// the module documentation.
    pub async fn hand_over_ownership(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        form: &HandOver,
        context: &RequestContext,
    ) -> Result<HandedOver, ServiceError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let acting = self
            .authorize(&mut *tx, current, organization, &[TEAM_MANAGE])
            .await?;
        if tx.organization_owner(organization).await? != Some(acting.membership.id) {
            return Err(ServiceError::NotOwner);
        }
        let target = match form.to.trim().parse::<MembershipId>() {
            Ok(id) => tx.membership(organization, id).await?,
            Err(_) => None,
        }
        .ok_or_else(|| refused("membership_id", &form.to, "member of this organization"))?;
        if target.id == acting.membership.id {
            return Err(refused(
                "membership_id",
                &form.to,
                "member other than the owner",
            ));
        }
        if target.status != MembershipStatus::Active || target.kind != Kind::Staff {
            return Err(refused(
                "membership_id",
                &form.to,
                "active staff member of this organization",
            ));
        }
        let stepping_down = match form.previous_owner_role_id.trim() {
            "" => None,
            id => Some(
                match id.parse::<RoleId>() {
                    Ok(id) => tx.role(organization, id).await?,
                    Err(_) => None,
                }
                .ok_or_else(|| {
                    refused(
                        "previous_owner_role_id",
                        &form.previous_owner_role_id,
                        "role of this organization",
                    )
                })?,
            ),
        };

        let mut changes = Vec::new();
        let target_role = tx
            .role(organization, target.role_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let target_override = crate::team::team_manage_override(&mut *tx, target.id).await?;
        let promoted = !gardien_core::access::administers(&target_role, target_override);
        if promoted {
            let administrator = tx
                .roles(organization)
                .await?
                .into_iter()
                .find(|r| r.template.as_deref() == Some("administrator"))
                .ok_or(ServiceError::NotFound)?;
            if !gardien_core::access::administers(&administrator, target_override) {
                // An override denies them team.manage: lifting it is the
                // administrator's decision, not a side effect.
                return Err(refused(
                    "membership_id",
                    &form.to,
                    "member whose team.manage is not denied by an override",
                ));
            }
            self.move_role(
                &mut *tx,
                current,
                organization,
                target.id,
                (&target_role, &administrator),
                context,
                now,
            )
            .await?;
            changes.push(Change::MembershipRoleChanged {
                organization_id: organization,
                membership_id: target.id,
                role_id: administrator.id,
            });
        }
        tx.set_organization_owner(organization, target.id).await?;
        let mut previous_owner_role = None;
        if let Some(role) = stepping_down.filter(|r| r.id != acting.membership.role_id) {
            self.move_role(
                &mut *tx,
                current,
                organization,
                acting.membership.id,
                (&acting.role, &role),
                context,
                now,
            )
            .await?;
            changes.push(Change::MembershipRoleChanged {
                organization_id: organization,
                membership_id: acting.membership.id,
                role_id: role.id,
            });
            previous_owner_role = Some(role.id);
        }
        let mut event = audit(
            context,
            now,
            Some(organization),
            Actor::Account(current.account.id),
            "organization.ownership_transferred",
            Some(format!("organization:{organization}")),
        );
        event.before = Some(json!({ "owner": acting.membership.id }));
        event.after = Some(json!({ "owner": target.id, "promoted": promoted }));
        tx.append_audit_event(&event).await?;

        let org = tx
            .organization(organization)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if let Some(account) = tx.account(target.account_id).await? {
            let mail = new_mail(
                crate::notification_address(&mut *tx, &account).await?,
                &MailTemplate::OwnershipReceived {
                    organization: org.name,
                    previous_owner: display_name(&current.account),
                    link: self.link(&format!("/o/{organization}/team")),
                },
                account.language,
            );
            tx.enqueue_mail(&mail, now).await?;
        }
        self.commit_with_changes(tx, changes).await?;
        self.mail_committed();
        Ok(HandedOver {
            owner: target.id,
            promoted,
            previous_owner_role,
        })
    }

    /// Gives `member` another role, with its audit event, in the caller's
    /// transaction.
    // One argument per fact the change needs.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn move_role(
        &self,
        tx: &mut dyn Transaction,
        current: &CurrentSession,
        organization: OrganizationId,
        member: MembershipId,
        (from, to): (&gardien_core::Role, &gardien_core::Role),
        context: &RequestContext,
        now: OffsetDateTime,
    ) -> Result<(), ServiceError> {
        tx.set_membership_role(organization, member, to.id, now)
            .await?;
        let mut event = audit(
            context,
            now,
            Some(organization),
            Actor::Account(current.account.id),
            "membership.role_changed",
            Some(format!("membership:{member}")),
        );
        event.before = Some(json!({ "role": { "id": from.id, "name": from.name } }));
        event.after = Some(json!({ "role": { "id": to.id, "name": to.name } }));
        tx.append_audit_event(&event).await?;
        Ok(())
    }
}
