//! Login, organization picker, logout and introspection (flow 6), through
//! the real HTTP stack, on both back ends.

use crate::support;

use gardien_core::role::BUILT_IN_ROLES;
use gardien_core::{
    Email, Kind, Membership, MembershipId, MembershipStatus, Organization, OrganizationId, Role,
    RoleId,
};
use serde_json::{json, Value};
use support::TestApp;
use time::OffsetDateTime;

const PASSWORD: &str = "violet tractor under the rain";

async fn sign_up(app: &TestApp, email: &str) {
    let response = app
        .post_json(
            "/api/v1/signup",
            &json!({
                "email": email,
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

/// Logs in; returns the response and the `name=value` of the session cookie.
async fn log_in(app: &TestApp, email: &str, password: &str) -> (reqwest::Response, Option<String>) {
    let response = app
        .post_json(
            "/api/v1/login",
            &json!({ "email": email, "password": password }),
        )
        .await;
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("gardien_session="))
        .map(str::to_owned);
    (response, cookie)
}

fn name_value(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

async fn introspect(app: &TestApp, session: Option<&str>) -> reqwest::Response {
    let mut request = app.http.get(app.url("/api/v1/session/introspect"));
    if let Some(cookie) = session {
        request = request.header("cookie", cookie);
    }
    request.send().await.unwrap()
}

/// POSTs JSON with the session cookie, a CSRF cookie and its token.
async fn post_signed_in(
    app: &TestApp,
    session: &str,
    path: &str,
    body: &Value,
) -> reqwest::Response {
    let (csrf_cookie, token) = app.csrf().await;
    app.http
        .post(app.url(path))
        .header("cookie", format!("{csrf_cookie}; {session}"))
        .header("x-csrf-token", token)
        .json(body)
        .send()
        .await
        .unwrap()
}

app_test!(
    async fn login_with_wrong_password_is_generic(app: TestApp) {
        sign_up(&app, "ana@example.fr").await;
        let (wrong, cookie) = log_in(&app, "ana@example.fr", "not the password").await;
        assert_eq!(wrong.status(), 401);
        assert!(cookie.is_none());
        let wrong: Value = wrong.json().await.unwrap();
        let (unknown, _) = log_in(&app, "nobody@example.fr", PASSWORD).await;
        assert_eq!(unknown.status(), 401);
        let unknown: Value = unknown.json().await.unwrap();
        let (malformed, _) = log_in(&app, "not an email", PASSWORD).await;
        assert_eq!(malformed.status(), 401);
        let malformed: Value = malformed.json().await.unwrap();
        for field in ["type", "title", "detail", "status"] {
            assert_eq!(wrong[field], unknown[field], "{field}");
            assert_eq!(wrong[field], malformed[field], "{field}");
        }
        assert_eq!(wrong["type"], "/problems/login-failed");
        app.stop().await;
    }
);

app_test!(
    async fn login_with_one_membership_binds_the_organization(app: TestApp) {
        sign_up(&app, "ana@example.fr").await;
        let (response, cookie) = log_in(&app, "ANA@example.fr", PASSWORD).await;
        assert_eq!(response.status(), 200);
        let cookie = cookie.expect("a session cookie");
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
        assert!(cookie.contains("Path=/"), "{cookie}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["organization"]["name"], "Cabinet Lima");
        assert_eq!(body["kind"], "staff");
        assert_eq!(body["account"]["email"], "ana@example.fr");

        let session = name_value(&cookie);
        let response = introspect(&app, Some(&session)).await;
        assert_eq!(response.status(), 200);
        let seen: Value = response.json().await.unwrap();
        assert_eq!(seen["organization"], body["organization"]);
        assert_eq!(seen["kind"], "staff");
        assert_eq!(seen["account"]["name"], "Ana Lima");
        assert_eq!(seen["account"]["language"], "en");

        // Each login is a new session.
        let (_, again) = log_in(&app, "ana@example.fr", PASSWORD).await;
        assert_ne!(name_value(&again.unwrap()), session);
        app.stop().await;
    }
);

app_test!(
    async fn login_with_several_memberships_asks_to_choose(app: TestApp) {
        sign_up(&app, "ana@example.fr").await;
        // A second organization where Ana is a client contact (seed 000).
        let now = OffsetDateTime::now_utc();
        let mut tx = app.store.begin().await.unwrap();
        let ana = tx
            .account_by_email(&Email::parse("ana@example.fr").unwrap())
            .await
            .unwrap()
            .unwrap();
        let shop = Organization {
            id: OrganizationId::new(),
            name: "Fournitures Dupont".into(),
            requires_activation: false,
            created_at: now,
        };
        tx.insert_organization(&shop).await.unwrap();
        let template = BUILT_IN_ROLES.iter().find(|t| t.key == "user").unwrap();
        let role = Role {
            id: RoleId::new(),
            organization_id: shop.id,
            template: Some(template.key.into()),
            name: template.name_en.into(),
            description: String::new(),
            permissions: template.permissions(),
            scoped: template.scoped,
        };
        tx.insert_role(&role).await.unwrap();
        tx.insert_membership(&Membership {
            id: MembershipId::new(),
            organization_id: shop.id,
            account_id: ana.id,
            kind: Kind::Client,
            role_id: role.id,
            status: MembershipStatus::Active,
            created_at: now,
            updated_at: now,
        })
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let (response, cookie) = log_in(&app, "ana@example.fr", PASSWORD).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert!(body["organization"].is_null(), "{body}");
        assert!(body["kind"].is_null(), "{body}");
        let choices = body["organizations"].as_array().unwrap();
        assert_eq!(choices.len(), 2);
        assert!(choices
            .iter()
            .any(|c| c["name"] == "Cabinet Lima" && c["kind"] == "staff"));
        assert!(choices
            .iter()
            .any(|c| c["name"] == "Fournitures Dupont" && c["kind"] == "client"));

        let session = name_value(&cookie.unwrap());
        let chosen = post_signed_in(
            &app,
            &session,
            "/api/v1/session/organization",
            &json!({ "organization_id": shop.id }),
        )
        .await;
        assert_eq!(chosen.status(), 200);
        let seen: Value = introspect(&app, Some(&session)).await.json().await.unwrap();
        assert_eq!(seen["organization"]["name"], "Fournitures Dupont");
        assert_eq!(seen["kind"], "client");

        // An organization Ana is not a member of is refused.
        let elsewhere = post_signed_in(
            &app,
            &session,
            "/api/v1/session/organization",
            &json!({ "organization_id": OrganizationId::new() }),
        )
        .await;
        assert_eq!(elsewhere.status(), 403);
        app.stop().await;
    }
);

app_test!(
    async fn logout_kills_the_session(app: TestApp) {
        sign_up(&app, "ana@example.fr").await;
        let (_, cookie) = log_in(&app, "ana@example.fr", PASSWORD).await;
        let session = name_value(&cookie.unwrap());
        assert_eq!(introspect(&app, Some(&session)).await.status(), 200);
        let out = post_signed_in(&app, &session, "/api/v1/logout", &json!({})).await;
        assert_eq!(out.status(), 204);
        assert_eq!(introspect(&app, Some(&session)).await.status(), 401);
        app.stop().await;
    }
);

app_test!(
    async fn suspended_membership_session_is_refused_on_next_request(app: TestApp) {
        sign_up(&app, "ana@example.fr").await;
        let (response, cookie) = log_in(&app, "ana@example.fr", PASSWORD).await;
        let body: Value = response.json().await.unwrap();
        let session = name_value(&cookie.unwrap());
        assert_eq!(introspect(&app, Some(&session)).await.status(), 200);

        let organization: OrganizationId = body["organization"]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let mut tx = app.store.begin().await.unwrap();
        let ana = tx
            .account_by_email(&Email::parse("ana@example.fr").unwrap())
            .await
            .unwrap()
            .unwrap();
        let membership = tx
            .membership_of(organization, ana.id)
            .await
            .unwrap()
            .unwrap();
        tx.set_membership_status(
            organization,
            membership.id,
            MembershipStatus::Suspended,
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        assert_eq!(introspect(&app, Some(&session)).await.status(), 401);
        app.stop().await;
    }
);

app_test!(
    async fn introspect_requires_a_session(app: TestApp) {
        let none = introspect(&app, None).await;
        assert_eq!(none.status(), 401);
        assert_eq!(none.headers()["content-type"], "application/problem+json");
        let forged = introspect(
            &app,
            Some("gardien_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        )
        .await;
        assert_eq!(forged.status(), 401);
        let garbage = introspect(&app, Some("gardien_session=garbage")).await;
        assert_eq!(garbage.status(), 401);
        app.stop().await;
    }
);

app_test!(
    async fn requests_keep_a_session_alive_recording_activity_once_a_minute(app: TestApp) {
        sign_up(&app, "ana@example.fr").await;
        let (login, cookie) = log_in(&app, "ana@example.fr", PASSWORD).await;
        assert_eq!(login.status(), 200);
        let cookie = cookie.expect("a session cookie");
        let token =
            gardien_core::Token::parse(name_value(&cookie).split_once('=').unwrap().1).unwrap();
        let now = OffsetDateTime::now_utc();
        let mut tx = app.store.begin().await.unwrap();
        let template = tx.session(&token.hash()).await.unwrap().expect("stored");
        // Two sessions of Ana's, last seen just under and just over the
        // idle timeout (2 h) ago.
        let mut sessions = Vec::new();
        for (byte, idle) in [(7u8, 119), (8, 121)] {
            let token = gardien_core::Token::from_random_bytes([byte; 32]);
            let mut session = template.clone();
            session.id = token.hash();
            session.created_at = now - time::Duration::minutes(idle);
            session.last_seen_at = session.created_at;
            tx.insert_session(&session).await.unwrap();
            sessions.push((format!("gardien_session={}", token.expose()), session.id));
        }
        tx.commit().await.unwrap();
        let last_seen = |id: gardien_core::TokenHash| {
            let store = app.store.clone();
            async move {
                let mut tx = store.begin().await.unwrap();
                tx.session(&id).await.unwrap().unwrap().last_seen_at
            }
        };

        let (nearly_idle, nearly_idle_id) = sessions[0].clone();
        assert_eq!(introspect(&app, Some(&nearly_idle)).await.status(), 200);
        let recorded = last_seen(nearly_idle_id.clone()).await;
        assert!(recorded >= now, "the request was recorded: {recorded}");
        // Within the minute, a request records nothing more.
        assert_eq!(introspect(&app, Some(&nearly_idle)).await.status(), 200);
        assert_eq!(last_seen(nearly_idle_id).await, recorded);

        let (idle, _) = &sessions[1];
        assert_eq!(introspect(&app, Some(idle)).await.status(), 401);
        app.stop().await;
    }
);

/// The deployment's session time-outs apply to each new session.
async fn configured_time_outs_apply_to_new_sessions(
    backend: gardien_store::test_support::TestBackend,
) {
    let app = support::spawn_app_with(backend, |settings| {
        settings.session_idle_minutes = Some(15);
        settings.session_lifetime_hours = Some(3);
    })
    .await;
    let signed_up = app
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
    assert_eq!(signed_up.status(), 202);
    let login = app
        .post_json(
            "/api/v1/login",
            &json!({ "email": "ana@example.fr", "password": PASSWORD }),
        )
        .await;
    assert_eq!(login.status(), 200);
    let cookie = support::session_cookie(&login).expect("a session cookie");
    let token = gardien_core::Token::parse(cookie.split_once('=').unwrap().1).unwrap();
    let mut tx = app.store.begin().await.unwrap();
    let session = tx.session(&token.hash()).await.unwrap().expect("stored");
    assert_eq!(session.idle_timeout, time::Duration::minutes(15));
    assert_eq!(
        session.expires_at - session.created_at,
        time::Duration::hours(3)
    );
    drop(tx);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_time_outs_apply_to_new_sessions_sqlite() {
    configured_time_outs_apply_to_new_sessions(gardien_store::test_support::TestBackend::Sqlite)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_time_outs_apply_to_new_sessions_postgres() {
    configured_time_outs_apply_to_new_sessions(gardien_store::test_support::TestBackend::Postgres)
        .await;
}
