//! Login, the organization picker, logout, and the check every request with
//! a session cookie goes through (flow 6).
//!
//! Login failures are generic ("email or password is wrong"), and take as
//! long whether or not the account exists. Every request re-reads the
//! session and its membership, so a suspension or a logout takes effect on
//! the very next request.

use gardien_core::audit::{Actor, RequestContext};
use gardien_core::{
    Account, Email, Kind, MembershipStatus, Organization, OrganizationId, Session, Token,
};
use gardien_store::{StoreError, Transaction};
use time::OffsetDateTime;

use crate::{audit, new_token, ServiceError, Services};

/// An organization the person may enter, with the kind of their membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationChoice {
    pub organization: Organization,
    pub kind: Kind,
}

/// A successful login: the cookie's token and where to go next.
#[derive(Debug, Clone)]
pub struct LoggedIn {
    /// Goes in the session cookie; never stored.
    pub token: Token,
    pub account: Account,
    /// Set when the account has exactly one active membership: the session
    /// is already bound to it.
    pub bound: Option<OrganizationChoice>,
    /// Every organization the account may enter (several: ask which).
    pub choices: Vec<OrganizationChoice>,
    /// The current privacy policy must be accepted before anything else.
    pub consent_required: bool,
}

/// The live session of a request, its account and, once chosen, its
/// organization (whose membership is active right now).
#[derive(Debug, Clone)]
pub struct CurrentSession {
    pub session: Session,
    pub account: Account,
    pub organization: Option<OrganizationChoice>,
    /// The account has not accepted the current privacy policy yet: it may
    /// do nothing else first (flow 7).
    pub consent_required: bool,
}

impl Services {
    /// Logs in with email and password. Any failure is
    /// [`ServiceError::LoginFailed`], whatever its cause.
    pub async fn log_in(
        &self,
        email: &str,
        password: &str,
        context: &RequestContext,
    ) -> Result<LoggedIn, ServiceError> {
        let now = OffsetDateTime::now_utc();
        let email = Email::parse(email).ok();
        let mut tx = self.store.begin().await?;
        let account = match &email {
            Some(email) => tx.account_by_email(email).await?,
            None => None,
        };
        let stored = match &account {
            Some(account) => tx.password_hash(account.id).await?,
            None => None,
        };
        drop(tx);
        // Runs even without an account (a dummy hash): the same time either way.
        let matches = self.passwords.verify(stored, password).await?;
        let account = match account {
            Some(account) if matches => account,
            other => {
                if let Some(account) = &other {
                    let mut tx = self.store.begin().await?;
                    tx.append_audit_event(&audit(
                        context,
                        now,
                        None,
                        Actor::Account(account.id),
                        "account.login_failed",
                        Some(format!("account:{}", account.id)),
                    ))
                    .await?;
                    tx.commit().await?;
                }
                return Err(ServiceError::LoginFailed);
            }
        };

        let mut tx = self.store.begin().await?;
        let choices = active_choices(&mut *tx, &account).await?;
        let token = new_token();
        let mut session = Session::with_policy(token.hash(), account.id, now, self.session_policy);
        session.ip = context.ip.clone();
        session.user_agent = context.user_agent.clone();
        let bound = match choices.as_slice() {
            [only] => {
                session.organization = Some((only.organization.id, only.kind));
                Some(only.clone())
            }
            _ => None,
        };
        tx.insert_session(&session).await?;
        let consent_required = match &self.privacy_policy.version {
            Some(version) => !tx.has_consent(account.id, version).await?,
            None => false,
        };
        if let Some(choice) = &bound {
            tx.record_login(choice.organization.id, account.id, now)
                .await?;
        }
        tx.append_audit_event(&audit(
            context,
            now,
            bound.as_ref().map(|c| c.organization.id),
            Actor::Account(account.id),
            "account.logged_in",
            Some(format!("account:{}", account.id)),
        ))
        .await?;
        tx.commit().await?;
        Ok(LoggedIn {
            token,
            account,
            bound,
            choices,
            consent_required,
        })
    }

    /// The session of a cookie's token, if it still works: not revoked, not
    /// expired, not idle for too long, and — when bound to an organization —
    /// its membership there still active. Records the activity (at most once
    /// per [`Session::LAST_SEEN_PRECISION`]).
    pub async fn current_session(&self, token: &str) -> Result<CurrentSession, ServiceError> {
        let token = Token::parse(token).map_err(|_| ServiceError::Unauthenticated)?;
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin_read().await?;
        let Some(session) = tx.session(&token.hash()).await? else {
            return Err(ServiceError::Unauthenticated);
        };
        if !session.is_live(now) {
            return Err(ServiceError::Unauthenticated);
        }
        let account = tx
            .account(session.account_id)
            .await?
            .ok_or(ServiceError::Unauthenticated)?;
        let organization = match session.organization {
            Some((organization_id, kind)) => {
                let membership = tx.membership_of(organization_id, account.id).await?;
                let active = membership
                    .is_some_and(|m| m.status == MembershipStatus::Active && m.kind == kind);
                if !active {
                    return Err(ServiceError::Unauthenticated);
                }
                let organization = tx
                    .organization(organization_id)
                    .await?
                    .ok_or(ServiceError::Unauthenticated)?;
                Some(OrganizationChoice { organization, kind })
            }
            None => None,
        };
        let consent_required = match &self.privacy_policy.version {
            Some(version) => !tx.has_consent(account.id, version).await?,
            None => false,
        };
        drop(tx);
        if session.activity_due(now) {
            let mut tx = self.store.begin().await?;
            tx.touch_session(&session.id, now).await?;
            tx.commit().await?;
        }
        Ok(CurrentSession {
            session,
            account,
            organization,
            consent_required,
        })
    }

    /// The organizations the session's account may enter now.
    pub async fn organization_choices(
        &self,
        current: &CurrentSession,
    ) -> Result<Vec<OrganizationChoice>, ServiceError> {
        let mut tx = self.store.begin_read().await?;
        active_choices(&mut *tx, &current.account).await
    }

    /// Binds the session to `organization`, where the account must have an
    /// active membership (switching needs no new login).
    pub async fn choose_organization(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        context: &RequestContext,
    ) -> Result<OrganizationChoice, ServiceError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let choice = active_choices(&mut *tx, &current.account)
            .await?
            .into_iter()
            .find(|c| c.organization.id == organization)
            .ok_or(ServiceError::NotAMember)?;
        tx.bind_session(&current.session.id, choice.organization.id, choice.kind)
            .await?;
        tx.record_login(choice.organization.id, current.account.id, now)
            .await?;
        tx.append_audit_event(&audit(
            context,
            now,
            Some(choice.organization.id),
            Actor::Account(current.account.id),
            "session.organization_chosen",
            Some(format!("account:{}", current.account.id)),
        ))
        .await?;
        tx.commit().await?;
        Ok(choice)
    }

    /// Ends the session: its cookie stops working at once.
    pub async fn log_out(
        &self,
        current: &CurrentSession,
        context: &RequestContext,
    ) -> Result<(), ServiceError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        match tx.revoke_session(&current.session.id, now).await {
            Ok(()) | Err(StoreError::NotFound(_)) => {}
            Err(other) => return Err(other.into()),
        }
        // What clients were given from this session ends with it.
        tx.revoke_oidc_grants_of_session(&current.session.id, "logged_out", now)
            .await?;
        tx.append_audit_event(&audit(
            context,
            now,
            current.organization.as_ref().map(|c| c.organization.id),
            Actor::Account(current.account.id),
            "account.logged_out",
            Some(format!("account:{}", current.account.id)),
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The organizations where `account` has an active membership, in the
/// order the memberships were created.
async fn active_choices(
    tx: &mut dyn Transaction,
    account: &Account,
) -> Result<Vec<OrganizationChoice>, ServiceError> {
    let mut choices = Vec::new();
    for membership in tx.memberships_of_account(account.id).await? {
        if membership.status != MembershipStatus::Active {
            continue;
        }
        if let Some(organization) = tx.organization(membership.organization_id).await? {
            choices.push(OrganizationChoice {
                organization,
                kind: membership.kind,
            });
        }
    }
    Ok(choices)
}
