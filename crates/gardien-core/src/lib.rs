//! Gardien's domain core: the concepts of `DESIGN.md` as types, their
//! validation, the membership lifecycle and the rules that guard it.
//!
//! Nothing in this crate performs I/O or awaits: storage, HTTP and mail are
//! built around it, so every rule here is tested in microseconds.

pub mod access;
pub mod account;
pub mod audit;
pub mod consent;
pub mod email;
pub mod error;
pub mod evaluator;
pub mod ids;
pub mod invitation;
pub mod locale;
pub mod membership;
pub mod organization;
pub mod password;
pub mod permission;
pub mod profile;
pub mod role;
pub mod session;
pub mod text;
pub mod token;
pub mod webhook;

pub use account::{Account, EmailChange, EmailVerification, PasswordReset};
pub use consent::{Consent, PrivacyPolicy};
pub use email::Email;
pub use error::ValidationError;
pub use ids::*;
pub use locale::Language;
pub use membership::{Kind, Membership, MembershipStatus, StatusChange};
pub use organization::{CompanyDetails, CompanyInput, Organization};
pub use password::Password;
pub use permission::PermissionKey;
pub use profile::{Profile, ProfileInput};
pub use role::Role;
pub use session::{Session, SessionPolicy};
pub use token::{Token, TokenHash};
