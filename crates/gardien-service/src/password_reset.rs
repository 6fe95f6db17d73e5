//! Forgotten password (flow 13): an emailed, single-use, 30-minute link to
//! choose a new password. Asking answers the same whether or not the address
//! has an account; setting the new password ends every session of the
//! account. Only the newest link of an account works, and none survives a
//! new password (whether set by a link or changed in the profile).

use gardien_core::audit::{Actor, RequestContext};
use gardien_core::{Email, Password, PasswordReset, Token};
use gardien_mail::{new_mail, MailTemplate};
use gardien_store::StoreError;
use time::OffsetDateTime;

use crate::{audit, new_token, ServiceError, Services};

impl Services {
    /// Emails a reset link if `email` has an account; answers the same if
    /// not (nothing tells a stranger who has an account).
    pub async fn request_password_reset(
        &self,
        email: &str,
        context: &RequestContext,
    ) -> Result<(), ServiceError> {
        let email = Email::parse(email).map_err(|e| ServiceError::Invalid(vec![("email", e)]))?;
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let Some(account) = tx.account_by_email(&email).await? else {
            return Ok(());
        };
        // Only the newest link works: an older one, perhaps still lying in
        // a mailbox someone else reads, dies now.
        tx.expire_password_resets_of_account(account.id, now)
            .await?;
        let token = new_token();
        tx.insert_password_reset(&PasswordReset::new(account.id, now), &token.hash())
            .await?;
        let minutes = u32::try_from(PasswordReset::LIFETIME.whole_minutes()).unwrap_or(30);
        let mail = new_mail(
            account.email.clone(),
            &MailTemplate::PasswordReset {
                link: self.link(&format!("/password-resets/{}", token.expose())),
                expires_in_minutes: minutes,
            },
            account.language,
        );
        tx.enqueue_mail(&mail, now).await?;
        tx.append_audit_event(&audit(
            context,
            now,
            None,
            Actor::Account(account.id),
            "account.password_reset_requested",
            Some(format!("account:{}", account.id)),
        ))
        .await?;
        tx.commit().await?;
        self.mail_committed();
        Ok(())
    }

    /// Whether a reset link still works (to show its form or say it is dead).
    pub async fn password_reset_is_usable(&self, token: &str) -> Result<bool, ServiceError> {
        let Ok(token) = Token::parse(token) else {
            return Ok(false);
        };
        let mut tx = self.store.begin().await?;
        let reset = tx.password_reset_by_token(&token.hash()).await?;
        Ok(reset.is_some_and(|r| r.is_usable(OffsetDateTime::now_utc())))
    }

    /// Sets a new password with a reset link; the link then stops working
    /// and every session of the account ends.
    pub async fn reset_password(
        &self,
        token: &str,
        new_password: &str,
        context: &RequestContext,
    ) -> Result<(), ServiceError> {
        let token = Token::parse(token).map_err(|_| ServiceError::LinkUnusable)?;
        let hash = token.hash();
        let mut tx = self.store.begin().await?;
        let reset = tx
            .password_reset_by_token(&hash)
            .await?
            .filter(|r| r.is_usable(OffsetDateTime::now_utc()))
            .ok_or(ServiceError::LinkUnusable)?;
        let account = tx
            .account(reset.account_id)
            .await?
            .ok_or(ServiceError::LinkUnusable)?;
        drop(tx);
        let password = Password::parse(new_password, &account.email)
            .map_err(|e| ServiceError::Invalid(vec![("password", e)]))?;
        let password_hash = self.passwords.hash(&password).await?;

        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        match tx.use_password_reset(&hash, now).await {
            Err(StoreError::NotFound(_)) => return Err(ServiceError::LinkUnusable),
            other => other?,
        }
        tx.set_password_hash(account.id, &password_hash, now)
            .await?;
        tx.expire_password_resets_of_account(account.id, now)
            .await?;
        tx.revoke_sessions_of_account(account.id, now).await?;
        tx.append_audit_event(&audit(
            context,
            now,
            None,
            Actor::Account(account.id),
            "account.password_reset",
            Some(format!("account:{}", account.id)),
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
