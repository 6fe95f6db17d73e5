//! Helpers of the router tests: a router over a stub store, and requests
//! sent with `tower::ServiceExt::oneshot` (no server, no database).

#![allow(dead_code)] // each test file uses part of it

use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use gardien_core::MailId;
use gardien_store::{Backend, OutboxMessage, Store, StoreError, Transaction};
use gardien_web::{AppState, WebSettings};
use time::OffsetDateTime;
use tower::ServiceExt;

pub const SECRET: [u8; 32] = [42; 32];

/// A store whose only behaviour is whether it answers `ping`.
pub struct StubStore {
    pub ready: bool,
}

#[async_trait]
impl Store for StubStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }
    async fn ping(&self) -> Result<(), StoreError> {
        if self.ready {
            Ok(())
        } else {
            Err(StoreError::Unavailable("connection refused".into()))
        }
    }
    async fn begin(&self) -> Result<Box<dyn Transaction>, StoreError> {
        Err(StoreError::Unavailable("stub".into()))
    }
    async fn claim_mail(
        &self,
        _now: OffsetDateTime,
        _lease: time::Duration,
        _limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        Ok(Vec::new())
    }
    async fn mark_mail_sent(&self, _id: MailId, _at: OffsetDateTime) -> Result<(), StoreError> {
        Ok(())
    }
    async fn mark_mail_failed(
        &self,
        _id: MailId,
        _error: &str,
        _retry_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        Ok(())
    }
    async fn mail(&self, _id: MailId) -> Result<Option<OutboxMessage>, StoreError> {
        Ok(None)
    }

    async fn authz_snapshot(&self) -> Result<gardien_authz::Snapshot, StoreError> {
        Ok(gardien_authz::Snapshot::default())
    }

    async fn authz_changes_after(
        &self,
        _version: u64,
    ) -> Result<Vec<gardien_authz::VersionedChange>, StoreError> {
        Ok(Vec::new())
    }

    async fn authz_counters(&self) -> Result<gardien_store::AuthzCounters, StoreError> {
        Err(StoreError::Unavailable("stub".into()))
    }

    async fn api_key_by_token(
        &self,
        _token: &gardien_core::TokenHash,
    ) -> Result<Option<gardien_store::ApiKey>, StoreError> {
        Ok(None)
    }

    async fn audit_page(
        &self,
        _organization: gardien_core::OrganizationId,
        _filter: &gardien_store::AuditFilter,
        _after: Option<gardien_store::AuditCursor>,
        _limit: u32,
    ) -> Result<gardien_store::AuditPage, StoreError> {
        Err(StoreError::Unavailable("stub".into()))
    }

    async fn touch_api_key(
        &self,
        _id: gardien_core::ApiKeyId,
        _at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        Ok(false)
    }
    async fn claim_webhooks(
        &self,
        _now: OffsetDateTime,
        _lease: time::Duration,
        _limit: u32,
    ) -> Result<Vec<gardien_store::WebhookDelivery>, StoreError> {
        Ok(Vec::new())
    }
    async fn record_webhook_attempt(
        &self,
        _attempt: &gardien_store::WebhookAttempt,
        _outcome: gardien_store::WebhookOutcome,
    ) -> Result<(), StoreError> {
        Ok(())
    }
}

pub fn app_with(public_url: &str, ready: bool) -> Router {
    let settings = WebSettings {
        public_url: public_url.into(),
        secret_key: SECRET,
        trusted_proxies: Vec::new(),
    };
    gardien_web::router(AppState::new(Arc::new(StubStore { ready }), settings))
}

pub fn app() -> Router {
    app_with("http://127.0.0.1:8080", true)
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
