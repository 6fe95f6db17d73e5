//! Where mail goes: an SMTP relay (production) or a folder of `.eml` files
//! (development, and the default). Both send the same message, built once
//! here: From, To, Subject, a text + HTML alternative, and a `Message-ID`
//! derived from the outbox id, the same on every attempt, so a message
//! delivered twice (a crash between the server's answer and `mark_mail_sent`)
//! is recognisable as a duplicate by whoever receives it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use gardien_core::MailId;
use gardien_store::NewMail;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::io::AsyncWriteExt;

use crate::MailError;

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmtpTls {
    /// Plain text. Only for a relay on the same host or a test server.
    None,
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    #[default]
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// The SMTP relay Gardien hands its mail to.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<String>,
    /// For connecting and for each command.
    pub timeout: Duration,
}

impl SmtpSettings {
    /// The default timeout of SMTP connections and commands.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

    /// Settings without credentials and with the default timeout.
    pub fn new(host: impl Into<String>, port: u16, tls: SmtpTls) -> Self {
        Self {
            host: host.into(),
            port,
            tls,
            username: None,
            password: None,
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }
}

impl fmt::Debug for SmtpSettings {
    // Never print the password (settings end up in start-up logs).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Where delivered mail goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    Smtp(SmtpSettings),
    /// One `<mail id>.eml` file per message in this folder, created if needed.
    Folder(PathBuf),
}

/// The mailbox mail is sent from, such as `Gardien <no-reply@gardien.example>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender(Mailbox);

impl Sender {
    pub fn mailbox(&self) -> &Mailbox {
        &self.0
    }

    /// The domain of the address: the right-hand side of every `Message-ID`.
    pub fn domain(&self) -> &str {
        self.0.email.domain()
    }
}

impl Default for Sender {
    fn default() -> Self {
        Self(Mailbox::new(
            Some("Gardien".to_owned()),
            Address::new_dangerous("no-reply", "localhost"),
        ))
    }
}

impl FromStr for Sender {
    type Err = MailError;
    /// Parses `Name <address>` or a bare address.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim().parse::<Mailbox>().map(Self).map_err(|e| {
            MailError::Config(format!(
                "the sender '{s}' is not a mailbox such as 'Gardien <no-reply@example.com>': {e}"
            ))
        })
    }
}

impl fmt::Display for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The `Message-ID` of an outbox message: stable across attempts.
pub fn message_id(id: MailId, sender: &Sender) -> String {
    format!("<{id}@{}>", sender.domain())
}

/// Sends finished messages through one [`Transport`].
#[derive(Clone)]
pub struct Mailer {
    sender: Sender,
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Folder(PathBuf),
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let transport = match &self.inner {
            Inner::Smtp(_) => "smtp".to_owned(),
            Inner::Folder(path) => format!("folder {}", path.display()),
        };
        f.debug_struct("Mailer")
            .field("sender", &self.sender)
            .field("transport", &transport)
            .finish()
    }
}

impl Mailer {
    /// Prepares the transport. Connects to nothing yet: an SMTP server that
    /// is down at start-up only delays mail, it does not stop Gardien.
    pub fn new(transport: Transport, sender: Sender) -> Result<Self, MailError> {
        let inner = match transport {
            Transport::Folder(path) => Inner::Folder(path),
            Transport::Smtp(settings) => Inner::Smtp(smtp_transport(settings)?),
        };
        Ok(Self { sender, inner })
    }

    pub fn sender(&self) -> &Sender {
        &self.sender
    }

    /// The email for `mail`, as it goes on the wire.
    pub fn build(&self, mail: &NewMail) -> Result<Message, MailError> {
        let to: Address = mail.to.as_str().parse().map_err(|e| {
            MailError::Message(format!("the address of mail {} is refused: {e}", mail.id))
        })?;
        Message::builder()
            .from(self.sender.0.clone())
            .to(Mailbox::new(None, to))
            .subject(mail.subject.as_str())
            .message_id(Some(message_id(mail.id, &self.sender)))
            // RFC 3834: tells auto-responders (vacation replies) to stay quiet.
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".to_owned(),
            ))
            .multipart(MultiPart::alternative_plain_html(
                mail.text_body.clone(),
                mail.html_body.clone(),
            ))
            .map_err(|e| MailError::Message(format!("mail {}: {e}", mail.id)))
    }

    /// Delivers `mail` once.
    pub async fn send(&self, mail: &NewMail) -> Result<(), MailError> {
        let message = self.build(mail)?;
        match &self.inner {
            Inner::Smtp(smtp) => {
                smtp.send(message).await?;
            }
            Inner::Folder(dir) => write_eml(dir, mail.id, &message.formatted()).await?,
        }
        Ok(())
    }
}

fn smtp_transport(settings: SmtpSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
    let SmtpSettings {
        host,
        port,
        tls,
        username,
        password,
        timeout,
    } = settings;
    if host.trim().is_empty() {
        return Err(MailError::Config("the SMTP host is empty".to_owned()));
    }
    let tls_parameters = || {
        TlsParameters::new(host.clone()).map_err(|e| {
            MailError::Config(format!("cannot set up TLS for the SMTP host '{host}': {e}"))
        })
    };
    let tls = match tls {
        SmtpTls::None => Tls::None,
        SmtpTls::StartTls => Tls::Required(tls_parameters()?),
        SmtpTls::Tls => Tls::Wrapper(tls_parameters()?),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
        .port(port)
        .tls(tls)
        .timeout(Some(timeout));
    match (username, password) {
        (Some(username), password) => {
            builder = builder.credentials(Credentials::new(username, password.unwrap_or_default()));
        }
        (None, Some(_)) => {
            return Err(MailError::Config(
                "an SMTP password is set without a username".to_owned(),
            ))
        }
        (None, None) => {}
    }
    Ok(builder.build())
}

/// Writes `<id>.eml` atomically: readers (the dev mailbox page, a person's
/// mail client) see the whole file or nothing. Writing the same message again
/// replaces the file, so a message delivered twice leaves one file.
async fn write_eml(dir: &Path, id: MailId, bytes: &[u8]) -> Result<(), MailError> {
    let folder_error = |source| MailError::Folder {
        path: dir.to_owned(),
        source,
    };
    tokio::fs::create_dir_all(dir).await.map_err(folder_error)?;
    let target = dir.join(format!("{id}.eml"));
    // Hidden and unique, so concurrent writers never share a temporary file
    // and a reader listing `*.eml` never sees one.
    let temporary = dir.join(format!(".{id}.{}.tmp", uuid::Uuid::new_v4()));
    let written = async {
        let mut file = tokio::fs::File::create(&temporary).await?;
        file.write_all(bytes).await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&temporary, &target).await
    }
    .await;
    if let Err(source) = written {
        let _ = tokio::fs::remove_file(&temporary).await;
        return Err(folder_error(source));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gardien_core::Email;

    fn mail() -> NewMail {
        NewMail {
            id: MailId::new(),
            to: Email::parse("Ana.Martin@cabinet.fr").unwrap(),
            subject: "Votre accès à Société Générale est activé".into(),
            text_body: "Bonjour,\n\nle texte.\n".into(),
            html_body: "<p>Bonjour,</p>".into(),
        }
    }

    #[test]
    fn sender_parses_name_and_address() {
        let sender: Sender = "Cabinet Dupont <no-reply@dupont.example>".parse().unwrap();
        assert_eq!(sender.domain(), "dupont.example");
        assert_eq!(
            Sender::default().to_string(),
            "Gardien <no-reply@localhost>"
        );
        assert!(matches!(
            "not a mailbox".parse::<Sender>(),
            Err(MailError::Config(_))
        ));
    }

    #[test]
    fn message_has_stable_id_and_both_parts() {
        let mailer = Mailer::new(Transport::Folder("unused".into()), Sender::default()).unwrap();
        let mail = mail();
        let first = String::from_utf8(mailer.build(&mail).unwrap().formatted()).unwrap();
        let second = String::from_utf8(mailer.build(&mail).unwrap().formatted()).unwrap();
        let id_header = format!("Message-ID: <{}@localhost>", mail.id);
        for text in [&first, &second] {
            assert!(text.contains(&id_header), "{text}");
            assert!(
                text.contains("From: Gardien <no-reply@localhost>"),
                "{text}"
            );
            assert!(text.contains("To: Ana.Martin@cabinet.fr"), "{text}");
            assert!(text.contains("Auto-Submitted: auto-generated"), "{text}");
            assert!(text.contains("multipart/alternative"), "{text}");
            assert!(text.contains("text/plain"), "{text}");
            assert!(text.contains("text/html"), "{text}");
        }
    }

    #[test]
    fn password_is_not_debug_printed() {
        let mut settings = SmtpSettings::new("smtp.example.com", 587, SmtpTls::StartTls);
        settings.username = Some("gardien".into());
        settings.password = Some("hunter2".into());
        let printed = format!("{settings:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("gardien"));
    }

    #[test]
    fn bad_smtp_settings_are_a_config_error() {
        let settings = SmtpSettings::new("  ", 25, SmtpTls::None);
        assert!(matches!(
            Mailer::new(Transport::Smtp(settings), Sender::default()),
            Err(MailError::Config(_))
        ));
        let mut settings = SmtpSettings::new("smtp.example.com", 25, SmtpTls::None);
        settings.password = Some("x".into());
        assert!(matches!(
            Mailer::new(Transport::Smtp(settings), Sender::default()),
            Err(MailError::Config(_))
        ));
    }
}
