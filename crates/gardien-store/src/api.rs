//! The storage interface the service layer speaks to. Back ends implement it;
//! the contract suite (`tests/contract.rs`) holds both to the same behaviour.

use async_trait::async_trait;
use gardien_core::audit::AuditEvent;
use gardien_core::invitation::Invitation;
use gardien_core::{
    Account, AccountId, Email, EmailVerification, InvitationId, Kind, MailId, Membership,
    MembershipId, MembershipStatus, Organization, OrganizationId, PasswordReset, Role, RoleId,
    Session, TokenHash,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::StoreError;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A page request for cursor pagination: items after `after`, at most `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub after: Option<Uuid>,
    pub limit: u32,
}

impl PageRequest {
    pub const MAX_LIMIT: u32 = 500;
    pub fn first(limit: u32) -> Self {
        Self {
            after: None,
            limit: limit.clamp(1, Self::MAX_LIMIT),
        }
    }
}

/// One page of a list; `next_cursor` is set when more items follow.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<Uuid>,
}

/// Filters of the member list (team page).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberFilter {
    pub status: Option<MembershipStatus>,
    pub role_id: Option<RoleId>,
    pub kind: Option<Kind>,
}

/// An account about to be created.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub account: Account,
    /// The Argon2id PHC string, when the person chose a password.
    pub password_hash: Option<String>,
}

/// A rendered message to put in the outbox, in the transaction of the change
/// that causes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    pub id: MailId,
    pub to: Email,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
}

/// A message of the outbox, as the delivery worker sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: MailId,
    pub to: Email,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub attempts: u32,
    pub created_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
    /// Set when delivery was abandoned after too many attempts.
    pub failed_at: Option<OffsetDateTime>,
    pub last_error: Option<String>,
}

/// The storage interface. Obtained from [`crate::connect`].
#[async_trait]
pub trait Store: Send + Sync + 'static {
    fn backend(&self) -> Backend;

    /// Succeeds when the database answers (readiness probe).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Starts a transaction. Dropping it without [`Transaction::commit`] rolls back.
    async fn begin(&self) -> Result<Box<dyn Transaction>, StoreError>;

    /// Leases up to `limit` undelivered messages due at `now` for `lease`,
    /// oldest first, so that concurrent workers (several instances on one
    /// PostgreSQL) never deliver the same message at the same time. A worker
    /// that dies loses its lease and the message is claimed again later.
    async fn claim_mail(
        &self,
        now: OffsetDateTime,
        lease: time::Duration,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError>;

    /// Records a successful delivery.
    async fn mark_mail_sent(&self, id: MailId, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Records a failed attempt: retried at `retry_at`, or abandoned when `None`.
    async fn mark_mail_failed(
        &self,
        id: MailId,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError>;

    async fn mail(&self, id: MailId) -> Result<Option<OutboxMessage>, StoreError>;
}

/// One database transaction. Every write of the product goes through one.
#[async_trait]
pub trait Transaction: Send {
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;

    // Accounts
    /// Fails with [`StoreError::Conflict`] (`accounts_email`) when the
    /// normalized email already has an account.
    async fn insert_account(&mut self, new: &NewAccount) -> Result<(), StoreError>;
    async fn account(&mut self, id: AccountId) -> Result<Option<Account>, StoreError>;
    async fn account_by_email(&mut self, email: &Email) -> Result<Option<Account>, StoreError>;
    async fn password_hash(&mut self, id: AccountId) -> Result<Option<String>, StoreError>;
    /// Records that the account proved it owns its address (keeps the first time).
    async fn mark_email_verified(
        &mut self,
        id: AccountId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    // Email verification links
    async fn insert_email_verification(
        &mut self,
        verification: &EmailVerification,
        token: &TokenHash,
    ) -> Result<(), StoreError>;
    async fn email_verification_by_token(
        &mut self,
        token: &TokenHash,
    ) -> Result<Option<EmailVerification>, StoreError>;
    /// Marks the link used at `at`. Fails with [`StoreError::NotFound`] when
    /// it is unknown, already used or expired: a link works once.
    async fn use_email_verification(
        &mut self,
        token: &TokenHash,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Replaces the account's password hash.
    async fn set_password_hash(
        &mut self,
        id: AccountId,
        hash: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    // Password reset links
    async fn insert_password_reset(
        &mut self,
        reset: &PasswordReset,
        token: &TokenHash,
    ) -> Result<(), StoreError>;
    async fn password_reset_by_token(
        &mut self,
        token: &TokenHash,
    ) -> Result<Option<PasswordReset>, StoreError>;
    /// Marks the link used at `at`. Fails with [`StoreError::NotFound`] when
    /// it is unknown, already used or expired: a link works once.
    async fn use_password_reset(
        &mut self,
        token: &TokenHash,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    // Sessions
    /// Revokes every live session of the account (after a password reset).
    async fn revoke_sessions_of_account(
        &mut self,
        account: AccountId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    async fn insert_session(&mut self, session: &Session) -> Result<(), StoreError>;
    async fn session(&mut self, id: &TokenHash) -> Result<Option<Session>, StoreError>;
    /// Records activity at `at` (never moves `last_seen_at` back).
    async fn touch_session(&mut self, id: &TokenHash, at: OffsetDateTime)
        -> Result<(), StoreError>;
    /// Binds a live session to an organization (flow 6's picker).
    async fn bind_session(
        &mut self,
        id: &TokenHash,
        organization: OrganizationId,
        kind: Kind,
    ) -> Result<(), StoreError>;
    async fn revoke_session(
        &mut self,
        id: &TokenHash,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    // Organizations and roles
    async fn insert_organization(&mut self, organization: &Organization) -> Result<(), StoreError>;
    async fn organization(
        &mut self,
        id: OrganizationId,
    ) -> Result<Option<Organization>, StoreError>;
    /// Fails with [`StoreError::Conflict`] (`roles_name`) when the organization
    /// already has a role of that name.
    async fn insert_role(&mut self, role: &Role) -> Result<(), StoreError>;
    async fn role(
        &mut self,
        organization: OrganizationId,
        id: RoleId,
    ) -> Result<Option<Role>, StoreError>;
    async fn roles(&mut self, organization: OrganizationId) -> Result<Vec<Role>, StoreError>;

    // Memberships
    /// Fails with [`StoreError::Conflict`] (`memberships_account`) when the
    /// account is already a member, and with [`StoreError::Invalid`] when the
    /// role belongs to another organization.
    async fn insert_membership(&mut self, membership: &Membership) -> Result<(), StoreError>;
    async fn membership(
        &mut self,
        organization: OrganizationId,
        id: MembershipId,
    ) -> Result<Option<Membership>, StoreError>;
    async fn membership_of(
        &mut self,
        organization: OrganizationId,
        account: AccountId,
    ) -> Result<Option<Membership>, StoreError>;
    /// The memberships of one account, in every organization.
    async fn memberships_of_account(
        &mut self,
        account: AccountId,
    ) -> Result<Vec<Membership>, StoreError>;
    async fn set_membership_status(
        &mut self,
        organization: OrganizationId,
        id: MembershipId,
        status: MembershipStatus,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    async fn set_membership_role(
        &mut self,
        organization: OrganizationId,
        id: MembershipId,
        role: RoleId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    async fn memberships(
        &mut self,
        organization: OrganizationId,
        filter: &MemberFilter,
        page: PageRequest,
    ) -> Result<Page<Membership>, StoreError>;
    /// Active memberships whose role is an administrator's (see
    /// [`gardien_core::Role::is_administrator`]).
    async fn count_active_administrators(
        &mut self,
        organization: OrganizationId,
    ) -> Result<u64, StoreError>;

    // Invitations
    /// Fails with [`StoreError::Conflict`] (`invitations_pending`) when the
    /// membership already has a pending invitation.
    async fn insert_invitation(
        &mut self,
        invitation: &Invitation,
        token: &TokenHash,
    ) -> Result<(), StoreError>;
    async fn invitation_by_token(
        &mut self,
        token: &TokenHash,
    ) -> Result<Option<Invitation>, StoreError>;
    async fn revoke_invitation(
        &mut self,
        organization: OrganizationId,
        id: InvitationId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    // Audit and outbox
    async fn append_audit_event(&mut self, event: &AuditEvent) -> Result<(), StoreError>;
    /// Events of one organization, newest first.
    async fn audit_events(
        &mut self,
        organization: OrganizationId,
        page: PageRequest,
    ) -> Result<Page<AuditEvent>, StoreError>;
    async fn enqueue_mail(&mut self, mail: &NewMail, now: OffsetDateTime)
        -> Result<(), StoreError>;
}
