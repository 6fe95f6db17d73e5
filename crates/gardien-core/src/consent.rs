//! Privacy policy consent (flow 7, seed 001): the deployment publishes a
//! policy under a version; a person must accept the current version before
//! using anything, and accepts again when the version changes.

use time::OffsetDateTime;

use crate::{text, AccountId, ValidationError};

/// The longest policy version accepted (`2026-11`, `v3`, a date…).
pub const VERSION_MAX: usize = 64;

/// The deployment's current privacy policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivacyPolicy {
    /// `None`: no policy is configured and no consent is asked (the host
    /// application collects it itself).
    pub version: Option<String>,
    /// Where the policy's text is; `None`: Gardien's own `/privacy` page.
    pub url: Option<String>,
}

impl PrivacyPolicy {
    /// The version shipped by default.
    pub const DEFAULT_VERSION: &'static str = "2026-11";

    /// A policy of `version` (checked: not empty, no control characters,
    /// at most [`VERSION_MAX`] characters).
    pub fn new(version: &str, url: Option<String>) -> Result<Self, ValidationError> {
        let version = text::bounded(version, "privacy_policy_version", VERSION_MAX)?;
        Ok(Self {
            version: Some(version),
            url,
        })
    }

    /// No consent asked.
    pub fn none() -> Self {
        Self {
            version: None,
            url: None,
        }
    }

    /// Whether a person whose latest accepted version is `accepted` must
    /// accept the current one first.
    pub fn requires_consent(&self, accepted: Option<&str>) -> bool {
        match &self.version {
            Some(current) => accepted != Some(current.as_str()),
            None => false,
        }
    }
}

impl Default for PrivacyPolicy {
    fn default() -> Self {
        Self {
            version: Some(Self::DEFAULT_VERSION.to_owned()),
            url: None,
        }
    }
}

/// One acceptance of one version, by one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub account_id: AccountId,
    pub policy_version: String,
    pub accepted_at: OffsetDateTime,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_version_asks_again_and_no_policy_asks_nothing() {
        let policy = PrivacyPolicy::new("2026-11", None).unwrap();
        assert!(policy.requires_consent(None));
        assert!(policy.requires_consent(Some("2025-01")));
        assert!(!policy.requires_consent(Some("2026-11")));
        assert!(!PrivacyPolicy::none().requires_consent(None));
        assert!(PrivacyPolicy::new("  ", None).is_err());
        assert!(PrivacyPolicy::new(&"x".repeat(65), None).is_err());
    }
}
