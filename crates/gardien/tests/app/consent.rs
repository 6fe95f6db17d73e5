//! Privacy policy consent (flow 7, seed 001) through the real HTTP stack,
//! on both back ends: the first login asks for it before anything else,
//! acceptance is stored with its version and time, a new version asks again.

use crate::support;

use gardien::Application;
use gardien_core::Email;
use serde_json::{json, Value};
use support::{spawn_app_with, TestApp};

const PASSWORD: &str = "violet tractor under the rain";
const VERSION: &str = "2026-11";

macro_rules! consent_test {
    (async fn $name:ident($app:ident: TestApp) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($app: TestApp) $body

            async fn spawn(backend: gardien_store::test_support::TestBackend) -> TestApp {
                spawn_app_with(backend, |s| s.privacy_policy_version = Some(VERSION.into())).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run(spawn(gardien_store::test_support::TestBackend::Sqlite).await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run(spawn(gardien_store::test_support::TestBackend::Postgres).await).await;
            }
        }
    };
}

async fn sign_up(app: &TestApp) {
    let response = app
        .post_json(
            "/api/v1/signup",
            &json!({
                "email": "ana@example.fr",
                "password": PASSWORD,
                "first_name": "Ana",
                "last_name": "Lima",
                "organization_name": "Cabinet Lima",
                "language": "en",
            }),
        )
        .await;
    assert_eq!(response.status(), 202);
}

/// Logs in at `address`; returns the body and the session cookie `name=value`.
async fn log_in(app: &TestApp, address: &str) -> (Value, String) {
    let (csrf_cookie, token) = app.csrf().await;
    let response = app
        .http
        .post(format!("{address}/api/v1/login"))
        .header("cookie", csrf_cookie)
        .header("x-csrf-token", token)
        .json(&json!({ "email": "ana@example.fr", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("gardien_session="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    (response.json().await.unwrap(), cookie)
}

async fn post_signed_in(
    app: &TestApp,
    address: &str,
    session: &str,
    path: &str,
    body: &Value,
) -> reqwest::Response {
    let (csrf_cookie, token) = app.csrf().await;
    app.http
        .post(format!("{address}{path}"))
        .header("cookie", format!("{csrf_cookie}; {session}"))
        .header("x-csrf-token", token)
        .json(body)
        .send()
        .await
        .unwrap()
}

consent_test!(
    async fn first_login_asks_for_consent_before_anything_else_and_records_it(app: TestApp) {
        sign_up(&app).await;
        let (login, session) = log_in(&app, &app.address).await;
        assert_eq!(login["consent_required"], true);
        let organization = login["organization"]["id"].as_str().unwrap().to_owned();

        // Pages lead to the consent page, and come back afterwards.
        let home = app
            .http
            .get(app.url("/"))
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(home.status(), 303);
        assert_eq!(home.headers()["location"], "/consent?return_to=/");
        // The API refuses with a problem saying what to do.
        let refused = post_signed_in(
            &app,
            &app.address,
            &session,
            "/api/v1/session/organization",
            &json!({ "organization_id": organization }),
        )
        .await;
        assert_eq!(refused.status(), 403);
        let problem: Value = refused.json().await.unwrap();
        assert_eq!(problem["type"], "/problems/consent-required");
        // Introspection tells the host.
        let seen: Value = app
            .http
            .get(app.url("/api/v1/session/introspect"))
            .header("cookie", &session)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(seen["consent_required"], true);

        // Another version than the current one is refused, nothing stored.
        let stale = post_signed_in(
            &app,
            &app.address,
            &session,
            "/api/v1/me/consent",
            &json!({ "policy_version": "2025-01" }),
        )
        .await;
        assert_eq!(stale.status(), 422);
        let accepted = post_signed_in(
            &app,
            &app.address,
            &session,
            "/api/v1/me/consent",
            &json!({ "policy_version": VERSION }),
        )
        .await;
        assert_eq!(accepted.status(), 200);
        let body: Value = accepted.json().await.unwrap();
        assert_eq!(body["required"], false);
        assert_eq!(body["policy_version"], VERSION);

        let now_allowed = post_signed_in(
            &app,
            &app.address,
            &session,
            "/api/v1/session/organization",
            &json!({ "organization_id": organization }),
        )
        .await;
        assert_eq!(now_allowed.status(), 200);

        let mut tx = app.store.begin().await.unwrap();
        let account = tx
            .account_by_email(&Email::parse("ana@example.fr").unwrap())
            .await
            .unwrap()
            .unwrap();
        let consents = tx.consents_of_account(account.id).await.unwrap();
        assert_eq!(consents.len(), 1);
        assert_eq!(consents[0].policy_version, VERSION);
        assert_eq!(consents[0].ip.as_deref(), Some("127.0.0.1"));
        let organization_id =
            gardien_core::OrganizationId::from_uuid(organization.parse().unwrap());
        let events = tx
            .audit_events(organization_id, gardien_store::PageRequest::first(50))
            .await
            .unwrap();
        let event = events
            .items
            .iter()
            .find(|e| e.action == "account.privacy_policy_accepted")
            .expect("an audit event");
        assert_eq!(event.after, Some(json!({ "policy_version": VERSION })));
        drop(tx);

        // A second login does not ask again.
        let (again, _) = log_in(&app, &app.address).await;
        assert_eq!(again["consent_required"], false);
        app.stop().await;
    }
);

consent_test!(
    async fn consent_page_needs_the_checkbox_then_returns_where_the_person_was_going(app: TestApp) {
        sign_up(&app).await;
        let (_, session) = log_in(&app, &app.address).await;
        let page = app
            .http
            .get(app.url("/consent?return_to=/select-organization&lang=fr"))
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let csrf_cookie = support::csrf_cookie(&page);
        let html = page.text().await.unwrap();
        assert!(html.contains("J’ai lu et j’accepte la politique de confidentialité"));
        let start = html.find("name=\"csrf_token\" value=\"").unwrap() + 25;
        let token = html[start..start + html[start..].find('"').unwrap()].to_owned();
        let cookies = format!("{csrf_cookie}; {session}");

        let unchecked = app
            .http
            .post(app.url("/consent?lang=fr"))
            .header("cookie", &cookies)
            .form(&[
                ("csrf_token", token.as_str()),
                ("policy_version", VERSION),
                ("return_to", "/select-organization"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(unchecked.status(), 422);
        assert!(unchecked
            .text()
            .await
            .unwrap()
            .contains("Cochez la case pour accepter"));

        let checked = app
            .http
            .post(app.url("/consent?lang=fr"))
            .header("cookie", &cookies)
            .form(&[
                ("csrf_token", token.as_str()),
                ("policy_version", VERSION),
                ("accept", "yes"),
                ("return_to", "/select-organization"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(checked.status(), 303);
        assert_eq!(checked.headers()["location"], "/select-organization");
        let home = app
            .http
            .get(app.url("/"))
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(home.status(), 200);
        app.stop().await;
    }
);

consent_test!(
    async fn a_new_policy_version_asks_again(app: TestApp) {
        sign_up(&app).await;
        let (_, session) = log_in(&app, &app.address).await;
        let accepted = post_signed_in(
            &app,
            &app.address,
            &session,
            "/api/v1/me/consent",
            &json!({ "policy_version": VERSION }),
        )
        .await;
        assert_eq!(accepted.status(), 200);

        // The deployment publishes a new version: a second instance on the
        // same database, as after a restart with the new setting.
        let mail_port = app.mail.port();
        let mut settings =
            support::test_settings(app.database.url(), app.data_dir.path(), mail_port);
        settings.privacy_policy_version = Some("2027-01".into());
        let next = Application::build(settings.resolve().unwrap())
            .await
            .unwrap();
        let address = format!("http://{}", next.local_addr());
        let server = tokio::spawn(async move {
            let _ = next.run_until_stopped(std::future::pending()).await;
        });
        let (login, session) = log_in(&app, &address).await;
        assert_eq!(login["consent_required"], true);
        let old = post_signed_in(
            &app,
            &address,
            &session,
            "/api/v1/me/consent",
            &json!({ "policy_version": VERSION }),
        )
        .await;
        assert_eq!(old.status(), 422, "the old version no longer counts");
        let new = post_signed_in(
            &app,
            &address,
            &session,
            "/api/v1/me/consent",
            &json!({ "policy_version": "2027-01" }),
        )
        .await;
        assert_eq!(new.status(), 200);
        server.abort();
        app.stop().await;
    }
);
