//! Proof Key for Code Exchange (RFC 7636), method `S256` only: `plain` would
//! hand the verifier to anyone who sees the authorization request.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::OAuthError;

/// The only method Gardien accepts.
pub const S256: &str = "S256";

/// A `code_challenge` of method `S256`: the base64url SHA-256 of the
/// verifier the client will show at the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    /// Reads `code_challenge` and `code_challenge_method` of an authorization
    /// request. A missing method means `plain` (RFC 7636 §4.3): refused.
    pub fn parse(challenge: &str, method: Option<&str>) -> Result<Self, OAuthError> {
        match method {
            Some(S256) => {}
            Some(other) => {
                return Err(OAuthError::invalid_request(format!(
                    "code_challenge_method {other:?} is not supported: use S256"
                )))
            }
            None => {
                return Err(OAuthError::invalid_request(
                    "code_challenge_method is missing: it must be S256 (plain is not supported)",
                ))
            }
        }
        let valid = challenge.len() == 43
            && URL_SAFE_NO_PAD
                .decode(challenge)
                .is_ok_and(|bytes| bytes.len() == 32);
        if !valid {
            return Err(OAuthError::invalid_request(
                "code_challenge must be the base64url (no padding) SHA-256 of the verifier: 43 characters",
            ));
        }
        Ok(Self(challenge.to_owned()))
    }

    /// Re-reads a challenge this module accepted before (from storage).
    pub fn from_stored(challenge: String) -> Self {
        Self(challenge)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `verifier` is the one this challenge was made from. A verifier
    /// outside RFC 7636's shape (43–128 unreserved characters) never is.
    pub fn verify(&self, verifier: &str) -> bool {
        let shaped = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        shaped && URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636, appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn the_rfc_example_verifies() {
        let challenge = CodeChallenge::parse(CHALLENGE, Some("S256")).unwrap();
        assert!(challenge.verify(VERIFIER));
    }

    #[test]
    fn another_verifier_does_not() {
        let challenge = CodeChallenge::parse(CHALLENGE, Some("S256")).unwrap();
        assert!(!challenge.verify(&VERIFIER.replace('d', "e")));
        assert!(!challenge.verify(""));
        assert!(!challenge.verify(CHALLENGE));
    }

    #[test]
    fn plain_and_missing_methods_are_refused() {
        let plain = CodeChallenge::parse(CHALLENGE, Some("plain")).unwrap_err();
        assert!(plain.description.contains("S256"), "{plain}");
        let missing = CodeChallenge::parse(CHALLENGE, None).unwrap_err();
        assert!(missing.description.contains("missing"), "{missing}");
    }

    #[test]
    fn a_challenge_of_the_wrong_shape_is_refused() {
        assert!(CodeChallenge::parse("short", Some("S256")).is_err());
        assert!(CodeChallenge::parse(&"*".repeat(43), Some("S256")).is_err());
    }
}
