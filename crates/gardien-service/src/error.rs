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
    /// The session's member may not do this in the organization (missing
    /// permission).
    #[error("your role does not allow this action in this organization")]
    Forbidden,
    /// Nothing of that id in the session's organization (also the answer
    /// for another organization's ids: nothing is revealed about them).
    #[error("not found in this organization")]
    NotFound,
    /// The email already has a membership (member or invited) in this organization.
    #[error("this email is already a member of, or invited to, this organization")]
    AlreadyInOrganization,
    /// The membership's lifecycle refuses the change (illegal move, last administrator).
    #[error(transparent)]
    Lifecycle(#[from] gardien_core::membership::LifecycleError),
    /// The acting account has not confirmed its email address yet, and the
    /// action (inviting someone) needs it.
    #[error("confirm your email address first: open the link sent to it")]
    EmailNotVerified,
    /// An invitation of an existing account, opened while logged in as
    /// another account.
    #[error("this invitation is for another account: log out and log in as the invited address")]
    WrongAccount,
    /// An invitation of an existing account, opened without a session.
    #[error("log in as the invited address to accept this invitation")]
    LoginRequired,
    /// A permission key that is not in the deployment's catalog.
    #[error("'{key}' is not a permission of the catalog")]
    UnknownPermission { key: String, valid: Vec<String> },
    /// Items of a list the core refused, each named by its place and field
    /// (`add[3].type`): nothing of the list was done.
    #[error("invalid items: {0:?}")]
    InvalidItems(Vec<(String, ValidationError)>),
    /// More items in one call than allowed.
    #[error("a call holds at most {max} items")]
    TooManyItems { max: usize },
    /// More questions in one batch than allowed.
    #[error("a batch holds at most {max} checks")]
    BatchTooLarge { max: usize },
    /// The authorization index may miss a committed change (the database
    /// could not be read): checks are refused until it catches up.
    #[error("the authorization index is catching up; retry shortly")]
    IndexOutOfDate,
    /// A confirmed login email change whose address got an account since
    /// the request (told only to the holder of that address's inbox).
    #[error("this address now belongs to another account")]
    EmailTaken,
    /// A bulk-invitation file that cannot be read as a member list.
    #[error(transparent)]
    ImportFile(#[from] crate::import::ImportFileError),
    /// Only the organization's owner hands its ownership over.
    #[error("only the organization's owner can hand its ownership over")]
    NotOwner,
    /// A deployment-wide action (registering an OpenID Connect client)
    /// asked with an organization's API key.
    #[error("this needs a deployment-wide API key, not an organization's")]
    DeploymentKeyRequired,
    /// The action needs an active member (a password-reset link).
    #[error("the member is not active")]
    MemberNotActive,
    /// A custom role change the rules refuse (name taken, built-in role,
    /// role in use without a replacement).
    #[error(transparent)]
    Role(#[from] gardien_core::role::RoleError),
    /// Something the operator must fix (a signing key made with another
    /// secret key); logged, answered as a server error.
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}
