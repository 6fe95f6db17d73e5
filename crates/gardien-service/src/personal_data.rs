//! Personal data (flow 15): a person downloads what Gardien holds about
//! them, and deletes their account. Deletion anonymizes: the account row
//! stays (audit events keep pointing at it) but its email becomes a unique
//! tombstone, its names, phone, title and password are cleared, its
//! sessions and links end and its memberships are removed. It is refused
//! while the person is the last active administrator of an organization.

use gardien_core::audit::{Actor, AuditEvent, RequestContext};
use gardien_core::membership::LifecycleError;
use gardien_core::{Email, MembershipStatus, ValidationError};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::{audit, CurrentSession, ServiceError, Services};

/// At most this many audit events are exported.
pub const EXPORT_AUDIT_EVENTS_MAX: u32 = 10_000;

fn rfc3339(at: OffsetDateTime) -> Value {
    at.format(&Rfc3339)
        .map(Value::String)
        .unwrap_or(Value::Null)
}

fn event_json(event: &AuditEvent) -> Value {
    json!({
        "id": event.id.as_uuid(),
        "occurred_at": rfc3339(event.occurred_at),
        "organization_id": event.organization_id.map(|o| o.as_uuid()),
        "action": event.action,
        "target": event.target,
        "before": event.before,
        "after": event.after,
        "ip": event.ip,
        "user_agent": event.user_agent,
    })
}

impl Services {
    /// Everything Gardien holds about the session's person, as one JSON
    /// document: account and profile, memberships, consents, live sessions
    /// and the audit events they are the actor of.
    pub async fn export_my_data(&self, current: &CurrentSession) -> Result<Value, ServiceError> {
        let now = OffsetDateTime::now_utc();
        let id = current.account.id;
        let mut tx = self.store.begin().await?;
        let profile = tx
            .account_profile(id)
            .await?
            .ok_or(ServiceError::Unauthenticated)?;
        let mut memberships = Vec::new();
        for membership in tx.memberships_of_account(id).await? {
            let organization = tx.organization(membership.organization_id).await?;
            let role = tx
                .role(membership.organization_id, membership.role_id)
                .await?;
            memberships.push(json!({
                "organization": {
                    "id": membership.organization_id.as_uuid(),
                    "name": organization.map(|o| o.name),
                },
                "kind": membership.kind.as_str(),
                "role": role.map(|r| r.name),
                "status": membership.status.as_str(),
                "created_at": rfc3339(membership.created_at),
            }));
        }
        let consents: Vec<Value> = tx
            .consents_of_account(id)
            .await?
            .into_iter()
            .map(|c| {
                json!({
                    "policy_version": c.policy_version,
                    "accepted_at": rfc3339(c.accepted_at),
                    "ip": c.ip,
                    "user_agent": c.user_agent,
                })
            })
            .collect();
        let sessions: Vec<Value> = tx
            .sessions_of_account(id, now)
            .await?
            .into_iter()
            .filter(|s| s.is_live(now))
            .map(|s| {
                json!({
                    "created_at": rfc3339(s.created_at),
                    "last_seen_at": rfc3339(s.last_seen_at),
                    "ip": s.ip,
                    "user_agent": s.user_agent,
                })
            })
            .collect();
        let events: Vec<Value> = tx
            .audit_events_by_actor(id, EXPORT_AUDIT_EVENTS_MAX)
            .await?
            .iter()
            .map(event_json)
            .collect();
        Ok(json!({
            "exported_at": rfc3339(now),
            "account": {
                "id": id.as_uuid(),
                "email": current.account.email.as_str(),
                "email_verified_at": current.account.email_verified_at.map(rfc3339),
                "created_at": rfc3339(current.account.created_at),
                "first_name": profile.first_name,
                "last_name": profile.last_name,
                "phone": profile.phone,
                "title": profile.title,
                "notification_email": profile.notification_email.map(|e| e.as_str().to_owned()),
                "language": profile.language.code(),
            },
            "memberships": memberships,
            "consents": consents,
            "sessions": sessions,
            "audit_events": events,
        }))
    }

    /// Deletes (anonymizes) the session's account; see the module
    /// documentation. The password is asked again.
    pub async fn delete_my_account(
        &self,
        current: &CurrentSession,
        password: &str,
        context: &RequestContext,
    ) -> Result<(), ServiceError> {
        let id = current.account.id;
        let mut tx = self.store.begin().await?;
        let stored = tx.password_hash(id).await?;
        drop(tx);
        if !self.passwords.verify(stored, password).await? {
            return Err(ServiceError::Invalid(vec![(
                "password",
                ValidationError::CurrentPasswordWrong,
            )]));
        }
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let memberships = tx.memberships_of_account(id).await?;
        for membership in &memberships {
            if tx.organization_owner(membership.organization_id).await? == Some(membership.id) {
                return Err(ServiceError::Lifecycle(LifecycleError::OwnerMustHandOver));
            }
            if membership.status != MembershipStatus::Active {
                continue;
            }
            let own = tx
                .overrides(membership.id)
                .await?
                .into_iter()
                .find(|(key, _)| key.as_str() == crate::TEAM_MANAGE)
                .map(|(_, effect)| effect);
            let administrator = tx
                .role(membership.organization_id, membership.role_id)
                .await?
                .is_some_and(|r| gardien_core::access::administers(&r, own));
            if administrator
                && tx
                    .count_active_administrators(membership.organization_id)
                    .await?
                    <= 1
            {
                return Err(ServiceError::Lifecycle(LifecycleError::LastAdministrator));
            }
        }
        // Access ends at once: the authorization index learns it with the commit.
        let mut changes = Vec::new();
        for membership in &memberships {
            if membership.status != MembershipStatus::Removed {
                tx.set_membership_status(
                    membership.organization_id,
                    membership.id,
                    MembershipStatus::Removed,
                    now,
                )
                .await?;
                changes.push(gardien_authz::Change::MembershipStatusChanged {
                    organization_id: membership.organization_id,
                    membership_id: membership.id,
                    status: MembershipStatus::Removed,
                });
            }
        }
        let tombstone = Email::parse(&format!(
            "deleted-{}@deleted.invalid",
            id.as_uuid().simple()
        ))
        .map_err(|e| ServiceError::Invalid(vec![("email", e)]))?;
        tx.anonymize_account(id, &tombstone, now).await?;
        tx.revoke_oidc_grants_of_account(id, "account_deleted", now)
            .await?;
        // No personal data in the event: the actor is the anonymized row.
        let mut event = audit(
            context,
            now,
            None,
            Actor::Account(id),
            "account.deleted",
            Some(format!("account:{id}")),
        );
        event.after = Some(json!({
            "memberships_removed": memberships
                .iter()
                .filter(|m| m.status != MembershipStatus::Removed)
                .count(),
        }));
        tx.append_audit_event(&event).await?;
        self.commit_with_changes(tx, changes).await
    }
}
