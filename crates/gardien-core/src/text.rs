//! Short human texts (names, titles, phone numbers): trimmed, bounded, no
//! control characters.

use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// Trims `input` and checks it is non-empty, at most `max` characters and free
/// of control characters. `field` names the field in the error.
pub fn bounded(input: &str, field: &'static str, max: usize) -> Result<String, ValidationError> {
    let value = input.trim();
    if value.is_empty() {
        return Err(ValidationError::Empty { field });
    }
    if value.chars().count() > max {
        return Err(ValidationError::TooLong { field, max });
    }
    if value.chars().any(char::is_control) {
        return Err(ValidationError::ControlCharacters { field });
    }
    Ok(value.to_owned())
}

/// Like [`bounded`], but an empty input is `None` (an optional field left blank).
pub fn optional(
    input: &str,
    field: &'static str,
    max: usize,
) -> Result<Option<String>, ValidationError> {
    if input.trim().is_empty() {
        Ok(None)
    } else {
        bounded(input, field, max).map(Some)
    }
}

/// A person's first or last name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonName(String);

impl PersonName {
    pub const MAX: usize = 100;
    pub fn parse(input: &str, field: &'static str) -> Result<Self, ValidationError> {
        bounded(input, field, Self::MAX).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The display name of an organization or role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX: usize = 120;
    pub fn parse(input: &str, field: &'static str) -> Result<Self, ValidationError> {
        bounded(input, field, Self::MAX).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_bounds() {
        assert_eq!(
            PersonName::parse("  Ana ", "first name").unwrap().as_str(),
            "Ana"
        );
        assert_eq!(
            PersonName::parse(" ", "first name"),
            Err(ValidationError::Empty {
                field: "first name"
            })
        );
        assert_eq!(
            PersonName::parse(&"x".repeat(101), "last name"),
            Err(ValidationError::TooLong {
                field: "last name",
                max: 100
            })
        );
        assert_eq!(
            DisplayName::parse("Acme\u{0}", "organization name"),
            Err(ValidationError::ControlCharacters {
                field: "organization name"
            })
        );
        assert_eq!(optional("  ", "phone", 30), Ok(None));
    }
}
