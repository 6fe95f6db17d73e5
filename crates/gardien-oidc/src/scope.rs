//! The scopes a client may ask for, and what each one reveals.

use std::collections::BTreeSet;

use crate::OAuthError;

/// Every scope Gardien knows, in the order a scope string is written.
pub const SUPPORTED: [&str; 5] = [
    "openid",
    "profile",
    "email",
    "organization",
    "offline_access",
];

/// A set of known scopes that always holds `openid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope(BTreeSet<&'static str>);

impl Scope {
    /// Reads a space-separated `scope` parameter. Unknown scopes are refused
    /// by name (RFC 6749 §3.3), and `openid` is required: Gardien is an
    /// OpenID Connect provider.
    pub fn parse(input: &str) -> Result<Self, OAuthError> {
        let mut scopes = BTreeSet::new();
        for word in input.split([' ', '\t', '\n']).filter(|w| !w.is_empty()) {
            let Some(known) = SUPPORTED.iter().find(|s| **s == word) else {
                return Err(OAuthError::new(
                    crate::ErrorCode::InvalidScope,
                    format!(
                        "unknown scope {word:?}; supported scopes: {}",
                        SUPPORTED.join(" ")
                    ),
                ));
            };
            scopes.insert(*known);
        }
        if !scopes.contains("openid") {
            return Err(OAuthError::new(
                crate::ErrorCode::InvalidScope,
                "the scope must include openid",
            ));
        }
        Ok(Self(scopes))
    }

    pub fn has(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    /// Whether every scope of `other` is in this one (a refresh may narrow
    /// the scope of its grant, never widen it).
    pub fn covers(&self, other: &Scope) -> bool {
        other.0.is_subset(&self.0)
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let words: Vec<&str> = SUPPORTED
            .iter()
            .copied()
            .filter(|s| self.0.contains(s))
            .collect();
        f.write_str(&words.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_is_read_and_written_in_a_stable_order() {
        let scope = Scope::parse("email  organization openid email").unwrap();
        assert_eq!(scope.to_string(), "openid email organization");
        assert!(scope.has("email"));
        assert!(!scope.has("profile"));
    }

    #[test]
    fn unknown_scopes_are_named() {
        let error = Scope::parse("openid admin").unwrap_err();
        assert_eq!(error.code, crate::ErrorCode::InvalidScope);
        assert!(error.description.contains("\"admin\""), "{error}");
    }

    #[test]
    fn openid_is_required() {
        assert!(Scope::parse("email profile").is_err());
        assert!(Scope::parse("").is_err());
    }

    #[test]
    fn a_narrower_scope_is_covered() {
        let granted = Scope::parse("openid email profile").unwrap();
        assert!(granted.covers(&Scope::parse("openid email").unwrap()));
        assert!(!granted.covers(&Scope::parse("openid organization").unwrap()));
    }
}
