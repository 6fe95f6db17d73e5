//! The one error type of the service layer; `gardien-web` maps it to problem
//! JSON or a form message in its `error.rs`.

use gardien_core::ValidationError;
use gardien_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Input values the core refused, each with the field it came from.
    #[error("invalid input: {0:?}")]
    Invalid(Vec<(&'static str, ValidationError)>),
    /// An emailed link that is unknown, already used or expired. Which of the
    /// three is not told: it would help no one but a guesser.
    #[error("this link is unknown, already used or expired")]
    LinkUnusable,
    /// Email or password is wrong; which one is not told.
    #[error("the email or the password is wrong")]
    LoginFailed,
    /// No session, or one that no longer works (logged out, expired, idle,
    /// or its membership suspended or removed).
    #[error("not logged in")]
    Unauthenticated,
    /// The account has no active membership in that organization.
    #[error("not an active member of this organization")]
    NotAMember,
    /// Hashing a password failed (the worker pool is gone, or Argon2 refused).
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}
