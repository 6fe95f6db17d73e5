//! The storage interface the service layer speaks to. Back ends implement it;
//! the contract suite (`tests/contract/`) holds both to the same behaviour.

use async_trait::async_trait;
use gardien_core::audit::AuditEvent;
use gardien_core::invitation::Invitation;
use gardien_core::{
    Account, AccountId, Email, EmailChange, EmailVerification, InvitationId, Kind, MailId,
    Membership, MembershipId, MembershipStatus, Organization, OrganizationId, PasswordReset, Role,
    RoleId, Session, TokenHash,
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

/// One row of the member list: the membership and who holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSummary {
    pub membership: Membership,
    pub email: Email,
    pub first_name: String,
    pub last_name: String,
    pub last_login_at: Option<OffsetDateTime>,
}

/// What an administrator recorded about a member in their organization
/// (migration 0008): each set field is shown instead of the account's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberRecord {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
}

/// A member's information as its organization's administrators edit it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDetails {
    pub membership: Membership,
    pub email: Email,
    /// The account's own values (its owner's profile).
    pub account: AccountDetails,
    /// What this organization recorded (see [`MemberRecord`]).
    pub record: MemberRecord,
    /// The names typed when inviting, shown while `invited`.
    pub invited_first_name: Option<String>,
    pub invited_last_name: Option<String>,
    /// Whether the account holds a membership in any other organization.
    pub in_other_organizations: bool,
}

/// The details an invitee gives when accepting an invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountDetails {
    pub first_name: String,
    pub last_name: String,
    pub title: Option<String>,
    pub phone: Option<String>,
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

    /// Starts a read-only transaction: one consistent view of what was
    /// committed, that waits for no writer and that no writer waits for
    /// (SQLite: a reader connection beside the one writer; PostgreSQL:
    /// `READ ONLY`). Every write in it fails, on both back ends.
    async fn begin_read(&self) -> Result<Box<dyn Transaction>, StoreError>;

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

    // The authorization index and the check API (see `crate::authz`)
    /// Roles, memberships with their overrides and assignments, and the
    /// change counter, read in one consistent transaction.
    async fn authz_snapshot(&self) -> Result<gardien_authz::Snapshot, StoreError>;
    /// The recorded changes after `version`, in version order.
    async fn authz_changes_after(
        &self,
        version: u64,
    ) -> Result<Vec<gardien_authz::VersionedChange>, StoreError>;
    /// The change counter and the number of revoked API keys (polled, so
    /// that a lost notification is noticed; see `gardien-service`'s `authz.rs`).
    async fn authz_counters(&self) -> Result<crate::AuthzCounters, StoreError>;
    /// A live (not revoked) API key by the hash of its secret.
    async fn api_key_by_token(
        &self,
        token: &TokenHash,
    ) -> Result<Option<crate::ApiKey>, StoreError>;

    // Reading the audit trail (flow 14, see `crate::audit`)
    /// One page of an organization's events matching `filter`, newest first
    /// (by occurred_at, then id), strictly after `after` in that order. Read
    /// outside any transaction: exports call it batch after batch.
    async fn audit_page(
        &self,
        organization: OrganizationId,
        filter: &crate::AuditFilter,
        after: Option<crate::AuditCursor>,
        limit: u32,
    ) -> Result<crate::AuditPage, StoreError>;
    /// Records that the key was used at `at` (never moves the time back);
    /// whether the key is still live (not revoked, not deleted).
    async fn touch_api_key(
        &self,
        id: gardien_core::ApiKeyId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    // Webhooks (see `crate::webhooks`)
    /// Leases up to `limit` pending webhook messages due at `now` for
    /// `lease`, as [`Store::claim_mail`] does for mail: concurrent workers
    /// never send one message at the same time. Each counts as an attempt.
    async fn claim_webhooks(
        &self,
        now: OffsetDateTime,
        lease: time::Duration,
        limit: u32,
    ) -> Result<Vec<crate::WebhookDelivery>, StoreError>;
    /// Logs an attempt and moves its message on (delivered, retried later
    /// or abandoned) in one transaction.
    async fn record_webhook_attempt(
        &self,
        attempt: &crate::WebhookAttempt,
        outcome: crate::WebhookOutcome,
    ) -> Result<(), StoreError>;
    /// Notified after every commit of this store that enqueued webhook
    /// messages, so that the worker delivers them at once.
    fn webhook_wake(&self) -> Option<std::sync::Arc<tokio::sync::Notify>> {
        None
    }
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

    // Login email changes (flow 12)
    async fn insert_email_change(
        &mut self,
        change: &EmailChange,
        token: &TokenHash,
    ) -> Result<(), StoreError>;
    async fn email_change_by_token(
        &mut self,
        token: &TokenHash,
    ) -> Result<Option<EmailChange>, StoreError>;
    /// Marks the link used at `at`. Fails with [`StoreError::NotFound`] when
    /// it is unknown, already used or expired: a link works once.
    async fn use_email_change(
        &mut self,
        token: &TokenHash,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Ends every pending email change of the account.
    async fn cancel_email_changes(
        &mut self,
        account: AccountId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Makes `email` the account's (verified) login email. Fails with
    /// [`StoreError::Conflict`] `accounts_email` when another account has it.
    async fn set_account_email(
        &mut self,
        account: AccountId,
        email: &Email,
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
    /// Every unused link of the account stops working at `at`: a newer
    /// link, a used link or a changed password leaves no older link alive.
    async fn expire_password_resets_of_account(
        &mut self,
        account: AccountId,
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
    /// Rewrites a role's name, description, scope and permissions. Fails
    /// with [`StoreError::NotFound`] when the organization has no such role
    /// and with [`StoreError::Conflict`] (`roles_name`) when another of its
    /// roles has the name.
    async fn update_role(&mut self, role: &Role) -> Result<(), StoreError>;
    /// Deletes a role and its permissions. Fails with
    /// [`StoreError::NotFound`] when the organization has no such role and
    /// with [`StoreError::Invalid`] while a membership still holds it.
    async fn delete_role(
        &mut self,
        organization: OrganizationId,
        id: RoleId,
    ) -> Result<(), StoreError>;
    /// How many memberships (of any status) hold each role of the
    /// organization; roles nobody holds are absent.
    async fn role_member_counts(
        &mut self,
        organization: OrganizationId,
    ) -> Result<std::collections::BTreeMap<RoleId, u64>, StoreError>;
    /// Gives every membership holding `from` the role `to` (same
    /// organization) and returns them, sorted.
    async fn move_role_members(
        &mut self,
        organization: OrganizationId,
        from: RoleId,
        to: RoleId,
        at: OffsetDateTime,
    ) -> Result<Vec<MembershipId>, StoreError>;

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

    // Team: invitation management, acceptance and the member list
    /// Marks the invitation accepted at `at`. Fails with
    /// [`StoreError::NotFound`] when it is unknown, already accepted,
    /// revoked or expired: a link works once.
    async fn accept_invitation(
        &mut self,
        token: &TokenHash,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    async fn invitation(
        &mut self,
        organization: OrganizationId,
        id: InvitationId,
    ) -> Result<Option<Invitation>, StoreError>;
    /// Invitations of one organization, newest first.
    async fn invitations(
        &mut self,
        organization: OrganizationId,
        page: PageRequest,
    ) -> Result<Page<Invitation>, StoreError>;
    /// The team page's list: memberships with their account, filtered and
    /// searched (`search` matches the email or the name, case-insensitively),
    /// oldest first.
    async fn members(
        &mut self,
        organization: OrganizationId,
        filter: &MemberFilter,
        search: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<MemberSummary>, StoreError>;
    /// Saves what an invitee types when accepting an invitation.
    async fn set_account_details(
        &mut self,
        id: AccountId,
        details: &AccountDetails,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Keeps the names the administrator typed for an invited membership:
    /// the member list shows them (not the account's) until acceptance.
    async fn set_invited_names(
        &mut self,
        organization: OrganizationId,
        membership: MembershipId,
        first_name: &str,
        last_name: &str,
    ) -> Result<(), StoreError>;
    /// The organization setting "new members need an administrator's activation".
    async fn set_requires_activation(
        &mut self,
        organization: OrganizationId,
        requires_activation: bool,
    ) -> Result<(), StoreError>;
    /// Marks up to `limit` pending invitations whose link expired at `now`
    /// as recorded, and returns them: each is returned once, ever.
    async fn record_expired_invitations(
        &mut self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Invitation>, StoreError>;
    /// The membership that owns the organization (`None`: nobody, in an
    /// organization created outside sign-up).
    async fn organization_owner(
        &mut self,
        organization: OrganizationId,
    ) -> Result<Option<MembershipId>, StoreError>;
    /// Makes `membership` (of the same organization) its owner;
    /// [`StoreError::NotFound`] for another organization's membership.
    async fn set_organization_owner(
        &mut self,
        organization: OrganizationId,
        membership: MembershipId,
    ) -> Result<(), StoreError>;
    // Team administration (company details, member information, CSV import)
    /// The organization's company details.
    async fn company_details(
        &mut self,
        organization: OrganizationId,
    ) -> Result<Option<gardien_core::CompanyDetails>, StoreError>;
    async fn set_company_details(
        &mut self,
        organization: OrganizationId,
        details: &gardien_core::CompanyDetails,
    ) -> Result<(), StoreError>;
    /// Keeps an invitation's personal message, to send it again on resend.
    async fn set_invitation_message(
        &mut self,
        organization: OrganizationId,
        invitation: InvitationId,
        message: Option<&str>,
    ) -> Result<(), StoreError>;
    async fn invitation_message(
        &mut self,
        organization: OrganizationId,
        invitation: InvitationId,
    ) -> Result<Option<String>, StoreError>;
    /// A member's information, as administrators edit it.
    async fn member_details(
        &mut self,
        organization: OrganizationId,
        membership: MembershipId,
    ) -> Result<Option<MemberDetails>, StoreError>;
    /// Replaces what the organization recorded about a member.
    async fn set_member_record(
        &mut self,
        organization: OrganizationId,
        membership: MembershipId,
        record: &MemberRecord,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Records that the account entered the organization (the team page's
    /// "last login").
    async fn record_login(
        &mut self,
        organization: OrganizationId,
        account: AccountId,
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

    // Webhooks (see `crate::webhooks`). `append_audit_event` also puts a
    // message in the webhook outbox for each enabled endpoint (of the
    // event's organization or of the deployment) that wants the event.
    /// `secret` (`whsec_…`) is kept to sign deliveries; never read back here.
    async fn insert_webhook_endpoint(
        &mut self,
        endpoint: &crate::WebhookEndpoint,
        secret: &str,
    ) -> Result<(), StoreError>;
    /// The endpoints of `organization` (`None`: the deployment's), oldest first.
    async fn webhook_endpoints(
        &mut self,
        organization: Option<OrganizationId>,
    ) -> Result<Vec<crate::WebhookEndpoint>, StoreError>;
    async fn webhook_endpoint(
        &mut self,
        organization: Option<OrganizationId>,
        id: gardien_core::WebhookEndpointId,
    ) -> Result<Option<crate::WebhookEndpoint>, StoreError>;
    /// Deletes the endpoint with its messages and delivery log;
    /// [`StoreError::NotFound`] when `organization` has no such endpoint.
    async fn delete_webhook_endpoint(
        &mut self,
        organization: Option<OrganizationId>,
        id: gardien_core::WebhookEndpointId,
    ) -> Result<crate::WebhookEndpoint, StoreError>;
    /// The endpoint's delivery log: messages newest first, with their attempts.
    async fn webhook_deliveries(
        &mut self,
        endpoint: gardien_core::WebhookEndpointId,
        page: PageRequest,
    ) -> Result<Page<crate::WebhookLogEntry>, StoreError>;
    /// Makes a message of the endpoint due again at `now` (same id, fresh
    /// schedule); [`StoreError::NotFound`] for another endpoint's message.
    async fn replay_webhook_message(
        &mut self,
        endpoint: gardien_core::WebhookEndpointId,
        message: gardien_core::WebhookMessageId,
        now: OffsetDateTime,
    ) -> Result<crate::WebhookMessage, StoreError>;

    // Privacy policy consents (flow 7)
    /// Records an acceptance; accepting a version again keeps the first time.
    async fn insert_consent(&mut self, consent: &gardien_core::Consent) -> Result<(), StoreError>;
    /// Whether the account accepted `version`.
    async fn has_consent(&mut self, account: AccountId, version: &str) -> Result<bool, StoreError>;
    /// Every acceptance of the account, oldest first.
    async fn consents_of_account(
        &mut self,
        account: AccountId,
    ) -> Result<Vec<gardien_core::Consent>, StoreError>;
    // A person's profile (flow 12)
    async fn account_profile(
        &mut self,
        account: AccountId,
    ) -> Result<Option<gardien_core::Profile>, StoreError>;
    async fn set_account_profile(
        &mut self,
        account: AccountId,
        profile: &gardien_core::Profile,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Revokes every live session of the account except `keep` (after a
    /// password change, the session that made it stays).
    async fn revoke_other_sessions(
        &mut self,
        account: AccountId,
        keep: &TokenHash,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// The account's sessions neither revoked nor past their absolute expiry
    /// at `now`, most recently seen first ("my sessions").
    async fn sessions_of_account(
        &mut self,
        account: AccountId,
        now: OffsetDateTime,
    ) -> Result<Vec<Session>, StoreError>;

    // Personal data (flow 15)
    /// The audit events whose actor is the account, in every organization,
    /// oldest first, at most `limit`.
    async fn audit_events_by_actor(
        &mut self,
        account: AccountId,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError>;
    /// Anonymizes the account: its email becomes `tombstone`, names, phone,
    /// title, notification email and password are cleared, every session is
    /// revoked and every unused emailed link stops working. The row stays,
    /// so audit events keep pointing at it.
    async fn anonymize_account(
        &mut self,
        account: AccountId,
        tombstone: &Email,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    // The authorization index and API keys (see `crate::authz`)
    /// Takes the next version of the deployment's change counter; the row
    /// stays locked until the transaction ends, so versions commit in order.
    async fn next_authz_version(&mut self) -> Result<u64, StoreError>;
    /// Records a change that changes access, with its version.
    async fn record_authz_change(
        &mut self,
        change: &gardien_authz::VersionedChange,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    async fn insert_api_key(
        &mut self,
        key: &crate::ApiKey,
        token: &TokenHash,
    ) -> Result<(), StoreError>;
    /// The organization's keys, revoked ones included, oldest first.
    async fn api_keys(
        &mut self,
        organization: OrganizationId,
    ) -> Result<Vec<crate::ApiKey>, StoreError>;
    /// Fails with [`StoreError::NotFound`] when the key is unknown in the
    /// organization or already revoked.
    async fn revoke_api_key(
        &mut self,
        organization: OrganizationId,
        id: gardien_core::ApiKeyId,
        at: OffsetDateTime,
    ) -> Result<crate::ApiKey, StoreError>;

    // The audit trail and the access review (flow 14, see `crate::audit`)
    /// The ids of every invitation sent for the membership.
    async fn invitations_of_membership(
        &mut self,
        organization: OrganizationId,
        membership: MembershipId,
    ) -> Result<Vec<InvitationId>, StoreError>;
    /// Every membership of the organization but removed ones, with its
    /// overrides and assignments.
    async fn review_members(
        &mut self,
        organization: OrganizationId,
    ) -> Result<Vec<crate::ReviewMember>, StoreError>;
    /// Invitations neither accepted nor revoked, sent before `created_before`.
    async fn stale_invitations(
        &mut self,
        organization: OrganizationId,
        created_before: OffsetDateTime,
    ) -> Result<Vec<Invitation>, StoreError>;
    /// The retention purge: deletes every audit event before `before` (the
    /// only deletion the schema lets through) and counts them per organization.
    async fn purge_audit_events(
        &mut self,
        before: OffsetDateTime,
    ) -> Result<Vec<crate::PurgedCount>, StoreError>;
    /// Keys that may check every organization (`organization_id` NULL),
    /// revoked ones included, oldest first.
    async fn deployment_api_keys(&mut self) -> Result<Vec<crate::ApiKey>, StoreError>;
    /// Fails with [`StoreError::NotFound`] when no live deployment key has that id.
    async fn revoke_deployment_api_key(
        &mut self,
        id: gardien_core::ApiKeyId,
        at: OffsetDateTime,
    ) -> Result<crate::ApiKey, StoreError>;

    // Overrides and assignments (flow 10; see `crate::access`). The caller
    // has checked that the membership belongs to the organization.
    async fn overrides(
        &mut self,
        membership: MembershipId,
    ) -> Result<
        std::collections::BTreeMap<
            gardien_core::PermissionKey,
            gardien_core::evaluator::OverrideEffect,
        >,
        StoreError,
    >;
    /// Sets or replaces an override; returns the effect it replaced.
    async fn set_override(
        &mut self,
        membership: MembershipId,
        permission: &gardien_core::PermissionKey,
        effect: gardien_core::evaluator::OverrideEffect,
    ) -> Result<Option<gardien_core::evaluator::OverrideEffect>, StoreError>;
    /// Removes an override; returns the effect it had (`None`: there was none).
    async fn clear_override(
        &mut self,
        membership: MembershipId,
        permission: &gardien_core::PermissionKey,
    ) -> Result<Option<gardien_core::evaluator::OverrideEffect>, StoreError>;
    /// The membership's assignments, by type then id.
    async fn assignments(
        &mut self,
        organization: OrganizationId,
        membership: MembershipId,
    ) -> Result<Vec<gardien_core::access::Assignment>, StoreError>;
    /// Assigns a resource; `false` (and nothing changed, label included)
    /// when it is already assigned to the membership.
    async fn insert_assignment(
        &mut self,
        assignment: &gardien_core::access::Assignment,
    ) -> Result<bool, StoreError>;
    /// Unassigns a resource; the assignment removed, `None` when it was not assigned.
    async fn delete_assignment(
        &mut self,
        organization: OrganizationId,
        membership: MembershipId,
        resource: &gardien_core::evaluator::ResourceRef,
    ) -> Result<Option<gardien_core::access::Assignment>, StoreError>;

    // OpenID Connect provider (see `oidc.rs`)
    async fn insert_oidc_client(&mut self, client: &crate::OidcClient) -> Result<(), StoreError>;
    async fn oidc_client(
        &mut self,
        id: uuid::Uuid,
    ) -> Result<Option<crate::OidcClient>, StoreError>;
    async fn oidc_clients(&mut self) -> Result<Vec<crate::OidcClient>, StoreError>;
    /// Revokes a live client and its grants; `false` when none is live.
    async fn revoke_oidc_client(
        &mut self,
        id: uuid::Uuid,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Every signing key, newest first.
    async fn oidc_signing_keys(&mut self) -> Result<Vec<crate::SigningKeyRecord>, StoreError>;
    /// Retires the active signing key and makes `key` the active one.
    async fn rotate_oidc_signing_key(
        &mut self,
        key: &crate::SigningKeyRecord,
    ) -> Result<(), StoreError>;
    async fn insert_oidc_grant(&mut self, grant: &crate::OidcGrant) -> Result<(), StoreError>;
    async fn oidc_grant(&mut self, id: uuid::Uuid) -> Result<Option<crate::OidcGrant>, StoreError>;
    /// Revokes a live grant; whether it was live.
    async fn revoke_oidc_grant(
        &mut self,
        id: uuid::Uuid,
        reason: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Revokes the live grants made from a Gardien session; how many.
    async fn revoke_oidc_grants_of_session(
        &mut self,
        session: &TokenHash,
        reason: &str,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError>;
    /// Revokes the live grants of an account; how many.
    async fn revoke_oidc_grants_of_account(
        &mut self,
        account: AccountId,
        reason: &str,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError>;
    async fn insert_oidc_code(
        &mut self,
        hash: &TokenHash,
        code: &crate::OidcCode,
    ) -> Result<(), StoreError>;
    /// Marks a code used at `at`: its record, and whether this was its first use.
    async fn use_oidc_code(
        &mut self,
        hash: &TokenHash,
        at: OffsetDateTime,
    ) -> Result<Option<crate::Used<crate::OidcCode>>, StoreError>;
    async fn insert_oidc_refresh_token(
        &mut self,
        hash: &TokenHash,
        token: &crate::RefreshTokenRecord,
    ) -> Result<(), StoreError>;
    /// A refresh token's record; with `use_at`, also marks it used then
    /// (`first_use` tells whether this call did).
    async fn oidc_refresh_token(
        &mut self,
        hash: &TokenHash,
        use_at: Option<OffsetDateTime>,
    ) -> Result<Option<crate::Used<crate::RefreshTokenRecord>>, StoreError>;
}
