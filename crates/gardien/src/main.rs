//! `gardien`: the binary. Parses the command line, then hands over to the library.

use std::process::ExitCode;

use clap::Parser;
use gardien::cli::{
    ApiKeyCommand, Cli, Command, MailCommand, OidcClientCommand, OidcKeyCommand, WebhookCommand,
};
use gardien::config::{Config, Settings};
use gardien::startup::{open_store, shutdown_signal};
use gardien::{telemetry, Application};
use gardien_core::{Email, Language};

/// See the workspace Cargo.toml: the authorization index's read paths
/// allocate their answers, and glibc's malloc is slow at that once the heap
/// holds a large index (bench/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("gardien: error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn configure(settings: Settings) -> Result<Config, String> {
    let config = settings
        .merge_file()
        .and_then(Settings::resolve)
        .map_err(|e| e.to_string())?;
    telemetry::init(config.log_format);
    Ok(config)
}

async fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Serve(settings) => {
            let config = configure(settings)?;
            let app = Application::build(config)
                .await
                .map_err(|e| e.to_string())?;
            app.run_until_stopped(shutdown_signal())
                .await
                .map_err(|e| e.to_string())
        }
        Command::Check(settings) => {
            let config = configure(settings)?;
            let store = open_store(&config.database_url)
                .await
                .map_err(|e| e.to_string())?;
            store.ping().await.map_err(|e| e.to_string())?;
            println!(
                "configuration and database are fine ({:?}, listening on {} when served)",
                store.backend(),
                config.listen
            );
            Ok(())
        }
        Command::Mail(MailCommand::SendTest {
            to,
            count,
            settings,
        }) => {
            let config = configure(settings)?;
            let to = Email::parse(&to).map_err(|e| format!("--to: {e}"))?;
            let store = open_store(&config.database_url)
                .await
                .map_err(|e| e.to_string())?;
            for _ in 0..count {
                let mail = gardien_mail::new_mail(
                    to.clone(),
                    &gardien_mail::MailTemplate::TestMessage,
                    Language::En,
                );
                let mut tx = store.begin().await.map_err(|e| e.to_string())?;
                tx.enqueue_mail(&mail, time::OffsetDateTime::now_utc())
                    .await
                    .map_err(|e| e.to_string())?;
                tx.commit().await.map_err(|e| e.to_string())?;
                println!("{}", mail.id);
            }
            Ok(())
        }
        Command::ApiKey(command) => api_key(command).await,
        Command::OidcClient(command) => oidc_client(command).await,
        Command::OidcKey(command) => oidc_key(command).await,
        Command::Webhook(command) => webhook(command).await,
    }
}

/// `gardien webhook …`: deployment-wide endpoints, made by the operator.
async fn webhook(command: WebhookCommand) -> Result<(), String> {
    let settings = match &command {
        WebhookCommand::Create { settings, .. }
        | WebhookCommand::Delete { settings, .. }
        | WebhookCommand::List { settings } => settings.clone(),
    };
    let config = configure(settings)?;
    let store = open_store(&config.database_url)
        .await
        .map_err(|e| e.to_string())?;
    let services = gardien_service::Services::new(store, config.public_url.clone());
    match command {
        WebhookCommand::Create {
            url,
            events,
            description,
            ..
        } => {
            let input = gardien_service::WebhookInput {
                url,
                description,
                events: events
                    .split(',')
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                    .map(str::to_owned)
                    .collect(),
            };
            let created =
                services
                    .create_deployment_webhook(&input)
                    .await
                    .map_err(|e| match e {
                        gardien_service::ServiceError::InvalidItems(errors) => errors
                            .iter()
                            .map(|(field, error)| {
                                format!("--{}: {error}", field.split('[').next().unwrap_or(field))
                            })
                            .collect::<Vec<_>>()
                            .join("; "),
                        other => other.to_string(),
                    })?;
            println!("id: {}", created.endpoint.id);
            println!("secret: {}", created.secret);
            eprintln!("Keep the secret now: it is not shown again. The receiver verifies each delivery's webhook-signature with it.");
        }
        WebhookCommand::Delete { id, .. } => {
            let id = id
                .trim()
                .parse::<gardien_core::WebhookEndpointId>()
                .map_err(|_| {
                    format!(
                        "'{id}' is not a webhook endpoint id (a UUID, from `gardien webhook list`)"
                    )
                })?;
            let endpoint = services
                .delete_deployment_webhook(id)
                .await
                .map_err(|e| match e {
                    gardien_service::ServiceError::NotFound => format!(
                        "no deployment-wide endpoint has the id {id} (see `gardien webhook list`)"
                    ),
                    other => other.to_string(),
                })?;
            println!("deleted {} ({})", endpoint.id, endpoint.url);
        }
        WebhookCommand::List { .. } => {
            let endpoints = services
                .deployment_webhooks()
                .await
                .map_err(|e| e.to_string())?;
            println!("id\turl\tevents\tdescription");
            for endpoint in endpoints {
                let events = endpoint.events.items().join(",");
                println!(
                    "{}\t{}\t{}\t{}",
                    endpoint.id,
                    endpoint.url,
                    if events.is_empty() {
                        "*".into()
                    } else {
                        events
                    },
                    endpoint.description
                );
            }
        }
    }
    Ok(())
}

/// `gardien oidc-client …`: the OpenID Connect provider's clients.
async fn oidc_client(command: OidcClientCommand) -> Result<(), String> {
    let settings = match &command {
        OidcClientCommand::Create { settings, .. }
        | OidcClientCommand::List { settings }
        | OidcClientCommand::Revoke { settings, .. } => settings.clone(),
    };
    let config = configure(settings)?;
    let store = open_store(&config.database_url)
        .await
        .map_err(|e| e.to_string())?;
    let services = gardien_service::Services::new(store, config.public_url.clone());
    match command {
        OidcClientCommand::Create {
            name,
            redirect_uris,
            post_logout_redirect_uris,
            public,
            first_party,
            ..
        } => {
            let kind = if public {
                gardien_oidc::client::ClientKind::Public
            } else {
                gardien_oidc::client::ClientKind::Confidential
            };
            let created = services
                .create_oidc_client(
                    &gardien_service::Operator::CommandLine,
                    gardien_service::NewOidcClient {
                        name,
                        kind,
                        first_party,
                        redirect_uris,
                        post_logout_redirect_uris,
                    },
                    &Default::default(),
                )
                .await
                .map_err(|e| match e {
                    gardien_service::ServiceError::Invalid(errors) => errors
                        .iter()
                        .map(|(field, error)| {
                            format!(
                                "--{}: {error}",
                                field.replace('_', "-").trim_end_matches('s')
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; "),
                    other => other.to_string(),
                })?;
            println!("client_id: {}", created.client.id);
            if let Some(secret) = created.client_secret {
                println!("client_secret: {secret}");
                eprintln!("Keep the secret now: it is not shown again.");
            }
            println!("issuer: {}", config.public_url);
            println!(
                "discovery: {}/.well-known/openid-configuration",
                config.public_url
            );
        }
        OidcClientCommand::List { .. } => {
            let clients = services
                .oidc_clients(&gardien_service::Operator::CommandLine)
                .await
                .map_err(|e| e.to_string())?;
            if clients.is_empty() {
                println!("no client (create one with `gardien oidc-client create`)");
            }
            for client in clients {
                println!(
                    "{}  {:<12} {}{}  {}{}",
                    client.id,
                    client.kind.as_str(),
                    client.name,
                    if client.first_party {
                        " (first party)"
                    } else {
                        ""
                    },
                    client.redirect_uris.join(" "),
                    if client.revoked_at.is_some() {
                        "  REVOKED"
                    } else {
                        ""
                    },
                );
            }
        }
        OidcClientCommand::Revoke { id, .. } => {
            let parsed = uuid::Uuid::parse_str(id.trim()).map_err(|_| {
                format!("'{id}' is not a client id (a UUID, from `gardien oidc-client list`)")
            })?;
            services
                .revoke_oidc_client(
                    &gardien_service::Operator::CommandLine,
                    parsed,
                    &Default::default(),
                )
                .await
                .map_err(|e| match e {
                    gardien_service::ServiceError::NotFound => format!(
                        "no live client has the id {parsed} (see `gardien oidc-client list`)"
                    ),
                    other => other.to_string(),
                })?;
            println!("revoked {parsed}");
        }
    }
    Ok(())
}

/// `gardien oidc-key rotate`.
async fn oidc_key(command: OidcKeyCommand) -> Result<(), String> {
    let OidcKeyCommand::Rotate { settings } = command;
    let config = configure(settings)?;
    let secret = gardien::secret::load_or_create(config.secret_key.as_deref(), &config.data_dir)
        .map_err(|e| e.to_string())?;
    let store = open_store(&config.database_url)
        .await
        .map_err(|e| e.to_string())?;
    let services = gardien_service::Services::new(store, config.public_url.clone())
        .with_signing_secret(secret);
    let kid = services
        .rotate_oidc_signing_key()
        .await
        .map_err(|e| e.to_string())?;
    println!("active signing key: {kid}");
    Ok(())
}

/// `gardien api-key …`: deployment-wide keys, made by the operator.
async fn api_key(command: ApiKeyCommand) -> Result<(), String> {
    let settings = match &command {
        ApiKeyCommand::Create { settings, .. }
        | ApiKeyCommand::Revoke { settings, .. }
        | ApiKeyCommand::List { settings } => settings.clone(),
    };
    let config = configure(settings)?;
    let store = open_store(&config.database_url)
        .await
        .map_err(|e| e.to_string())?;
    let services = gardien_service::Services::new(store, config.public_url.clone());
    let time = |at: Option<time::OffsetDateTime>| {
        at.and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "-".into())
    };
    match command {
        ApiKeyCommand::Create { name, .. } => {
            let created = services
                .create_deployment_api_key(&name)
                .await
                .map_err(|e| format!("--name: {e}"))?;
            println!("id: {}", created.key.id);
            println!("secret: {}", created.secret);
            eprintln!("Keep the secret now: it is not shown again. This key may check every organization.");
        }
        ApiKeyCommand::Revoke { id, .. } => {
            let id = id.trim().parse::<gardien_core::ApiKeyId>().map_err(|_| {
                format!("'{id}' is not an API key id (a UUID, from `gardien api-key list`)")
            })?;
            let key = services
                .revoke_deployment_api_key(id)
                .await
                .map_err(|e| match e {
                    gardien_service::ServiceError::NotFound => format!(
                        "no live deployment-wide key has the id {id} (see `gardien api-key list`)"
                    ),
                    other => other.to_string(),
                })?;
            println!("revoked {} ({})", key.id, key.name);
            eprintln!("Running instances refuse it at once on PostgreSQL; on SQLite within a minute (or at their next start).");
        }
        ApiKeyCommand::List { .. } => {
            let keys = services
                .deployment_api_keys()
                .await
                .map_err(|e| e.to_string())?;
            println!("id\tname\tcreated\tlast used\trevoked");
            for key in keys {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    key.id,
                    key.name,
                    time(Some(key.created_at)),
                    time(key.last_used_at),
                    time(key.revoked_at)
                );
            }
        }
    }
    Ok(())
}
