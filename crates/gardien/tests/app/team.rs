//! Invitations (flows 2, 3, 4, 5) and the team (flow 8) through the real
//! HTTP stack, mail over SMTP, on both back ends.

use crate::support;

use std::time::Duration;

use gardien_core::role::BUILT_IN_ROLES;
use gardien_core::{
    AccountId, Kind, Membership, MembershipId, MembershipStatus, Organization, OrganizationId,
    Role, RoleId,
};
use reqwest::Method;
use serde_json::{json, Value};
use support::{call, role_id, session_cookie, TestApp};
use time::OffsetDateTime;

const PASSWORD: &str = "violet tractor under the rain";
const INVITEE_PASSWORD: &str = "seven green lanterns at dawn";
const MAIL_WAIT: Duration = Duration::from_secs(10);

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
    let response = app
        .post_json(
            "/api/v1/login",
            &json!({ "email": email, "password": password }),
        )
        .await;
    assert_eq!(response.status(), 200, "login of {email}");
    let cookie = session_cookie(&response).expect("a session cookie");
    (cookie, response.json().await.unwrap())
}

async fn invite(
    app: &TestApp,
    session: &str,
    org: &str,
    email: &str,
    role: &str,
    extra: Value,
) -> reqwest::Response {
    let mut body = json!({
        "email": email,
        "first_name": "Bruno",
        "last_name": "Costa",
        "kind": "staff",
        "role_id": role,
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            body.insert(k.clone(), v.clone());
        }
    }
    call(
        app,
        Method::POST,
        Some(session),
        &format!("/api/v1/organizations/{org}/invitations"),
        Some(body),
    )
    .await
}

/// Waits for the `nth` (1-based) message sent to `to`.
async fn mail_to(app: &TestApp, to: &str, nth: usize) -> support_mail::Mail {
    let deadline = std::time::Instant::now() + MAIL_WAIT;
    loop {
        let mails: Vec<_> = app
            .mail
            .messages()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(to)))
            .collect();
        if mails.len() >= nth {
            let mail = &mails[nth - 1];
            return support_mail::Mail {
                subject: mail.decoded_header("subject").unwrap_or_default(),
                text: mail.text_body().unwrap_or_default(),
            };
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no message #{nth} to {to}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The token of the `nth` invitation emailed to `to`.
async fn invitation_token(app: &TestApp, to: &str, nth: usize) -> String {
    let deadline = std::time::Instant::now() + MAIL_WAIT;
    loop {
        let mails: Vec<_> = app
            .mail
            .messages()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(to)))
            .filter_map(|m| m.text_body())
            .filter(|text| text.contains("/invitations/"))
            .collect();
        if mails.len() >= nth {
            return support_mail::Mail {
                subject: String::new(),
                text: mails[nth - 1].clone(),
            }
            .invitation_token();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no invitation #{nth} to {to}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

mod support_mail {
    pub struct Mail {
        pub subject: String,
        pub text: String,
    }

    impl Mail {
        /// The token of the invitation link in the message.
        pub fn invitation_token(&self) -> String {
            let start = self.text.find("/invitations/").expect("an invitation link")
                + "/invitations/".len();
            self.text[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect()
        }
    }
}

async fn accept_new(app: &TestApp, token: &str) -> reqwest::Response {
    call(
        app,
        Method::POST,
        None,
        &format!("/api/v1/invitations/{token}"),
        Some(json!({
            "first_name": "Bruno",
            "last_name": "Costa",
            "title": "Accountant",
            "phone": "+33 1 23 45 67 89",
            "password": INVITEE_PASSWORD,
            "accept_privacy": true,
        })),
    )
    .await
}

async fn members(app: &TestApp, session: &str, org: &str, query: &str) -> Value {
    let response = call(
        app,
        Method::GET,
        Some(session),
        &format!("/api/v1/organizations/{org}/members{query}"),
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn member<'a>(list: &'a Value, email: &str) -> &'a Value {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == email)
        .unwrap_or_else(|| panic!("{email} is listed"))
}

async fn introspect_status(app: &TestApp, session: &str) -> u16 {
    app.http
        .get(app.url("/api/v1/session/introspect"))
        .header("cookie", session)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

app_test!(
    async fn invite_creates_a_member_and_emails_the_chosen_language(app: TestApp) {
        let (ana, org) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let role = role_id(&app, &org, "user").await;
        let response = invite(
            &app,
            &ana,
            &org,
            "bruno@example.fr",
            &role,
            json!({ "language": "fr", "personal_message": "Bienvenue !", "phone": "0102030405" }),
        )
        .await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["state"], "pending");
        assert_eq!(body["email"], "bruno@example.fr");
        assert_eq!(body["language"], "fr");

        let mail = mail_to(&app, "bruno@example.fr", 1).await;
        assert!(mail.subject.contains("vous invite"), "{}", mail.subject);
        assert!(mail.text.contains("Bienvenue !"), "{}", mail.text);
        assert!(!mail.invitation_token().is_empty());

        let list = members(&app, &ana, &org, "").await;
        let bruno = member(&list, "bruno@example.fr");
        assert_eq!(bruno["status"], "invited");
        assert_eq!(bruno["kind"], "staff");
        assert_eq!(bruno["role_id"], role.as_str());

        let invitations: Value = call(
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
        assert_eq!(invitations["items"][0]["state"], "pending");

        // The audit trail has the invitation.
        let mut tx = app.store.begin().await.unwrap();
        let events = tx
            .audit_events(
                OrganizationId::from_uuid(org.parse().unwrap()),
                gardien_store::PageRequest::first(50),
            )
            .await
            .unwrap();
        assert!(events
            .items
            .iter()
            .any(|e| e.action == "invitation.created"));
        app.stop().await;
    }
);

app_test!(
    async fn inviting_an_existing_account_answers_like_a_new_one(app: TestApp) {
        let (ana, org) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        sign_up_and_log_in(&app, "carla@example.fr", "Carla SARL").await;
        let role = role_id(&app, &org, "user").await;
        let existing = invite(&app, &ana, &org, "carla@example.fr", &role, json!({})).await;
        let new = invite(&app, &ana, &org, "dora@example.fr", &role, json!({})).await;
        assert_eq!(existing.status(), new.status());
        assert_eq!(existing.status(), 201);
        let existing: Value = existing.json().await.unwrap();
        let new: Value = new.json().await.unwrap();
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&existing), keys(&new));
        for field in ["state", "language"] {
            assert_eq!(existing[field], new[field], "{field}");
        }
        // The member list shows both as invited, with the names the admin
        // typed, not those of Carla's account.
        let list = members(&app, &ana, &org, "").await;
        for email in ["carla@example.fr", "dora@example.fr"] {
            let listed = member(&list, email);
            assert_eq!(listed["status"], "invited");
            assert_eq!(listed["first_name"], "Bruno", "{email}");
            assert_eq!(listed["last_name"], "Costa", "{email}");
        }
        assert!(members(&app, &ana, &org, "?search=lima").await["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["email"] == "ana@example.fr"));
        app.stop().await;
    }
);

app_test!(
    async fn inviting_a_member_again_is_a_clear_conflict(app: TestApp) {
        let (ana, org) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let role = role_id(&app, &org, "user").await;
        let first = invite(&app, &ana, &org, "bruno@example.fr", &role, json!({})).await;
        assert_eq!(first.status(), 201);
        for email in ["BRUNO@example.fr", "ana@example.fr"] {
            let again = invite(&app, &ana, &org, email, &role, json!({})).await;
            assert_eq!(again.status(), 409, "{email}");
            let problem: Value = again.json().await.unwrap();
            assert_eq!(problem["type"], "/problems/already-in-organization");
        }
        // Bad input is refused field by field and changes nothing.
        let bad = invite(
            &app,
            &ana,
            &org,
            "not-an-email",
            "nope",
            json!({ "kind": "boss", "first_name": "" }),
        )
        .await;
        assert_eq!(bad.status(), 422);
        let problem: Value = bad.json().await.unwrap();
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        for field in ["email", "first_name", "kind", "role_id"] {
            assert!(fields.contains(&field), "{field} in {fields:?}");
        }
        app.stop().await;
    }
);

app_test!(
    async fn an_administrator_cannot_act_on_another_organization(app: TestApp) {
        let (ana, org_a) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let (eve, org_b) = sign_up_and_log_in(&app, "eve@example.fr", "Eve Corp").await;
        let role_a = role_id(&app, &org_a, "user").await;
        let invited = invite(&app, &ana, &org_a, "bruno@example.fr", &role_a, json!({})).await;
        let invitation: Value = invited.json().await.unwrap();
        let member_a = invitation["membership_id"].as_str().unwrap().to_owned();
        let invitation_a = invitation["id"].as_str().unwrap().to_owned();

        // Eve (administrator of B) on A's paths: not found, nothing changes.
        let attempts = [
            (
                Method::GET,
                format!("/api/v1/organizations/{org_a}/members"),
                None,
            ),
            (
                Method::POST,
                format!("/api/v1/organizations/{org_a}/invitations"),
                Some(
                    json!({"email": "x@example.fr", "first_name": "X", "last_name": "Y",
                    "kind": "staff", "role_id": role_a}),
                ),
            ),
            (
                Method::POST,
                format!("/api/v1/organizations/{org_a}/members/{member_a}/remove"),
                None,
            ),
            // A's ids through B's path.
            (
                Method::POST,
                format!("/api/v1/organizations/{org_b}/members/{member_a}/remove"),
                None,
            ),
            (
                Method::POST,
                format!("/api/v1/organizations/{org_b}/invitations/{invitation_a}/resend"),
                None,
            ),
            (
                Method::DELETE,
                format!("/api/v1/organizations/{org_b}/invitations/{invitation_a}"),
                None,
            ),
        ];
        for (method, path, body) in attempts {
            let response = call(&app, method.clone(), Some(&eve), &path, body).await;
            assert_eq!(response.status(), 404, "{method} {path}");
        }
        // Without a session: 401.
        let anonymous = call(
            &app,
            Method::GET,
            None,
            &format!("/api/v1/organizations/{org_a}/members"),
            None,
        )
        .await;
        assert_eq!(anonymous.status(), 401);
        let list = members(&app, &ana, &org_a, "").await;
        assert_eq!(member(&list, "bruno@example.fr")["status"], "invited");

        // A member whose role lacks team.invite / team.manage: 403.
        let token = invitation_token(&app, "bruno@example.fr", 1).await;
        let accepted = accept_new(&app, &token).await;
        assert_eq!(accepted.status(), 200);
        let bruno = session_cookie(&accepted).unwrap();
        let refused = invite(&app, &bruno, &org_a, "zoe@example.fr", &role_a, json!({})).await;
        assert_eq!(refused.status(), 403);
        let refused = call(
            &app,
            Method::POST,
            Some(&bruno),
            &format!("/api/v1/organizations/{org_a}/members/{member_a}/suspend"),
            None,
        )
        .await;
        assert_eq!(refused.status(), 403);
        app.stop().await;
    }
);

app_test!(
    async fn new_invitee_sets_a_password_and_lands_in_the_organization(app: TestApp) {
        let (ana, org) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let role = role_id(&app, &org, "user").await;
        invite(
            &app,
            &ana,
            &org,
            "bruno@example.fr",
            &role,
            json!({ "kind": "client" }),
        )
        .await;
        let token = invitation_token(&app, "bruno@example.fr", 1).await;

        let preview: Value = call(
            &app,
            Method::GET,
            None,
            &format!("/api/v1/invitations/{token}"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(preview["audience"], "new_account");
        assert_eq!(preview["organization"], "Cabinet Lima");

        // The privacy policy and the password rules are enforced.
        let refused = call(
            &app,
            Method::POST,
            None,
            &format!("/api/v1/invitations/{token}"),
            Some(json!({ "first_name": "Bruno", "last_name": "Costa", "password": "short" })),
        )
        .await;
        assert_eq!(refused.status(), 422);
        let problem: Value = refused.json().await.unwrap();
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert!(fields.contains(&"password"), "{fields:?}");
        assert!(fields.contains(&"accept_privacy"), "{fields:?}");

        let accepted = accept_new(&app, &token).await;
        assert_eq!(accepted.status(), 200);
        let session = session_cookie(&accepted).expect("a session");
        let body: Value = accepted.json().await.unwrap();
        assert_eq!(body["status"], "active");
        assert_eq!(body["kind"], "client");

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
        assert_eq!(seen["organization"]["name"], "Cabinet Lima");
        assert_eq!(seen["kind"], "client");

        // The password works, the member is active with a last login.
        log_in(&app, "bruno@example.fr", INVITEE_PASSWORD).await;
        let list = members(&app, &ana, &org, "").await;
        let bruno = member(&list, "bruno@example.fr");
        assert_eq!(bruno["status"], "active");
        assert!(bruno["last_login_at"].is_string());

        // The link works once.
        let again = accept_new(&app, &token).await;
        assert_eq!(again.status(), 410);
        let page = app
            .http
            .get(app.url(&format!("/invitations/{token}")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 410);
        app.stop().await;
    }
);

app_test!(
    async fn existing_account_accepts_only_while_logged_in_as_itself(app: TestApp) {
        let (ana, org) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let (carla, _) = sign_up_and_log_in(&app, "carla@example.fr", "Carla SARL").await;
        let (dora, _) = sign_up_and_log_in(&app, "dora@example.fr", "Dora SAS").await;
        let role = role_id(&app, &org, "user").await;
        invite(
            &app,
            &ana,
            &org,
            "carla@example.fr",
            &role,
            json!({ "kind": "client" }),
        )
        .await;
        let token = invitation_token(&app, "carla@example.fr", 1).await;
        let path = format!("/api/v1/invitations/{token}");
        let consent = json!({ "accept_privacy": true });

        let signed_out = call(&app, Method::POST, None, &path, Some(consent.clone())).await;
        assert_eq!(signed_out.status(), 401);
        let problem: Value = signed_out.json().await.unwrap();
        assert_eq!(problem["type"], "/problems/login-required");

        let other = call(
            &app,
            Method::POST,
            Some(&dora),
            &path,
            Some(consent.clone()),
        )
        .await;
        assert_eq!(other.status(), 403);
        let problem: Value = other.json().await.unwrap();
        assert_eq!(problem["type"], "/problems/wrong-account");
        let page = app
            .http
            .get(app.url(&format!("/invitations/{token}")))
            .header("cookie", &dora)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 403);
        assert!(page.text().await.unwrap().contains("wrong-account"));

        let accepted = call(&app, Method::POST, Some(&carla), &path, Some(consent)).await;
        assert_eq!(accepted.status(), 200);
        let body: Value = accepted.json().await.unwrap();
        assert_eq!(body["status"], "active");
        // Her session moved to the organization, as a client; her password is unchanged.
        let seen: Value = app
            .http
            .get(app.url("/api/v1/session/introspect"))
            .header("cookie", &carla)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(seen["organization"]["name"], "Cabinet Lima");
        assert_eq!(seen["kind"], "client");
        let (_, login) = log_in(&app, "carla@example.fr", PASSWORD).await;
        assert_eq!(login["organizations"].as_array().unwrap().len(), 2);
        app.stop().await;
    }
);

app_test!(
    async fn resend_kills_the_old_link_and_revoke_kills_the_new_one(app: TestApp) {
        let (ana, org) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let role = role_id(&app, &org, "user").await;
        let first: Value = invite(&app, &ana, &org, "bruno@example.fr", &role, json!({}))
            .await
            .json()
            .await
            .unwrap();
        let old_token = invitation_token(&app, "bruno@example.fr", 1).await;
        let resent = call(
            &app,
            Method::POST,
            Some(&ana),
            &format!(
                "/api/v1/organizations/{org}/invitations/{}/resend",
                first["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
        assert_eq!(resent.status(), 201);
        let second: Value = resent.json().await.unwrap();
        let new_token = invitation_token(&app, "bruno@example.fr", 2).await;
        assert_ne!(old_token, new_token);

        let old = call(
            &app,
            Method::GET,
            None,
            &format!("/api/v1/invitations/{old_token}"),
            None,
        )
        .await;
        assert_eq!(old.status(), 410);
        let fresh = call(
            &app,
            Method::GET,
            None,
            &format!("/api/v1/invitations/{new_token}"),
            None,
        )
        .await;
        assert_eq!(fresh.status(), 200);

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
        let states: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["state"].as_str().unwrap())
            .collect();
        assert_eq!(states, ["pending", "revoked"]);

        let revoked = call(
            &app,
            Method::DELETE,
            Some(&ana),
            &format!(
                "/api/v1/organizations/{org}/invitations/{}",
                second["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
        assert_eq!(revoked.status(), 204);
        let dead = accept_new(&app, &new_token).await;
        assert_eq!(dead.status(), 410);
        app.stop().await;
    }
);

app_test!(
    async fn last_administrator_cannot_be_suspended_removed_or_demoted(app: TestApp) {
        let (ana, org) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let list = members(&app, &ana, &org, "").await;
        let me = member(&list, "ana@example.fr")["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let user_role = role_id(&app, &org, "user").await;
        let refusals = |expected: &'static str| {
            let (app, ana, org, me, user_role) = (&app, &ana, &org, &me, &user_role);
            async move {
                for action in ["suspend", "remove"] {
                    let response = call(
                        app,
                        Method::POST,
                        Some(ana),
                        &format!("/api/v1/organizations/{org}/members/{me}/{action}"),
                        None,
                    )
                    .await;
                    assert_eq!(response.status(), 409, "{action}");
                    let problem: Value = response.json().await.unwrap();
                    assert_eq!(problem["type"], expected);
                }
                let demote = call(
                    app,
                    Method::PATCH,
                    Some(ana),
                    &format!("/api/v1/organizations/{org}/members/{me}"),
                    Some(json!({ "role_id": user_role })),
                )
                .await;
                assert_eq!(demote.status(), 409);
                let problem: Value = demote.json().await.unwrap();
                assert_eq!(problem["type"], expected);
            }
        };
        // The founder owns the organization: the way out is a hand-over.
        refusals("/problems/owner-must-hand-over").await;
        // An organization with no recorded owner still keeps an administrator.
        app.database
            .execute_raw("UPDATE organizations SET owner_membership_id = NULL")
            .await
            .unwrap();
        refusals("/problems/last-administrator").await;

        // With a second administrator, the first may step down.
        let admin_role = role_id(&app, &org, "administrator").await;
        invite(&app, &ana, &org, "bruno@example.fr", &admin_role, json!({})).await;
        let token = invitation_token(&app, "bruno@example.fr", 1).await;
        assert_eq!(accept_new(&app, &token).await.status(), 200);
        let demote = call(
            &app,
            Method::PATCH,
            Some(&ana),
            &format!("/api/v1/organizations/{org}/members/{me}"),
            Some(json!({ "role_id": user_role })),
        )
        .await;
        assert_eq!(demote.status(), 200);
        app.stop().await;
    }
);

app_test!(
    async fn suspended_or_removed_member_is_refused_on_next_request(app: TestApp) {
        let (ana, org) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let role = role_id(&app, &org, "user").await;
        let invited: Value = invite(&app, &ana, &org, "bruno@example.fr", &role, json!({}))
            .await
            .json()
            .await
            .unwrap();
        let member_id = invited["membership_id"].as_str().unwrap().to_owned();
        let token = invitation_token(&app, "bruno@example.fr", 1).await;
        let bruno = session_cookie(&accept_new(&app, &token).await).unwrap();
        assert_eq!(introspect_status(&app, &bruno).await, 200);

        let act = |action: &'static str| {
            let path = format!("/api/v1/organizations/{org}/members/{member_id}/{action}");
            let app = &app;
            let ana = ana.clone();
            async move { call(app, Method::POST, Some(&ana), &path, None).await }
        };
        let suspended = act("suspend").await;
        assert_eq!(suspended.status(), 200);
        let body: Value = suspended.json().await.unwrap();
        assert_eq!(body["status"], "suspended");
        assert_eq!(introspect_status(&app, &bruno).await, 401);
        // Suspending twice is not a legal move.
        let again = act("suspend").await;
        assert_eq!(again.status(), 409);
        let problem: Value = again.json().await.unwrap();
        assert_eq!(problem["type"], "/problems/illegal-status-change");

        assert_eq!(act("reactivate").await.status(), 200);
        assert_eq!(introspect_status(&app, &bruno).await, 200);

        assert_eq!(act("remove").await.status(), 200);
        assert_eq!(introspect_status(&app, &bruno).await, 401);
        // Soft removal: still listed, as removed.
        let list = members(&app, &ana, &org, "").await;
        assert_eq!(member(&list, "bruno@example.fr")["status"], "removed");
        assert_eq!(act("restore").await.status(), 200);
        assert_eq!(introspect_status(&app, &bruno).await, 200);

        // Each change is in the audit trail with before and after.
        let mut tx = app.store.begin().await.unwrap();
        let events = tx
            .audit_events(
                OrganizationId::from_uuid(org.parse().unwrap()),
                gardien_store::PageRequest::first(100),
            )
            .await
            .unwrap();
        let suspended = events
            .items
            .iter()
            .find(|e| e.action == "membership.suspended")
            .expect("a suspension event");
        assert_eq!(suspended.before.as_ref().unwrap()["status"], "active");
        assert_eq!(suspended.after.as_ref().unwrap()["status"], "suspended");
        for action in [
            "membership.reactivated",
            "membership.removed",
            "membership.restored",
        ] {
            assert!(events.items.iter().any(|e| e.action == action), "{action}");
        }
        app.stop().await;
    }
);

app_test!(
    async fn members_are_searched_filtered_and_paged(app: TestApp) {
        let (ana, org) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let role = role_id(&app, &org, "user").await;
        for (email, first, kind) in [
            ("bruno@example.fr", "Bruno", "staff"),
            ("carla@example.fr", "Carla", "client"),
            ("dora@example.fr", "Dora", "client"),
        ] {
            let response = invite(
                &app,
                &ana,
                &org,
                email,
                &role,
                json!({ "first_name": first, "kind": kind }),
            )
            .await;
            assert_eq!(response.status(), 201);
        }
        let emails = |list: &Value| -> Vec<String> {
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["email"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(
            emails(&members(&app, &ana, &org, "?search=CARL").await),
            ["carla@example.fr"]
        );
        assert_eq!(
            emails(&members(&app, &ana, &org, "?search=costa%20dora").await),
            ["dora@example.fr"]
        );
        assert_eq!(
            emails(&members(&app, &ana, &org, "?kind=client").await),
            ["carla@example.fr", "dora@example.fr"]
        );
        assert_eq!(
            emails(&members(&app, &ana, &org, "?status=active").await),
            ["ana@example.fr"]
        );
        assert_eq!(
            emails(&members(&app, &ana, &org, &format!("?role={role}&status=invited")).await).len(),
            3
        );
        // A literal % is not a wildcard.
        assert!(emails(&members(&app, &ana, &org, "?search=%25").await).is_empty());

        let first = members(&app, &ana, &org, "?limit=2").await;
        assert_eq!(emails(&first), ["ana@example.fr", "bruno@example.fr"]);
        let cursor = first["next_cursor"].as_str().expect("a next page");
        let second = members(&app, &ana, &org, &format!("?limit=2&cursor={cursor}")).await;
        assert_eq!(emails(&second), ["carla@example.fr", "dora@example.fr"]);
        assert!(second["next_cursor"].is_null());

        let bad = call(
            &app,
            Method::GET,
            Some(&ana),
            &format!("/api/v1/organizations/{org}/members?status=sleeping"),
            None,
        )
        .await;
        assert_eq!(bad.status(), 422);
        app.stop().await;
    }
);

app_test!(
    async fn organization_requiring_activation_waits_for_an_administrator(app: TestApp) {
        let (_, org_a) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        // A second organization that requires activation, where Ana is manager.
        let now = OffsetDateTime::now_utc();
        let organization = Organization {
            id: OrganizationId::new(),
            name: "Hébergeur Pro".into(),
            requires_activation: true,
            created_at: now,
        };
        let mut tx = app.store.begin().await.unwrap();
        let ana_id: AccountId = tx
            .account_by_email(&gardien_core::Email::parse("ana@example.fr").unwrap())
            .await
            .unwrap()
            .unwrap()
            .id;
        tx.insert_organization(&organization).await.unwrap();
        let mut manager = None;
        let mut user = None;
        for template in BUILT_IN_ROLES {
            let role = Role {
                id: RoleId::new(),
                organization_id: organization.id,
                template: Some(template.key.into()),
                name: template.name_en.into(),
                description: String::new(),
                permissions: template.permissions(),
                scoped: template.scoped,
            };
            tx.insert_role(&role).await.unwrap();
            match template.key {
                "manager" => manager = Some(role.id),
                "user" => user = Some(role.id),
                _ => {}
            }
        }
        tx.insert_membership(&Membership {
            id: MembershipId::new(),
            organization_id: organization.id,
            account_id: ana_id,
            kind: Kind::Staff,
            role_id: manager.unwrap(),
            status: MembershipStatus::Active,
            created_at: now,
            updated_at: now,
        })
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let _ = org_a;

        let (ana, _) = log_in(&app, "ana@example.fr", PASSWORD).await;
        let org = organization.id.to_string();
        let chosen = call(
            &app,
            Method::POST,
            Some(&ana),
            "/api/v1/session/organization",
            Some(json!({ "organization_id": org })),
        )
        .await;
        assert_eq!(chosen.status(), 200);
        let invited: Value = invite(
            &app,
            &ana,
            &org,
            "bruno@example.fr",
            &user.unwrap().to_string(),
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
        let member_id = invited["membership_id"].as_str().unwrap().to_owned();
        let token = invitation_token(&app, "bruno@example.fr", 1).await;
        let accepted = accept_new(&app, &token).await;
        assert_eq!(accepted.status(), 200);
        let body: Value = accepted.json().await.unwrap();
        assert_eq!(body["status"], "pending_activation");

        let activated = call(
            &app,
            Method::POST,
            Some(&ana),
            &format!("/api/v1/organizations/{org}/members/{member_id}/activate"),
            None,
        )
        .await;
        assert_eq!(activated.status(), 200);
        let mail = mail_to(&app, "bruno@example.fr", 2).await;
        assert!(mail.subject.contains("Hébergeur Pro"), "{}", mail.subject);
        let (_, login) = log_in(&app, "bruno@example.fr", INVITEE_PASSWORD).await;
        assert_eq!(login["organization"]["name"], "Hébergeur Pro");
        app.stop().await;
    }
);

app_test!(
    async fn activation_setting_is_changed_by_administrators_only(app: TestApp) {
        let (ana, org) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let (eve, _) = sign_up_and_log_in(&app, "eve@example.fr", "Eve Corp").await;
        let path = format!("/api/v1/organizations/{org}/settings");
        let on = json!({ "requires_activation": true });
        let foreign = call(&app, Method::PATCH, Some(&eve), &path, Some(on.clone())).await;
        assert_eq!(foreign.status(), 404);
        let saved = call(&app, Method::PATCH, Some(&ana), &path, Some(on)).await;
        assert_eq!(saved.status(), 200);
        let body: Value = saved.json().await.unwrap();
        assert_eq!(body["requires_activation"], true);

        let role = role_id(&app, &org, "user").await;
        invite(&app, &ana, &org, "bruno@example.fr", &role, json!({})).await;
        let token = invitation_token(&app, "bruno@example.fr", 1).await;
        let accepted = accept_new(&app, &token).await;
        let bruno = session_cookie(&accepted).unwrap();
        let body: Value = accepted.json().await.unwrap();
        assert_eq!(body["status"], "pending_activation");
        // Waiting for activation: the session is not in the organization.
        let seen: Value = app
            .http
            .get(app.url("/api/v1/session/introspect"))
            .header("cookie", &bruno)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(seen["organization"].is_null());
        let list = members(&app, &ana, &org, "?status=pending_activation").await;
        assert_eq!(
            member(&list, "bruno@example.fr")["status"],
            "pending_activation"
        );

        // A member without team.manage may not change settings.
        let id = member(&list, "bruno@example.fr")["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let activated = call(
            &app,
            Method::POST,
            Some(&ana),
            &format!("/api/v1/organizations/{org}/members/{id}/activate"),
            None,
        )
        .await;
        assert_eq!(activated.status(), 200);
        let (bruno, _) = log_in(&app, "bruno@example.fr", INVITEE_PASSWORD).await;
        let refused = call(&app, Method::GET, Some(&bruno), &path, None).await;
        assert_eq!(refused.status(), 403);
        app.stop().await;
    }
);

app_test!(
    async fn existing_account_logs_in_from_the_invitation_page(app: TestApp) {
        let (ana, org) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        sign_up_and_log_in(&app, "carla@example.fr", "Carla SARL").await;
        let role = role_id(&app, &org, "user").await;
        invite(&app, &ana, &org, "carla@example.fr", &role, json!({})).await;
        let token = invitation_token(&app, "carla@example.fr", 1).await;

        let page = app
            .http
            .get(app.url(&format!("/invitations/{token}")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("id=\"login-required\""));

        let (csrf_cookie, csrf) = app.csrf().await;
        let logged_in = app
            .http
            .post(app.url(&format!("/invitations/{token}/login")))
            .header("cookie", &csrf_cookie)
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("email", "carla@example.fr"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(logged_in.status(), 303);
        assert_eq!(
            logged_in.headers()["location"].to_str().unwrap(),
            format!("/invitations/{token}")
        );
        let session = session_cookie(&logged_in).unwrap();
        let page = app
            .http
            .get(app.url(&format!("/invitations/{token}")))
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        assert!(page.text().await.unwrap().contains("signed_in_as_invitee"));
        let accepted = app
            .http
            .post(app.url(&format!("/invitations/{token}")))
            .header("cookie", format!("{csrf_cookie}; {session}"))
            .form(&[("csrf_token", csrf.as_str()), ("accept_privacy", "yes")])
            .send()
            .await
            .unwrap();
        assert_eq!(accepted.status(), 303);
        let list = members(&app, &ana, &org, "").await;
        assert_eq!(member(&list, "carla@example.fr")["status"], "active");
        app.stop().await;
    }
);

/// With a privacy policy version configured, the invitation page's checkbox
/// is the acceptance of flow 7: the new member is not asked again.
async fn accepting_records_the_privacy_consent(backend: gardien_store::test_support::TestBackend) {
    let app = support::spawn_app_with(backend, |s| {
        s.privacy_policy_version = Some("2026-11".into());
    })
    .await;
    let (ana, org) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
    let consent = call(
        &app,
        Method::POST,
        Some(&ana),
        "/api/v1/me/consent",
        Some(json!({ "policy_version": "2026-11" })),
    )
    .await;
    assert!(consent.status().is_success(), "{}", consent.status());
    let role = role_id(&app, &org, "user").await;
    invite(&app, &ana, &org, "bruno@example.fr", &role, json!({})).await;
    let token = invitation_token(&app, "bruno@example.fr", 1).await;
    let accepted = accept_new(&app, &token).await;
    assert_eq!(accepted.status(), 200);
    let bruno = session_cookie(&accepted).unwrap();
    let status: Value = call(&app, Method::GET, Some(&bruno), "/api/v1/me/consent", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["required"], false, "{status}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepting_records_the_privacy_consent_sqlite() {
    accepting_records_the_privacy_consent(gardien_store::test_support::TestBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepting_records_the_privacy_consent_postgres() {
    accepting_records_the_privacy_consent(gardien_store::test_support::TestBackend::Postgres).await;
}

app_test!(
    async fn an_unverified_account_cannot_invite_until_it_confirms_its_address(app: TestApp) {
        support::sign_up(&app, "ana@example.fr", "Cabinet Lima").await;
        let (ana, body) = log_in(&app, "ana@example.fr", PASSWORD).await;
        let org = body["organization"]["id"].as_str().unwrap().to_owned();
        let role = role_id(&app, &org, "user").await;

        let refused = invite(&app, &ana, &org, "bruno@example.fr", &role, json!({})).await;
        assert_eq!(refused.status(), 403);
        let problem: Value = refused.json().await.unwrap();
        assert_eq!(problem["type"], "/problems/email-not-verified", "{problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains("link"),
            "{problem}"
        );
        assert!(
            app.mails_to("bruno@example.fr").is_empty(),
            "nothing was sent"
        );
        let list = members(&app, &ana, &org, "").await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");

        // A new link can be asked; it is the one that verifies.
        let resent = call(
            &app,
            Method::POST,
            Some(&ana),
            "/api/v1/me/email-verification",
            None,
        )
        .await;
        assert_eq!(resent.status(), 202);
        let second = app.mail_to("ana@example.fr", 2).await;
        let token = support::link_token(&second.text_body().unwrap(), "/verify-email/");
        let verified = app
            .http
            .get(app.url(&format!("/verify-email/{token}")))
            .send()
            .await
            .unwrap();
        assert_eq!(verified.status(), 200);

        let invited = invite(&app, &ana, &org, "bruno@example.fr", &role, json!({})).await;
        assert_eq!(invited.status(), 201);

        // Once verified, asking again sends nothing.
        let again = call(
            &app,
            Method::POST,
            Some(&ana),
            "/api/v1/me/email-verification",
            None,
        )
        .await;
        assert_eq!(again.status(), 202);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(app.mails_to("ana@example.fr").len(), 2);
        app.stop().await;
    }
);
