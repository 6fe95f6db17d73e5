//! Privacy policy consent (flow 7): the person accepts the deployment's
//! current policy version before anything else; a new version asks again.
//! Each acceptance is stored with its version, time and origin, and audited.

use gardien_core::audit::{Actor, RequestContext};
use gardien_core::{Consent, ValidationError};
use serde_json::json;
use time::OffsetDateTime;

use crate::{audit, CurrentSession, ServiceError, Services};

impl Services {
    /// Records that the session's person accepts the policy `version` they
    /// were shown. A version other than the current one (the policy changed
    /// meanwhile) is refused: they must read the new one.
    pub async fn accept_privacy_policy(
        &self,
        current: &CurrentSession,
        version: &str,
        context: &RequestContext,
    ) -> Result<(), ServiceError> {
        let refused = || {
            ServiceError::Invalid(vec![(
                "policy_version",
                ValidationError::UnknownValue(version.trim().to_owned(), "privacy policy version"),
            )])
        };
        let current_version = self.privacy_policy.version.as_deref().ok_or_else(refused)?;
        if version.trim() != current_version {
            return Err(refused());
        }
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        if tx.has_consent(current.account.id, current_version).await? {
            return Ok(());
        }
        tx.insert_consent(&Consent {
            account_id: current.account.id,
            policy_version: current_version.to_owned(),
            accepted_at: now,
            ip: context.ip.clone(),
            user_agent: context.user_agent.clone(),
        })
        .await?;
        let mut event = audit(
            context,
            now,
            current.organization.as_ref().map(|c| c.organization.id),
            Actor::Account(current.account.id),
            "account.privacy_policy_accepted",
            Some(format!("account:{}", current.account.id)),
        );
        event.after = Some(json!({ "policy_version": current_version }));
        tx.append_audit_event(&event).await?;
        tx.commit().await?;
        Ok(())
    }
}
