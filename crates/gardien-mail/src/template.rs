//! The mails Gardien sends, in French and English: a subject, a plain-text
//! body and an HTML body each, rendered by compile-time checked askama
//! templates (`templates/mail.{html,txt}` and one partial per mail).
//!
//! Mails are rendered when they are enqueued, in the transaction of the change
//! that causes them: the outbox stores finished messages, so a later template
//! change never alters a mail already promised.

use askama::Template;
use gardien_core::{Email, Language, MailId};
use gardien_store::NewMail;

/// The name shown in the header and footer of every mail.
pub const PRODUCT_NAME: &str = "Gardien";

/// A mail to render, with the values it shows. Links are absolute URLs built
/// by the service layer; every value is escaped in the HTML body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailTemplate {
    /// The operator's "does my mail setup work" message.
    TestMessage,
    /// Confirms that an address belongs to the person who signed up with it.
    VerifyEmail { link: String },
    /// Invites a person to join an organization.
    Invitation {
        organization: String,
        inviter_name: String,
        link: String,
        personal_message: Option<String>,
        expires_in_days: u32,
        /// Labels of the resources assigned with the invitation.
        resources: Vec<String>,
    },
    /// A single-use link to choose a new password.
    PasswordReset {
        link: String,
        expires_in_minutes: u32,
    },
    /// Sent at sign-up with an address that already has an account, so the
    /// sign-up response itself never reveals that the account exists.
    AlreadyHaveAccount {
        login_link: String,
        reset_link: String,
    },
    /// An administrator activated a membership that was pending activation.
    MembershipActivated { organization: String, link: String },
    /// Sent to the new address of a login email change: the change happens
    /// only when this link is opened.
    EmailChangeConfirm {
        new_email: String,
        link: String,
        expires_in_hours: u32,
    },
    /// Sent to the old address once the login email changed.
    EmailChanged { new_email: String },
    /// Sent to the requested new address when it already has an account, so
    /// the request's answer never reveals it.
    EmailChangeAddressTaken { login_link: String },
    /// Resources of the host were assigned to the member (one message per
    /// member and change, listing their labels).
    ResourceAssigned {
        organization: String,
        resources: Vec<String>,
        link: String,
    },
    /// The owner of an organization handed its ownership to the recipient.
    OwnershipReceived {
        organization: String,
        previous_owner: String,
        link: String,
    },
}

/// A rendered mail: what the outbox stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Template)]
#[template(path = "mail.html")]
struct HtmlBody<'a> {
    mail: &'a MailTemplate,
    fr: bool,
    product: &'a str,
    subject: &'a str,
}

#[derive(Template)]
#[template(path = "mail.txt")]
struct TextBody<'a> {
    mail: &'a MailTemplate,
    fr: bool,
    product: &'a str,
}

/// Renders `template` in `language`.
pub fn render(template: &MailTemplate, language: Language) -> Rendered {
    let fr = language == Language::Fr;
    let subject = subject(template, language);
    let html = HtmlBody {
        mail: template,
        fr,
        product: PRODUCT_NAME,
        subject: &subject,
    }
    .render();
    let text = TextBody {
        mail: template,
        fr,
        product: PRODUCT_NAME,
    }
    .render();
    // The templates only display `String`s and integers, whose `Display`
    // cannot fail, and use no fallible filter: rendering cannot fail, and a
    // failure would be a bug in this crate, caught by the tests below.
    let (html, text) = (
        html.expect("mail HTML templates are infallible"),
        text.expect("mail text templates are infallible"),
    );
    Rendered {
        subject,
        text: tidy_text(&text),
        html,
    }
}

/// Renders `template` for `to` as a message ready for the outbox, with a
/// fresh id.
pub fn new_mail(to: Email, template: &MailTemplate, language: Language) -> NewMail {
    let Rendered {
        subject,
        text,
        html,
    } = render(template, language);
    NewMail {
        id: MailId::new(),
        to,
        subject,
        text_body: text,
        html_body: html,
    }
}

fn subject(template: &MailTemplate, language: Language) -> String {
    use MailTemplate::*;
    let fr = language == Language::Fr;
    let subject = match template {
        TestMessage if fr => format!("Message de test de {PRODUCT_NAME}"),
        TestMessage => format!("{PRODUCT_NAME} test message"),
        VerifyEmail { .. } if fr => "Confirmez votre adresse e-mail".to_owned(),
        VerifyEmail { .. } => "Confirm your email address".to_owned(),
        Invitation {
            organization,
            inviter_name,
            ..
        } if fr => format!("{inviter_name} vous invite à rejoindre {organization}"),
        Invitation {
            organization,
            inviter_name,
            ..
        } => format!("{inviter_name} invited you to join {organization}"),
        PasswordReset { .. } if fr => "Réinitialisez votre mot de passe".to_owned(),
        PasswordReset { .. } => "Reset your password".to_owned(),
        AlreadyHaveAccount { .. } if fr => "Vous avez déjà un compte".to_owned(),
        AlreadyHaveAccount { .. } => "You already have an account".to_owned(),
        MembershipActivated { organization, .. } if fr => {
            format!("Votre accès à {organization} est activé")
        }
        MembershipActivated { organization, .. } => {
            format!("Your access to {organization} is active")
        }
        EmailChangeConfirm { .. } if fr => {
            "Confirmez votre nouvelle adresse de connexion".to_owned()
        }
        EmailChangeConfirm { .. } => "Confirm your new login address".to_owned(),
        EmailChanged { .. } if fr => "Votre adresse de connexion a changé".to_owned(),
        EmailChanged { .. } => "Your login address has changed".to_owned(),
        EmailChangeAddressTaken { .. } if fr => "Cette adresse a déjà un compte".to_owned(),
        EmailChangeAddressTaken { .. } => "This address already has an account".to_owned(),
        OwnershipReceived { organization, .. } if fr => {
            format!("Vous êtes désormais propriétaire de {organization}")
        }
        OwnershipReceived { organization, .. } => format!("You now own {organization}"),
        ResourceAssigned {
            organization,
            resources,
            ..
        } if fr => match resources.as_slice() {
            [one] => format!("Nouvelle attribution dans {organization}\u{a0}: {one}"),
            many => format!("{} nouvelles attributions dans {organization}", many.len()),
        },
        ResourceAssigned {
            organization,
            resources,
            ..
        } => match resources.as_slice() {
            [one] => format!("New assignment in {organization}: {one}"),
            many => format!("{} new assignments in {organization}", many.len()),
        },
    };
    one_line(&subject)
}

/// A subject is one header line: control characters (a line break in an
/// organization's name) become spaces, runs of spaces one space.
fn one_line(s: &str) -> String {
    let mut line = String::with_capacity(s.len());
    for c in s.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if c == ' ' && (line.is_empty() || line.ends_with(' ')) {
            continue;
        }
        line.push(c);
    }
    line.truncate(line.trim_end().len());
    line
}

/// Template whitespace, normalized once here rather than fought in every
/// template: no trailing spaces (except the `-- ` signature separator), at
/// most one blank line in a row, no blank lines at either end.
fn tidy_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.lines() {
        let line = if line == "-- " { line } else { line.trim_end() };
        if line.is_empty() {
            blank_run += 1;
            if blank_run > 1 || out.is_empty() {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "<script>alert(\"x\")</script> & Cie";

    fn samples(value: &str) -> Vec<MailTemplate> {
        vec![
            MailTemplate::TestMessage,
            MailTemplate::VerifyEmail {
                link: "https://gardien.example/verify?t=abc&x=1".into(),
            },
            MailTemplate::Invitation {
                organization: value.into(),
                inviter_name: value.into(),
                link: "https://gardien.example/invitations/tok1".into(),
                personal_message: Some(format!("Bienvenue !\n{value}")),
                expires_in_days: 7,
                resources: vec![value.into()],
            },
            MailTemplate::PasswordReset {
                link: "https://gardien.example/reset/tok2".into(),
                expires_in_minutes: 30,
            },
            MailTemplate::AlreadyHaveAccount {
                login_link: "https://gardien.example/login".into(),
                reset_link: "https://gardien.example/password-resets/new".into(),
            },
            MailTemplate::MembershipActivated {
                organization: value.into(),
                link: "https://gardien.example/o/1/".into(),
            },
            MailTemplate::ResourceAssigned {
                organization: value.into(),
                resources: vec![value.into(), "Order 43".into()],
                link: "https://gardien.example/o/1/orders/42".into(),
            },
            MailTemplate::EmailChangeConfirm {
                new_email: value.into(),
                link: "https://gardien.example/email-changes/tok3".into(),
                expires_in_hours: 24,
            },
            MailTemplate::EmailChanged {
                new_email: value.into(),
            },
            MailTemplate::EmailChangeAddressTaken {
                login_link: "https://gardien.example/login".into(),
            },
            MailTemplate::OwnershipReceived {
                organization: value.into(),
                previous_owner: value.into(),
                link: "https://gardien.example/o/1/team".into(),
            },
        ]
    }

    fn links(template: &MailTemplate) -> Vec<&str> {
        match template {
            MailTemplate::TestMessage | MailTemplate::EmailChanged { .. } => vec![],
            MailTemplate::VerifyEmail { link }
            | MailTemplate::Invitation { link, .. }
            | MailTemplate::PasswordReset { link, .. }
            | MailTemplate::MembershipActivated { link, .. }
            | MailTemplate::ResourceAssigned { link, .. }
            | MailTemplate::OwnershipReceived { link, .. }
            | MailTemplate::EmailChangeConfirm { link, .. }
            | MailTemplate::EmailChangeAddressTaken { login_link: link } => vec![link],
            MailTemplate::AlreadyHaveAccount {
                login_link,
                reset_link,
            } => vec![login_link, reset_link],
        }
    }

    #[test]
    fn every_template_renders_in_both_languages() {
        for template in samples("Cabinet Dupont") {
            let en = render(&template, Language::En);
            let fr = render(&template, Language::Fr);
            for (r, hello, footer) in [
                (&en, "Hello,", "Please do not reply"),
                (&fr, "Bonjour,", "Merci de ne pas y répondre"),
            ] {
                assert!(!r.subject.is_empty(), "{template:?}");
                assert!(r.text.starts_with(hello), "{template:?}: {}", r.text);
                assert!(r.text.contains(footer), "{template:?}: {}", r.text);
                assert!(
                    r.text.contains("\n-- \n"),
                    "{template:?}: signature separator"
                );
                assert!(r.html.contains(hello), "{template:?}");
                assert!(r.html.contains(footer), "{template:?}");
                assert!(r.html.starts_with("<!DOCTYPE html>"), "{template:?}");
                assert!(r.html.contains(PRODUCT_NAME));
                assert!(!r.text.contains("\n\n\n"), "{template:?}: {}", r.text);
            }
            assert!(en.html.contains("<html lang=\"en\">"));
            assert!(fr.html.contains("<html lang=\"fr\">"));
            assert_ne!(en.subject, fr.subject);
            assert_ne!(en.text, fr.text);
        }
    }

    #[test]
    fn links_are_in_both_bodies() {
        for template in samples("Cabinet Dupont") {
            for language in Language::ALL {
                let r = render(&template, language);
                for link in links(&template) {
                    assert!(
                        r.text.contains(link),
                        "{template:?} {language}: text lacks {link}"
                    );
                    let escaped = link.replace('&', "&#38;");
                    assert!(
                        r.html.contains(&format!("href=\"{escaped}\"")),
                        "{template:?} {language}: HTML lacks a link to {link}:\n{}",
                        r.html
                    );
                }
            }
        }
    }

    #[test]
    fn values_are_escaped_in_html_and_kept_in_text() {
        for template in samples(HOSTILE).into_iter().skip(2) {
            if matches!(
                template,
                MailTemplate::PasswordReset { .. }
                    | MailTemplate::AlreadyHaveAccount { .. }
                    | MailTemplate::EmailChangeAddressTaken { .. }
            ) {
                continue;
            }
            for language in Language::ALL {
                let r = render(&template, language);
                assert!(!r.html.contains("<script>"), "{template:?}: {}", r.html);
                assert!(
                    r.html.contains("&#60;script&#62;"),
                    "{template:?}: {}",
                    r.html
                );
                assert!(r.text.contains(HOSTILE), "{template:?}: {}", r.text);
            }
        }
    }

    #[test]
    fn personal_message_is_quoted_only_when_given() {
        let with = samples("Cabinet Dupont").swap_remove(2);
        let MailTemplate::Invitation {
            organization,
            inviter_name,
            link,
            expires_in_days,
            ..
        } = with.clone()
        else {
            unreachable!()
        };
        let without = MailTemplate::Invitation {
            organization,
            inviter_name,
            link,
            personal_message: None,
            expires_in_days,
            resources: vec![],
        };
        let r = render(&with, Language::Fr);
        assert!(r.text.contains("Bienvenue !"));
        assert!(r.html.contains("<blockquote"));
        let r = render(&without, Language::Fr);
        assert!(!r.text.contains("vous a écrit"));
        assert!(!r.html.contains("<blockquote"));
    }

    #[test]
    fn plurals_follow_the_count() {
        let invitation = |days| MailTemplate::Invitation {
            organization: "Acme".into(),
            inviter_name: "Ana".into(),
            link: "https://x.example/i".into(),
            personal_message: None,
            expires_in_days: days,
            resources: vec![],
        };
        assert!(render(&invitation(1), Language::En)
            .text
            .contains("expires in 1 day."));
        assert!(render(&invitation(7), Language::En)
            .text
            .contains("expires in 7 days."));
        assert!(render(&invitation(1), Language::Fr)
            .text
            .contains("expire dans 1 jour."));
        assert!(render(&invitation(7), Language::Fr)
            .text
            .contains("expire dans 7 jours."));
    }

    #[test]
    fn subjects_are_one_line() {
        let template = MailTemplate::MembershipActivated {
            organization: "Acme\r\nBcc: victim@example.com".into(),
            link: "https://x.example".into(),
        };
        let r = render(&template, Language::En);
        assert_eq!(
            r.subject,
            "Your access to Acme Bcc: victim@example.com is active"
        );
        let fr = render(&template, Language::Fr).subject;
        assert_eq!(fr, "Votre accès à Acme Bcc: victim@example.com est activé");
    }

    #[test]
    fn new_mail_carries_the_rendered_message_with_a_fresh_id() {
        let to = Email::parse("ana@cabinet.fr").unwrap();
        let template = MailTemplate::TestMessage;
        let a = new_mail(to.clone(), &template, Language::Fr);
        let b = new_mail(to.clone(), &template, Language::Fr);
        assert_ne!(a.id, b.id);
        assert_eq!(a.to, to);
        let r = render(&template, Language::Fr);
        assert_eq!(
            (a.subject, a.text_body, a.html_body),
            (r.subject, r.text, r.html)
        );
    }
}
