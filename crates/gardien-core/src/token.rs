//! Secret tokens (invitation links, reset links, sessions, API keys).
//!
//! A token is 256 random bits shown once as 43 base64url characters; only its
//! SHA-256 is stored, so a database leak yields no usable link. The caller
//! supplies the random bytes (from the OS), which keeps this module pure.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::ValidationError;

const TOKEN_BYTES: usize = 32;
const TOKEN_CHARS: usize = 43;

/// A secret token in its shareable form. Never logged, never stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn from_random_bytes(bytes: [u8; TOKEN_BYTES]) -> Self {
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Checks the shape of a token received from outside.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let input = input.trim();
        let decodes = input.len() == TOKEN_CHARS
            && URL_SAFE_NO_PAD
                .decode(input)
                .is_ok_and(|bytes| bytes.len() == TOKEN_BYTES);
        if decodes {
            Ok(Self(input.to_owned()))
        } else {
            Err(ValidationError::MalformedToken)
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(hex(&Sha256::digest(self.0.as_bytes())))
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

/// What is stored of a token: its SHA-256, hex-encoded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    pub fn from_stored(hex: String) -> Self {
        Self(hex)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trips_and_hashes_stably() {
        let token = Token::from_random_bytes([7; 32]);
        assert_eq!(token.expose().len(), 43);
        let parsed = Token::parse(token.expose()).unwrap();
        assert_eq!(parsed.hash(), token.hash());
        assert_eq!(token.hash().as_str().len(), 64);
        assert_ne!(Token::from_random_bytes([8; 32]).hash(), token.hash());
        assert_eq!(format!("{token:?}"), "Token(…)");
    }

    #[test]
    fn refuses_malformed() {
        assert_eq!(Token::parse(""), Err(ValidationError::MalformedToken));
        assert_eq!(Token::parse("short"), Err(ValidationError::MalformedToken));
        assert_eq!(
            Token::parse(&"*".repeat(43)),
            Err(ValidationError::MalformedToken)
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,100}") {
            let _ = Token::parse(&s);
        }
    }
}
