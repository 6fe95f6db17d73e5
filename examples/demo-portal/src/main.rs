//! `gardien-demo`: the demo client space. Run Gardien with `--demo` first:
//! it writes the file this binary reads.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use gardien_demo::{Portal, PortalConfig};

/// The demo client space of a domiciliation portal, logging in through
/// Gardien (OpenID Connect) and asking Gardien's check API on every page.
#[derive(Debug, Parser)]
#[command(name = "gardien-demo", version, about)]
struct Cli {
    /// The file `gardien serve --demo` writes: Gardien's address, the
    /// portal's OpenID Connect client and its API key.
    #[arg(
        long,
        env = "GARDIEN_DEMO_CONFIG",
        value_name = "FILE",
        default_value = "gardien-data/demo-portal.json"
    )]
    gardien_config: PathBuf,

    /// Address and port to listen on.
    #[arg(
        long,
        env = "GARDIEN_DEMO_LISTEN",
        value_name = "ADDR",
        default_value = "127.0.0.1:8090"
    )]
    listen: String,

    /// The portal's public URL [default: the one Gardien registered, in the file].
    #[arg(long, env = "GARDIEN_DEMO_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("gardien-demo: error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let config =
        PortalConfig::from_file(&cli.gardien_config, &cli.listen, cli.public_url.as_deref())
            .map_err(|e| e.to_string())?;
    let portal = Portal::build(config).await.map_err(|e| e.to_string())?;
    portal
        .run_until_stopped(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())
}
