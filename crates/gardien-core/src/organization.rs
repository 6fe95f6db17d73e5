//! Organizations: the tenants.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::text::{self, DisplayName};
use crate::{OrganizationId, ValidationError};

/// A tenant: a client company, a firm, a customer space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    pub id: OrganizationId,
    pub name: String,
    /// New members wait in `pending_activation` until an administrator activates them (seed 001).
    pub requires_activation: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// An organization's company details (seed 003): edited on their own form,
/// saved apart from anyone's profile, by members holding `company.edit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyDetails {
    /// The organization's name, as people see it everywhere.
    pub name: String,
    /// The registered name, when it differs ("Lima & Associés SARL").
    pub legal_name: Option<String>,
    /// The postal address, on several lines.
    pub address: Option<String>,
    pub phone: Option<String>,
    /// Stored without spaces, dots or dashes, upper case: `FR40303265045`.
    pub vat_number: Option<String>,
    /// As typed, trimmed: `732 829 320 00074`, `HRB 12345`, `SC123456`.
    pub registration_number: Option<String>,
}

/// Company details as typed (every field as text; blank optional fields are none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompanyInput {
    pub name: String,
    pub legal_name: String,
    pub address: String,
    pub phone: String,
    pub vat_number: String,
    pub registration_number: String,
}

impl From<&CompanyDetails> for CompanyInput {
    fn from(details: &CompanyDetails) -> Self {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            name: details.name.clone(),
            legal_name: text(&details.legal_name),
            address: text(&details.address),
            phone: text(&details.phone),
            vat_number: text(&details.vat_number),
            registration_number: text(&details.registration_number),
        }
    }
}

impl CompanyDetails {
    /// The longest legal name.
    pub const LEGAL_NAME_MAX: usize = 200;
    /// The longest address, all lines together.
    pub const ADDRESS_MAX: usize = 400;
    /// The most lines of an address.
    pub const ADDRESS_LINES_MAX: usize = 6;
    /// The longest registration number, as typed.
    pub const REGISTRATION_NUMBER_MAX: usize = 40;
}

impl CompanyInput {
    /// Every field's problem at once, named by its field.
    pub fn parse(&self) -> Result<CompanyDetails, Vec<(&'static str, ValidationError)>> {
        let mut errors = Vec::new();
        fn keep<T>(
            errors: &mut Vec<(&'static str, ValidationError)>,
            field: &'static str,
            result: Result<T, ValidationError>,
        ) -> Option<T> {
            result.map_err(|e| errors.push((field, e))).ok()
        }
        let name = keep(
            &mut errors,
            "name",
            text::bounded(&self.name, "name", DisplayName::MAX),
        );
        let legal_name = keep(
            &mut errors,
            "legal_name",
            text::optional(
                &self.legal_name,
                "legal_name",
                CompanyDetails::LEGAL_NAME_MAX,
            ),
        );
        let address = keep(&mut errors, "address", parse_address(&self.address));
        let phone = keep(
            &mut errors,
            "phone",
            crate::profile::parse_phone(&self.phone),
        );
        let vat_number = keep(
            &mut errors,
            "vat_number",
            parse_vat_number(&self.vat_number),
        );
        let registration_number = keep(
            &mut errors,
            "registration_number",
            parse_registration_number(&self.registration_number),
        );
        match (
            name,
            legal_name,
            address,
            phone,
            vat_number,
            registration_number,
        ) {
            (
                Some(name),
                Some(legal_name),
                Some(address),
                Some(phone),
                Some(vat_number),
                Some(registration_number),
            ) if errors.is_empty() => Ok(CompanyDetails {
                name,
                legal_name,
                address,
                phone,
                vat_number,
                registration_number,
            }),
            _ => Err(errors),
        }
    }
}

/// A postal address: a few lines, each trimmed, blank lines dropped.
fn parse_address(input: &str) -> Result<Option<String>, ValidationError> {
    let field = "address";
    let lines: Vec<&str> = input
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return Ok(None);
    }
    let address = lines.join("\n");
    if address.chars().count() > CompanyDetails::ADDRESS_MAX {
        return Err(ValidationError::TooLong {
            field,
            max: CompanyDetails::ADDRESS_MAX,
        });
    }
    if lines.len() > CompanyDetails::ADDRESS_LINES_MAX {
        return Err(ValidationError::TooManyLines {
            field,
            max: CompanyDetails::ADDRESS_LINES_MAX,
        });
    }
    if lines.iter().any(|l| l.chars().any(char::is_control)) {
        return Err(ValidationError::ControlCharacters { field });
    }
    Ok(Some(address))
}

/// A VAT (or tax) identification number: a two-letter country prefix then 2
/// to 13 letters or digits, at least two of them digits — the shape of every
/// EU number (`FR40303265045`, `DE136695976`), of the UK's (`GB123456789`)
/// and Switzerland's (`CHE123456789`). Spaces, dots and dashes people type
/// are dropped; letters are put in upper case.
fn parse_vat_number(input: &str) -> Result<Option<String>, ValidationError> {
    let typed = input.trim();
    if typed.is_empty() {
        return Ok(None);
    }
    if typed.chars().count() > 30 {
        return Err(ValidationError::VatNumber);
    }
    let compact: String = typed
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let (prefix, rest) = compact.split_at(compact.len().min(2));
    let valid = prefix.len() == 2
        && prefix.chars().all(|c| c.is_ascii_uppercase())
        && (2..=13).contains(&rest.len())
        && rest.chars().all(|c| c.is_ascii_alphanumeric())
        && rest.chars().filter(char::is_ascii_digit).count() >= 2;
    if valid {
        Ok(Some(compact))
    } else {
        Err(ValidationError::VatNumber)
    }
}

/// A company registration number as registries print them (SIREN/SIRET
/// `732 829 320 00074`, `HRB 12345`, `SC123456`, `12-3456789`): letters,
/// digits, spaces, `.`, `-` and `/`, with at least one digit and 2 to 30
/// letters or digits.
fn parse_registration_number(input: &str) -> Result<Option<String>, ValidationError> {
    let Some(number) = text::optional(
        input,
        "registration_number",
        CompanyDetails::REGISTRATION_NUMBER_MAX,
    )?
    else {
        return Ok(None);
    };
    let allowed = number
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " .-/".contains(c));
    let alphanumerics = number.chars().filter(char::is_ascii_alphanumeric).count();
    let digits = number.chars().filter(char::is_ascii_digit).count();
    if allowed && (2..=30).contains(&alphanumerics) && digits >= 1 {
        Ok(Some(number))
    } else {
        Err(ValidationError::RegistrationNumber)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> CompanyInput {
        CompanyInput {
            name: " Cabinet Lima ".into(),
            legal_name: "".into(),
            address: "12 rue de la Paix\n\n 75002 Paris \nFrance".into(),
            phone: "+33 1 23 45 67 89".into(),
            vat_number: "fr 40 303 265 045".into(),
            registration_number: "732 829 320 00074".into(),
        }
    }

    #[test]
    fn valid_details_are_trimmed_and_normalized() {
        let details = input().parse().unwrap();
        assert_eq!(details.name, "Cabinet Lima");
        assert_eq!(details.legal_name, None);
        assert_eq!(
            details.address.as_deref(),
            Some("12 rue de la Paix\n75002 Paris\nFrance")
        );
        assert_eq!(details.vat_number.as_deref(), Some("FR40303265045"));
        assert_eq!(CompanyInput::from(&details).parse().unwrap(), details);
    }

    #[test]
    fn international_numbers_are_accepted() {
        for vat in [
            "DE136695976",
            "GB 123 4567 89",
            "CHE-123.456.789",
            "IT12345678901",
        ] {
            assert!(parse_vat_number(vat).is_ok(), "{vat}");
        }
        for number in ["HRB 12345", "SC123456", "12-3456789", "B 123.456.789"] {
            assert!(parse_registration_number(number).is_ok(), "{number}");
        }
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = CompanyInput {
            name: " ".into(),
            address: "a\nb\nc\nd\ne\nf\ng".into(),
            phone: "call us".into(),
            vat_number: "12345".into(),
            registration_number: "n/a".into(),
            ..input()
        };
        let fields: Vec<_> = bad
            .parse()
            .unwrap_err()
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        assert_eq!(
            fields,
            [
                "name",
                "address",
                "phone",
                "vat_number",
                "registration_number"
            ]
        );
        for vat in ["FRANCE", "F1234", "FR1", "FR12345678901234", "FR12_345"] {
            assert_eq!(
                parse_vat_number(vat),
                Err(ValidationError::VatNumber),
                "{vat}"
            );
        }
    }
}
