//! Passwords chosen by people, checked as NIST SP 800-63B (5.1.1.2) asks:
//! a length between 8 and 128 characters (any characters, spaces included,
//! no composition rules), and none of the values an attacker tries first —
//! a list of common passwords shipped with Gardien, and the person's own
//! email address.
//!
//! This module only validates; hashing (Argon2id) is I/O-heavy work done by
//! the service layer.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::{Email, ValidationError};

/// The fewest characters a password may have.
pub const MIN_CHARS: usize = 8;
/// The most characters a password may have (long passphrases are welcome;
/// the bound only keeps hashing cost predictable).
pub const MAX_CHARS: usize = 128;
/// The shortest local part of an email that a password may not contain:
/// shorter ones (`jo@…`) would forbid too many good passwords.
const MIN_LOCAL_PART_CHARS: usize = 3;

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../data/common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

/// A password that passed the rules. Never logged: `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Checks `input` (taken as typed: not trimmed) for the account of `email`.
    pub fn parse(input: &str, email: &Email) -> Result<Self, ValidationError> {
        let chars = input.chars().count();
        if chars < MIN_CHARS {
            return Err(ValidationError::PasswordTooShort { min: MIN_CHARS });
        }
        if chars > MAX_CHARS {
            return Err(ValidationError::PasswordTooLong { max: MAX_CHARS });
        }
        let lowered = input.to_lowercase();
        let local_part = email
            .normalized()
            .split_once('@')
            .map(|(local, _)| local)
            .unwrap_or_default();
        if local_part.chars().count() >= MIN_LOCAL_PART_CHARS && lowered.contains(local_part) {
            return Err(ValidationError::PasswordContainsEmail);
        }
        if is_common(&lowered) {
            return Err(ValidationError::PasswordCommon);
        }
        Ok(Self(input.to_owned()))
    }

    /// The password itself, to hash or verify.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

/// Whether `password` (any case) is on the shipped list of common passwords.
pub fn is_common(password: &str) -> bool {
    COMMON.contains(password.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn email() -> Email {
        Email::parse("Marie.Curie@example.com").unwrap()
    }

    #[test]
    fn accepts_a_long_uncommon_passphrase() {
        let password = Password::parse("correct horse battery staple", &email()).unwrap();
        assert_eq!(password.expose(), "correct horse battery staple");
        assert_eq!(format!("{password:?}"), "Password(…)");
    }

    #[test]
    fn refuses_fewer_than_eight_characters() {
        assert_eq!(
            Password::parse("k7#pQ2z", &email()),
            Err(ValidationError::PasswordTooShort { min: 8 })
        );
        // Counted in characters, not bytes.
        assert_eq!(
            Password::parse("ééééééé", &email()),
            Err(ValidationError::PasswordTooShort { min: 8 })
        );
        assert!(Password::parse("éééééééé", &email()).is_ok());
    }

    #[test]
    fn refuses_more_than_128_characters() {
        assert!(Password::parse(&"x".repeat(128), &email()).is_ok());
        assert_eq!(
            Password::parse(&"x".repeat(129), &email()),
            Err(ValidationError::PasswordTooLong { max: 128 })
        );
    }

    #[test]
    fn refuses_the_local_part_of_the_email_in_any_case() {
        assert_eq!(
            Password::parse("xxMARIE.CURIExx", &email()),
            Err(ValidationError::PasswordContainsEmail)
        );
        // A very short local part is not a meaningful hint.
        let short = Email::parse("jo@example.com").unwrap();
        assert!(Password::parse("jo-is-a-fine-word", &short).is_ok());
    }

    #[test]
    fn refuses_common_passwords_in_any_case() {
        for common in [
            "password",
            "PassWord123",
            "azertyuiop",
            "12345678",
            "motdepasse",
        ] {
            assert_eq!(
                Password::parse(common, &email()),
                Err(ValidationError::PasswordCommon),
                "{common}"
            );
        }
        assert!(COMMON.len() > 1000);
    }

    #[test]
    fn keeps_spaces_as_typed() {
        let password = Password::parse("  spaced out words  ", &email()).unwrap();
        assert_eq!(password.expose(), "  spaced out words  ");
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,200}") {
            let _ = Password::parse(&s, &email());
        }

        #[test]
        fn accepted_passwords_respect_every_rule(s in "\\PC{0,140}") {
            if let Ok(password) = Password::parse(&s, &email()) {
                let n = password.expose().chars().count();
                prop_assert!((MIN_CHARS..=MAX_CHARS).contains(&n));
                prop_assert!(!password.expose().to_lowercase().contains("marie.curie"));
                prop_assert!(!is_common(password.expose()));
            }
        }

        #[test]
        fn random_lengths_in_bounds_are_judged_only_on_content(n in 8usize..=128) {
            let candidate: String = "q7Zx".chars().cycle().take(n).collect();
            prop_assert!(Password::parse(&candidate, &email()).is_ok());
        }
    }
}
