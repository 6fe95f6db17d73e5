//! Start-up with a bad configuration stops with one clear line, not a panic
//! or a backtrace, and a good one serves the health probes.

use std::process::{Command, Output};

fn gardien(args: &[&str], data_dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gardien"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GARDIEN_DATA_DIR", data_dir)
        .output()
        .expect("the gardien binary runs")
}

fn one_line_error(output: &Output) -> String {
    assert!(!output.status.success(), "start-up should have failed");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(lines[0].starts_with("gardien: error: "), "{stderr}");
    lines[0].to_owned()
}

#[test]
fn unreachable_database_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = gardien(
        &[
            "serve",
            "--database-url",
            "postgres://postgres:s3cret@127.0.0.1:1/gardien",
        ],
        dir.path(),
    );
    let line = one_line_error(&out);
    assert!(line.contains("cannot reach PostgreSQL"), "{line}");
    assert!(
        !line.contains("s3cret"),
        "the password must not be printed: {line}"
    );
}

#[test]
fn unwritable_data_folder_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = gardien(&["serve", "--data-dir", "/proc/gardien-test"], dir.path());
    let line = one_line_error(&out);
    assert!(
        line.contains("/proc/gardien-test") && line.contains("cannot be written"),
        "{line}"
    );
}

#[test]
fn bad_port_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = gardien(&["serve", "--listen", "127.0.0.1:70000"], dir.path());
    let line = one_line_error(&out);
    assert!(
        line.contains("127.0.0.1:70000") && line.contains("--listen"),
        "{line}"
    );
}

#[test]
fn address_in_use_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = gardien(&["serve", "--listen", &addr], dir.path());
    let line = one_line_error(&out);
    assert!(line.contains(&format!("cannot listen on {addr}")), "{line}");
}

#[test]
fn unknown_database_scheme_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = gardien(
        &["serve", "--database-url", "mysql://root@localhost/x"],
        dir.path(),
    );
    let line = one_line_error(&out);
    assert!(line.contains("sqlite:// or postgres://"), "{line}");
}

#[test]
fn help_lists_the_commands() {
    let out = Command::new(env!("CARGO_BIN_EXE_gardien"))
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["serve", "check", "mail", "GARDIEN_*"] {
        assert!(text.contains(word), "--help should mention {word}:\n{text}");
    }
}

/// The built-in catalog with `edit` applied, written to `dir/catalog.toml`.
fn catalog_file(dir: &std::path::Path, edit: impl Fn(&str) -> String) -> String {
    let path = dir.join("catalog.toml");
    std::fs::write(&path, edit(gardien_core::permission::DEFAULT_CATALOG_TOML)).unwrap();
    path.display().to_string()
}

#[test]
fn a_bad_permission_catalog_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    type Edit = fn(&str) -> String;
    let cases: [(Edit, &str); 5] = [
        (|t| format!("{t}\n[[permission"), "line "),
        (
            |t| t.replacen("key = \"mail.download\"", "key = \"mail.read\"", 1),
            "the permission 'mail.read' is declared twice",
        ),
        (
            |t| t.replacen("key = \"mail.tag\"", "key = \"Mail Tag\"", 1),
            "'Mail Tag' is not a permission key",
        ),
        (
            |t| t.replacen("fr = \"Exporter les courriers\", ", "", 1),
            "missing field `fr`",
        ),
        (
            |t| t.replacen("key = \"team.manage\"", "key = \"team.administer\"", 1),
            "lacks the permission 'team.manage'",
        ),
    ];
    for (edit, expected) in cases {
        let path = catalog_file(dir.path(), edit);
        let out = gardien(&["serve", "--permission-catalog", &path], dir.path());
        let line = one_line_error(&out);
        assert!(
            line.contains("permission catalog") && line.contains(&path) && line.contains(expected),
            "{line}"
        );
    }
    let out = gardien(
        &["serve", "--permission-catalog", "/nonexistent/catalog.toml"],
        dir.path(),
    );
    let line = one_line_error(&out);
    assert!(
        line.contains("cannot read the permission catalog"),
        "{line}"
    );
}
