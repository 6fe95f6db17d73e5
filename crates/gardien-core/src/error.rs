//! The validation error of the core: what is wrong with one outside value.

/// A value from outside that the core refuses, with a stable code the web
/// layer maps to a problem `type` and to a localized message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    #[error("the email address is empty")]
    EmailEmpty,
    #[error("the email address is longer than 254 characters")]
    EmailTooLong,
    #[error("the email address has no '@' between a name and a domain")]
    EmailMissingAt,
    #[error("the part before '@' is not valid: {0}")]
    EmailLocalPart(&'static str),
    #[error("the domain after '@' is not valid: {0}")]
    EmailDomain(&'static str),
    #[error("{field} is empty")]
    Empty { field: &'static str },
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} contains control characters")]
    ControlCharacters { field: &'static str },
    #[error(
        "'{0}' is not a permission key: use lowercase words separated by dots, such as mail.read"
    )]
    PermissionKey(String),
    #[error("'{0}' is not a resource type: use a lowercase letter, then lowercase letters, digits, '_', '-' or '.', such as order")]
    ResourceType(String),
    #[error("'{0}' is not a known value for {1}")]
    UnknownValue(String, &'static str),
    #[error("the token is malformed")]
    MalformedToken,
    #[error("the password has fewer than {min} characters")]
    PasswordTooShort { min: usize },
    #[error("the password has more than {max} characters")]
    PasswordTooLong { max: usize },
    #[error("the password contains the email address")]
    PasswordContainsEmail,
    #[error("the password is one of the most common passwords")]
    PasswordCommon,
    #[error("the current password is wrong")]
    CurrentPasswordWrong,
    #[error("the notification email is the login email")]
    NotificationEmailIsLoginEmail,
    #[error("this is already the login email")]
    SameAsLoginEmail,
    #[error("the phone number is not valid")]
    PhoneNumber,
    #[error("{field} has more than {max} lines")]
    TooManyLines { field: &'static str, max: usize },
    #[error("the VAT number is not valid")]
    VatNumber,
    #[error("the registration number is not valid")]
    RegistrationNumber,
    /// A redirect URI a client may not register, and why.
    #[error("{0}")]
    RedirectUri(String),
}

impl ValidationError {
    /// A stable, machine-readable code (used as the last segment of the
    /// problem `type` URI and as the key of the localized message).
    pub fn code(&self) -> &'static str {
        match self {
            Self::EmailEmpty => "email-empty",
            Self::EmailTooLong => "email-too-long",
            Self::EmailMissingAt => "email-missing-at",
            Self::EmailLocalPart(_) => "email-local-part",
            Self::EmailDomain(_) => "email-domain",
            Self::Empty { .. } => "empty",
            Self::TooLong { .. } => "too-long",
            Self::ControlCharacters { .. } => "control-characters",
            Self::PermissionKey(_) => "permission-key",
            Self::ResourceType(_) => "resource-type",
            Self::UnknownValue(..) => "unknown-value",
            Self::MalformedToken => "malformed-token",
            Self::PasswordTooShort { .. } => "password-too-short",
            Self::PasswordTooLong { .. } => "password-too-long",
            Self::PasswordContainsEmail => "password-contains-email",
            Self::PasswordCommon => "password-common",
            Self::CurrentPasswordWrong => "current-password-wrong",
            Self::NotificationEmailIsLoginEmail => "notification-email-is-login-email",
            Self::SameAsLoginEmail => "same-as-login-email",
            Self::PhoneNumber => "phone-number",
            Self::TooManyLines { .. } => "too-many-lines",
            Self::VatNumber => "vat-number",
            Self::RegistrationNumber => "registration-number",
            Self::RedirectUri(_) => "redirect-uri",
        }
    }
}
