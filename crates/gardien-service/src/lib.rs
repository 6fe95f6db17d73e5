//! Gardien's use cases. Each public method of [`Services`] is the whole write
//! path of one change: validate (with `gardien-core`'s types) → authorize →
//! persist → audit event → outbox mail, all in ONE store transaction that is
//! committed once. The web layer stays thin: it extracts, calls one method
//! here and renders the result.

mod access;
mod api_keys;
mod audit_trail;
mod authz;
mod checks;
mod company;
mod consent;
mod email_change;
mod error;
mod import;
mod invitations;
mod member_admin;
mod my_sessions;
mod oidc;
mod oidc_clients;
mod ownership;
mod password;
mod password_reset;
mod personal_data;
mod profile;
mod roles;
mod session;
mod signup;
mod team;
mod webhooks;

use std::sync::Arc;

use gardien_core::audit::{Actor, AuditEvent, RequestContext};
use gardien_core::{AuditEventId, OrganizationId, Token};
use gardien_mail::WakeHandle;
use gardien_store::Store;
use rand::rngs::OsRng;
use rand::RngCore;
use time::OffsetDateTime;

pub use access::{
    AssignmentChanges, AssignmentItem, AssignmentOutcome, ExplainedPermissions, MemberAccess,
    MAX_ASSIGNMENT_CHANGES,
};
pub use api_keys::{CreatedApiKey, API_KEY_PREFIX};
pub use audit_trail::{
    review_days, AccessReview, AuditFilterInput, AuditQuery, AuditView, ReviewedMember,
    TargetLabel, AUDIT_PAGE_DEFAULT, AUDIT_READ, REVIEW_DEFAULT_DAYS,
};
pub use authz::{spawn_authz_listener, AuthzListenerHandle, DEFAULT_AUTHZ_POLL};
pub use checks::{CheckQuery, KeyScope};
pub use company::{CompanyPatch, COMPANY_EDIT};
pub use error::ServiceError;
pub use import::{
    import_file_lines, ImportFileError, ImportIssue, ImportReport, ImportRow, IMPORT_MAX_BYTES,
    IMPORT_MAX_ROWS,
};
pub use invitations::{
    AcceptForm, Accepted, Audience, InvitationView, InviteAssignment, InviteForm,
    INVITATION_LIFETIME_DAYS, MAX_INVITE_ASSIGNMENTS,
};
pub use member_admin::{MemberInfo, MemberInfoPatch};
pub use my_sessions::MySession;
pub use oidc::{
    AuthorizeStep, ClientCredentials, ConsentView, LogoutParams, LogoutStep, OidcFailure,
    TokenRequest, TokenResponse, REFRESH_TOKEN_PREFIX,
};
pub use oidc_clients::{CreatedOidcClient, NewOidcClient, Operator, CLIENT_SECRET_PREFIX};
pub use ownership::{HandOver, HandedOver};
pub use password::PasswordHasher;
pub use personal_data::EXPORT_AUDIT_EVENTS_MAX;
pub use profile::ProfilePatch;
pub use roles::{DeletedRole, RoleInput, RolePatch, RoleView, ROLES_MANAGE};
pub use session::{CurrentSession, LoggedIn, OrganizationChoice};
pub use signup::{SignUpForm, SignedUp};
pub use team::{
    member_filter, Acting, MemberList, MemberQuery, TEAM_INVITE, TEAM_MANAGE, TEAM_READ,
};
pub use webhooks::{CreatedWebhook, WebhookInput};

/// The use cases, over one store. Cheap to share behind an `Arc`.
pub struct Services {
    store: Arc<dyn Store>,
    passwords: PasswordHasher,
    /// The address people reach Gardien at, for emailed links.
    public_url: String,
    mail_wake: Option<WakeHandle>,
    /// The privacy policy people must accept (flow 7).
    privacy_policy: gardien_core::PrivacyPolicy,
    /// The authorization index and its writer side (see `authz.rs`).
    authz: authz::AuthzState,
    /// How long new sessions live.
    session_policy: gardien_core::SessionPolicy,
    /// The deployment's permissions (see `roles.rs`).
    catalog: Arc<gardien_core::permission::PermissionCatalog>,
    /// Resource types whose assignment emails no one (see `access.rs`).
    silent_assignment_types: std::collections::BTreeSet<String>,
    /// How many days an emailed invitation link works.
    invitation_lifetime_days: u32,
    /// The deployment secret the OpenID Connect signing keys derive from.
    oidc_secret: [u8; 32],
}

impl Services {
    pub fn new(store: Arc<dyn Store>, public_url: impl Into<String>) -> Self {
        Self {
            store,
            passwords: PasswordHasher::new(),
            public_url: public_url.into().trim_end_matches('/').to_owned(),
            mail_wake: None,
            privacy_policy: gardien_core::PrivacyPolicy::default(),
            authz: authz::AuthzState::default(),
            session_policy: gardien_core::SessionPolicy::default(),
            catalog: Arc::new(gardien_core::permission::PermissionCatalog::built_in().clone()),
            silent_assignment_types: Default::default(),
            invitation_lifetime_days: INVITATION_LIFETIME_DAYS,
            oidc_secret: {
                // Until the deployment's secret is given: this process's own.
                let mut bytes = [0u8; 32];
                OsRng.fill_bytes(&mut bytes);
                bytes
            },
        }
    }

    /// The deployment's secret key, from which the OpenID Connect signing
    /// keys derive: every instance of a deployment must have the same one.
    pub fn with_signing_secret(mut self, secret: [u8; 32]) -> Self {
        self.oidc_secret = secret;
        self
    }

    /// How many days an emailed invitation link works (default
    /// [`INVITATION_LIFETIME_DAYS`]); resending gives a new link for as long.
    /// How many days an invitation link works.
    pub fn invitation_lifetime_days(&self) -> u32 {
        self.invitation_lifetime_days
    }

    pub fn with_invitation_lifetime_days(mut self, days: u32) -> Self {
        self.invitation_lifetime_days = days;
        self
    }

    /// How long new sessions live (default: 12 h at most, 2 h idle).
    pub fn with_session_policy(mut self, policy: gardien_core::SessionPolicy) -> Self {
        self.session_policy = policy;
        self
    }

    /// Lets the mail worker deliver at once what a committed change enqueued.
    pub fn with_mail_wake(mut self, wake: WakeHandle) -> Self {
        self.mail_wake = Some(wake);
        self
    }

    /// The privacy policy people must accept (default: version
    /// [`gardien_core::PrivacyPolicy::DEFAULT_VERSION`]).
    pub fn with_privacy_policy(mut self, policy: gardien_core::PrivacyPolicy) -> Self {
        self.privacy_policy = policy;
        self
    }

    /// Resource types whose assignment never sends an email.
    pub fn with_silent_assignment_types(mut self, types: impl IntoIterator<Item = String>) -> Self {
        self.silent_assignment_types = types.into_iter().collect();
        self
    }

    /// The deployment's permission catalog (default: the built-in one).
    pub fn with_permission_catalog(
        mut self,
        catalog: Arc<gardien_core::permission::PermissionCatalog>,
    ) -> Self {
        self.catalog = catalog;
        self
    }

    pub fn privacy_policy(&self) -> &gardien_core::PrivacyPolicy {
        &self.privacy_policy
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    fn link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }

    /// Called after a commit that enqueued mail.
    fn mail_committed(&self) {
        if let Some(wake) = &self.mail_wake {
            wake.wake();
        }
    }
}

/// Where a notice for `account` goes: its notification email when set
/// (seed 001: « où les messages sont envoyés »), else its login email.
/// Mails that prove or protect the login address (verification, password
/// reset, login email change) always go to the login address itself.
async fn notification_address(
    tx: &mut dyn gardien_store::Transaction,
    account: &gardien_core::Account,
) -> Result<gardien_core::Email, ServiceError> {
    Ok(tx
        .account_profile(account.id)
        .await?
        .and_then(|profile| profile.notification_email)
        .unwrap_or_else(|| account.email.clone()))
}

/// A new secret token from the operating system's random source.
fn new_token() -> Token {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    Token::from_random_bytes(bytes)
}

/// An audit event of `action`, stamped with where the request came from.
fn audit(
    context: &RequestContext,
    at: OffsetDateTime,
    organization_id: Option<OrganizationId>,
    actor: Actor,
    action: &str,
    target: Option<String>,
) -> AuditEvent {
    AuditEvent {
        id: AuditEventId::new(),
        occurred_at: at,
        organization_id,
        actor,
        action: action.to_owned(),
        target,
        before: None,
        after: None,
        ip: context.ip.clone(),
        user_agent: context.user_agent.clone(),
        request_id: context.request_id.clone(),
    }
}
