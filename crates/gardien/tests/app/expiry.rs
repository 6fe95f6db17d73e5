//! Emailed links die when their time is up (flows 1, 4 and 13): a
//! verification, reset or invitation link used after its expiry is refused
//! with 410 and changes nothing. Time is made to pass by moving the stored
//! link's times back a day (the schema keeps `expires_at > created_at`).

use crate::support;

use gardien_store::test_support::TestBackend;
use reqwest::Method;
use serde_json::{json, Value};
use support::{call, link_token, role_id, session_cookie, TestApp};

const PASSWORD: &str = support::SIGN_UP_PASSWORD;
const NEW_PASSWORD: &str = "seven green lanterns at dawn";

/// Moves every row of `table` a day into the past.
async fn age_a_day(app: &TestApp, table: &str) {
    let shift = match app.database.backend() {
        TestBackend::Sqlite => "- 86400000000",
        TestBackend::Postgres => "- interval '1 day'",
    };
    let changed = app
        .database
        .execute_raw(&format!(
            "UPDATE {table} SET created_at = created_at {shift}, expires_at = expires_at {shift}"
        ))
        .await
        .expect("the links are aged");
    assert!(changed > 0, "no row in {table}");
}

async fn sign_up(app: &TestApp, email: &str) {
    support::sign_up(app, email, "Cabinet Lima").await;
}

async fn log_in(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/login",
        &json!({ "email": email, "password": password }),
    )
    .await
}

app_test!(
    async fn an_expired_reset_link_is_refused_and_keeps_the_password(app: TestApp) {
        sign_up(&app, "ana@example.fr").await;
        let asked = app
            .post_json(
                "/api/v1/password-resets",
                &json!({ "email": "ana@example.fr" }),
            )
            .await;
        assert_eq!(asked.status(), 202);
        let mail = app.mail_to("ana@example.fr", 2).await;
        let token = link_token(&mail.text_body().unwrap(), "/password-resets/");
        age_a_day(&app, "password_resets").await;

        let page = app
            .http
            .get(app.url(&format!("/password-resets/{token}")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 410);
        let refused = app
            .post_json(
                &format!("/api/v1/password-resets/{token}"),
                &json!({ "password": NEW_PASSWORD }),
            )
            .await;
        assert_eq!(refused.status(), 410);
        let problem: Value = refused.json().await.unwrap();
        assert_eq!(problem["type"], "/problems/gone", "{problem}");
        assert_eq!(log_in(&app, "ana@example.fr", PASSWORD).await.status(), 200);
        assert_eq!(
            log_in(&app, "ana@example.fr", NEW_PASSWORD).await.status(),
            401
        );
        app.stop().await;
    }
);

app_test!(
    async fn an_expired_verification_link_leaves_the_email_unverified(app: TestApp) {
        sign_up(&app, "ana@example.fr").await;
        let mail = app.mail_to("ana@example.fr", 1).await;
        let token = link_token(&mail.text_body().unwrap(), "/verify-email/");
        age_a_day(&app, "email_verifications").await;
        let page = app
            .http
            .get(app.url(&format!("/verify-email/{token}")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 410);

        let session = session_cookie(&log_in(&app, "ana@example.fr", PASSWORD).await).unwrap();
        let me: Value = call(&app, Method::GET, Some(&session), "/api/v1/me", None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(me["email_verified"], false, "{me}");
        app.stop().await;
    }
);

app_test!(
    async fn an_expired_invitation_is_refused_shown_expired_and_can_be_resent(app: TestApp) {
        sign_up(&app, "ana@example.fr").await;
        support::verify_email(&app, "ana@example.fr").await;
        let login = log_in(&app, "ana@example.fr", PASSWORD).await;
        let session = session_cookie(&login).unwrap();
        let login: Value = login.json().await.unwrap();
        let org = login["organization"]["id"].as_str().unwrap().to_owned();
        let role = role_id(&app, &org, "user").await;
        let invited = call(
            &app,
            Method::POST,
            Some(&session),
            &format!("/api/v1/organizations/{org}/invitations"),
            Some(json!({
                "email": "bruno@example.fr",
                "first_name": "Bruno",
                "last_name": "Costa",
                "kind": "staff",
                "role_id": role,
            })),
        )
        .await;
        assert_eq!(invited.status(), 201, "{:?}", invited.text().await);
        let mail = app.mail_to("bruno@example.fr", 1).await;
        let token = link_token(&mail.text_body().unwrap(), "/invitations/");
        // Seven days by default: eight days back, it is dead.
        for _ in 0..8 {
            age_a_day(&app, "invitations").await;
        }

        let accept = call(
            &app,
            Method::POST,
            None,
            &format!("/api/v1/invitations/{token}"),
            Some(json!({
                "first_name": "Bruno",
                "last_name": "Costa",
                "password": NEW_PASSWORD,
                "accept_privacy": true,
            })),
        )
        .await;
        assert_eq!(accept.status(), 410);
        assert_eq!(
            log_in(&app, "bruno@example.fr", NEW_PASSWORD)
                .await
                .status(),
            401,
            "no password was set"
        );

        let list: Value = call(
            &app,
            Method::GET,
            Some(&session),
            &format!("/api/v1/organizations/{org}/invitations"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
        let item = &list["items"][0];
        assert_eq!(item["state"], "expired", "{list}");

        // The sweep records the expiry once in the trail, by the system.
        assert_eq!(app.services.record_expired_invitations().await.unwrap(), 1);
        assert_eq!(app.services.record_expired_invitations().await.unwrap(), 0);
        let events: Value = call(
            &app,
            Method::GET,
            Some(&session),
            &format!("/api/v1/organizations/{org}/audit-events?action=invitation.expired"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
        let expired = events["items"].as_array().unwrap();
        assert_eq!(expired.len(), 1, "{events}");
        assert_eq!(expired[0]["actor"]["type"], "system");
        assert_eq!(
            expired[0]["target"],
            format!("invitation:{}", item["id"].as_str().unwrap())
        );
        assert_eq!(expired[0]["after"]["email"], "bruno@example.fr");

        // Resending gives a fresh link that works.
        let id = item["id"].as_str().unwrap();
        let resent = call(
            &app,
            Method::POST,
            Some(&session),
            &format!("/api/v1/organizations/{org}/invitations/{id}/resend"),
            None,
        )
        .await;
        assert!(resent.status().is_success(), "{}", resent.status());
        let mail = app.mail_to("bruno@example.fr", 2).await;
        let fresh = link_token(&mail.text_body().unwrap(), "/invitations/");
        let accepted = call(
            &app,
            Method::POST,
            None,
            &format!("/api/v1/invitations/{fresh}"),
            Some(json!({
                "first_name": "Bruno",
                "last_name": "Costa",
                "password": NEW_PASSWORD,
                "accept_privacy": true,
            })),
        )
        .await;
        assert!(accepted.status().is_success(), "{}", accepted.status());
        app.stop().await;
    }
);

/// `--invitation-days 2`: the email says two days, and the link works on
/// the second day but not on the third.
async fn configured_invitation_lifetime(backend: TestBackend) {
    let app = support::spawn_app_with(backend, |s| s.invitation_days = Some(2)).await;
    sign_up(&app, "ana@example.fr").await;
    support::verify_email(&app, "ana@example.fr").await;
    let login = log_in(&app, "ana@example.fr", PASSWORD).await;
    let session = session_cookie(&login).unwrap();
    let login: Value = login.json().await.unwrap();
    let org = login["organization"]["id"].as_str().unwrap().to_owned();
    let role = role_id(&app, &org, "user").await;
    let invited = call(
        &app,
        Method::POST,
        Some(&session),
        &format!("/api/v1/organizations/{org}/invitations"),
        Some(json!({
            "email": "bruno@example.fr",
            "first_name": "Bruno",
            "last_name": "Costa",
            "kind": "staff",
            "role_id": role,
            "language": "en",
        })),
    )
    .await;
    assert_eq!(invited.status(), 201);
    let text = app
        .mail_to("bruno@example.fr", 1)
        .await
        .text_body()
        .unwrap();
    assert!(text.contains("expires in 2 days"), "{text}");
    // The invite form says so too, in both languages.
    for (lang, expected) in [("en", "valid for 2 days"), ("fr", "valable 2 jours")] {
        let page = app
            .http
            .get(app.url(&format!("/o/{org}/team/invite?lang={lang}")))
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains(expected), "{lang}: {expected}");
    }
    let token = link_token(&text, "/invitations/");
    let open = |token: String| {
        let app = &app;
        async move {
            call(
                app,
                Method::GET,
                None,
                &format!("/api/v1/invitations/{token}"),
                None,
            )
            .await
            .status()
            .as_u16()
        }
    };
    age_a_day(&app, "invitations").await;
    assert_eq!(open(token.clone()).await, 200, "alive on the second day");
    age_a_day(&app, "invitations").await;
    age_a_day(&app, "invitations").await;
    assert_eq!(open(token).await, 410, "dead on the third");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_invitation_lifetime_is_a_setting_sqlite() {
    configured_invitation_lifetime(TestBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_invitation_lifetime_is_a_setting_postgres() {
    configured_invitation_lifetime(TestBackend::Postgres).await;
}
