//! Gardien as an OpenID Connect provider (OpenID Connect Core 1.0, OAuth 2.1):
//! the rules, without I/O. What an authorization request may ask
//! ([`request`]), PKCE ([`pkce`]), scopes ([`scope`]), which redirect URIs a
//! client may register ([`client`]), the signing keys and their JWKS
//! ([`keys`]), what the tokens say ([`claims`]) and the discovery document
//! ([`discovery`]). Storage, HTTP and the login pages live around it.

pub mod claims;
pub mod client;
pub mod discovery;
pub mod error;
pub mod keys;
pub mod pkce;
pub mod request;
pub mod scope;

pub use error::{ErrorCode, OAuthError};

/// How long an authorization code may wait to be exchanged.
pub const CODE_LIFETIME: time::Duration = time::Duration::seconds(60);
/// How long ID and access tokens are valid: short, since a refresh re-reads
/// the membership.
pub const TOKEN_LIFETIME: time::Duration = time::Duration::minutes(5);
/// How long a refresh token (each one of a rotation) may wait to be used.
pub const REFRESH_LIFETIME: time::Duration = time::Duration::days(30);
/// How long a retired signing key stays in the JWKS, so that tokens it signed
/// before a rotation still verify.
pub const RETIRED_KEY_PUBLISHED: time::Duration = time::Duration::days(1);
