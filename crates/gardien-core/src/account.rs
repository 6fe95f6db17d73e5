//! Accounts: one person each, identified by one email address.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{AccountId, Email, Language};

/// One person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub email: Email,
    pub first_name: String,
    pub last_name: String,
    pub language: Language,
    #[serde(with = "time::serde::rfc3339::option")]
    pub email_verified_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// An emailed link that proves an account owns its address (flow 1). Only
/// the token's hash is stored; the link works once, until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailVerification {
    pub account_id: AccountId,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
}

/// A requested change of login email (flow 12): the login address changes
/// only when the link sent to the new address is opened, which proves that
/// the person holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailChange {
    pub account_id: AccountId,
    pub new_email: Email,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
}

impl EmailChange {
    /// How long the confirmation link works.
    pub const LIFETIME: time::Duration = time::Duration::hours(24);

    pub fn new(account_id: AccountId, new_email: Email, now: OffsetDateTime) -> Self {
        Self {
            account_id,
            new_email,
            created_at: now,
            expires_at: now + Self::LIFETIME,
            used_at: None,
        }
    }

    /// Whether the link still works at `now`: not used, not expired.
    pub fn is_usable(&self, now: OffsetDateTime) -> bool {
        self.used_at.is_none() && now < self.expires_at
    }
}

impl EmailVerification {
    /// How long a verification link works.
    pub const LIFETIME: time::Duration = time::Duration::hours(24);

    /// A new link for `account`, created `now`.
    pub fn new(account_id: AccountId, now: OffsetDateTime) -> Self {
        Self {
            account_id,
            created_at: now,
            expires_at: now + Self::LIFETIME,
            used_at: None,
        }
    }

    /// Whether the link still works at `now`: not used, not expired.
    pub fn is_usable(&self, now: OffsetDateTime) -> bool {
        self.used_at.is_none() && now < self.expires_at
    }
}

/// An emailed link to choose a new password (flow 13): works once, for
/// 30 minutes. Only the token's hash is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordReset {
    pub account_id: AccountId,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
}

impl PasswordReset {
    /// How long a reset link works.
    pub const LIFETIME: time::Duration = time::Duration::minutes(30);

    pub fn new(account_id: AccountId, now: OffsetDateTime) -> Self {
        Self {
            account_id,
            created_at: now,
            expires_at: now + Self::LIFETIME,
            used_at: None,
        }
    }

    /// Whether the link still works at `now`: not used, not expired.
    pub fn is_usable(&self, now: OffsetDateTime) -> bool {
        self.used_at.is_none() && now < self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verification_works_once_and_until_expiry() {
        let now = OffsetDateTime::now_utc();
        let mut link = EmailVerification::new(AccountId::new(), now);
        assert!(link.is_usable(now));
        assert!(link.is_usable(now + time::Duration::hours(23)));
        assert!(!link.is_usable(now + time::Duration::hours(24)));
        link.used_at = Some(now);
        assert!(!link.is_usable(now));
    }

    #[test]
    fn password_reset_works_once_for_thirty_minutes() {
        let now = OffsetDateTime::now_utc();
        let mut link = PasswordReset::new(AccountId::new(), now);
        assert!(link.is_usable(now + time::Duration::minutes(29)));
        assert!(!link.is_usable(now + time::Duration::minutes(30)));
        link.used_at = Some(now);
        assert!(!link.is_usable(now));
    }
}
