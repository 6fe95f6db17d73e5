//! Builds the mail worker from the configuration.

use std::sync::Arc;
use std::time::Duration;

use gardien_mail::{Sender, SmtpSettings, SmtpTls, Transport, Worker, WorkerSettings};
use gardien_store::Store;

use crate::config::{ConfigError, MailConfig, MailTransportConfig, SmtpTlsMode};

pub fn worker(config: &MailConfig, store: Arc<dyn Store>) -> Result<Worker, ConfigError> {
    let sender: Sender = config.from.parse().map_err(|e: gardien_mail::MailError| {
        ConfigError(format!("{e} (set --mail-from or GARDIEN_MAIL_FROM)"))
    })?;
    let transport = match &config.transport {
        MailTransportConfig::Folder(dir) => {
            crate::config::ensure_writable_dir(dir, "mail")?;
            Transport::Folder(dir.clone())
        }
        MailTransportConfig::Smtp {
            host,
            port,
            tls,
            username,
            password,
        } => {
            let tls = match tls {
                SmtpTlsMode::None => SmtpTls::None,
                SmtpTlsMode::Starttls => SmtpTls::StartTls,
                SmtpTlsMode::Tls => SmtpTls::Tls,
            };
            let mut settings = SmtpSettings::new(host.clone(), *port, tls);
            settings.username = username.clone();
            settings.password = password.clone();
            Transport::Smtp(settings)
        }
    };
    let settings = WorkerSettings {
        lease: Duration::from_secs(config.lease_seconds),
        ..WorkerSettings::default()
    };
    Worker::new(store, transport, sender, settings)
        .map_err(|e| ConfigError(format!("the mail settings are not usable: {e}")))
}
