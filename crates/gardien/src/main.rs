//! `gardien`: the binary. Parses the command line, then hands over to the library.

use std::process::ExitCode;

use clap::Parser;
use gardien::cli::{Cli, Command, MailCommand};
use gardien::config::{Config, Settings};
use gardien::startup::{open_store, shutdown_signal};
use gardien::{telemetry, Application};
use gardien_core::{Email, Language};

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
    }
}
