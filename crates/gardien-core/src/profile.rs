//! A person's profile (flow 12): what they edit about themselves. The login
//! email is not part of it (it changes only through a confirmed link).

use crate::{text, Email, Language, ValidationError};

/// The longest first or last name.
pub const NAME_MAX: usize = 100;
/// The longest title ("Office manager").
pub const TITLE_MAX: usize = 100;
/// The longest phone number, as typed.
pub const PHONE_MAX: usize = 32;

/// The profile of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub first_name: String,
    pub last_name: String,
    pub phone: Option<String>,
    pub title: Option<String>,
    /// Where messages go when set (seed 001); never the login email.
    pub notification_email: Option<Email>,
    pub language: Language,
}

/// A profile as typed (every field as text; blank optional fields are none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileInput {
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    pub title: String,
    pub notification_email: String,
    pub language: String,
}

impl From<&Profile> for ProfileInput {
    fn from(profile: &Profile) -> Self {
        Self {
            first_name: profile.first_name.clone(),
            last_name: profile.last_name.clone(),
            phone: profile.phone.clone().unwrap_or_default(),
            title: profile.title.clone().unwrap_or_default(),
            notification_email: profile
                .notification_email
                .as_ref()
                .map(|e| e.as_str().to_owned())
                .unwrap_or_default(),
            language: profile.language.code().to_owned(),
        }
    }
}

impl ProfileInput {
    /// Every field's problem at once, named by its field, so that a form can
    /// show each next to its input.
    pub fn parse(
        &self,
        login_email: &Email,
    ) -> Result<Profile, Vec<(&'static str, ValidationError)>> {
        let mut errors = Vec::new();
        fn keep<T>(
            errors: &mut Vec<(&'static str, ValidationError)>,
            field: &'static str,
            result: Result<T, ValidationError>,
        ) -> Option<T> {
            result.map_err(|e| errors.push((field, e))).ok()
        }
        let first_name = keep(
            &mut errors,
            "first_name",
            text::bounded(&self.first_name, "first_name", NAME_MAX),
        );
        let last_name = keep(
            &mut errors,
            "last_name",
            text::bounded(&self.last_name, "last_name", NAME_MAX),
        );
        let title = keep(
            &mut errors,
            "title",
            text::optional(&self.title, "title", TITLE_MAX),
        );
        let phone = keep(&mut errors, "phone", parse_phone(&self.phone));
        let notification_email = keep(
            &mut errors,
            "notification_email",
            parse_notification_email(&self.notification_email, login_email),
        );
        let language = keep(
            &mut errors,
            "language",
            self.language.trim().parse::<Language>(),
        );
        match (
            first_name,
            last_name,
            title,
            phone,
            notification_email,
            language,
        ) {
            (
                Some(first_name),
                Some(last_name),
                Some(title),
                Some(phone),
                Some(notification_email),
                Some(language),
            ) if errors.is_empty() => Ok(Profile {
                first_name,
                last_name,
                phone,
                title,
                notification_email,
                language,
            }),
            _ => Err(errors),
        }
    }
}

/// A phone number as people type it: digits with `+`, spaces, dots, dashes
/// and parentheses; 6 to 20 digits.
pub fn parse_phone(input: &str) -> Result<Option<String>, ValidationError> {
    let Some(phone) = text::optional(input, "phone", PHONE_MAX)? else {
        return Ok(None);
    };
    let allowed = phone
        .chars()
        .all(|c| c.is_ascii_digit() || " +.-()".contains(c));
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let plus_first = phone.rfind('+').is_none_or(|i| i == 0);
    if allowed && plus_first && (6..=20).contains(&digits) {
        Ok(Some(phone))
    } else {
        Err(ValidationError::PhoneNumber)
    }
}

fn parse_notification_email(
    input: &str,
    login_email: &Email,
) -> Result<Option<Email>, ValidationError> {
    if input.trim().is_empty() {
        return Ok(None);
    }
    let email = Email::parse(input)?;
    if email.normalized() == login_email.normalized() {
        return Err(ValidationError::NotificationEmailIsLoginEmail);
    }
    Ok(Some(email))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ProfileInput {
        ProfileInput {
            first_name: " Ana ".into(),
            last_name: "Lima".into(),
            phone: "+33 6 12 34 56 78".into(),
            title: "".into(),
            notification_email: "billing@example.fr".into(),
            language: "fr".into(),
        }
    }

    #[test]
    fn a_valid_profile_is_trimmed_and_blank_fields_are_none() {
        let login = Email::parse("ana@example.fr").unwrap();
        let profile = input().parse(&login).unwrap();
        assert_eq!(profile.first_name, "Ana");
        assert_eq!(profile.title, None);
        assert_eq!(profile.phone.as_deref(), Some("+33 6 12 34 56 78"));
        assert_eq!(ProfileInput::from(&profile).parse(&login).unwrap(), profile);
    }

    #[test]
    fn every_bad_field_is_named() {
        let login = Email::parse("ana@example.fr").unwrap();
        let bad = ProfileInput {
            first_name: " ".into(),
            phone: "call me".into(),
            notification_email: " ANA@example.fr".into(),
            language: "de".into(),
            ..input()
        };
        let fields: Vec<_> = bad
            .parse(&login)
            .unwrap_err()
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        assert_eq!(
            fields,
            ["first_name", "phone", "notification_email", "language"]
        );
        assert_eq!(parse_phone("12+345678"), Err(ValidationError::PhoneNumber));
        assert_eq!(parse_phone("123"), Err(ValidationError::PhoneNumber));
    }
}
