//! Webhooks end to end: an organization's administrator adds an endpoint,
//! a change is delivered to a receiver on loopback, signed per Standard
//! Webhooks, retried after a 500 with the same `webhook-id`, logged and
//! replayed; bad input and other organizations change nothing.

use crate::support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;
use support::{call, sign_up_and_log_in, TestApp};

/// Runs a test on both back ends, with a one-second retry so that a retry
/// arrives while the test waits.
macro_rules! webhook_test {
    (async fn $name:ident($app:ident: TestApp $(,)?) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($app: TestApp) $body

            async fn app(backend: gardien_store::test_support::TestBackend) -> TestApp {
                support::spawn_app_with(backend, |settings| {
                    settings.webhook_retry_seconds = Some("1,1".into());
                    settings.webhook_timeout_seconds = Some(5);
                })
                .await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run(app(gardien_store::test_support::TestBackend::Sqlite).await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run(app(gardien_store::test_support::TestBackend::Postgres).await).await;
            }
        }
    };
}

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

/// A webhook receiver on loopback: answers 500 to its first `failures`
/// requests, then 200, and keeps every request.
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(failures: usize) -> Self {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let kept = received.clone();
        let handler = move |headers: HeaderMap, body: String| {
            let kept = kept.clone();
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                let mut all = kept.lock().unwrap();
                all.push(Received {
                    id: header("webhook-id"),
                    timestamp: header("webhook-timestamp"),
                    signature: header("webhook-signature"),
                    body,
                });
                if all.len() <= failures {
                    (StatusCode::INTERNAL_SERVER_ERROR, "receiver is down")
                } else {
                    (StatusCode::OK, "thanks")
                }
            }
        };
        let router = axum::Router::new().route("/hooks", axum::routing::post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Self { url, received }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (up to 15 s) until `n` requests arrived.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let all = self.received();
            if all.len() >= n {
                return all;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver got {} requests, not {n}: {all:?}",
                all.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Checks a request's signature as a receiver does, from the secret alone:
/// HMAC-SHA256 over `{id}.{timestamp}.{body}` with the secret's decoded key.
fn signature_verifies(secret: &str, request: &Received) -> bool {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").expect("a whsec_ secret"))
        .expect("the secret is base64");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", request.id, request.timestamp, request.body).as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    request.signature.split(' ').any(|s| s == expected)
}

/// Adds an endpoint to `org`: `(endpoint id, secret)`.
async fn add_endpoint(app: &TestApp, session: &str, org: &str, url: &str) -> (String, String) {
    let response = call(
        app,
        Method::POST,
        Some(session),
        &format!("/api/v1/organizations/{org}/webhooks"),
        Some(json!({ "url": url, "description": "Portal", "events": ["role.*", "membership.*"] })),
    )
    .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    let secret = body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    (body["id"].as_str().unwrap().to_owned(), secret)
}

async fn create_role(app: &TestApp, session: &str, org: &str, name: &str) -> reqwest::Response {
    call(
        app,
        Method::POST,
        Some(session),
        &format!("/api/v1/organizations/{org}/roles"),
        Some(json!({ "name": name, "permissions": ["team.read"] })),
    )
    .await
}

async fn deliveries(app: &TestApp, session: &str, org: &str, endpoint: &str) -> Value {
    let response = call(
        app,
        Method::GET,
        Some(session),
        &format!("/api/v1/organizations/{org}/webhooks/{endpoint}/deliveries"),
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Waits (up to 15 s) until the log's newest message has `n` attempts, the
/// last of which is recorded.
async fn log_with_attempts(
    app: &TestApp,
    session: &str,
    org: &str,
    endpoint: &str,
    n: usize,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let log = deliveries(app, session, org, endpoint).await;
        if log["items"][0]["log"].as_array().map_or(0, Vec::len) >= n {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "no {n} attempts in the log: {log}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

webhook_test! {
    async fn a_change_is_delivered_signed_retried_after_a_500_and_replayed(app: TestApp) {
        let receiver = Receiver::start(1).await;
        let (session, org, _) = sign_up_and_log_in(&app, "owner@acme.test", "Acme").await;
        let (endpoint, secret) = add_endpoint(&app, &session, &org, &receiver.url).await;

        assert_eq!(create_role(&app, &session, &org, "Auditors").await.status(), 201);

        // The first attempt is answered 500; the retry comes a second later.
        let requests = receiver.wait_for(2).await;
        let (first, retry) = (&requests[0], &requests[1]);
        assert!(signature_verifies(&secret, first), "{first:?}");
        assert!(signature_verifies(&secret, retry), "{retry:?}");
        assert!(!signature_verifies("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", retry));
        assert_eq!(first.id, retry.id, "a retry keeps its webhook-id");
        assert_eq!(first.body, retry.body);
        let body: Value = serde_json::from_str(&retry.body).unwrap();
        assert_eq!(body["type"], "role.created");
        assert_eq!(body["data"]["organization_id"], org.as_str());
        assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
        let sent_at: i64 = retry.timestamp.parse().unwrap();
        assert!((time::OffsetDateTime::now_utc().unix_timestamp() - sent_at).abs() < 60);

        // The log shows the message, delivered, and both attempts.
        let log = log_with_attempts(&app, &session, &org, &endpoint, 2).await;
        let items = log["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{log}");
        assert_eq!(items[0]["id"], first.id.as_str());
        assert_eq!(items[0]["type"], "role.created");
        assert_eq!(items[0]["status"], "delivered");
        let statuses: Vec<_> = items[0]["log"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["http_status"].as_u64())
            .collect();
        assert_eq!(statuses, [Some(500), Some(200)]);
        assert_eq!(items[0]["log"][0]["response"], "receiver is down");

        // Replay sends the same message again, now.
        let replayed = call(
            &app,
            Method::POST,
            Some(&session),
            &format!(
                "/api/v1/organizations/{org}/webhooks/{endpoint}/deliveries/{}/replay",
                first.id
            ),
            None,
        )
        .await;
        assert_eq!(replayed.status(), 202);
        let requests = receiver.wait_for(3).await;
        assert_eq!(requests[2].id, first.id);
        assert!(signature_verifies(&secret, &requests[2]));
        let log = log_with_attempts(&app, &session, &org, &endpoint, 3).await;
        assert_eq!(log["items"][0]["status"], "delivered");

        // Creating the endpoint was audited; it is not itself a webhook.
        let audit = call(
            &app,
            Method::GET,
            Some(&session),
            &format!("/api/v1/organizations/{org}/audit-events?action=webhook.created"),
            None,
        )
        .await;
        let audit: Value = audit.json().await.unwrap();
        assert_eq!(audit["items"].as_array().map(Vec::len), Some(1), "{audit}");
        assert_eq!(receiver.received().len(), 3);
    }
}

webhook_test! {
    async fn a_refused_change_sends_nothing(app: TestApp) {
        let receiver = Receiver::start(0).await;
        let (session, org, _) = sign_up_and_log_in(&app, "owner@acme.test", "Acme").await;
        add_endpoint(&app, &session, &org, &receiver.url).await;

        assert_eq!(create_role(&app, &session, &org, "Auditors").await.status(), 201);
        // The same name again is refused: nothing is committed, nothing sent.
        assert_eq!(create_role(&app, &session, &org, "auditors").await.status(), 409);
        // As is suspending the only administrator.
        let members: Value = call(&app, Method::GET, Some(&session), &format!("/api/v1/organizations/{org}/members"), None)
            .await
            .json()
            .await
            .unwrap();
        let me = members["items"][0]["id"].as_str().unwrap().to_owned();
        let suspend = call(
            &app,
            Method::POST,
            Some(&session),
            &format!("/api/v1/organizations/{org}/members/{me}/suspend"),
            None,
        )
        .await;
        assert!(suspend.status().is_client_error(), "{}", suspend.status());
        assert_eq!(create_role(&app, &session, &org, "Support").await.status(), 201);

        let requests = receiver.wait_for(2).await;
        let names: Vec<String> = requests
            .iter()
            .map(|r| {
                let body: Value = serde_json::from_str(&r.body).unwrap();
                format!("{} {}", body["type"].as_str().unwrap(), body["data"]["after"]["name"].as_str().unwrap_or("?"))
            })
            .collect();
        assert_eq!(names, ["role.created Auditors", "role.created Support"]);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(receiver.received().len(), 2);
    }
}

webhook_test! {
    async fn bad_endpoints_are_refused_naming_the_field_and_change_nothing(app: TestApp) {
        let (session, org, _) = sign_up_and_log_in(&app, "owner@acme.test", "Acme").await;
        let path = format!("/api/v1/organizations/{org}/webhooks");
        for (body, field) in [
            (json!({ "url": "ftp://portal.example.com/hooks" }), "url"),
            (json!({ "url": "portal.example.com" }), "url"),
            (json!({ "url": "https://portal.example.com/", "events": ["role.created", "account.logged_in"] }), "events[1]"),
            (json!({ "url": "https://portal.example.com/", "events": ["*"] }), "events[0]"),
        ] {
            let response = call(&app, Method::POST, Some(&session), &path, Some(body.clone())).await;
            assert_eq!(response.status(), 422, "{body}");
            let problem: Value = response.json().await.unwrap();
            assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        }
        let junk = call(&app, Method::POST, Some(&session), &path, Some(json!({ "url": 42 }))).await;
        assert!(junk.status().is_client_error());
        let list: Value = call(&app, Method::GET, Some(&session), &path, None).await.json().await.unwrap();
        assert_eq!(list["items"], json!([]));
    }
}

webhook_test! {
    async fn another_organizations_admin_neither_sees_nor_replays_nor_receives(app: TestApp) {
        let receiver = Receiver::start(0).await;
        let (alice, acme, _) = sign_up_and_log_in(&app, "alice@acme.test", "Acme").await;
        let (bob, globex, _) = sign_up_and_log_in(&app, "bob@globex.test", "Globex").await;
        let (endpoint, _) = add_endpoint(&app, &alice, &acme, &receiver.url).await;

        // Globex's change is not Acme's: its endpoint receives nothing of it.
        assert_eq!(create_role(&app, &bob, &globex, "Globex role").await.status(), 201);
        assert_eq!(create_role(&app, &alice, &acme, "Acme role").await.status(), 201);
        let requests = receiver.wait_for(1).await;
        let message = requests[0].id.clone();
        let body: Value = serde_json::from_str(&requests[0].body).unwrap();
        assert_eq!(body["data"]["organization_id"], acme.as_str());

        // Bob, admin of Globex, reaches none of Acme's endpoints.
        for (method, path) in [
            (Method::GET, format!("/api/v1/organizations/{acme}/webhooks")),
            (Method::GET, format!("/api/v1/organizations/{acme}/webhooks/{endpoint}/deliveries")),
            (Method::GET, format!("/api/v1/organizations/{globex}/webhooks/{endpoint}/deliveries")),
            (Method::POST, format!("/api/v1/organizations/{globex}/webhooks/{endpoint}/deliveries/{message}/replay")),
            (Method::POST, format!("/api/v1/organizations/{acme}/webhooks/{endpoint}/deliveries/{message}/replay")),
            (Method::DELETE, format!("/api/v1/organizations/{globex}/webhooks/{endpoint}")),
            (Method::DELETE, format!("/api/v1/organizations/{acme}/webhooks/{endpoint}")),
        ] {
            let response = call(&app, method.clone(), Some(&bob), &path, None).await;
            assert_eq!(response.status(), 404, "{method} {path}");
        }
        let own: Value = call(&app, Method::GET, Some(&bob), &format!("/api/v1/organizations/{globex}/webhooks"), None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(own["items"], json!([]));

        // Alice's endpoint is intact and still hers to delete.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(receiver.received().len(), 1);
        let deleted = call(&app, Method::DELETE, Some(&alice), &format!("/api/v1/organizations/{acme}/webhooks/{endpoint}"), None).await;
        assert_eq!(deleted.status(), 200);
        assert_eq!(create_role(&app, &alice, &acme, "After deletion").await.status(), 201);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(receiver.received().len(), 1, "nothing is sent to a deleted endpoint");
    }
}

/// Deliveries with the default rule: public addresses only.
mod internal_addresses_get_no_request {
    use super::*;

    async fn run(app: TestApp) {
        let receiver = Receiver::start(0).await;
        let port = receiver.url["http://127.0.0.1:".len()..]
            .split('/')
            .next()
            .unwrap();
        let (session, org, _) = sign_up_and_log_in(&app, "owner@acme.test", "Acme").await;
        // A loopback address, and a name that resolves to one.
        let by_address = add_endpoint(&app, &session, &org, &receiver.url).await.0;
        let by_name = add_endpoint(
            &app,
            &session,
            &org,
            &format!("http://localhost:{port}/hooks"),
        )
        .await
        .0;

        assert_eq!(
            create_role(&app, &session, &org, "Auditors").await.status(),
            201
        );

        for (endpoint, host) in [(by_address, "127.0.0.1"), (by_name, "localhost")] {
            let log = log_with_attempts(&app, &session, &org, &endpoint, 1).await;
            let error = log["items"][0]["log"][0]["error"]
                .as_str()
                .unwrap_or_default();
            assert!(
                error.contains(&format!("{host} is not a public address")),
                "{host}: {log}"
            );
            assert!(log["items"][0]["log"][0]["http_status"].is_null(), "{log}");
        }
        assert!(receiver.received().is_empty(), "{:?}", receiver.received());
    }

    async fn app(backend: gardien_store::test_support::TestBackend) -> TestApp {
        support::spawn_app_with(backend, |settings| {
            settings.webhook_allow_private_networks = Some(false);
            settings.webhook_retry_seconds = Some("60".into());
        })
        .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        run(app(gardien_store::test_support::TestBackend::Sqlite).await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        run(app(gardien_store::test_support::TestBackend::Postgres).await).await;
    }
}
