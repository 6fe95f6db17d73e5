//! The one way tests start Gardien: [`spawn_app`] builds the real
//! `Application` on a random port, on a fresh database of the chosen back end,
//! with its mail going over real SMTP to a sink the test can read.
#![allow(dead_code)]

pub mod browser;

use std::sync::Arc;

use gardien::config::{LogFormat, Settings};
use gardien::Application;
use gardien_mail::smtp_sink::SmtpSink;
use gardien_store::test_support::{fresh_store, TestBackend, TestDatabase};
use gardien_store::Store;
use tokio::sync::oneshot;

pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    pub store: Arc<dyn Store>,
    /// The running application's service layer (to run a periodic job now).
    pub services: Arc<gardien_service::Services>,
    /// Every email the app sends arrives here, over SMTP.
    pub mail: SmtpSink,
    pub http: reqwest::Client,
    pub database: TestDatabase,
    pub data_dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A CSRF cookie and its token, as a browser front end would fetch them:
    /// `(cookie header value, token)`.
    pub async fn csrf(&self) -> (String, String) {
        let response = self
            .http
            .get(self.url("/api/v1/csrf-token"))
            .send()
            .await
            .expect("csrf-token answers");
        let cookie = csrf_cookie(&response);
        let body: serde_json::Value = response.json().await.expect("JSON body");
        let token = body["token"].as_str().expect("a token").to_owned();
        (cookie, token)
    }

    /// POSTs JSON to the API with a CSRF cookie and token.
    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        let (cookie, token) = self.csrf().await;
        self.http
            .post(self.url(path))
            .header("cookie", cookie)
            .header("x-csrf-token", token)
            .json(body)
            .send()
            .await
            .expect("the request is answered")
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        self.stop_server().await;
    }

    /// Stops the in-process server with its mail and webhook workers, but
    /// keeps the database, the data folder and the mail sink, so that a
    /// `gardien` process can take over (set [`TestApp::address`] to it).
    pub async fn stop_server(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl TestApp {
    /// The messages sent to `to` so far (address compared case-insensitively).
    pub fn mails_to(&self, to: &str) -> Vec<gardien_mail::smtp_sink::ReceivedMail> {
        self.mail.messages_to(to)
    }

    /// Waits (up to 10 s) for the `nth` (1-based) message sent to `to`.
    pub async fn mail_to(&self, to: &str, nth: usize) -> gardien_mail::smtp_sink::ReceivedMail {
        let mut mails = self
            .mail
            .wait_for_recipient(to, nth, std::time::Duration::from_secs(10))
            .await;
        assert!(mails.len() >= nth, "no message #{nth} to {to}");
        mails.swap_remove(nth - 1)
    }
}

/// The password of every account [`sign_up`] makes.
pub const SIGN_UP_PASSWORD: &str = "violet tractor under the rain";

/// Signs `email` up (in English) with an organization of its own, as the
/// sign-up form does; the address stays unverified.
pub async fn sign_up(app: &TestApp, email: &str, organization: &str) {
    let response = app
        .post_json(
            "/api/v1/signup",
            &serde_json::json!({
                "email": email,
                "password": SIGN_UP_PASSWORD,
                "first_name": "Ana",
                "last_name": "Lima",
                "organization_name": organization,
                "language": "en",
            }),
        )
        .await;
    assert_eq!(response.status(), 202, "sign-up of {email}");
}

/// Opens the email verification link sent to `email` at sign-up, as the
/// person would (an unverified account may not invite anyone).
pub async fn verify_email(app: &TestApp, email: &str) {
    verify_email_from(app, &app.http, email).await;
}

/// [`verify_email`] from `client` (tests that give each actor its own
/// client address, so that rate limits see distinct people).
pub async fn verify_email_from(app: &TestApp, client: &reqwest::Client, email: &str) {
    let token = emailed_token(app, email, "/verify-email/").await;
    let response = client
        .get(app.url(&format!("/verify-email/{token}")))
        .send()
        .await
        .expect("the verification link answers");
    assert_eq!(response.status(), 200, "verifying {email}");
}

/// Signs `email` up with its own organization, confirms the address and
/// logs in: `(session cookie, organization id, account id)`.
pub async fn sign_up_and_log_in(
    app: &TestApp,
    email: &str,
    organization: &str,
) -> (String, String, String) {
    sign_up(app, email, organization).await;
    verify_email(app, email).await;
    let response = app
        .post_json(
            "/api/v1/login",
            &serde_json::json!({ "email": email, "password": SIGN_UP_PASSWORD }),
        )
        .await;
    assert_eq!(response.status(), 200, "login of {email}");
    let cookie = session_cookie(&response).expect("a session cookie");
    let body: serde_json::Value = response.json().await.unwrap();
    (
        cookie,
        body["organization"]["id"].as_str().unwrap().to_owned(),
        body["account"]["id"].as_str().unwrap().to_owned(),
    )
}

/// A POST authenticated by an API key only (no cookie, no CSRF token).
pub async fn with_key(
    app: &TestApp,
    key: &str,
    path: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    app.http
        .post(app.url(path))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Creates an API key of `org`: `(id, secret)`.
pub async fn create_key(app: &TestApp, session: &str, org: &str) -> (String, String) {
    let response = call(
        app,
        reqwest::Method::POST,
        Some(session),
        &format!("/api/v1/organizations/{org}/api-keys"),
        Some(serde_json::json!({ "name": "Portal back end" })),
    )
    .await;
    assert_eq!(response.status(), 201);
    let body: serde_json::Value = response.json().await.unwrap();
    let secret = body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("gk_"));
    (body["id"].as_str().unwrap().to_owned(), secret)
}

/// The id of the organization's built-in role `template` (`user`, `manager`…).
pub async fn role_id(app: &TestApp, org: &str, template: &str) -> String {
    let org = gardien_core::OrganizationId::from_uuid(org.parse().unwrap());
    let mut tx = app.store.begin().await.unwrap();
    tx.roles(org)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.template.as_deref() == Some(template))
        .expect("the built-in role")
        .id
        .to_string()
}

/// The password of every account [`accept_as_new_account`] makes.
pub const MEMBER_PASSWORD: &str = "seven green lanterns at dawn";

/// Opens the first invitation link emailed to `email`, accepts it as a new
/// account (password [`MEMBER_PASSWORD`]) and logs in: the session cookie.
pub async fn accept_as_new_account(app: &TestApp, email: &str) -> String {
    let token = invitation_token(app, email).await;
    let accepted = call(
        app,
        reqwest::Method::POST,
        None,
        &format!("/api/v1/invitations/{token}"),
        Some(serde_json::json!({
            "first_name": "Bruno", "last_name": "Costa", "title": "", "phone": "",
            "password": MEMBER_PASSWORD, "accept_privacy": true,
        })),
    )
    .await;
    assert_eq!(accepted.status(), 200, "acceptance of {email}");
    let login = app
        .post_json(
            "/api/v1/login",
            &serde_json::json!({ "email": email, "password": MEMBER_PASSWORD }),
        )
        .await;
    assert_eq!(login.status(), 200, "login of {email}");
    session_cookie(&login).expect("a session cookie")
}

/// The token of the first invitation link emailed to `to`.
pub async fn invitation_token(app: &TestApp, to: &str) -> String {
    emailed_token(app, to, "/invitations/").await
}

/// The token of the first link to `path` in a mail to `to`, waiting for it.
pub async fn emailed_token(app: &TestApp, to: &str, path: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let text = app
            .mails_to(to)
            .iter()
            .filter_map(|mail| mail.text_body())
            .find(|text| text.contains(path));
        if let Some(text) = text {
            return link_token(&text, path);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no mail to {to} with a link to {path}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The token of the first link to `path` (such as `/email-changes/`) in a
/// mail's text.
pub fn link_token(text: &str, path: &str) -> String {
    let start = text
        .find(path)
        .unwrap_or_else(|| panic!("a link to {path} in: {text}"))
        + path.len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// Test settings: port 0, a temporary data folder, mail over SMTP to `sink`.
pub fn test_settings(database_url: &str, data_dir: &std::path::Path, smtp_port: u16) -> Settings {
    Settings {
        listen: Some("127.0.0.1:0".into()),
        data_dir: Some(data_dir.to_path_buf()),
        database_url: Some(database_url.to_owned()),
        mail_transport: Some(gardien::config::MailTransportKind::Smtp),
        smtp_host: Some("127.0.0.1".into()),
        smtp_port: Some(smtp_port),
        smtp_tls: Some(gardien::config::SmtpTlsMode::None),
        mail_from: Some("Gardien <no-reply@gardien.test>".into()),
        log_format: Some(LogFormat::Text),
        // No privacy policy to accept unless a test asks for one
        // (`spawn_app_with`): tests of other flows need not click through it.
        privacy_policy_version: Some(String::new()),
        // Webhook receivers of the tests listen on loopback.
        webhook_allow_private_networks: Some(true),
        ..Settings::default()
    }
}

pub async fn spawn_app(backend: TestBackend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// [`spawn_app`] with settings changed by `adjust` (such as a privacy policy).
pub async fn spawn_app_with(backend: TestBackend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let (_, database) = fresh_store(backend).await;
    let data_dir = tempfile::tempdir().expect("temporary data folder");
    let mail = SmtpSink::start().await.expect("SMTP sink starts");
    let mut settings = test_settings(database.url(), data_dir.path(), mail.port());
    adjust(&mut settings);
    let config = settings.resolve().expect("test settings are valid");
    let app = Application::build(config)
        .await
        .expect("the application starts");
    let address = format!("http://{}", app.local_addr());
    let store = app.store();
    let services = app.services();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app.run_until_stopped(async {
            let _ = stop_rx.await;
        })
        .await
        .expect("the server runs");
    });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client");
    TestApp {
        address,
        store,
        services,
        mail,
        http,
        database,
        data_dir,
        stop: Some(stop_tx),
        server: Some(server),
    }
}

/// Runs an async test body against both back ends: generates a module with
/// `sqlite` and `postgres` tests.
#[macro_export]
macro_rules! app_test {
    // The optional comma: rustfmt puts one after a long test name's argument.
    (async fn $name:ident($app:ident: TestApp $(,)?) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($app: $crate::support::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run($crate::support::spawn_app(gardien_store::test_support::TestBackend::Sqlite).await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run($crate::support::spawn_app(gardien_store::test_support::TestBackend::Postgres).await).await;
            }
        }
    };
}

/// The `name=value` of the session cookie a response sets, if any.
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("gardien_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// The `name=value` of the CSRF cookie a response sets.
pub fn csrf_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("gardien_csrf="))
        .and_then(|v| v.split(';').next())
        .expect("a CSRF cookie")
        .to_owned()
}

/// A request with an optional session cookie, a CSRF cookie and its token.
pub async fn call(
    app: &TestApp,
    method: reqwest::Method,
    session: Option<&str>,
    path: &str,
    body: Option<serde_json::Value>,
) -> reqwest::Response {
    let (csrf_cookie, token) = app.csrf().await;
    let cookie = match session {
        Some(session) => format!("{csrf_cookie}; {session}"),
        None => csrf_cookie,
    };
    let mut request = app
        .http
        .request(method, app.url(path))
        .header("cookie", cookie)
        .header("x-csrf-token", token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}
