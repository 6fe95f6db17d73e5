//! Email addresses: the identity of an account.
//!
//! An address is trimmed, then validated; two addresses are the same account
//! when they are equal ignoring case (`Ana@X.fr` = `ana@x.fr`). Sub-addresses
//! are distinct: `a+x@d` and `a@d` are two different addresses.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ValidationError;

const MAX_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;
const MAX_LABEL_LEN: usize = 63;

/// A syntactically valid email address, as typed (trimmed).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email {
    /// As typed, trimmed: shown back to people.
    display: String,
    /// Lowercased: compared and stored uniquely.
    normalized: String,
}

impl Email {
    /// Trims and validates `input`.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let display = input.trim();
        if display.is_empty() {
            return Err(ValidationError::EmailEmpty);
        }
        if display.chars().count() > MAX_LEN {
            return Err(ValidationError::EmailTooLong);
        }
        let (local, domain) = display
            .rsplit_once('@')
            .filter(|(l, d)| !l.is_empty() && !d.is_empty())
            .ok_or(ValidationError::EmailMissingAt)?;
        validate_local(local)?;
        validate_domain(domain)?;
        Ok(Self {
            display: display.to_owned(),
            normalized: display.to_lowercase(),
        })
    }

    /// The address as the person typed it (trimmed).
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The lowercased form that identifies the account.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    /// The domain part, lowercased.
    pub fn domain(&self) -> &str {
        self.normalized
            .rsplit_once('@')
            .map(|(_, d)| d)
            .unwrap_or_default()
    }
}

fn validate_local(local: &str) -> Result<(), ValidationError> {
    if local.chars().count() > MAX_LOCAL_LEN {
        return Err(ValidationError::EmailLocalPart(
            "it is longer than 64 characters",
        ));
    }
    if local.starts_with('"') {
        return Err(ValidationError::EmailLocalPart(
            "quoted names are not accepted",
        ));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(ValidationError::EmailLocalPart(
            "it cannot start or end with a dot, or contain two dots in a row",
        ));
    }
    let allowed = |c: char| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c);
    if !local.chars().all(allowed) {
        return Err(ValidationError::EmailLocalPart(
            "it contains a space, '@' or another character that addresses cannot hold",
        ));
    }
    Ok(())
}

fn validate_domain(domain: &str) -> Result<(), ValidationError> {
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err(ValidationError::EmailDomain(
            "it needs at least one dot, as in example.com",
        ));
    }
    for label in &labels {
        if label.is_empty() {
            return Err(ValidationError::EmailDomain(
                "it has an empty part between dots",
            ));
        }
        if label.chars().count() > MAX_LABEL_LEN {
            return Err(ValidationError::EmailDomain(
                "a part between dots is longer than 63 characters",
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(ValidationError::EmailDomain(
                "a part between dots starts or ends with a hyphen",
            ));
        }
        if !label.chars().all(|c| c.is_alphanumeric() || c == '-') {
            return Err(ValidationError::EmailDomain(
                "it may hold only letters, digits, hyphens and dots",
            ));
        }
    }
    let tld = labels.last().copied().unwrap_or_default();
    if tld.chars().all(|c| c.is_ascii_digit()) {
        return Err(ValidationError::EmailDomain(
            "its last part cannot be only digits",
        ));
    }
    Ok(())
}

impl PartialEq for Email {
    fn eq(&self, other: &Self) -> bool {
        self.normalized == other.normalized
    }
}
impl Eq for Email {}

impl std::hash::Hash for Email {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.normalized.hash(state);
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

impl TryFrom<String> for Email {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.display
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn trims_and_compares_case_insensitively() {
        let a = Email::parse("  Ana.Martin@Cabinet.FR ").unwrap();
        let b = Email::parse("ana.martin@cabinet.fr").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "Ana.Martin@Cabinet.FR");
        assert_eq!(a.normalized(), "ana.martin@cabinet.fr");
        assert_eq!(a.domain(), "cabinet.fr");
    }

    #[test]
    fn sub_addresses_are_distinct_accounts() {
        let plain = Email::parse("prenom.nom@domaine.com").unwrap();
        let alias = Email::parse("prenom.nom+cabinet2@domaine.com").unwrap();
        assert_ne!(plain, alias);
    }

    #[test]
    fn refuses_with_a_precise_reason() {
        assert_eq!(Email::parse("   "), Err(ValidationError::EmailEmpty));
        assert_eq!(
            Email::parse("ana.cabinet.fr"),
            Err(ValidationError::EmailMissingAt)
        );
        assert_eq!(
            Email::parse("@cabinet.fr"),
            Err(ValidationError::EmailMissingAt)
        );
        assert_eq!(Email::parse("ana@"), Err(ValidationError::EmailMissingAt));
        assert!(matches!(
            Email::parse("ana@localhost"),
            Err(ValidationError::EmailDomain(_))
        ));
        assert!(matches!(
            Email::parse("ana@cabinet..fr"),
            Err(ValidationError::EmailDomain(_))
        ));
        assert!(matches!(
            Email::parse("ana@-cabinet.fr"),
            Err(ValidationError::EmailDomain(_))
        ));
        assert!(matches!(
            Email::parse("ana@10.0.0.1"),
            Err(ValidationError::EmailDomain(_))
        ));
        assert!(matches!(
            Email::parse("an a@cabinet.fr"),
            Err(ValidationError::EmailLocalPart(_))
        ));
        assert!(matches!(
            Email::parse(".ana@cabinet.fr"),
            Err(ValidationError::EmailLocalPart(_))
        ));
        assert!(matches!(
            Email::parse("a..na@cabinet.fr"),
            Err(ValidationError::EmailLocalPart(_))
        ));
        assert!(matches!(
            Email::parse("a@b@cabinet.fr"),
            Err(ValidationError::EmailLocalPart(_))
        ));
        let long = format!("{}@cabinet.fr", "a".repeat(65));
        assert!(matches!(
            Email::parse(&long),
            Err(ValidationError::EmailLocalPart(_))
        ));
        let huge = format!("a@{}.fr", "b.".repeat(130));
        assert_eq!(Email::parse(&huge), Err(ValidationError::EmailTooLong));
    }

    #[test]
    fn accepts_common_real_addresses() {
        for ok in [
            "a@b.co",
            "o'connor@example.ie",
            "prenom.nom+cabinet1@domaine.com",
            "élise@société.fr",
            "x_y-z@sub.mail-host.example",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok} should be accepted");
        }
    }

    #[test]
    fn deserializes_through_validation() {
        let ok: Result<Email, _> = serde_json::from_str("\" bob@example.com\"");
        assert!(ok.is_ok());
        let bad: Result<Email, _> = serde_json::from_str("\"bob\"");
        assert!(bad.is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_normalizes_idempotently(s in "\\PC{0,300}") {
            if let Ok(e) = Email::parse(&s) {
                let again = Email::parse(e.normalized()).unwrap();
                prop_assert_eq!(again.normalized(), e.normalized());
                prop_assert_eq!(e.normalized(), e.normalized().trim());
            }
        }

        #[test]
        fn case_never_changes_identity(local in "[a-zA-Z0-9._+-]{1,20}", domain in "[a-zA-Z]{1,10}\\.[a-zA-Z]{2,6}") {
            let addr = format!("{local}@{domain}");
            if let Ok(e) = Email::parse(&addr) {
                prop_assert_eq!(Email::parse(&addr.to_uppercase()).unwrap(), e);
            }
        }
    }
}
