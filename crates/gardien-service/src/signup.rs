//! Sign-up (flow 1) and email verification.
//!
//! A sign-up creates the account, its organization (with a copy of every
//! built-in role template) and an active `staff` membership with the
//! `manager` role, and emails a verification link. When the address already
//! has an account the answer is the same, takes as long (the password is
//! still hashed), and the owner of the address is emailed instead: the form
//! must not tell a stranger who has an account.

use gardien_authz::Change;
use gardien_core::audit::{Actor, RequestContext};
use gardien_core::role::BUILT_IN_ROLES;
use gardien_core::{
    text, Account, AccountId, Email, EmailVerification, Kind, Language, Membership, MembershipId,
    MembershipStatus, Organization, OrganizationId, Password, Role, RoleId, Token, ValidationError,
};
use gardien_mail::{new_mail, MailTemplate};
use gardien_store::{NewAccount, StoreError, Transaction};
use serde_json::json;
use time::OffsetDateTime;

use crate::{audit, new_token, ServiceError, Services};

const NAME_MAX: usize = 100;
const ORGANIZATION_NAME_MAX: usize = 200;
/// The built-in role the person who signs up receives.
const SIGN_UP_ROLE: &str = "manager";

/// A sign-up as typed in the form or sent to the API.
#[derive(Debug, Clone, Default)]
pub struct SignUpForm {
    pub email: String,
    pub password: String,
    pub first_name: String,
    pub last_name: String,
    pub organization_name: String,
    /// `en` or `fr`; empty means the language of the request.
    pub language: String,
}

/// What a sign-up answers. It is the same whether or not the address
/// already had an account (no enumeration): the person is told to read
/// their email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedUp;

struct ValidSignUp {
    email: Email,
    password: Password,
    first_name: String,
    last_name: String,
    organization_name: String,
    language: Language,
}

impl SignUpForm {
    /// Every field's problem at once, so a form can show them all.
    fn validate(&self, request_language: Language) -> Result<ValidSignUp, ServiceError> {
        let mut errors: Vec<(&'static str, ValidationError)> = Vec::new();
        let email = Email::parse(&self.email)
            .map_err(|e| errors.push(("email", e)))
            .ok();
        let password = match &email {
            Some(email) => Password::parse(&self.password, email)
                .map_err(|e| errors.push(("password", e)))
                .ok(),
            None => None,
        };
        let first_name = text::bounded(&self.first_name, "first_name", NAME_MAX)
            .map_err(|e| errors.push(("first_name", e)))
            .ok();
        let last_name = text::bounded(&self.last_name, "last_name", NAME_MAX)
            .map_err(|e| errors.push(("last_name", e)))
            .ok();
        let organization_name = text::bounded(
            &self.organization_name,
            "organization_name",
            ORGANIZATION_NAME_MAX,
        )
        .map_err(|e| errors.push(("organization_name", e)))
        .ok();
        let language = if self.language.trim().is_empty() {
            Some(request_language)
        } else {
            self.language
                .trim()
                .parse::<Language>()
                .map_err(|e| errors.push(("language", e)))
                .ok()
        };
        match (
            email,
            password,
            first_name,
            last_name,
            organization_name,
            language,
        ) {
            (
                Some(email),
                Some(password),
                Some(first_name),
                Some(last_name),
                Some(organization_name),
                Some(language),
            ) if errors.is_empty() => Ok(ValidSignUp {
                email,
                password,
                first_name,
                last_name,
                organization_name,
                language,
            }),
            _ => Err(ServiceError::Invalid(errors)),
        }
    }
}

impl Services {
    /// Signs a person up; see the module documentation.
    pub async fn sign_up(
        &self,
        form: &SignUpForm,
        request_language: Language,
        context: &RequestContext,
    ) -> Result<SignedUp, ServiceError> {
        let valid = form.validate(request_language)?;
        // Hashed before knowing whether the address is taken: both answers
        // take the same time.
        let password_hash = self.passwords.hash(&valid.password).await?;
        let now = OffsetDateTime::now_utc();

        let mut tx = self.store.begin().await?;
        if let Some(existing) = tx.account_by_email(&valid.email).await? {
            self.tell_owner(tx, &existing, now, context).await?;
            return Ok(SignedUp);
        }
        let changes = match self
            .create_account(&mut *tx, &valid, password_hash, now, context)
            .await
        {
            Ok(changes) => changes,
            // Another sign-up with this address committed in between.
            Err(ServiceError::Store(StoreError::Conflict {
                constraint: "accounts_email",
            })) => {
                drop(tx);
                let mut tx = self.store.begin().await?;
                if let Some(existing) = tx.account_by_email(&valid.email).await? {
                    self.tell_owner(tx, &existing, now, context).await?;
                }
                return Ok(SignedUp);
            }
            Err(other) => return Err(other),
        };
        self.commit_with_changes(tx, changes).await?;
        self.mail_committed();
        Ok(SignedUp)
    }

    async fn create_account(
        &self,
        tx: &mut dyn Transaction,
        valid: &ValidSignUp,
        password_hash: String,
        now: OffsetDateTime,
        context: &RequestContext,
    ) -> Result<Vec<Change>, ServiceError> {
        let mut changes = Vec::with_capacity(BUILT_IN_ROLES.len() + 1);
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
            password_hash: Some(password_hash),
        })
        .await?;

        let organization = Organization {
            id: OrganizationId::new(),
            name: valid.organization_name.clone(),
            requires_activation: false,
            created_at: now,
        };
        tx.insert_organization(&organization).await?;
        let mut manager_role = None;
        for template in BUILT_IN_ROLES {
            let role = Role {
                id: RoleId::new(),
                organization_id: organization.id,
                template: Some(template.key.to_owned()),
                name: match valid.language {
                    Language::En => template.name_en,
                    Language::Fr => template.name_fr,
                }
                .to_owned(),
                description: String::new(),
                permissions: template.permissions_in(&self.catalog),
                scoped: template.scoped,
            };
            tx.insert_role(&role).await?;
            changes.push(Change::RoleUpserted {
                organization_id: role.organization_id,
                role_id: role.id,
                permissions: role.permissions.clone(),
                scoped: role.scoped,
            });
            if template.key == SIGN_UP_ROLE {
                manager_role = Some(role.id);
            }
        }
        let role_id = manager_role.ok_or(ServiceError::Store(StoreError::NotFound(
            "the built-in manager role",
        )))?;
        let membership = Membership {
            id: MembershipId::new(),
            organization_id: organization.id,
            account_id: account.id,
            kind: Kind::Staff,
            role_id,
            status: MembershipStatus::Active,
            created_at: now,
            updated_at: now,
        };
        tx.insert_membership(&membership).await?;
        // The founder owns the organization until they hand it over.
        tx.set_organization_owner(organization.id, membership.id)
            .await?;
        changes.push(Change::MembershipUpserted {
            organization_id: membership.organization_id,
            membership_id: membership.id,
            account_id: membership.account_id,
            kind: membership.kind,
            status: membership.status,
            role_id: membership.role_id,
        });

        let mut event = audit(
            context,
            now,
            Some(organization.id),
            Actor::Account(account.id),
            "account.signed_up",
            Some(format!("account:{}", account.id)),
        );
        event.after = Some(json!({
            "account": {
                "id": account.id,
                "email": account.email.as_str(),
                "first_name": account.first_name,
                "last_name": account.last_name,
                "language": account.language.code(),
            },
            "organization": { "id": organization.id, "name": organization.name },
            "membership": {
                "id": membership.id,
                "kind": membership.kind.as_str(),
                "role": SIGN_UP_ROLE,
                "status": membership.status.as_str(),
            },
        }));
        tx.append_audit_event(&event).await?;

        self.send_verification(&mut *tx, &account, now).await?;
        Ok(changes)
    }

    /// The address already has an account: its owner learns someone tried
    /// to sign up with it, and how to log in or reset the password.
    async fn tell_owner(
        &self,
        mut tx: Box<dyn Transaction>,
        owner: &Account,
        now: OffsetDateTime,
        context: &RequestContext,
    ) -> Result<(), ServiceError> {
        let mail = new_mail(
            owner.email.clone(),
            &MailTemplate::AlreadyHaveAccount {
                login_link: self.link("/login"),
                reset_link: self.link("/password-resets/new"),
            },
            owner.language,
        );
        tx.enqueue_mail(&mail, now).await?;
        tx.append_audit_event(&audit(
            context,
            now,
            None,
            Actor::System,
            "account.sign_up_with_existing_email",
            Some(format!("account:{}", owner.id)),
        ))
        .await?;
        tx.commit().await?;
        self.mail_committed();
        Ok(())
    }

    /// Sends the logged-in person a new verification link (the banner's
    /// "send the link again"); older unused links keep working until they
    /// expire. Nothing is sent once the address is verified.
    pub async fn resend_verification(
        &self,
        current: &crate::CurrentSession,
        context: &RequestContext,
    ) -> Result<(), ServiceError> {
        let account = &current.account;
        if account.email_verified_at.is_some() {
            return Ok(());
        }
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        self.send_verification(&mut *tx, account, now).await?;
        tx.append_audit_event(&audit(
            context,
            now,
            None,
            Actor::Account(account.id),
            "account.verification_resent",
            Some(format!("account:{}", account.id)),
        ))
        .await?;
        tx.commit().await?;
        self.mail_committed();
        Ok(())
    }

    /// A new single-use verification link for `account`, and its email in
    /// the outbox, in the caller's transaction.
    async fn send_verification(
        &self,
        tx: &mut dyn Transaction,
        account: &Account,
        now: OffsetDateTime,
    ) -> Result<(), ServiceError> {
        let token = new_token();
        tx.insert_email_verification(&EmailVerification::new(account.id, now), &token.hash())
            .await?;
        let mail = new_mail(
            account.email.clone(),
            &MailTemplate::VerifyEmail {
                link: self.verification_link(&token),
            },
            account.language,
        );
        tx.enqueue_mail(&mail, now).await?;
        Ok(())
    }

    fn verification_link(&self, token: &Token) -> String {
        self.link(&format!("/verify-email/{}", token.expose()))
    }

    /// Uses an emailed verification link: marks the address verified. A
    /// link works once and for 24 hours.
    pub async fn verify_email(
        &self,
        token: &str,
        context: &RequestContext,
    ) -> Result<AccountId, ServiceError> {
        let token = Token::parse(token).map_err(|_| ServiceError::LinkUnusable)?;
        let hash = token.hash();
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let Some(link) = tx.email_verification_by_token(&hash).await? else {
            return Err(ServiceError::LinkUnusable);
        };
        if !link.is_usable(now) {
            return Err(ServiceError::LinkUnusable);
        }
        match tx.use_email_verification(&hash, now).await {
            Err(StoreError::NotFound(_)) => return Err(ServiceError::LinkUnusable),
            other => other?,
        }
        tx.mark_email_verified(link.account_id, now).await?;
        tx.append_audit_event(&audit(
            context,
            now,
            None,
            Actor::Account(link.account_id),
            "account.email_verified",
            Some(format!("account:{}", link.account_id)),
        ))
        .await?;
        tx.commit().await?;
        Ok(link.account_id)
    }
}
