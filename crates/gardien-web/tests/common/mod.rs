//! Helpers of the router tests: the router over a real store of either back
//! end (a fresh database each), and requests sent with
//! `tower::ServiceExt::oneshot` (no server).

#![allow(dead_code)] // each test file uses part of it

use std::ops::Deref;
use std::process::Command;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use gardien_store::test_support::{fresh_store, postgres_url, TestBackend, TestDatabase};
use gardien_store::Store;
use gardien_web::{AppState, WebSettings};
use tower::ServiceExt;

pub const SECRET: [u8; 32] = [42; 32];

/// Runs each test body on both storage back ends: a module per test with
/// `sqlite` and `postgres` tests.
macro_rules! both_back_ends {
    ($(async fn $name:ident($backend:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($backend: gardien_store::test_support::TestBackend) $body

            #[tokio::test]
            async fn sqlite() {
                run(gardien_store::test_support::TestBackend::Sqlite).await;
            }

            #[tokio::test]
            async fn postgres() {
                run(gardien_store::test_support::TestBackend::Postgres).await;
            }
        }
    )*};
}

/// The router over a fresh database, kept as long as the router.
pub struct TestRouter {
    router: Router,
    _database: TestDatabase,
}

impl Deref for TestRouter {
    type Target = Router;
    fn deref(&self) -> &Router {
        &self.router
    }
}

pub fn router_over(store: Arc<dyn Store>, public_url: &str) -> Router {
    let settings = WebSettings {
        public_url: public_url.into(),
        secret_key: SECRET,
        trusted_proxies: Vec::new(),
    };
    gardien_web::router(AppState::new(store, settings))
}

pub async fn app_with(backend: TestBackend, public_url: &str) -> TestRouter {
    let (store, database) = fresh_store(backend).await;
    TestRouter {
        router: router_over(store, public_url),
        _database: database,
    }
}

pub async fn app(backend: TestBackend) -> TestRouter {
    app_with(backend, "http://127.0.0.1:8080").await
}

/// A PostgreSQL database of its own (the other tests share one database,
/// a schema each), dropped at the end, whose connections can be refused.
pub struct OwnDatabase {
    pub name: String,
    pub url: String,
}

/// Runs SQL as the test server's administrator, through `psql`.
fn psql(sql: &str) {
    let status = Command::new("psql")
        .args(["-q", "-v", "ON_ERROR_STOP=1", &postgres_url(), "-c", sql])
        .status()
        .expect("psql runs");
    assert!(status.success(), "psql: {sql}");
}

impl OwnDatabase {
    pub async fn create() -> Self {
        let name = format!("gardien_own_{}", uuid::Uuid::new_v4().simple());
        psql(&format!("CREATE DATABASE {name}"));
        let base = postgres_url();
        let server = base.rsplit_once('/').map_or(base.as_str(), |(s, _)| s);
        let url = format!("{server}/{name}");
        Self { name, url }
    }

    /// Stops (or lets again) the database accept connections, ending the
    /// open ones: the store's next query finds it down.
    pub fn refuse_connections(&self, refuse: bool) {
        let name = &self.name;
        psql(&format!(
            "ALTER DATABASE {name} ALLOW_CONNECTIONS {}",
            !refuse
        ));
        if refuse {
            psql(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            ));
        }
    }
}

impl Drop for OwnDatabase {
    fn drop(&mut self) {
        psql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: impl header::AsHeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    /// `name=value` of the cookie `name` this reply sets.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(|v| v.split(';').next().unwrap_or_default().to_owned())
    }

    pub fn set_cookie_line(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// The hidden CSRF field's value of an HTML page.
    pub fn csrf_token(&self) -> String {
        let marker = r#"name="csrf_token" value=""#;
        let start = self.body.find(marker).expect("a CSRF field") + marker.len();
        let end = self.body[start..].find('"').expect("end of the value");
        self.body[start..start + end].to_owned()
    }
}

pub async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app
        .clone()
        .oneshot(request)
        .await
        .expect("the router is infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("a body");
    Reply {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).expect("UTF-8"),
    }
}

pub async fn get(app: &Router, uri: &str) -> Reply {
    send(app, Request::get(uri).body(Body::empty()).expect("request")).await
}

/// A form post with the given cookies (`a=b; c=d`) and urlencoded body.
pub fn form_post(uri: &str, cookies: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookies)
        .header(header::HOST, "127.0.0.1:8080")
        .body(Body::from(body.to_owned()))
        .expect("request")
}
