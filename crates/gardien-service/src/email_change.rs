//! Changing the login email (flow 12, seed 001).
//!
//! - The request asks the current password (a stolen open session alone
//!   cannot take the account over) and sends a single-use link, valid
//!   [`EmailChange::LIFETIME`], to the NEW address; nothing changes until it
//!   is opened. The newest request wins: earlier links die.
//! - When the new address already has an account, the answer is the same and
//!   that address gets a notice instead of a link: the request never tells
//!   whether an address has an account.
//! - Opening the link makes the address the verified login email and tells
//!   the OLD address, so an unnoticed change cannot go unnoticed for long.

use gardien_core::audit::{Actor, RequestContext};
use gardien_core::{Email, EmailChange, ValidationError};
use gardien_mail::{new_mail, MailTemplate};
use gardien_store::StoreError;
use serde_json::json;
use time::OffsetDateTime;

use crate::{audit, new_token, CurrentSession, ServiceError, Services};

impl Services {
    /// Asks to make `new_email` the session account's login email. The
    /// answer is the same whether that address has an account or not.
    pub async fn request_email_change(
        &self,
        current: &CurrentSession,
        new_email: &str,
        current_password: &str,
        context: &RequestContext,
    ) -> Result<(), ServiceError> {
        let new_email =
            Email::parse(new_email).map_err(|e| ServiceError::Invalid(vec![("new_email", e)]))?;
        if new_email == current.account.email {
            return Err(ServiceError::Invalid(vec![(
                "new_email",
                ValidationError::SameAsLoginEmail,
            )]));
        }
        let mut tx = self.store.begin().await?;
        let stored = tx.password_hash(current.account.id).await?;
        drop(tx);
        if !self.passwords.verify(stored, current_password).await? {
            return Err(ServiceError::Invalid(vec![(
                "current_password",
                ValidationError::CurrentPasswordWrong,
            )]));
        }

        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let language = current.account.language;
        let mail = match tx.account_by_email(&new_email).await? {
            Some(_) => new_mail(
                new_email.clone(),
                &MailTemplate::EmailChangeAddressTaken {
                    login_link: self.link("/login"),
                },
                language,
            ),
            None => {
                tx.cancel_email_changes(current.account.id, now).await?;
                let token = new_token();
                let change = EmailChange::new(current.account.id, new_email.clone(), now);
                tx.insert_email_change(&change, &token.hash()).await?;
                let hours = u32::try_from(EmailChange::LIFETIME.whole_hours()).unwrap_or(24);
                new_mail(
                    new_email.clone(),
                    &MailTemplate::EmailChangeConfirm {
                        new_email: new_email.as_str().to_owned(),
                        link: self.link(&format!("/email-changes/{}", token.expose())),
                        expires_in_hours: hours,
                    },
                    language,
                )
            }
        };
        tx.enqueue_mail(&mail, now).await?;
        // The trail records the request, not whether the address was free.
        let mut event = audit(
            context,
            now,
            None,
            Actor::Account(current.account.id),
            "account.email_change_requested",
            Some(format!("account:{}", current.account.id)),
        );
        event.after = Some(json!({ "requested_email": new_email.as_str() }));
        tx.append_audit_event(&event).await?;
        tx.commit().await?;
        self.mail_committed();
        Ok(())
    }

    /// Opens the link sent to the new address: the change happens now.
    /// Returns the new login email.
    pub async fn confirm_email_change(
        &self,
        token: &str,
        context: &RequestContext,
    ) -> Result<Email, ServiceError> {
        let hash = gardien_core::Token::parse(token)
            .map_err(|_| ServiceError::LinkUnusable)?
            .hash();
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let change = tx
            .email_change_by_token(&hash)
            .await?
            .filter(|change| change.is_usable(now))
            .ok_or(ServiceError::LinkUnusable)?;
        let account = tx
            .account(change.account_id)
            .await?
            .ok_or(ServiceError::LinkUnusable)?;
        // A deleted (anonymized) account has no password and no email left.
        if tx.password_hash(account.id).await?.is_none() {
            return Err(ServiceError::LinkUnusable);
        }
        match tx.use_email_change(&hash, now).await {
            Ok(()) => {}
            Err(StoreError::NotFound(_)) => return Err(ServiceError::LinkUnusable),
            Err(error) => return Err(error.into()),
        }
        match tx
            .set_account_email(account.id, &change.new_email, now)
            .await
        {
            Ok(()) => {}
            // Taken since the request: the holder of the new inbox may know.
            Err(StoreError::Conflict { .. }) => return Err(ServiceError::EmailTaken),
            Err(error) => return Err(error.into()),
        }
        tx.cancel_email_changes(account.id, now).await?;
        let mail = new_mail(
            account.email.clone(),
            &MailTemplate::EmailChanged {
                new_email: change.new_email.as_str().to_owned(),
            },
            account.language,
        );
        tx.enqueue_mail(&mail, now).await?;
        let mut event = audit(
            context,
            now,
            None,
            Actor::Account(account.id),
            "account.email_changed",
            Some(format!("account:{}", account.id)),
        );
        event.before = Some(json!({ "email": account.email.as_str() }));
        event.after = Some(json!({ "email": change.new_email.as_str() }));
        tx.append_audit_event(&event).await?;
        tx.commit().await?;
        self.mail_committed();
        Ok(change.new_email)
    }
}
