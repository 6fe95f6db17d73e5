//! Negative tests drawn from real advisories of comparable systems
//! (identity providers and team managers): each test replays the attack
//! through the real HTTP stack, mail over SMTP, on both back ends, and
//! asserts that it fails AND that nothing changed.
//!
//! Attacks already covered elsewhere (not repeated here, see the OWASP ASVS
//! mapping in `docs/security.md`):
//! - existing-account invitation accepted by another logged-in account:
//!   `team.rs::existing_account_accepts_only_while_logged_in_as_itself`;
//! - new-account invitation reused after a resend or a revocation:
//!   `team.rs::resend_kills_the_old_link_and_revoke_kills_the_new_one`;
//! - reset link used twice: `password_reset.rs::password_reset_link_sets_a_new_password_once`;
//! - suspended or removed member's session on the next request:
//!   `team.rs::suspended_or_removed_member_is_refused_on_next_request`,
//!   `session.rs::suspended_membership_session_is_refused_on_next_request`;
//! - API key of another organization, revoked API key:
//!   `checks.rs::key_of_another_organization_and_revoked_key_are_refused`.

use crate::support;

use gardien_core::OrganizationId;
use reqwest::Method;
use serde_json::{json, Value};
use support::{call, link_token, session_cookie, TestApp};

const PASSWORD: &str = "violet tractor under the rain";
const INVITEE_PASSWORD: &str = "seven green lanterns at dawn";
const NEW_PASSWORD: &str = "orange kites over quiet hills";

/// Signs up `email` with its own organization; returns the session cookie
/// (`name=value`) and the organization id.
async fn sign_up_and_log_in(app: &TestApp, email: &str, organization: &str) -> (String, String) {
    let response = app
        .post_json(
            "/api/v1/signup",
            &json!({
                "email": email,
                "password": PASSWORD,
                "first_name": "Ana",
                "last_name": "Lima",
                "organization_name": organization,
                "language": "en",
            }),
        )
        .await;
    assert_eq!(response.status(), 202);
    support::verify_email(app, email).await;
    let (session, body) = log_in(app, email, PASSWORD).await;
    let org = body["organization"]["id"]
        .as_str()
        .expect("bound to its organization")
        .to_owned();
    (session, org)
}

async fn log_in(app: &TestApp, email: &str, password: &str) -> (String, Value) {
    let response = log_in_response(app, email, password).await;
    assert_eq!(response.status(), 200, "login of {email}");
    let cookie = session_cookie(&response).expect("a session cookie");
    (cookie, response.json().await.unwrap())
}

async fn log_in_response(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/login",
        &json!({ "email": email, "password": password }),
    )
    .await
}

/// The id of the organization's role made from `template`.
async fn role_id(app: &TestApp, org: &str, template: &str) -> String {
    let org = OrganizationId::from_uuid(org.parse().unwrap());
    let mut tx = app.store.begin().await.unwrap();
    let roles = tx.roles(org).await.unwrap();
    roles
        .into_iter()
        .find(|r| r.template.as_deref() == Some(template))
        .expect("the built-in role")
        .id
        .to_string()
}

/// Invites `email` into `org` with the role of `template`; returns the
/// membership id.
async fn invite(app: &TestApp, admin: &str, org: &str, email: &str, template: &str) -> String {
    let role = role_id(app, org, template).await;
    let response = call(
        app,
        Method::POST,
        Some(admin),
        &format!("/api/v1/organizations/{org}/invitations"),
        Some(json!({
            "email": email,
            "first_name": "Bruno",
            "last_name": "Costa",
            "kind": "staff",
            "role_id": role,
        })),
    )
    .await;
    assert_eq!(response.status(), 201, "invitation of {email}");
    let body: Value = response.json().await.unwrap();
    body["membership_id"].as_str().unwrap().to_owned()
}

/// The token of the `nth` invitation emailed to `to` (other mails, such as
/// the sign-up verification, are skipped).
async fn invitation_token(app: &TestApp, to: &str, nth: usize) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let links: Vec<String> = app
            .mails_to(to)
            .iter()
            .filter_map(|m| m.text_body())
            .filter(|text| text.contains("/invitations/"))
            .collect();
        if links.len() >= nth {
            return link_token(&links[nth - 1], "/invitations/");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no invitation #{nth} to {to}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The whole text of the `nth` mail to `to`.
async fn mail_text(app: &TestApp, to: &str, nth: usize) -> String {
    app.mail_to(to, nth).await.text_body().unwrap()
}

async fn accept_as_new(app: &TestApp, session: Option<&str>, token: &str) -> reqwest::Response {
    call(
        app,
        Method::POST,
        session,
        &format!("/api/v1/invitations/{token}"),
        Some(json!({
            "first_name": "Bruno",
            "last_name": "Costa",
            "password": INVITEE_PASSWORD,
            "accept_privacy": true,
        })),
    )
    .await
}

async fn introspect(app: &TestApp, session: &str) -> reqwest::Response {
    app.http
        .get(app.url("/api/v1/session/introspect"))
        .header("cookie", session)
        .send()
        .await
        .unwrap()
}

/// `(email, status, role_id)` of every member of `org`, as its
/// administrator sees them, sorted.
async fn roster(app: &TestApp, admin: &str, org: &str) -> Vec<(String, String, String)> {
    let response = call(
        app,
        Method::GET,
        Some(admin),
        &format!("/api/v1/organizations/{org}/members?per_page=100"),
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let mut rows: Vec<_> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["email"].as_str().unwrap().to_owned(),
                m["status"].as_str().unwrap().to_owned(),
                m["role_id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    rows.sort();
    rows
}

/// The path (`/password-resets/TOKEN`) of the `nth` mail to `to`.
async fn reset_path(app: &TestApp, to: &str, nth: usize) -> String {
    let text = mail_text(app, to, nth).await;
    format!(
        "/password-resets/{}",
        link_token(&text, "/password-resets/")
    )
}

async fn use_reset(app: &TestApp, path: &str, password: &str) -> u16 {
    app.post_json(&format!("/api/v1{path}"), &json!({ "password": password }))
        .await
        .status()
        .as_u16()
}

async fn ask_reset(app: &TestApp, email: &str) {
    let asked = app
        .post_json("/api/v1/password-resets", &json!({ "email": email }))
        .await;
    assert_eq!(asked.status(), 202);
}

app_test!(
    async fn a_new_account_invitation_link_works_once_and_never_joins_the_clicker(app: TestApp) {
        let (ana, org) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let (dora, dora_org) = sign_up_and_log_in(&app, "dora@example.fr", "Dora SAS").await;
        invite(&app, &ana, &org, "bruno@example.fr", "user").await;
        let token = invitation_token(&app, "bruno@example.fr", 1).await;

        // Dora, logged in, follows Bruno's link: the link makes Bruno's
        // account (it proves Bruno's mailbox), never adds Dora.
        let accepted = accept_as_new(&app, Some(&dora), &token).await;
        assert_eq!(accepted.status(), 200);
        let bruno = session_cookie(&accepted).expect("the new account's session");
        let seen: Value = introspect(&app, &bruno).await.json().await.unwrap();
        assert_eq!(seen["account"]["email"], "bruno@example.fr");
        let dora_seen: Value = introspect(&app, &dora).await.json().await.unwrap();
        assert_eq!(dora_seen["account"]["email"], "dora@example.fr");
        assert_eq!(dora_seen["organization"]["id"], dora_org.as_str());
        let (_, dora_login) = log_in(&app, "dora@example.fr", PASSWORD).await;
        assert_eq!(
            dora_login["organization"]["id"],
            dora_org.as_str(),
            "Dora still has only her own organization"
        );
        let before = roster(&app, &ana, &org).await;
        assert_eq!(before.len(), 2);
        assert!(before
            .iter()
            .all(|(email, _, _)| email != "dora@example.fr"));

        // The same link a second time, signed out or as anyone: dead, and
        // the password it would set is not set.
        for session in [None, Some(dora.as_str()), Some(bruno.as_str())] {
            let again = call(
                &app,
                Method::POST,
                session,
                &format!("/api/v1/invitations/{token}"),
                Some(json!({
                    "first_name": "Eve",
                    "last_name": "Attacker",
                    "password": NEW_PASSWORD,
                    "accept_privacy": true,
                })),
            )
            .await;
            assert_eq!(again.status(), 410);
        }
        assert_eq!(
            log_in_response(&app, "bruno@example.fr", NEW_PASSWORD)
                .await
                .status(),
            401
        );
        assert_eq!(roster(&app, &ana, &org).await, before);
        app.stop().await;
    }
);

app_test!(
    async fn a_revoked_invitation_of_an_existing_account_cannot_be_accepted(app: TestApp) {
        let (ana, org) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let (carla, _) = sign_up_and_log_in(&app, "carla@example.fr", "Carla SARL").await;
        invite(&app, &ana, &org, "carla@example.fr", "administrator").await;
        let token = invitation_token(&app, "carla@example.fr", 1).await;
        let list: Value = call(
            &app,
            Method::GET,
            Some(&ana),
            &format!("/api/v1/organizations/{org}/invitations"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
        let id = list["items"][0]["id"].as_str().unwrap().to_owned();
        let revoked = call(
            &app,
            Method::DELETE,
            Some(&ana),
            &format!("/api/v1/organizations/{org}/invitations/{id}"),
            None,
        )
        .await;
        assert_eq!(revoked.status(), 204);
        let before = roster(&app, &ana, &org).await;

        // Carla, logged in as the invitee herself, clicks the old link.
        let path = format!("/api/v1/invitations/{token}");
        let accepted = call(
            &app,
            Method::POST,
            Some(&carla),
            &path,
            Some(json!({ "accept_privacy": true })),
        )
        .await;
        assert_eq!(accepted.status(), 410);
        let page = app
            .http
            .get(app.url(&format!("/invitations/{token}")))
            .header("cookie", &carla)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 410);
        assert_eq!(roster(&app, &ana, &org).await, before);
        let seen: Value = introspect(&app, &carla).await.json().await.unwrap();
        assert_eq!(seen["organization"]["name"], "Carla SARL");
        app.stop().await;
    }
);

app_test!(
    async fn a_reset_link_dies_when_the_password_is_changed(app: TestApp) {
        let (_, _) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        ask_reset(&app, "ana@example.fr").await;
        // Mail #1 is the email verification, #2 the reset link.
        let path = reset_path(&app, "ana@example.fr", 2).await;

        // Ana changes her password while logged in (she suspects someone
        // reads her mailbox): the link asked before must not undo it.
        let (session, _) = log_in(&app, "ana@example.fr", PASSWORD).await;
        let changed = call(
            &app,
            Method::POST,
            Some(&session),
            "/api/v1/me/password",
            Some(json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD })),
        )
        .await;
        assert_eq!(changed.status(), 204);

        assert_eq!(
            use_reset(&app, &path, "a thief picks this phrase").await,
            410
        );
        let page = app.http.get(app.url(&path)).send().await.unwrap();
        assert_eq!(page.status(), 410);
        assert_eq!(
            log_in_response(&app, "ana@example.fr", NEW_PASSWORD)
                .await
                .status(),
            200
        );
        assert_eq!(
            log_in_response(&app, "ana@example.fr", "a thief picks this phrase")
                .await
                .status(),
            401
        );
        app.stop().await;
    }
);

app_test!(
    async fn only_the_newest_reset_link_works_and_none_outlives_a_reset(app: TestApp) {
        let (_, _) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        ask_reset(&app, "ana@example.fr").await;
        let first = reset_path(&app, "ana@example.fr", 2).await;
        ask_reset(&app, "ana@example.fr").await;
        let second = reset_path(&app, "ana@example.fr", 3).await;
        ask_reset(&app, "ana@example.fr").await;
        let third = reset_path(&app, "ana@example.fr", 4).await;
        assert_ne!(first, second);

        // Asking again kills the older links.
        assert_eq!(
            use_reset(&app, &first, "a thief picks this phrase").await,
            410
        );
        assert_eq!(
            use_reset(&app, &second, "a thief picks this phrase").await,
            410
        );
        assert_eq!(
            log_in_response(&app, "ana@example.fr", PASSWORD)
                .await
                .status(),
            200,
            "the password is unchanged"
        );
        assert_eq!(use_reset(&app, &third, NEW_PASSWORD).await, 204);
        // After a reset, no link of the account works any more.
        for path in [&first, &second, &third] {
            assert_eq!(
                use_reset(&app, path, "a thief picks this phrase").await,
                410
            );
        }
        assert_eq!(
            log_in_response(&app, "ana@example.fr", NEW_PASSWORD)
                .await
                .status(),
            200
        );
        app.stop().await;
    }
);

app_test!(
    async fn a_member_cannot_promote_themselves_nor_set_fields_they_do_not_own(app: TestApp) {
        let (ana, org) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let membership = invite(&app, &ana, &org, "bruno@example.fr", "user").await;
        let token = invitation_token(&app, "bruno@example.fr", 1).await;
        let bruno = session_cookie(&accept_as_new(&app, None, &token).await).unwrap();
        let admin_role = role_id(&app, &org, "administrator").await;
        let before = roster(&app, &ana, &org).await;
        let profile_before: Value = call(&app, Method::GET, Some(&bruno), "/api/v1/me", None)
            .await
            .json()
            .await
            .unwrap();

        // His own membership: role, status or both.
        let own = format!("/api/v1/organizations/{org}/members/{membership}");
        for body in [
            json!({ "role_id": admin_role }),
            json!({ "status": "active", "role_id": admin_role }),
            json!({ "kind": "staff", "role_id": admin_role }),
        ] {
            let response = call(&app, Method::PATCH, Some(&bruno), &own, Some(body)).await;
            assert_eq!(response.status(), 403);
        }
        let info = call(
            &app,
            Method::PATCH,
            Some(&bruno),
            &format!("{own}/info"),
            Some(json!({ "first_name": "Bruno", "role_id": admin_role, "status": "active" })),
        )
        .await;
        assert!(
            info.status() == 403 || info.status() == 405,
            "{}",
            info.status()
        );
        // Mass assignment through his profile: unknown fields change nothing.
        let profile = call(
            &app,
            Method::PATCH,
            Some(&bruno),
            "/api/v1/me",
            Some(json!({
                "first_name": "Bruno",
                "role_id": admin_role,
                "status": "active",
                "kind": "staff",
                "email": "bruno@evil.example",
                "email_verified": true,
                "id": "00000000-0000-0000-0000-000000000000",
                "organization_id": org,
            })),
        )
        .await;
        assert!(
            profile.status() == 200 || profile.status() == 422,
            "{}",
            profile.status()
        );
        let profile_after: Value = call(&app, Method::GET, Some(&bruno), "/api/v1/me", None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(profile_after, profile_before);
        assert_eq!(roster(&app, &ana, &org).await, before);
        // And he still cannot do what an administrator does.
        let manage = call(
            &app,
            Method::POST,
            Some(&bruno),
            &format!("/api/v1/organizations/{org}/invitations"),
            Some(json!({
                "email": "eve@example.fr",
                "first_name": "Eve",
                "last_name": "Silva",
                "kind": "staff",
                "role_id": admin_role,
            })),
        )
        .await;
        assert_eq!(manage.status(), 403);
        assert!(app.mails_to("eve@example.fr").is_empty());
        app.stop().await;
    }
);

app_test!(
    async fn a_removed_member_cannot_act_with_an_old_session_or_log_back_in(app: TestApp) {
        let (ana, org) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let membership = invite(&app, &ana, &org, "bruno@example.fr", "administrator").await;
        let token = invitation_token(&app, "bruno@example.fr", 1).await;
        let bruno = session_cookie(&accept_as_new(&app, None, &token).await).unwrap();
        let ana_membership: Value = call(
            &app,
            Method::GET,
            Some(&ana),
            &format!("/api/v1/organizations/{org}/members?q=ana"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
        let ana_id = ana_membership["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let removed = call(
            &app,
            Method::POST,
            Some(&ana),
            &format!("/api/v1/organizations/{org}/members/{membership}/remove"),
            None,
        )
        .await;
        assert_eq!(removed.status(), 200);
        let before = roster(&app, &ana, &org).await;

        // His old (administrator) session tries state-changing requests.
        let suspend_ana = call(
            &app,
            Method::POST,
            Some(&bruno),
            &format!("/api/v1/organizations/{org}/members/{ana_id}/suspend"),
            None,
        )
        .await;
        assert_eq!(suspend_ana.status(), 401);
        let restore_self = call(
            &app,
            Method::POST,
            Some(&bruno),
            &format!("/api/v1/organizations/{org}/members/{membership}/restore"),
            None,
        )
        .await;
        assert_eq!(restore_self.status(), 401);
        let list = call(
            &app,
            Method::GET,
            Some(&bruno),
            &format!("/api/v1/organizations/{org}/members"),
            None,
        )
        .await;
        assert_eq!(list.status(), 401);
        assert_eq!(roster(&app, &ana, &org).await, before);

        // Logging in again gives no access to the organization either.
        let (fresh, login) = log_in(&app, "bruno@example.fr", INVITEE_PASSWORD).await;
        assert!(login["organization"].is_null(), "{login}");
        let list = call(
            &app,
            Method::GET,
            Some(&fresh),
            &format!("/api/v1/organizations/{org}/members"),
            None,
        )
        .await;
        assert_eq!(list.status(), 404);
        let switch = call(
            &app,
            Method::POST,
            Some(&fresh),
            "/api/v1/session/organization",
            Some(json!({ "organization_id": org })),
        )
        .await;
        assert!(
            switch.status() == 403 || switch.status() == 404,
            "{}",
            switch.status()
        );
        app.stop().await;
    }
);

/// The configured public URL of [`emailed_links_use_the_public_url_whatever_the_host_header`].
// http: with https the cookies would be `Secure` and a plain-HTTP test
// client could not send them back.
const PUBLIC_URL: &str = "http://gardien.example.test";

/// Host-header poisoning: a forged `Host` (or `X-Forwarded-Host`,
/// `Forwarded`) must not put another domain in an emailed link.
async fn emailed_links_use_the_public_url_whatever_the_host_header(
    backend: gardien_store::test_support::TestBackend,
) {
    let app = support::spawn_app_with(backend, |settings| {
        settings.public_url = Some(PUBLIC_URL.into());
    })
    .await;
    {
        let (ana, org) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let role = role_id(&app, &org, "user").await;
        let public = PUBLIC_URL;
        let (csrf_cookie, csrf) = app.csrf().await;
        let forged = |method: Method, path: &str, cookie: String| {
            app.http
                .request(method, app.url(path))
                .header("host", "evil.example")
                .header("x-forwarded-host", "evil.example")
                .header("x-forwarded-proto", "https")
                .header("forwarded", "host=evil.example;proto=https")
                .header("origin", PUBLIC_URL)
                .header("cookie", cookie)
                .header("x-csrf-token", csrf.clone())
        };
        let asked = forged(Method::POST, "/api/v1/password-resets", csrf_cookie.clone())
            .json(&json!({ "email": "ana@example.fr" }))
            .send()
            .await
            .unwrap();
        assert_eq!(asked.status(), 202);
        let invited = forged(
            Method::POST,
            &format!("/api/v1/organizations/{org}/invitations"),
            format!("{csrf_cookie}; {ana}"),
        )
        .json(&json!({
            "email": "bruno@example.fr",
            "first_name": "Bruno",
            "last_name": "Costa",
            "kind": "staff",
            "role_id": role,
        }))
        .send()
        .await
        .unwrap();
        assert_eq!(invited.status(), 201);

        for (to, nth, path) in [
            ("ana@example.fr", 2, "/password-resets/"),
            ("bruno@example.fr", 1, "/invitations/"),
        ] {
            let mail = app.mail_to(to, nth).await;
            let text = mail.text_body().unwrap();
            assert!(!text.contains("evil.example"), "{text}");
            assert!(
                text.contains(&format!("{public}{path}")),
                "the link uses the configured public URL: {text}"
            );
            if let Some(html) = mail.html_body() {
                assert!(!html.contains("evil.example"));
            }
        }
    }
    app.stop().await;
}

mod emailed_links_use_the_public_url {
    use gardien_store::test_support::TestBackend;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::emailed_links_use_the_public_url_whatever_the_host_header(TestBackend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::emailed_links_use_the_public_url_whatever_the_host_header(TestBackend::Postgres)
            .await;
    }
}

app_test!(
    async fn return_paths_only_lead_to_this_site(app: TestApp) {
        let (ana, _) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let hostile = [
            "https://evil.example/phish",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "http:evil.example",
            "javascript:alert(1)",
            " //evil.example",
            "/\t/evil.example",
            "/x\r\nLocation: https://evil.example",
        ];
        for target in hostile {
            // The language form (signed out, CSRF-protected).
            let (csrf_cookie, csrf) = app.csrf().await;
            let response = app
                .http
                .post(app.url("/language"))
                .header("cookie", csrf_cookie)
                .form(&[
                    ("language", "fr"),
                    ("return_to", target),
                    ("csrf_token", csrf.as_str()),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 303, "{target:?}");
            assert_eq!(response.headers()["location"], "/", "{target:?}");

            // The consent page (signed in; no policy to accept here).
            let response = app
                .http
                .get(app.url("/consent"))
                .query(&[("return_to", target)])
                .header("cookie", &ana)
                .send()
                .await
                .unwrap();
            assert!(response.status().is_redirection(), "{target:?}");
            assert_eq!(response.headers()["location"], "/", "{target:?}");
        }
        // A local path is kept.
        let response = app
            .http
            .get(app.url("/consent"))
            .query(&[("return_to", "/me?tab=sessions")])
            .header("cookie", &ana)
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["location"], "/me?tab=sessions");
        app.stop().await;
    }
);
