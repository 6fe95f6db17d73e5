//! Invitations (flows 2, 3 and 4): invite, list, resend, revoke, and the
//! invitee's side — open the link, accept.
//!
//! Inviting an address that has an account elsewhere answers exactly as
//! for a new address (seed 000): the account is attached, never reported.
//! An account created by an invitation has no password until its owner
//! accepts; an existing account accepts while logged in as itself.

use gardien_core::access::{self, Assignment};
use gardien_core::audit::{Actor, RequestContext};
use gardien_core::evaluator::ResourceRef;
use gardien_core::invitation::{Invitation, InvitationState};
use gardien_core::{
    text, Account, AccountId, Email, InvitationId, Kind, Language, Membership, MembershipId,
    MembershipStatus, Organization, OrganizationId, Password, RoleId, Session, StatusChange, Token,
    ValidationError,
};
use gardien_mail::{new_mail, MailTemplate};
use gardien_store::{AccountDetails, NewAccount, Page, PageRequest, StoreError, Transaction};
use serde_json::json;
use time::OffsetDateTime;

use crate::roles::{RoleInput, ROLES_MANAGE};
use crate::team::{TEAM_INVITE, TEAM_MANAGE};
use crate::{audit, new_token, CurrentSession, ServiceError, Services};

/// How many days an invitation link works unless `--invitation-days` says
/// otherwise.
pub const INVITATION_LIFETIME_DAYS: u32 = 7;
const NAME_MAX: usize = 100;
const PHONE_MAX: usize = 40;
const TITLE_MAX: usize = 100;
const MESSAGE_MAX: usize = 2000;

/// An invitation as typed in the team page's form or sent to the API.
#[derive(Debug, Clone, Default)]
pub struct InviteForm {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    /// `staff` or `client`.
    pub kind: String,
    /// The id of one of the organization's roles.
    pub role_id: String,
    pub personal_message: String,
    /// The invitee's language, `en` or `fr`; empty: the inviter's.
    pub language: String,
    /// Instead of `role_id`: a custom role created on the spot, in the same
    /// transaction (needs `roles.manage`).
    pub new_role: Option<RoleInput>,
    /// Resources of the host given with the invitation (needs
    /// `team.manage`); the email lists them.
    pub assignments: Vec<InviteAssignment>,
}

/// A resource to assign with an invitation, as received.
#[derive(Debug, Clone, Default)]
pub struct InviteAssignment {
    pub resource_type: String,
    pub resource_id: String,
    pub label: Option<String>,
}

/// The most resources one invitation may carry.
pub const MAX_INVITE_ASSIGNMENTS: usize = 100;

pub(crate) struct ValidInvite {
    pub(crate) email: Email,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) phone: Option<String>,
    pub(crate) kind: Kind,
    pub(crate) role_id: Option<RoleId>,
    pub(crate) personal_message: Option<String>,
    pub(crate) language: Language,
    /// Checked resources, with their labels.
    pub(crate) assignments: Vec<(ResourceRef, String)>,
}

impl InviteForm {
    /// Checks every field; refusals name their field (`assignments[2].id`,
    /// `new_role.name` is checked when the role is created).
    pub(crate) fn validate(&self, default_language: Language) -> Result<ValidInvite, ServiceError> {
        let mut errors: Vec<(String, ValidationError)> = Vec::new();
        let mut refuse = |field: &str, e: ValidationError| errors.push((field.to_owned(), e));
        let email = Email::parse(&self.email)
            .map_err(|e| refuse("email", e))
            .ok();
        let first_name = text::bounded(&self.first_name, "first_name", NAME_MAX)
            .map_err(|e| refuse("first_name", e))
            .ok();
        let last_name = text::bounded(&self.last_name, "last_name", NAME_MAX)
            .map_err(|e| refuse("last_name", e))
            .ok();
        let phone = text::optional(&self.phone, "phone", PHONE_MAX)
            .map_err(|e| refuse("phone", e))
            .ok()
            .flatten();
        let kind = self
            .kind
            .trim()
            .parse::<Kind>()
            .map_err(|e| refuse("kind", e))
            .ok();
        let role_id = self.role_id.trim().parse::<RoleId>().ok();
        match (&self.new_role, role_id) {
            (None, None) => refuse(
                "role_id",
                ValidationError::UnknownValue(
                    self.role_id.chars().take(80).collect(),
                    "role of this organization",
                ),
            ),
            (Some(_), _) if !self.role_id.trim().is_empty() => refuse(
                "role_id",
                ValidationError::UnknownValue(
                    self.role_id.chars().take(80).collect(),
                    "choice of role: give an existing role or a new one, not both",
                ),
            ),
            _ => {}
        }
        let personal_message =
            optional_message(&self.personal_message, "personal_message", MESSAGE_MAX)
                .map_err(|e| refuse("personal_message", e))
                .ok()
                .flatten();
        let language = if self.language.trim().is_empty() {
            Some(default_language)
        } else {
            self.language
                .trim()
                .parse::<Language>()
                .map_err(|e| refuse("language", e))
                .ok()
        };
        let assignments = valid_assignments(&self.assignments, &mut errors)?;
        match (email, first_name, last_name, kind, language) {
            (Some(email), Some(first_name), Some(last_name), Some(kind), Some(language))
                if errors.is_empty() =>
            {
                Ok(ValidInvite {
                    email,
                    first_name,
                    last_name,
                    phone,
                    kind,
                    role_id,
                    personal_message,
                    language,
                    assignments,
                })
            }
            _ => Err(ServiceError::InvalidItems(errors)),
        }
    }
}

/// The invitation's resources, checked; a resource given twice counts once.
fn valid_assignments(
    items: &[InviteAssignment],
    errors: &mut Vec<(String, ValidationError)>,
) -> Result<Vec<(ResourceRef, String)>, ServiceError> {
    if items.len() > MAX_INVITE_ASSIGNMENTS {
        return Err(ServiceError::TooManyItems {
            max: MAX_INVITE_ASSIGNMENTS,
        });
    }
    let mut valid: Vec<(ResourceRef, String)> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let field = |name: &str| format!("assignments[{index}].{name}");
        let resource_type = access::resource_type(&item.resource_type, "type")
            .map_err(|e| errors.push((field("type"), e)))
            .ok();
        let resource_id = access::resource_id(&item.resource_id, "id")
            .map_err(|e| errors.push((field("id"), e)))
            .ok();
        let (Some(resource_type), Some(resource_id)) = (resource_type, resource_id) else {
            continue;
        };
        let resource = ResourceRef {
            resource_type,
            resource_id,
        };
        match access::label(item.label.as_deref(), &resource) {
            Ok(label) => {
                if !valid.iter().any(|(r, _)| *r == resource) {
                    valid.push((resource, label));
                }
            }
            Err(e) => errors.push((field("label"), e)),
        }
    }
    Ok(valid)
}

/// What the invitee types on the invitation page. Only the checkbox is
/// read for an existing account: its details are its own.
#[derive(Debug, Clone, Default)]
pub struct AcceptForm {
    pub first_name: String,
    pub last_name: String,
    pub title: String,
    pub phone: String,
    pub password: String,
    pub accept_privacy: bool,
}

/// Who opens an invitation link, as far as the page must know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The address had no account: the page asks for details and a password.
    NewAccount,
    /// An existing account, logged in as itself: one click accepts.
    SignedInAsInvitee,
    /// An existing account, but the session is another account's.
    SignedInAsOther,
    /// An existing account, no session: log in first.
    SignedOut,
}

/// An invitation link, opened.
#[derive(Debug, Clone)]
pub struct InvitationView {
    pub organization: Organization,
    pub email: Email,
    pub first_name: String,
    pub last_name: String,
    pub audience: Audience,
}

/// An accepted invitation.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub organization: Organization,
    pub kind: Kind,
    /// `active`, or `pending_activation` where an administrator activates.
    pub status: MembershipStatus,
    /// For a new account: its first session (bound to the organization
    /// when the membership is active) — goes in the cookie.
    pub session_token: Option<Token>,
}

/// How many expired invitations one transaction of the sweep records.
const EXPIRY_SWEEP_BATCH: u32 = 500;

impl Services {
    /// The expiry sweep: records each pending invitation whose link has
    /// expired as an `invitation.expired` audit event (actor `system`),
    /// once ever, in batches. Returns how many it recorded.
    pub async fn record_expired_invitations(&self) -> Result<usize, ServiceError> {
        let mut total = 0;
        loop {
            let now = OffsetDateTime::now_utc();
            let mut tx = self.store.begin().await?;
            let expired = tx
                .record_expired_invitations(now, EXPIRY_SWEEP_BATCH)
                .await?;
            for invitation in &expired {
                let mut event = audit(
                    &RequestContext::default(),
                    now,
                    Some(invitation.organization_id),
                    Actor::System,
                    "invitation.expired",
                    Some(format!("invitation:{}", invitation.id)),
                );
                event.before = Some(json!({ "state": InvitationState::Pending }));
                event.after = Some(json!({
                    "state": InvitationState::Expired,
                    "email": invitation.email.as_str(),
                    "membership": invitation.membership_id,
                    "expired_at": invitation.expires_at.unix_timestamp(),
                }));
                tx.append_audit_event(&event).await?;
            }
            tx.commit().await?;
            total += expired.len();
            if expired.len() < EXPIRY_SWEEP_BATCH as usize {
                return Ok(total);
            }
        }
    }

    /// Invites a person (needs `team.invite` or `team.manage`); see the
    /// module documentation.
    pub async fn invite(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        form: &InviteForm,
        context: &RequestContext,
    ) -> Result<Invitation, ServiceError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[TEAM_INVITE, TEAM_MANAGE])
            .await?;
        Self::ensure_email_verified(current)?;
        let valid = form.validate(current.account.language)?;
        if !valid.assignments.is_empty() {
            self.authorize(&mut *tx, current, organization, &[TEAM_MANAGE])
                .await?;
        }
        let mut changes = Vec::new();
        let role = match (&form.new_role, valid.role_id) {
            (Some(input), _) => {
                self.authorize(&mut *tx, current, organization, &[ROLES_MANAGE])
                    .await?;
                let (role, change) = self
                    .create_role_in(&mut *tx, current, organization, input, context, now)
                    .await
                    .map_err(new_role_fields)?;
                changes.push(change);
                Some(role)
            }
            (None, Some(id)) => tx.role(organization, id).await?,
            (None, None) => None,
        }
        .ok_or_else(|| {
            ServiceError::Invalid(vec![(
                "role_id",
                ValidationError::UnknownValue(form.role_id.clone(), "role of this organization"),
            )])
        })?;
        let org = tx
            .organization(organization)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let (invitation, invited) = self
            .invite_in(&mut *tx, current, &org, &valid, &role, context, now, None)
            .await?;
        changes.extend(invited);
        self.commit_with_changes(tx, changes).await?;
        self.mail_committed();
        Ok(invitation)
    }

    /// The writes of one invitation, in the caller's transaction: the
    /// account (created without a password when the address has none), the
    /// `invited` membership, the link, its audit event and its email. The
    /// caller commits with the returned change.
    // One argument per fact the invitation needs; a struct would only rename them.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn invite_in(
        &self,
        tx: &mut dyn Transaction,
        current: &CurrentSession,
        org: &Organization,
        valid: &ValidInvite,
        role: &gardien_core::Role,
        context: &RequestContext,
        now: OffsetDateTime,
        imported_from_line: Option<u64>,
    ) -> Result<(Invitation, Vec<gardien_authz::Change>), ServiceError> {
        let organization = org.id;
        let account = match tx.account_by_email(&valid.email).await? {
            Some(existing) => existing,
            None => {
                let account = Account {
                    id: AccountId::new(),
                    email: valid.email.clone(),
                    first_name: valid.first_name.clone(),
                    last_name: valid.last_name.clone(),
                    language: valid.language,
                    email_verified_at: None,
                    created_at: now,
                };
                tx.insert_account(&NewAccount {
                    account: account.clone(),
                    password_hash: None,
                })
                .await?;
                if valid.phone.is_some() {
                    tx.set_account_details(
                        account.id,
                        &AccountDetails {
                            first_name: account.first_name.clone(),
                            last_name: account.last_name.clone(),
                            title: None,
                            phone: valid.phone.clone(),
                        },
                        now,
                    )
                    .await?;
                }
                account
            }
        };
        if tx.membership_of(organization, account.id).await?.is_some() {
            return Err(ServiceError::AlreadyInOrganization);
        }
        let membership = Membership {
            id: MembershipId::new(),
            organization_id: organization,
            account_id: account.id,
            kind: valid.kind,
            role_id: role.id,
            status: MembershipStatus::Invited,
            created_at: now,
            updated_at: now,
        };
        match tx.insert_membership(&membership).await {
            Err(StoreError::Conflict { .. }) => return Err(ServiceError::AlreadyInOrganization),
            other => other?,
        }
        tx.set_invited_names(
            organization,
            membership.id,
            &valid.first_name,
            &valid.last_name,
        )
        .await?;
        let (invitation, token) = new_invitation(
            organization,
            membership.id,
            &valid.email,
            valid.language,
            current,
            now,
            self.invitation_lifetime_days,
        );
        tx.insert_invitation(&invitation, &token.hash()).await?;
        if let Some(message) = &valid.personal_message {
            tx.set_invitation_message(organization, invitation.id, Some(message))
                .await?;
        }
        let mut event = audit(
            context,
            now,
            Some(organization),
            Actor::Account(current.account.id),
            "invitation.created",
            Some(format!("invitation:{}", invitation.id)),
        );
        let mut after = json!({
            "email": valid.email.as_str(),
            "membership": {
                "id": membership.id,
                "kind": membership.kind.as_str(),
                "role": { "id": role.id, "name": role.name },
                "status": membership.status.as_str(),
            },
            "language": valid.language.code(),
            "expires_at": invitation.expires_at.unix_timestamp(),
        });
        if let (Some(line), Some(after)) = (imported_from_line, after.as_object_mut()) {
            after.insert("imported_from_line".into(), json!(line));
        }
        event.after = Some(after);
        tx.append_audit_event(&event).await?;
        let mut changes = vec![gardien_authz::Change::MembershipUpserted {
            organization_id: organization,
            membership_id: membership.id,
            account_id: account.id,
            kind: membership.kind,
            status: membership.status,
            role_id: membership.role_id,
        }];
        let mut resources = Vec::new();
        for (resource, label) in &valid.assignments {
            let assignment = Assignment {
                organization_id: organization,
                membership_id: membership.id,
                resource: resource.clone(),
                label: label.clone(),
                created_at: now,
            };
            if let Some(change) = self
                .insert_assignment_in(tx, current, &assignment, context, now)
                .await?
            {
                changes.push(change);
            }
            resources.push(label.clone());
        }
        let mail = new_mail(
            valid.email.clone(),
            &MailTemplate::Invitation {
                organization: org.name.clone(),
                inviter_name: display_name(&current.account),
                link: self.invitation_link(&token),
                personal_message: valid.personal_message.clone(),
                expires_in_days: self.invitation_lifetime_days,
                resources,
            },
            valid.language,
        );
        tx.enqueue_mail(&mail, now).await?;
        Ok((invitation, changes))
    }

    /// The organization's invitations, newest first (needs `team.invite` or
    /// `team.manage`).
    pub async fn invitations(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        page: PageRequest,
    ) -> Result<Page<Invitation>, ServiceError> {
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[TEAM_INVITE, TEAM_MANAGE])
            .await?;
        Ok(tx.invitations(organization, page).await?)
    }

    /// Sends a new link for a not-yet-accepted invitation; the old link
    /// dies at once.
    pub async fn resend_invitation(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        id: InvitationId,
        context: &RequestContext,
    ) -> Result<Invitation, ServiceError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[TEAM_INVITE, TEAM_MANAGE])
            .await?;
        Self::ensure_email_verified(current)?;
        let old = tx
            .invitation(organization, id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let membership = tx
            .membership(organization, old.membership_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if old.state(now) == InvitationState::Accepted
            || membership.status != MembershipStatus::Invited
        {
            return Err(ServiceError::Lifecycle(
                gardien_core::membership::LifecycleError::IllegalMove {
                    from: membership.status,
                    change: StatusChange::Accept {
                        requires_activation: false,
                    },
                },
            ));
        }
        if old.revoked_at.is_none() {
            tx.revoke_invitation(organization, old.id, now).await?;
        }
        let org = tx
            .organization(organization)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let (invitation, token) = new_invitation(
            organization,
            old.membership_id,
            &old.email,
            old.language,
            current,
            now,
            self.invitation_lifetime_days,
        );
        tx.insert_invitation(&invitation, &token.hash()).await?;
        // The personal message goes with every link of the invitation.
        let personal_message = tx.invitation_message(organization, old.id).await?;
        if let Some(message) = &personal_message {
            tx.set_invitation_message(organization, invitation.id, Some(message))
                .await?;
        }
        let mut event = audit(
            context,
            now,
            Some(organization),
            Actor::Account(current.account.id),
            "invitation.resent",
            Some(format!("invitation:{}", invitation.id)),
        );
        event.before = Some(json!({ "invitation": old.id }));
        event.after = Some(json!({ "invitation": invitation.id, "email": old.email.as_str() }));
        tx.append_audit_event(&event).await?;
        let mail = new_mail(
            old.email.clone(),
            &MailTemplate::Invitation {
                organization: org.name,
                inviter_name: display_name(&current.account),
                link: self.invitation_link(&token),
                personal_message,
                expires_in_days: self.invitation_lifetime_days,
                resources: tx
                    .assignments(organization, old.membership_id)
                    .await?
                    .into_iter()
                    .map(|a| a.label)
                    .collect(),
            },
            old.language,
        );
        tx.enqueue_mail(&mail, now).await?;
        tx.commit().await?;
        self.mail_committed();
        Ok(invitation)
    }

    /// Revokes a not-yet-accepted invitation: its link stops working. The
    /// membership stays `invited`, so a new link can be sent later.
    pub async fn revoke_invitation(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        id: InvitationId,
        context: &RequestContext,
    ) -> Result<(), ServiceError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[TEAM_INVITE, TEAM_MANAGE])
            .await?;
        let invitation = tx
            .invitation(organization, id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if invitation.accepted_at.is_some() {
            return Err(ServiceError::LinkUnusable);
        }
        tx.revoke_invitation(organization, id, now).await?;
        let mut event = audit(
            context,
            now,
            Some(organization),
            Actor::Account(current.account.id),
            "invitation.revoked",
            Some(format!("invitation:{id}")),
        );
        event.before = Some(json!({ "state": invitation.state(now) }));
        event.after = Some(json!({ "state": InvitationState::Revoked }));
        tx.append_audit_event(&event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Opens an invitation link: what the page shows and asks. Unknown,
    /// used, revoked and expired links are [`ServiceError::LinkUnusable`].
    pub async fn open_invitation(
        &self,
        token: &str,
        current: Option<&CurrentSession>,
    ) -> Result<InvitationView, ServiceError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let (invitation, _, account, organization) =
            usable_invitation(&mut *tx, token, now).await?;
        let audience = audience(&mut *tx, &account, current).await?;
        Ok(InvitationView {
            organization,
            email: invitation.email,
            first_name: account.first_name,
            last_name: account.last_name,
            audience,
        })
    }

    /// Accepts an invitation: a new account sets its details and password
    /// and gets a session; an existing account must be the session's. The
    /// membership becomes `active`, or `pending_activation` where the
    /// organization requires an administrator's activation.
    pub async fn accept_invitation(
        &self,
        token: &str,
        form: &AcceptForm,
        current: Option<&CurrentSession>,
        context: &RequestContext,
    ) -> Result<Accepted, ServiceError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let (invitation, membership, account, organization) =
            usable_invitation(&mut *tx, token, now).await?;
        let audience = audience(&mut *tx, &account, current).await?;
        drop(tx);
        let new_account = match audience {
            Audience::NewAccount => Some(validate_acceptance(form, &account.email)?),
            Audience::SignedInAsInvitee => {
                if !form.accept_privacy {
                    return Err(ServiceError::Invalid(vec![(
                        "accept_privacy",
                        ValidationError::Empty {
                            field: "accept_privacy",
                        },
                    )]));
                }
                None
            }
            Audience::SignedInAsOther => return Err(ServiceError::WrongAccount),
            Audience::SignedOut => return Err(ServiceError::LoginRequired),
        };
        let password_hash = match &new_account {
            Some((_, password)) => Some(self.passwords.hash(password).await?),
            None => None,
        };
        let mut tx = self.store.begin().await?;
        let hash = Token::parse(token)
            .map_err(|_| ServiceError::LinkUnusable)?
            .hash();
        match tx.accept_invitation(&hash, now).await {
            Err(StoreError::NotFound(_)) => return Err(ServiceError::LinkUnusable),
            other => other?,
        }
        let status = membership
            .status
            .apply(StatusChange::Accept {
                requires_activation: organization.requires_activation,
            })
            .map_err(|_| ServiceError::LinkUnusable)?;
        tx.set_membership_status(organization.id, membership.id, status, now)
            .await?;
        if let (Some((details, _)), Some(password_hash)) = (&new_account, &password_hash) {
            tx.set_account_details(account.id, details, now).await?;
            tx.set_password_hash(account.id, password_hash, now).await?;
        }
        // The link arrived in that mailbox: the address is proven.
        tx.mark_email_verified(account.id, now).await?;
        // The checkbox is the privacy policy's acceptance (flow 7): recorded
        // with the current version, so the first login does not ask again.
        let policy_version = self.privacy_policy.version.clone();
        if let Some(version) = &policy_version {
            if !tx.has_consent(account.id, version).await? {
                tx.insert_consent(&gardien_core::Consent {
                    account_id: account.id,
                    policy_version: version.clone(),
                    accepted_at: now,
                    ip: context.ip.clone(),
                    user_agent: context.user_agent.clone(),
                })
                .await?;
            }
        }
        let mut event = audit(
            context,
            now,
            Some(organization.id),
            Actor::Account(account.id),
            "invitation.accepted",
            Some(format!("invitation:{}", invitation.id)),
        );
        event.before = Some(json!({ "membership": { "status": membership.status.as_str() } }));
        event.after = Some(json!({
            "membership": { "id": membership.id, "status": status.as_str() },
            "new_account": new_account.is_some(),
            "privacy_policy_accepted": true,
            "privacy_policy_version": policy_version,
        }));
        tx.append_audit_event(&event).await?;
        let active = status == MembershipStatus::Active;
        let session_token = if new_account.is_some() {
            let token = new_token();
            let mut session =
                Session::with_policy(token.hash(), account.id, now, self.session_policy);
            session.ip = context.ip.clone();
            session.user_agent = context.user_agent.clone();
            if active {
                session.organization = Some((organization.id, membership.kind));
            }
            tx.insert_session(&session).await?;
            Some(token)
        } else {
            if let (Some(current), true) = (current, active) {
                tx.bind_session(&current.session.id, organization.id, membership.kind)
                    .await?;
            }
            None
        };
        if active {
            tx.record_login(organization.id, account.id, now).await?;
        }
        let change = gardien_authz::Change::MembershipStatusChanged {
            organization_id: organization.id,
            membership_id: membership.id,
            status,
        };
        self.commit_with_changes(tx, vec![change]).await?;
        Ok(Accepted {
            organization,
            kind: membership.kind,
            status,
            session_token,
        })
    }

    fn invitation_link(&self, token: &Token) -> String {
        self.link(&format!("/invitations/{}", token.expose()))
    }
}

fn new_invitation(
    organization: OrganizationId,
    membership: MembershipId,
    email: &Email,
    language: Language,
    current: &CurrentSession,
    now: OffsetDateTime,
    lifetime_days: u32,
) -> (Invitation, Token) {
    let token = new_token();
    let invitation = Invitation {
        id: InvitationId::new(),
        organization_id: organization,
        membership_id: membership,
        email: email.clone(),
        language,
        invited_by: Some(current.account.id),
        created_at: now,
        expires_at: now + time::Duration::days(i64::from(lifetime_days)),
        accepted_at: None,
        revoked_at: None,
    };
    (invitation, token)
}

/// An optional free text that may span lines (a personal message).
fn optional_message(
    input: &str,
    field: &'static str,
    max: usize,
) -> Result<Option<String>, ValidationError> {
    let value = input.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if value.chars().count() > max {
        return Err(ValidationError::TooLong { field, max });
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ValidationError::ControlCharacters { field });
    }
    Ok(Some(value.to_owned()))
}

pub(crate) fn display_name(account: &Account) -> String {
    format!("{} {}", account.first_name, account.last_name)
        .trim()
        .to_owned()
}

/// The pending invitation of `token`, with its membership, account and
/// organization; anything else is [`ServiceError::LinkUnusable`].
async fn usable_invitation(
    tx: &mut dyn Transaction,
    token: &str,
    now: OffsetDateTime,
) -> Result<(Invitation, Membership, Account, Organization), ServiceError> {
    let token = Token::parse(token).map_err(|_| ServiceError::LinkUnusable)?;
    let invitation = tx
        .invitation_by_token(&token.hash())
        .await?
        .filter(|i| i.state(now) == InvitationState::Pending)
        .ok_or(ServiceError::LinkUnusable)?;
    let membership = tx
        .membership(invitation.organization_id, invitation.membership_id)
        .await?
        .filter(|m| m.status == MembershipStatus::Invited)
        .ok_or(ServiceError::LinkUnusable)?;
    let account = tx
        .account(membership.account_id)
        .await?
        .ok_or(ServiceError::LinkUnusable)?;
    let organization = tx
        .organization(invitation.organization_id)
        .await?
        .ok_or(ServiceError::LinkUnusable)?;
    Ok((invitation, membership, account, organization))
}

async fn audience(
    tx: &mut dyn Transaction,
    account: &Account,
    current: Option<&CurrentSession>,
) -> Result<Audience, ServiceError> {
    if tx.password_hash(account.id).await?.is_none() {
        return Ok(Audience::NewAccount);
    }
    Ok(match current {
        Some(current) if current.account.id == account.id => Audience::SignedInAsInvitee,
        Some(_) => Audience::SignedInAsOther,
        None => Audience::SignedOut,
    })
}

fn validate_acceptance(
    form: &AcceptForm,
    email: &Email,
) -> Result<(AccountDetails, Password), ServiceError> {
    let mut errors: Vec<(&'static str, ValidationError)> = Vec::new();
    let first_name = text::bounded(&form.first_name, "first_name", NAME_MAX)
        .map_err(|e| errors.push(("first_name", e)))
        .ok();
    let last_name = text::bounded(&form.last_name, "last_name", NAME_MAX)
        .map_err(|e| errors.push(("last_name", e)))
        .ok();
    let title = text::optional(&form.title, "title", TITLE_MAX)
        .map_err(|e| errors.push(("title", e)))
        .ok()
        .flatten();
    let phone = text::optional(&form.phone, "phone", PHONE_MAX)
        .map_err(|e| errors.push(("phone", e)))
        .ok()
        .flatten();
    let password = Password::parse(&form.password, email)
        .map_err(|e| errors.push(("password", e)))
        .ok();
    if !form.accept_privacy {
        errors.push((
            "accept_privacy",
            ValidationError::Empty {
                field: "accept_privacy",
            },
        ));
    }
    match (first_name, last_name, password) {
        (Some(first_name), Some(last_name), Some(password)) if errors.is_empty() => Ok((
            AccountDetails {
                first_name,
                last_name,
                title,
                phone,
            },
            password,
        )),
        _ => Err(ServiceError::Invalid(errors)),
    }
}

/// The refusals of a role created from the invitation form name the
/// form's fields (`new_role.name`).
fn new_role_fields(error: ServiceError) -> ServiceError {
    match error {
        ServiceError::Invalid(errors) => ServiceError::InvalidItems(
            errors
                .into_iter()
                .map(|(field, e)| (format!("new_role.{field}"), e))
                .collect(),
        ),
        other => other,
    }
}
