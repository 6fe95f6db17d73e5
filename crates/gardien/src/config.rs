//! Configuration: command-line flags, `GARDIEN_*` environment variables and
//! an optional TOML file, in that order of precedence, then defaults.
//! Every value is checked here so that start-up fails with one clear line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde::Deserialize;

/// Settings of `gardien serve` (and of the subcommands that open the database).
#[derive(Debug, Clone, Default, Args, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Settings {
    /// TOML file with any of these settings (flags and environment win over it).
    #[arg(long, env = "GARDIEN_CONFIG", value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// Address and port to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "GARDIEN_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,

    /// Folder for the SQLite database, the secret key and the mail folder [default: ./gardien-data].
    #[arg(long, env = "GARDIEN_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Database: sqlite://FILE or postgres://USER@HOST/DB [default: sqlite://DATA_DIR/gardien.db].
    #[arg(long, env = "GARDIEN_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,

    /// Public base URL of this service, used in emailed links [default: http://LISTEN].
    #[arg(long, env = "GARDIEN_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,

    /// How mail leaves: `folder` (one .eml file per message) or `smtp` [default: folder].
    #[arg(long, env = "GARDIEN_MAIL_TRANSPORT", value_name = "KIND")]
    pub mail_transport: Option<MailTransportKind>,

    /// Folder for the `folder` transport [default: DATA_DIR/mail].
    #[arg(long, env = "GARDIEN_MAIL_DIR", value_name = "DIR")]
    pub mail_dir: Option<PathBuf>,

    /// Sender of every email [default: "Gardien <no-reply@localhost>"].
    #[arg(long, env = "GARDIEN_MAIL_FROM", value_name = "MAILBOX")]
    pub mail_from: Option<String>,

    /// How long one instance reserves a message it is sending, in seconds;
    /// after a crash, its messages are sent again once this lease expires [default: 60].
    #[arg(long, env = "GARDIEN_MAIL_LEASE_SECONDS", value_name = "SECONDS")]
    pub mail_lease_seconds: Option<u64>,

    /// Delays in seconds between a failed webhook delivery and the next
    /// attempt, comma-separated; after the last one the message is abandoned
    /// [default: 5,300,1800,7200,18000,36000,36000].
    #[arg(long, env = "GARDIEN_WEBHOOK_RETRY_SECONDS", value_name = "SECONDS,…")]
    pub webhook_retry_seconds: Option<String>,

    /// How long one webhook delivery may take, in seconds (1 to 60) [default: 10].
    #[arg(long, env = "GARDIEN_WEBHOOK_TIMEOUT_SECONDS", value_name = "SECONDS")]
    pub webhook_timeout_seconds: Option<u64>,

    /// Let webhook endpoints be on loopback or private networks (local
    /// development); off, deliveries go only to public addresses [default: false].
    #[arg(
        long,
        env = "GARDIEN_WEBHOOK_ALLOW_PRIVATE_NETWORKS",
        value_name = "BOOL",
        num_args = 0..=1,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub webhook_allow_private_networks: Option<bool>,

    /// SMTP server host name.
    #[arg(long, env = "GARDIEN_SMTP_HOST", value_name = "HOST")]
    pub smtp_host: Option<String>,

    /// SMTP server port [default: 587 with starttls, 465 with tls, 25 without].
    #[arg(long, env = "GARDIEN_SMTP_PORT", value_name = "PORT")]
    pub smtp_port: Option<u16>,

    /// SMTP encryption: `starttls`, `tls` or `none` [default: starttls].
    #[arg(long, env = "GARDIEN_SMTP_TLS", value_name = "MODE")]
    pub smtp_tls: Option<SmtpTlsMode>,

    /// SMTP user name.
    #[arg(long, env = "GARDIEN_SMTP_USERNAME", value_name = "USER")]
    pub smtp_username: Option<String>,

    /// SMTP password (prefer the environment variable to the flag).
    #[arg(
        long,
        env = "GARDIEN_SMTP_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    pub smtp_password: Option<String>,

    /// Secret key (32 bytes, base64) signing CSRF tokens; every instance of a
    /// deployment needs the same one [default: generated once into DATA_DIR/secret.key].
    #[arg(
        long,
        env = "GARDIEN_SECRET_KEY",
        value_name = "BASE64",
        hide_env_values = true
    )]
    pub secret_key: Option<String>,

    /// Log format: `text` or `json` [default: text]. Levels come from RUST_LOG.
    #[arg(long, env = "GARDIEN_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,

    /// Version of the privacy policy people must accept; a new version asks
    /// everyone again; empty: no consent asked [default: 2026-11].
    #[arg(long, env = "GARDIEN_PRIVACY_POLICY_VERSION", value_name = "VERSION")]
    pub privacy_policy_version: Option<String>,

    /// Where the privacy policy is published [default: Gardien's own /privacy page].
    #[arg(long, env = "GARDIEN_PRIVACY_POLICY_URL", value_name = "URL")]
    pub privacy_policy_url: Option<String>,

    /// TOML file declaring the deployment's permissions (key, group, French
    /// and English labels and descriptions) [default: the built-in catalog].
    #[arg(long, env = "GARDIEN_PERMISSION_CATALOG", value_name = "FILE")]
    pub permission_catalog: Option<PathBuf>,

    /// Delete audit events older than this many days (1 to 36500), hourly,
    /// recording an `audit.purged` event [default: none: keep forever].
    #[arg(long, env = "GARDIEN_AUDIT_RETENTION_DAYS", value_name = "DAYS")]
    pub audit_retention_days: Option<u32>,

    /// Sessions end this many minutes after their last request [default: 120].
    #[arg(long, env = "GARDIEN_SESSION_IDLE_MINUTES", value_name = "MINUTES")]
    pub session_idle_minutes: Option<u32>,

    /// Sessions end this many hours after login, however active [default: 12].
    #[arg(long, env = "GARDIEN_SESSION_LIFETIME_HOURS", value_name = "HOURS")]
    pub session_lifetime_hours: Option<u32>,

    /// Reverse proxies (IP addresses or CIDR ranges, comma-separated) whose
    /// X-Forwarded-For header gives the client address used by rate limits,
    /// sessions and the audit trail [default: none: the TCP peer is the client].
    #[arg(long, env = "GARDIEN_TRUSTED_PROXIES", value_name = "CIDRS")]
    pub trusted_proxies: Option<String>,

    /// PostgreSQL: how often, in milliseconds, an instance reads the change
    /// counter to apply a change whose notification it missed (10 to 60000) [default: 500].
    #[arg(long, env = "GARDIEN_AUTHZ_POLL_MS", value_name = "MILLISECONDS")]
    pub authz_poll_ms: Option<u64>,

    /// How many days an emailed invitation link works (1 to 90) [default: 7].
    #[arg(long, env = "GARDIEN_INVITATION_DAYS", value_name = "DAYS")]
    pub invitation_days: Option<u32>,

    /// Resource types (comma-separated, such as `invoice,mailbox`) whose
    /// assignment never emails the member [default: none: every assignment is notified].
    #[arg(long, env = "GARDIEN_SILENT_ASSIGNMENT_TYPES", value_name = "TYPES")]
    pub silent_assignment_types: Option<String>,

    /// Seed demo organizations, accounts, an API key and an OpenID Connect
    /// client for the demo portal (examples/demo-portal) at start-up, once;
    /// writes DATA_DIR/demo-portal.json [default: false].
    #[arg(
        long,
        env = "GARDIEN_DEMO",
        value_name = "BOOL",
        num_args = 0..=1,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub demo: Option<bool>,

    /// With --demo: where the demo portal runs; its login callback is
    /// URL/callback [default: http://127.0.0.1:8090].
    #[arg(long, env = "GARDIEN_DEMO_PORTAL_URL", value_name = "URL")]
    pub demo_portal_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransportKind {
    Folder,
    Smtp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTlsMode {
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Settings after precedence, defaults and checks.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub public_url: String,
    pub mail: MailConfig,
    pub webhooks: WebhookConfig,
    /// Explicit secret key (base64); `None` means the one kept in the data folder.
    pub secret_key: Option<String>,
    pub log_format: LogFormat,
    pub privacy_policy: gardien_core::PrivacyPolicy,
    /// The deployment's permissions (`--permission-catalog`, else built-in).
    pub permission_catalog: std::sync::Arc<gardien_core::permission::PermissionCatalog>,
    /// Audit events older than this many days are purged; `None`: kept forever.
    pub audit_retention_days: Option<u32>,
    /// Reverse proxies whose X-Forwarded-For is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long sessions live.
    pub session_policy: gardien_core::SessionPolicy,
    /// PostgreSQL: the longest a change committed by another instance goes
    /// unseen here when its notification is lost (see `spawn_authz_listener`).
    pub authz_poll: std::time::Duration,
    /// Resource types whose assignment emails no one.
    pub silent_assignment_types: Vec<String>,
    /// How many days an emailed invitation link works.
    pub invitation_days: u32,
    /// `--demo`: what to seed at start-up (see `crate::demo`).
    pub demo: Option<DemoConfig>,
}

/// The demo seeding of `--demo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoConfig {
    /// The demo portal's base URL, without a trailing slash.
    pub portal_url: String,
}

#[derive(Debug, Clone)]
pub struct MailConfig {
    pub from: String,
    pub lease_seconds: u64,
    pub transport: MailTransportConfig,
}

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub retry: gardien_core::webhook::RetrySchedule,
    pub timeout: std::time::Duration,
    /// Endpoints may be on loopback or private networks.
    pub allow_private_networks: bool,
}

#[derive(Debug, Clone)]
pub enum MailTransportConfig {
    Folder(PathBuf),
    Smtp {
        host: String,
        port: u16,
        tls: SmtpTlsMode,
        username: Option<String>,
        password: Option<String>,
    },
}

/// A configuration mistake, phrased as what is wrong and how to fix it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl Settings {
    /// Fills what flags and environment left unset from the TOML file, if any.
    pub fn merge_file(mut self) -> Result<Self, ConfigError> {
        let Some(path) = self.config.clone() else {
            return Ok(self);
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            ConfigError(format!(
                "cannot read the configuration file {}: {e}",
                path.display()
            ))
        })?;
        let file: Settings = toml::from_str(&text).map_err(|e| {
            ConfigError(format!(
                "the configuration file {} is not valid: {}",
                path.display(),
                e.message()
            ))
        })?;
        macro_rules! fill {
            ($($field:ident),*) => { $( if self.$field.is_none() { self.$field = file.$field; } )* };
        }
        fill!(
            listen,
            data_dir,
            database_url,
            public_url,
            mail_transport,
            mail_dir,
            mail_from,
            mail_lease_seconds,
            webhook_retry_seconds,
            webhook_timeout_seconds,
            webhook_allow_private_networks,
            smtp_host,
            smtp_port,
            smtp_tls,
            smtp_username,
            smtp_password,
            secret_key,
            log_format,
            privacy_policy_version,
            privacy_policy_url,
            permission_catalog,
            audit_retention_days,
            trusted_proxies,
            session_idle_minutes,
            session_lifetime_hours,
            authz_poll_ms,
            invitation_days,
            silent_assignment_types,
            demo,
            demo_portal_url
        );
        Ok(self)
    }

    /// Applies defaults and checks every value.
    pub fn resolve(self) -> Result<Config, ConfigError> {
        let listen_text = self.listen.unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            ConfigError(format!(
                "the listen address '{listen_text}' is not valid: give an IP address and a port, such as 127.0.0.1:8080 (set --listen or GARDIEN_LISTEN)"
            ))
        })?;
        let data_dir = self
            .data_dir
            .unwrap_or_else(|| PathBuf::from("gardien-data"));
        let database_url = self
            .database_url
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("gardien.db").display()));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError(
                "the database URL must start with sqlite:// or postgres:// (set --database-url or GARDIEN_DATABASE_URL)".into(),
            ));
        }
        let public_url = self
            .public_url
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_owned();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError(format!(
                "the public URL '{public_url}' must start with http:// or https:// (set --public-url or GARDIEN_PUBLIC_URL)"
            )));
        }
        let transport = match self.mail_transport.unwrap_or(MailTransportKind::Folder) {
            MailTransportKind::Folder => {
                MailTransportConfig::Folder(self.mail_dir.unwrap_or_else(|| data_dir.join("mail")))
            }
            MailTransportKind::Smtp => {
                let host = self.smtp_host.filter(|h| !h.trim().is_empty()).ok_or_else(|| {
                    ConfigError(
                        "the smtp mail transport needs a server: set --smtp-host or GARDIEN_SMTP_HOST".into(),
                    )
                })?;
                let tls = self.smtp_tls.unwrap_or(SmtpTlsMode::Starttls);
                let port = self.smtp_port.unwrap_or(match tls {
                    SmtpTlsMode::Starttls => 587,
                    SmtpTlsMode::Tls => 465,
                    SmtpTlsMode::None => 25,
                });
                MailTransportConfig::Smtp {
                    host,
                    port,
                    tls,
                    username: self.smtp_username,
                    password: self.smtp_password,
                }
            }
        };
        let privacy_policy = privacy_policy(self.privacy_policy_version, self.privacy_policy_url)?;
        let permission_catalog = permission_catalog(self.permission_catalog.as_deref())?;
        if let Some(days) = self.audit_retention_days {
            if !(1..=36_500).contains(&days) {
                return Err(ConfigError(format!(
                    "the audit retention of {days} days is out of range: give 1 to 36500 days, or leave it unset to keep events forever (set --audit-retention-days or GARDIEN_AUDIT_RETENTION_DAYS)"
                )));
            }
        }
        let trusted_proxies = trusted_proxies(self.trusted_proxies.as_deref())?;
        let session_policy =
            session_policy(self.session_idle_minutes, self.session_lifetime_hours)?;
        let authz_poll = match self.authz_poll_ms {
            None => gardien_service::DEFAULT_AUTHZ_POLL,
            Some(ms @ 10..=60_000) => std::time::Duration::from_millis(ms),
            Some(ms) => {
                return Err(ConfigError(format!(
                    "the change counter poll interval {ms} ms is out of range: give 10 to 60000 (set --authz-poll-ms or GARDIEN_AUTHZ_POLL_MS)"
                )))
            }
        };
        let silent_assignment_types =
            silent_assignment_types(self.silent_assignment_types.as_deref())?;
        let webhooks = WebhookConfig {
            allow_private_networks: self.webhook_allow_private_networks.unwrap_or(false),
            ..webhook_config(
                self.webhook_retry_seconds.as_deref(),
                self.webhook_timeout_seconds,
            )?
        };
        let invitation_days = match self.invitation_days {
            None => gardien_service::INVITATION_LIFETIME_DAYS,
            Some(days @ 1..=90) => days,
            Some(days) => {
                return Err(ConfigError(format!(
                    "an invitation link valid for {days} days is out of range: give 1 to 90 days (set --invitation-days or GARDIEN_INVITATION_DAYS)"
                )))
            }
        };
        let demo = demo(self.demo, self.demo_portal_url)?;
        Ok(Config {
            demo,
            invitation_days,
            session_policy,
            permission_catalog,
            silent_assignment_types,
            audit_retention_days: self.audit_retention_days,
            authz_poll,
            trusted_proxies,
            privacy_policy,
            listen,
            data_dir,
            database_url,
            public_url,
            mail: MailConfig {
                from: self
                    .mail_from
                    .unwrap_or_else(|| "Gardien <no-reply@localhost>".into()),
                lease_seconds: self.mail_lease_seconds.unwrap_or(60).max(1),
                transport,
            },
            webhooks,
            secret_key: self.secret_key,
            log_format: self.log_format.unwrap_or_default(),
        })
    }
}

/// The privacy policy of the deployment: a version (default
/// [`gardien_core::PrivacyPolicy::DEFAULT_VERSION`], empty for none) and an
/// optional URL.
fn privacy_policy(
    version: Option<String>,
    url: Option<String>,
) -> Result<gardien_core::PrivacyPolicy, ConfigError> {
    let url = url.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty());
    if let Some(url) = &url {
        if !(url.starts_with("https://") || url.starts_with("http://") || url.starts_with('/')) {
            return Err(ConfigError(format!(
                "the privacy policy URL '{url}' must start with https://, http:// or / (set --privacy-policy-url or GARDIEN_PRIVACY_POLICY_URL)"
            )));
        }
    }
    match version {
        Some(version) if version.trim().is_empty() => Ok(gardien_core::PrivacyPolicy::none()),
        version => {
            let version =
                version.unwrap_or_else(|| gardien_core::PrivacyPolicy::DEFAULT_VERSION.to_owned());
            gardien_core::PrivacyPolicy::new(&version, url).map_err(|_| {
                ConfigError(format!(
                    "the privacy policy version '{version}' is not valid: give at most {} printable characters, such as 2026-11 (set --privacy-policy-version or GARDIEN_PRIVACY_POLICY_VERSION)",
                    gardien_core::consent::VERSION_MAX
                ))
            })
        }
    }
}

/// `--demo` and the demo portal's address (default `http://127.0.0.1:8090`).
fn demo(on: Option<bool>, portal_url: Option<String>) -> Result<Option<DemoConfig>, ConfigError> {
    if on != Some(true) {
        return Ok(None);
    }
    let portal_url = portal_url
        .map(|u| u.trim().trim_end_matches('/').to_owned())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "http://127.0.0.1:8090".into());
    if !(portal_url.starts_with("http://") || portal_url.starts_with("https://")) {
        return Err(ConfigError(format!(
            "the demo portal URL '{portal_url}' must start with http:// or https:// (set --demo-portal-url or GARDIEN_DEMO_PORTAL_URL)"
        )));
    }
    Ok(Some(DemoConfig { portal_url }))
}

/// `invoice, mailbox` → the resource types, each checked like an assignment's.
fn webhook_config(retry: Option<&str>, timeout: Option<u64>) -> Result<WebhookConfig, ConfigError> {
    let retry = match retry {
        None => gardien_core::webhook::RetrySchedule::default(),
        Some(text) => gardien_core::webhook::RetrySchedule::parse(text).map_err(|e| {
            ConfigError(format!(
                "the webhook retry delays are not valid: {e}; give seconds separated by commas, such as 5,300,1800 (set --webhook-retry-seconds or GARDIEN_WEBHOOK_RETRY_SECONDS)"
            ))
        })?,
    };
    let timeout = match timeout {
        None => 10,
        Some(seconds @ 1..=60) => seconds,
        Some(seconds) => {
            return Err(ConfigError(format!(
                "a webhook time-out of {seconds} seconds is out of range: give 1 to 60 seconds (set --webhook-timeout-seconds or GARDIEN_WEBHOOK_TIMEOUT_SECONDS)"
            )))
        }
    };
    Ok(WebhookConfig {
        retry,
        timeout: std::time::Duration::from_secs(timeout),
        allow_private_networks: false,
    })
}

fn silent_assignment_types(list: Option<&str>) -> Result<Vec<String>, ConfigError> {
    list.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            gardien_core::access::resource_type(item, "type").map_err(|e| {
                ConfigError(format!(
                    "the silent assignment type '{item}' is not valid ({e}) (set --silent-assignment-types or GARDIEN_SILENT_ASSIGNMENT_TYPES)"
                ))
            })
        })
        .collect()
}

/// The session time-outs: both at least 1, idle no longer than the lifetime.
fn session_policy(
    idle_minutes: Option<u32>,
    lifetime_hours: Option<u32>,
) -> Result<gardien_core::SessionPolicy, ConfigError> {
    let default = gardien_core::SessionPolicy::default();
    let idle = match idle_minutes {
        Some(0) => {
            return Err(ConfigError(
                "the session idle time-out must be at least 1 minute (set --session-idle-minutes or GARDIEN_SESSION_IDLE_MINUTES)".into(),
            ))
        }
        Some(minutes) => time::Duration::minutes(i64::from(minutes)),
        None => default.idle_timeout,
    };
    let lifetime = match lifetime_hours {
        Some(0) => {
            return Err(ConfigError(
                "the session lifetime must be at least 1 hour (set --session-lifetime-hours or GARDIEN_SESSION_LIFETIME_HOURS)".into(),
            ))
        }
        Some(hours) => time::Duration::hours(i64::from(hours)),
        None => default.lifetime,
    };
    if idle > lifetime {
        return Err(ConfigError(format!(
            "the session idle time-out ({} minutes) is longer than the session lifetime ({} hours): lower --session-idle-minutes or raise --session-lifetime-hours",
            idle.whole_minutes(),
            lifetime.whole_hours()
        )));
    }
    Ok(gardien_core::SessionPolicy {
        lifetime,
        idle_timeout: idle,
    })
}

/// `10.0.0.0/8, 192.168.1.10` → the ranges; a bare address is its own range.
fn trusted_proxies(list: Option<&str>) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    list.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<ipnet::IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    ConfigError(format!(
                        "the trusted proxy '{item}' is not an IP address or a CIDR range such as 10.0.0.0/8 (set --trusted-proxies or GARDIEN_TRUSTED_PROXIES)"
                    ))
                })
        })
        .collect()
}

/// The permission catalog of `path`, or the built-in one; a bad file is
/// one line saying what to fix.
fn permission_catalog(
    path: Option<&Path>,
) -> Result<std::sync::Arc<gardien_core::permission::PermissionCatalog>, ConfigError> {
    use gardien_core::permission::PermissionCatalog;
    let Some(path) = path else {
        return Ok(std::sync::Arc::new(PermissionCatalog::built_in().clone()));
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError(format!(
            "cannot read the permission catalog {} ({e}): check --permission-catalog or GARDIEN_PERMISSION_CATALOG",
            path.display()
        ))
    })?;
    PermissionCatalog::from_toml(&text)
        .map(std::sync::Arc::new)
        .map_err(|e| {
            ConfigError(format!(
                "the permission catalog {} is not valid: {e}",
                path.display()
            ))
        })
}

/// Makes sure `dir` exists and can be written, or says how to fix it.
pub fn ensure_writable_dir(dir: &Path, what: &str) -> Result<(), ConfigError> {
    let fail = |e: std::io::Error| {
        ConfigError(format!(
            "the {what} folder {} cannot be written ({e}): choose another with --data-dir or GARDIEN_DATA_DIR, or fix its permissions",
            dir.display()
        ))
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let probe = dir.join(".gardien-write-probe");
    std::fs::write(&probe, b"ok").map_err(fail)?;
    std::fs::remove_file(&probe).map_err(fail)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_configuration() {
        let config = Settings::default().resolve().unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.database_url, "sqlite://gardien-data/gardien.db");
        assert_eq!(config.public_url, "http://127.0.0.1:8080");
        assert!(
            matches!(config.mail.transport, MailTransportConfig::Folder(ref p) if p == Path::new("gardien-data/mail"))
        );
    }

    #[test]
    fn privacy_policy_defaults_to_a_version_and_can_be_turned_off() {
        let config = Settings::default().resolve().unwrap();
        assert_eq!(config.privacy_policy.version.as_deref(), Some("2026-11"));
        assert_eq!(config.privacy_policy.url, None);
        let off = Settings {
            privacy_policy_version: Some(" ".into()),
            ..Settings::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(off.privacy_policy.version, None);
        let err = Settings {
            privacy_policy_url: Some("javascript:alert(1)".into()),
            ..Settings::default()
        }
        .resolve()
        .unwrap_err();
        assert!(err.0.contains("--privacy-policy-url"), "{}", err.0);
    }

    #[test]
    fn bad_values_say_what_to_fix() {
        let err = Settings {
            listen: Some("localhost:99999".into()),
            ..Default::default()
        }
        .resolve()
        .unwrap_err();
        assert!(err.0.contains("GARDIEN_LISTEN"), "{err}");
        let err = Settings {
            database_url: Some("mysql://x".into()),
            ..Default::default()
        }
        .resolve()
        .unwrap_err();
        assert!(err.0.contains("sqlite:// or postgres://"), "{err}");
        let err = Settings {
            mail_transport: Some(MailTransportKind::Smtp),
            ..Default::default()
        }
        .resolve()
        .unwrap_err();
        assert!(err.0.contains("GARDIEN_SMTP_HOST"), "{err}");
        let err = Settings {
            trusted_proxies: Some("10.0.0.0/8, proxy.internal".into()),
            ..Default::default()
        }
        .resolve()
        .unwrap_err();
        assert!(err.0.contains("'proxy.internal'"), "{err}");
    }

    #[test]
    fn invitation_links_last_a_week_unless_set_between_one_and_ninety_days() {
        assert_eq!(Settings::default().resolve().unwrap().invitation_days, 7);
        let set = |days| Settings {
            invitation_days: Some(days),
            ..Settings::default()
        };
        assert_eq!(set(30).resolve().unwrap().invitation_days, 30);
        for bad in [0, 91] {
            let error = set(bad).resolve().unwrap_err().to_string();
            assert!(error.contains("--invitation-days"), "{error}");
        }
    }

    #[test]
    fn webhook_retries_and_time_out_have_defaults_and_are_checked() {
        let config = Settings::default().resolve().unwrap();
        assert_eq!(config.webhooks.retry.max_attempts(), 8);
        assert_eq!(config.webhooks.timeout.as_secs(), 10);
        let set = |retry: &str, timeout| Settings {
            webhook_retry_seconds: Some(retry.into()),
            webhook_timeout_seconds: Some(timeout),
            ..Settings::default()
        };
        let config = set("1, 2", 3).resolve().unwrap();
        assert_eq!(config.webhooks.retry.max_attempts(), 3);
        assert_eq!(config.webhooks.timeout.as_secs(), 3);
        let error = set("1,soon", 3).resolve().unwrap_err().to_string();
        assert!(error.contains("--webhook-retry-seconds"), "{error}");
        let error = set("1", 0).resolve().unwrap_err().to_string();
        assert!(error.contains("--webhook-timeout-seconds"), "{error}");
    }

    #[test]
    fn silent_assignment_types_are_resource_types() {
        let config = Settings {
            silent_assignment_types: Some(" invoice, mail.box ,".into()),
            ..Default::default()
        }
        .resolve()
        .expect("valid");
        assert_eq!(config.silent_assignment_types, ["invoice", "mail.box"]);
        assert!(Settings::default()
            .resolve()
            .unwrap()
            .silent_assignment_types
            .is_empty());
        let err = Settings {
            silent_assignment_types: Some("order, Invoice".into()),
            ..Default::default()
        }
        .resolve()
        .unwrap_err();
        assert!(err.0.contains("'Invoice'"), "{err}");
        assert!(err.0.contains("GARDIEN_SILENT_ASSIGNMENT_TYPES"), "{err}");
    }

    #[test]
    fn session_time_outs_are_settings() {
        let config = Settings {
            session_idle_minutes: Some(30),
            session_lifetime_hours: Some(8),
            ..Default::default()
        }
        .resolve()
        .expect("valid");
        assert_eq!(
            config.session_policy.idle_timeout,
            time::Duration::minutes(30)
        );
        assert_eq!(config.session_policy.lifetime, time::Duration::hours(8));
        let err = Settings {
            session_idle_minutes: Some(600),
            session_lifetime_hours: Some(2),
            ..Default::default()
        }
        .resolve()
        .unwrap_err();
        assert!(err.0.contains("longer than the session lifetime"), "{err}");
        let err = Settings {
            session_idle_minutes: Some(0),
            ..Default::default()
        }
        .resolve()
        .unwrap_err();
        assert!(err.0.contains("GARDIEN_SESSION_IDLE_MINUTES"), "{err}");
    }

    #[test]
    fn trusted_proxies_are_addresses_or_ranges() {
        let config = Settings {
            trusted_proxies: Some(" 10.0.0.0/8, 192.168.1.10 ,::1".into()),
            ..Default::default()
        }
        .resolve()
        .expect("valid");
        let shown: Vec<String> = config
            .trusted_proxies
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(shown, ["10.0.0.0/8", "192.168.1.10/32", "::1/128"]);
        assert!(Settings::default()
            .resolve()
            .unwrap()
            .trusted_proxies
            .is_empty());
    }

    #[test]
    fn authz_poll_interval_defaults_to_half_a_second_and_is_bounded() {
        let default = Settings::default().resolve().unwrap().authz_poll;
        assert_eq!(default, std::time::Duration::from_millis(500));
        let set = Settings {
            authz_poll_ms: Some(250),
            ..Default::default()
        };
        assert_eq!(set.resolve().unwrap().authz_poll.as_millis(), 250);
        for bad in [0, 9, 60_001] {
            let err = Settings {
                authz_poll_ms: Some(bad),
                ..Default::default()
            }
            .resolve()
            .unwrap_err();
            assert!(err.0.contains("GARDIEN_AUTHZ_POLL_MS"), "{err}");
            assert!(err.0.contains(&format!("{bad} ms")), "{err}");
        }
    }

    #[test]
    fn file_fills_only_what_flags_left_unset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gardien.toml");
        std::fs::write(
            &path,
            "listen = \"0.0.0.0:9000\"\npublic_url = \"https://team.example.com/\"\n",
        )
        .unwrap();
        let settings = Settings {
            config: Some(path.clone()),
            listen: Some("127.0.0.1:7000".into()),
            ..Default::default()
        };
        let config = settings.merge_file().unwrap().resolve().unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:7000");
        assert_eq!(config.public_url, "https://team.example.com");

        std::fs::write(&path, "lisen = \"x\"\n").unwrap();
        let err = Settings {
            config: Some(path),
            ..Default::default()
        }
        .merge_file()
        .unwrap_err();
        assert!(err.0.contains("not valid"), "{err}");
    }

    #[test]
    fn audit_retention_is_off_by_default_and_checked() {
        assert_eq!(
            Settings::default().resolve().unwrap().audit_retention_days,
            None
        );
        let kept = Settings {
            audit_retention_days: Some(365),
            ..Settings::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(kept.audit_retention_days, Some(365));
        let err = Settings {
            audit_retention_days: Some(0),
            ..Settings::default()
        }
        .resolve()
        .unwrap_err();
        assert!(err.0.contains("--audit-retention-days"), "{err}");
    }

    #[test]
    fn demo_is_off_by_default_and_names_the_portal() {
        assert_eq!(Settings::default().resolve().unwrap().demo, None);
        let on = Settings {
            demo: Some(true),
            ..Settings::default()
        };
        assert_eq!(
            on.resolve().unwrap().demo.unwrap().portal_url,
            "http://127.0.0.1:8090"
        );
        let elsewhere = Settings {
            demo: Some(true),
            demo_portal_url: Some("http://127.0.0.1:9000/".into()),
            ..Settings::default()
        };
        assert_eq!(
            elsewhere.resolve().unwrap().demo.unwrap().portal_url,
            "http://127.0.0.1:9000"
        );
        let err = Settings {
            demo: Some(true),
            demo_portal_url: Some("portal.local".into()),
            ..Settings::default()
        }
        .resolve()
        .unwrap_err();
        assert!(err.0.contains("--demo-portal-url"), "{err}");
    }

    #[test]
    fn unwritable_data_folder_is_reported() {
        let err = ensure_writable_dir(Path::new("/proc/gardien-cannot-exist"), "data").unwrap_err();
        assert!(err.0.contains("cannot be written"), "{err}");
    }
}
