//! "My sessions": a person lists their live sessions and ends one, or every
//! other one (issue 3). Only the account's own sessions are reachable: an id
//! of another account's session is "not found".

use gardien_core::audit::{Actor, RequestContext};
use gardien_core::{Session, TokenHash};
use time::OffsetDateTime;

use crate::{audit, CurrentSession, ServiceError, Services};

/// One live session of the person, and whether it is the one asking.
#[derive(Debug, Clone)]
pub struct MySession {
    pub session: Session,
    pub current: bool,
}

impl Services {
    /// The live sessions of the session's account, most recently seen first.
    pub async fn my_sessions(
        &self,
        current: &CurrentSession,
    ) -> Result<Vec<MySession>, ServiceError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin_read().await?;
        Ok(tx
            .sessions_of_account(current.account.id, now)
            .await?
            .into_iter()
            .filter(|s| s.is_live(now))
            .map(|session| MySession {
                current: session.id == current.session.id,
                session,
            })
            .collect())
    }

    /// Ends one session of the person's own, named by its id.
    pub async fn revoke_my_session(
        &self,
        current: &CurrentSession,
        id: &str,
        context: &RequestContext,
    ) -> Result<(), ServiceError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let wanted = TokenHash::from_stored(id.to_owned());
        let session = tx
            .session(&wanted)
            .await?
            .filter(|s| s.account_id == current.account.id && s.is_live(now))
            .ok_or(ServiceError::NotFound)?;
        tx.revoke_session(&session.id, now).await?;
        tx.append_audit_event(&audit(
            context,
            now,
            current.organization.as_ref().map(|c| c.organization.id),
            Actor::Account(current.account.id),
            "session.revoked",
            Some(format!("account:{}", current.account.id)),
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends every session of the person except the one asking.
    pub async fn revoke_my_other_sessions(
        &self,
        current: &CurrentSession,
        context: &RequestContext,
    ) -> Result<(), ServiceError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        tx.revoke_other_sessions(current.account.id, &current.session.id, now)
            .await?;
        tx.append_audit_event(&audit(
            context,
            now,
            current.organization.as_ref().map(|c| c.organization.id),
            Actor::Account(current.account.id),
            "session.others_revoked",
            Some(format!("account:{}", current.account.id)),
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
