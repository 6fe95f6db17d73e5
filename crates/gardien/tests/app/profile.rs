//! The profile (flow 12) and password change (flow 13) of a logged-in
//! person, through the real HTTP stack, on both back ends.

use crate::support;

use gardien_core::Email;
use serde_json::{json, Value};
use support::TestApp;

const PASSWORD: &str = "violet tractor under the rain";
const NEW_PASSWORD: &str = "seven green lanterns at dawn";

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

/// Logs in; the session cookie `name=value`, or `None` when refused.
async fn log_in(app: &TestApp, password: &str) -> Option<String> {
    let response = app
        .post_json(
            "/api/v1/login",
            &json!({ "email": "ana@example.fr", "password": password }),
        )
        .await;
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("gardien_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    session: &str,
    path: &str,
    body: Option<&Value>,
) -> reqwest::Response {
    let (csrf_cookie, token) = app.csrf().await;
    let mut request = app
        .http
        .request(method, app.url(path))
        .header("cookie", format!("{csrf_cookie}; {session}"))
        .header("x-csrf-token", token);
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.unwrap()
}

async fn profile(app: &TestApp, session: &str) -> Value {
    let response = send(app, reqwest::Method::GET, session, "/api/v1/me", None).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

app_test!(
    async fn profile_edit_saves_valid_fields_and_audits_before_and_after(app: TestApp) {
        sign_up(&app).await;
        let session = log_in(&app, PASSWORD).await.expect("logged in");
        let before = profile(&app, &session).await;
        assert_eq!(before["email"], "ana@example.fr");
        assert_eq!(before["phone"], Value::Null);

        let saved = send(
            &app,
            reqwest::Method::PATCH,
            &session,
            "/api/v1/me",
            Some(&json!({
                "first_name": " Ana Maria ",
                "phone": "+33 6 12 34 56 78",
                "title": "Office manager",
                "notification_email": "billing@example.fr",
                "language": "fr",
            })),
        )
        .await;
        assert_eq!(saved.status(), 200);
        let saved: Value = saved.json().await.unwrap();
        assert_eq!(saved["first_name"], "Ana Maria");
        assert_eq!(saved["last_name"], "Lima", "absent fields are kept");
        assert_eq!(saved["notification_email"], "billing@example.fr");
        assert_eq!(profile(&app, &session).await, saved);

        // The audit event holds the changed fields only, before and after.
        let organization: Value = app
            .http
            .get(app.url("/api/v1/session/introspect"))
            .header("cookie", &session)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let organization = gardien_core::OrganizationId::from_uuid(
            organization["organization"]["id"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap(),
        );
        let mut tx = app.store.begin().await.unwrap();
        let events = tx
            .audit_events(organization, gardien_store::PageRequest::first(50))
            .await
            .unwrap();
        let event = events
            .items
            .iter()
            .find(|e| e.action == "account.profile_updated")
            .expect("an audit event");
        assert_eq!(
            event.before,
            Some(json!({
                "first_name": "Ana", "phone": null, "title": null,
                "notification_email": null, "language": "en",
            }))
        );
        assert_eq!(
            event.after,
            Some(json!({
                "first_name": "Ana Maria", "phone": "+33 6 12 34 56 78",
                "title": "Office manager", "notification_email": "billing@example.fr",
                "language": "fr",
            }))
        );
        drop(tx);
        app.stop().await;
    }
);

app_test!(
    async fn invalid_profile_lists_every_bad_field_and_changes_nothing(app: TestApp) {
        sign_up(&app).await;
        let session = log_in(&app, PASSWORD).await.expect("logged in");
        let before = profile(&app, &session).await;
        let refused = send(
            &app,
            reqwest::Method::PATCH,
            &session,
            "/api/v1/me",
            Some(&json!({
                "first_name": "   ",
                "phone": "call me maybe",
                "notification_email": "ANA@example.fr",
                "language": "de",
                "title": "x".repeat(101),
            })),
        )
        .await;
        assert_eq!(refused.status(), 422);
        let problem: Value = refused.json().await.unwrap();
        assert_eq!(problem["type"], "/problems/validation");
        let mut fields: Vec<(String, String)> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["field"].as_str().unwrap().to_owned(),
                    e["code"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                ("first_name".into(), "empty".into()),
                ("language".into(), "unknown-value".into()),
                (
                    "notification_email".into(),
                    "notification-email-is-login-email".into()
                ),
                ("phone".into(), "phone-number".into()),
                ("title".into(), "too-long".into()),
            ]
        );
        assert_eq!(profile(&app, &session).await, before);
        let unauthenticated = app.http.get(app.url("/api/v1/me")).send().await.unwrap();
        assert_eq!(unauthenticated.status(), 401);
        app.stop().await;
    }
);

app_test!(
    async fn password_change_needs_the_current_password_and_ends_other_sessions(app: TestApp) {
        sign_up(&app).await;
        let session = log_in(&app, PASSWORD).await.expect("logged in");
        let other = log_in(&app, PASSWORD).await.expect("another session");

        let wrong = send(
            &app,
            reqwest::Method::POST,
            &session,
            "/api/v1/me/password",
            Some(&json!({ "current_password": "not it", "new_password": NEW_PASSWORD })),
        )
        .await;
        assert_eq!(wrong.status(), 422);
        let problem: Value = wrong.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "current_password");
        assert_eq!(problem["errors"][0]["code"], "current-password-wrong");

        let weak = send(
            &app,
            reqwest::Method::POST,
            &session,
            "/api/v1/me/password",
            Some(&json!({ "current_password": PASSWORD, "new_password": "password1" })),
        )
        .await;
        assert_eq!(weak.status(), 422);
        let problem: Value = weak.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "new_password");
        assert!(log_in(&app, PASSWORD).await.is_some(), "nothing changed");

        let changed = send(
            &app,
            reqwest::Method::POST,
            &session,
            "/api/v1/me/password",
            Some(&json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD })),
        )
        .await;
        assert_eq!(changed.status(), 204);
        assert_eq!(profile(&app, &session).await["email"], "ana@example.fr");
        let other_now = app
            .http
            .get(app.url("/api/v1/me"))
            .header("cookie", &other)
            .send()
            .await
            .unwrap();
        assert_eq!(other_now.status(), 401, "other sessions end");
        assert!(log_in(&app, PASSWORD).await.is_none());
        assert!(log_in(&app, NEW_PASSWORD).await.is_some());

        let mut tx = app.store.begin().await.unwrap();
        assert!(tx
            .account_by_email(&Email::parse("ana@example.fr").unwrap())
            .await
            .unwrap()
            .is_some());
        app.stop().await;
    }
);

/// The CSRF token of a page's form, and the page's cookies.
async fn form_token(app: &TestApp, session: &str, path: &str) -> (String, String) {
    let page = app
        .http
        .get(app.url(path))
        .header("cookie", session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csrf_cookie = support::csrf_cookie(&page);
    let html = page.text().await.unwrap();
    let start = html.find("name=\"csrf_token\" value=\"").unwrap() + 25;
    let token = html[start..start + html[start..].find('"').unwrap()].to_owned();
    (format!("{csrf_cookie}; {session}"), token)
}

app_test!(
    async fn profile_page_shows_errors_next_to_fields_and_saves_in_french_and_english(
        app: TestApp,
    ) {
        sign_up(&app).await;
        let session = log_in(&app, PASSWORD).await.expect("logged in");
        let (cookies, token) = form_token(&app, &session, "/me").await;
        let form = |phone: &str, language: &str| {
            vec![
                ("csrf_token", token.clone()),
                ("first_name", "Ana".to_owned()),
                ("last_name", "Lima".to_owned()),
                ("title", String::new()),
                ("phone", phone.to_owned()),
                ("notification_email", String::new()),
                ("language", language.to_owned()),
            ]
        };
        let refused = app
            .http
            .post(app.url("/me"))
            .header("cookie", &cookies)
            .form(&form("call me", "en"))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 422);
        let html = refused.text().await.unwrap();
        assert!(
            html.contains("id=\"phone-error\">Enter a phone number"),
            "{html}"
        );
        assert!(
            html.contains("value=\"call me\""),
            "the typed value is kept"
        );

        let saved = app
            .http
            .post(app.url("/me"))
            .header("cookie", &cookies)
            .form(&form("01 23 45 67 89", "fr"))
            .send()
            .await
            .unwrap();
        assert_eq!(saved.status(), 303);
        assert_eq!(saved.headers()["location"], "/me?saved=profile");
        // The account's language is now French: the page follows it.
        let page = app
            .http
            .get(app.url("/me?saved=profile"))
            .header("cookie", &session)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("Votre profil est enregistré."), "{page}");
        assert!(page.contains("value=\"01 23 45 67 89\""));
        assert!(page.contains("src=\"/static/password.js\""));
        assert!(page.contains("data-password-tools"));

        let (cookies, token) = form_token(&app, &session, "/me").await;
        let wrong = app
            .http
            .post(app.url("/me/password"))
            .header("cookie", &cookies)
            .form(&[
                ("csrf_token", token.as_str()),
                ("current_password", "not it"),
                ("new_password", NEW_PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 422);
        assert!(wrong
            .text()
            .await
            .unwrap()
            .contains("id=\"current_password-error\">Le mot de passe actuel est incorrect"));

        let script = app
            .http
            .get(app.url("/static/password.js"))
            .send()
            .await
            .unwrap();
        assert_eq!(script.status(), 200);
        assert!(script.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript"));
        app.stop().await;
    }
);
