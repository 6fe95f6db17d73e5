//! The real `gardien` binary, as an operator runs it: zero-configuration
//! start-up, graceful stop, and no committed mail lost to `kill -9`.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gardien_core::MailId;
use gardien_mail::smtp_sink::SmtpSink;
use gardien_store::test_support::{fresh_store, TestBackend};

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn gardien<S: AsRef<std::ffi::OsStr>>(cwd: &Path, args: &[S]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gardien"));
    command
        .current_dir(cwd)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn");
    command
}

pub(crate) async fn wait_healthy(base: &str, server: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(response) = reqwest::get(format!("{base}/healthz")).await {
            if response.status() == 200 {
                return;
            }
        }
        if let Ok(Some(status)) = server.try_wait() {
            panic!("gardien exited early with {status}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("gardien did not become healthy at {base}");
}

#[tokio::test]
async fn serve_with_no_configuration_uses_the_embedded_defaults() {
    let cwd = tempfile::tempdir().unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut server = gardien(cwd.path(), &["serve", "--listen", &listen])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://{listen}");
    wait_healthy(&base, &mut server).await;

    let page = reqwest::get(format!("{base}/")).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(cwd.path().join("gardien-data/gardien.db").exists());
    assert!(cwd.path().join("gardien-data/mail").is_dir());

    // SIGTERM stops it gracefully.
    let pid = server.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = server.try_wait().unwrap() {
            assert!(
                status.success(),
                "graceful stop should exit 0, got {status}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "gardien did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Messages are committed by `gardien mail send-test` (it prints each id once
/// its transaction committed) while a server delivers them; both are killed
/// with SIGKILL mid-way. A new server must then deliver every committed one.
async fn kill_9_loses_no_committed_mail(backend: TestBackend) {
    let (store, database) = fresh_store(backend).await;
    let sink = SmtpSink::start().await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let smtp_port = sink.port().to_string();
    let data_dir = data.path().to_str().unwrap().to_owned();
    let common = [
        "--database-url",
        database.url(),
        "--data-dir",
        &data_dir,
        "--mail-transport",
        "smtp",
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        &smtp_port,
        "--smtp-tls",
        "none",
        "--mail-from",
        "Gardien <no-reply@gardien.test>",
        "--mail-lease-seconds",
        "2",
    ];
    let serve = |port: u16| {
        let mut args = vec![
            "serve".to_owned(),
            "--listen".to_owned(),
            format!("127.0.0.1:{port}"),
        ];
        args.extend(common.iter().map(|a| a.to_string()));
        gardien(data.path(), &args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };

    let first_port = free_port();
    let mut first = serve(first_port);
    wait_healthy(&format!("http://127.0.0.1:{first_port}"), &mut first).await;

    let mut args = vec![
        "mail",
        "send-test",
        "--to",
        "crash@example.com",
        "--count",
        "100000",
    ];
    args.extend_from_slice(&common);
    let mut writer = gardien(data.path(), &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(writer.stdout.take().unwrap()).lines();
    let mut committed: Vec<MailId> = Vec::new();
    while committed.len() < 120 {
        let line = lines.next().expect("the writer prints ids").unwrap();
        committed.push(line.trim().parse().expect("an id per line"));
        if committed.len() == 60 {
            first.kill().unwrap(); // SIGKILL while it delivers
            first.wait().unwrap();
        }
    }
    writer.kill().unwrap(); // SIGKILL while it writes
    writer.wait().unwrap();
    // Ids the writer committed but had no time to print are fine; ids it
    // printed must all arrive.
    for line in lines.map_while(Result::ok) {
        if let Ok(id) = line.trim().parse() {
            committed.push(id);
        }
    }

    let second_port = free_port();
    let mut second = serve(second_port);
    wait_healthy(&format!("http://127.0.0.1:{second_port}"), &mut second).await;

    let wanted: HashSet<String> = committed
        .iter()
        .map(|id| format!("<{id}@gardien.test>"))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    let delivered = loop {
        let delivered: HashSet<String> = sink
            .messages()
            .iter()
            .filter_map(|m| m.header("Message-ID"))
            .map(|v| v.trim().to_owned())
            .collect();
        if wanted.is_subset(&delivered) || Instant::now() > deadline {
            break delivered;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    second.kill().unwrap();
    second.wait().unwrap();

    let missing: Vec<_> = wanted.difference(&delivered).collect();
    assert!(
        missing.is_empty(),
        "{} committed messages never delivered, e.g. {:?}",
        missing.len(),
        missing.first()
    );
    // Nothing is delivered that was not committed.
    for message_id in &delivered {
        let id: MailId = message_id
            .trim_start_matches('<')
            .split('@')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            store.mail(id).await.unwrap().is_some(),
            "{message_id} was delivered but never committed"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_no_committed_mail_sqlite() {
    kill_9_loses_no_committed_mail(TestBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_no_committed_mail_postgres() {
    kill_9_loses_no_committed_mail(TestBackend::Postgres).await;
}
