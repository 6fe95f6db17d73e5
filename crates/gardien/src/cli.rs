//! The command line: `gardien serve` and the operator's subcommands.

use clap::{Parser, Subcommand};

use crate::config::Settings;

/// Gardien — the "My team / Users and rights" service for B2B customer portals.
///
/// Runs with no configuration: an SQLite database and a mail folder under
/// ./gardien-data, listening on 127.0.0.1:8080. Every setting can be given as
/// a flag, as a GARDIEN_* environment variable or in a TOML file (--config).
#[derive(Debug, Parser)]
#[command(name = "gardien", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service (web pages, JSON API and mail delivery).
    Serve(Settings),
    /// Check the configuration and the database, apply pending migrations, then exit.
    Check(Settings),
    /// Mail operations.
    #[command(subcommand)]
    Mail(MailCommand),
    /// Deployment-wide API keys: a host back end holding one may check every
    /// organization (keys of one organization are made on its team page or API).
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
    /// OpenID Connect clients: the applications that sign people in through Gardien.
    #[command(subcommand)]
    OidcClient(OidcClientCommand),
    /// OpenID Connect signing keys.
    #[command(subcommand)]
    OidcKey(OidcKeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum OidcClientCommand {
    /// Register a client and print its id and secret (the secret is shown this once).
    Create {
        /// The application's name, shown on the consent page (such as "Client portal").
        #[arg(long, value_name = "NAME")]
        name: String,
        /// Where Gardien may send the browser back with a code; matched exactly. Repeatable.
        #[arg(long = "redirect-uri", value_name = "URI", required = true)]
        redirect_uris: Vec<String>,
        /// Where Gardien may send the browser after a logout the client asked for. Repeatable.
        #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
        post_logout_redirect_uris: Vec<String>,
        /// A client that cannot keep a secret (single-page or native app): no secret, PKCE required.
        #[arg(long)]
        public: bool,
        /// The deployment's own application: people are not asked to consent.
        #[arg(long)]
        first_party: bool,
        #[command(flatten)]
        settings: Settings,
    },
    /// List the registered clients.
    List {
        #[command(flatten)]
        settings: Settings,
    },
    /// Revoke a client: its secret and every token it holds stop working at once.
    Revoke {
        /// The client's id (from `create` or `list`).
        #[arg(value_name = "CLIENT_ID")]
        id: String,
        #[command(flatten)]
        settings: Settings,
    },
}

#[derive(Debug, Subcommand)]
pub enum OidcKeyCommand {
    /// Make a new signing key the active one. The previous key stays in the
    /// JWKS for a day, so tokens it signed still verify.
    Rotate {
        #[command(flatten)]
        settings: Settings,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a deployment-wide key and print its secret, shown this once.
    Create {
        /// What the key is for (such as "Portal back end").
        #[arg(long, value_name = "NAME")]
        name: String,
        #[command(flatten)]
        settings: Settings,
    },
    /// Revoke a deployment-wide key: refused from its next request on.
    Revoke {
        /// The key's id (from `create` or `list`).
        #[arg(value_name = "ID")]
        id: String,
        #[command(flatten)]
        settings: Settings,
    },
    /// List the deployment-wide keys, with when each was last used.
    List {
        #[command(flatten)]
        settings: Settings,
    },
}

#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Queue a test message to ADDRESS (delivered by the running service), to
    /// check the mail set-up end to end. Prints each message id once committed.
    SendTest {
        /// Recipient address.
        #[arg(long, value_name = "ADDRESS")]
        to: String,
        /// How many messages to queue, each in its own transaction.
        #[arg(long, default_value_t = 1, value_name = "N")]
        count: u32,
        #[command(flatten)]
        settings: Settings,
    },
}
