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
