//! The audit trail, its exports, the access review and the retention purge
//! (flow 14, issue 6) through the real HTTP stack, on both back ends.

use crate::support;

use std::collections::HashSet;
use std::time::Duration;

use gardien_core::audit::{Actor, AuditEvent};
use gardien_core::{AccountId, AuditEventId, OrganizationId};
use reqwest::Method;
use serde_json::{json, Value};
use support::{call, session_cookie, TestApp};
use time::OffsetDateTime;

const PASSWORD: &str = "violet tractor under the rain";
const NEW_PASSWORD: &str = "orange kites above the harbour";
const RESET_PASSWORD: &str = "quiet rivers cross old bridges";
const INVITEE_PASSWORD: &str = "seven green lanterns at dawn";
const MAIL_WAIT: Duration = Duration::from_secs(10);

/// Signs `email` up and confirms its address (needed to invite).
async fn sign_up(app: &TestApp, email: &str, organization: &str) {
    sign_up_unverified(app, email, organization).await;
    support::verify_email(app, email).await;
}

async fn sign_up_unverified(app: &TestApp, email: &str, organization: &str) {
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

/// Signs up `email` with its own organization: `(session, organization id, account id)`.
async fn owner(app: &TestApp, email: &str, organization: &str) -> (String, String, String) {
    sign_up(app, email, organization).await;
    let (session, body) = log_in(app, email, PASSWORD).await;
    (
        session,
        body["organization"]["id"].as_str().unwrap().to_owned(),
        body["account"]["id"].as_str().unwrap().to_owned(),
    )
}

async fn role_id(app: &TestApp, org: &str, template: &str) -> String {
    let org = OrganizationId::from_uuid(org.parse().unwrap());
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

/// The link token of the `nth` (1-based) message to `to` containing `marker`.
async fn link_token(app: &TestApp, to: &str, marker: &str, nth: usize) -> String {
    let deadline = std::time::Instant::now() + MAIL_WAIT;
    loop {
        let texts: Vec<String> = app
            .mail
            .messages()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(to)))
            .filter_map(|m| m.text_body())
            .filter(|text| text.contains(marker))
            .collect();
        if texts.len() >= nth {
            let text = &texts[nth - 1];
            let start = text.find(marker).unwrap() + marker.len();
            return text[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no message #{nth} with {marker} to {to}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn invite(app: &TestApp, session: &str, org: &str, email: &str, role: &str) -> Value {
    let response = call(
        app,
        Method::POST,
        Some(session),
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
    response.json().await.unwrap()
}

async fn accept(app: &TestApp, token: &str) -> reqwest::Response {
    call(
        app,
        Method::POST,
        None,
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

/// Invites `email` into `org` with `template`'s role and accepts as a new
/// account: `(session, membership id, account id)`.
async fn member(
    app: &TestApp,
    admin: &str,
    org: &str,
    email: &str,
    template: &str,
) -> (String, String, String) {
    let role = role_id(app, org, template).await;
    let invitation = invite(app, admin, org, email, &role).await;
    let token = link_token(app, email, "/invitations/", 1).await;
    assert_eq!(accept(app, &token).await.status(), 200);
    let (session, body) = log_in(app, email, INVITEE_PASSWORD).await;
    (
        session,
        invitation["membership_id"].as_str().unwrap().to_owned(),
        body["account"]["id"].as_str().unwrap().to_owned(),
    )
}

async fn get_json(app: &TestApp, session: &str, path: &str) -> (u16, Value) {
    let response = call(app, Method::GET, Some(session), path, None).await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Every event whose actor is one of `accounts`, not in `seen`; marks them seen.
async fn new_events(
    app: &TestApp,
    accounts: &[&str],
    seen: &mut HashSet<AuditEventId>,
) -> Vec<AuditEvent> {
    let mut tx = app.store.begin().await.unwrap();
    let mut fresh = Vec::new();
    for account in accounts {
        let id = AccountId::from_uuid(account.parse().unwrap());
        for event in tx.audit_events_by_actor(id, 10_000).await.unwrap() {
            if seen.insert(event.id) {
                fresh.push(event);
            }
        }
    }
    fresh.sort_by_key(|e| (e.occurred_at, e.id));
    fresh
}

/// The one event the last step wrote, which must be `action`.
async fn one_event(
    app: &TestApp,
    accounts: &[&str],
    seen: &mut HashSet<AuditEventId>,
    action: &str,
) -> AuditEvent {
    let events = new_events(app, accounts, seen).await;
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, [action], "exactly one {action} event");
    let event = events.into_iter().next().unwrap();
    assert!(event.request_id.is_some(), "{action} has its request id");
    event
}

fn status_change(event: &AuditEvent, before: &str, after: &str) {
    assert_eq!(
        event.before,
        Some(json!({ "status": before })),
        "{}",
        event.action
    );
    assert_eq!(
        event.after,
        Some(json!({ "status": after })),
        "{}",
        event.action
    );
}

async fn member_action(app: &TestApp, session: &str, org: &str, member: &str, action: &str) -> u16 {
    call(
        app,
        Method::POST,
        Some(session),
        &format!("/api/v1/organizations/{org}/members/{member}/{action}"),
        None,
    )
    .await
    .status()
    .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_writes_exactly_one_event_with_before_and_after_sqlite() {
    every_change_writes_exactly_one_event(gardien_store::test_support::TestBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_writes_exactly_one_event_with_before_and_after_postgres() {
    every_change_writes_exactly_one_event(gardien_store::test_support::TestBackend::Postgres).await;
}

async fn every_change_writes_exactly_one_event(backend: gardien_store::test_support::TestBackend) {
    let app = support::spawn_app_with(backend, |s| {
        s.privacy_policy_version = Some("2026-11".into());
    })
    .await;
    let mut seen = HashSet::new();

    // Sign-up, email verification, login success, consent.
    sign_up_unverified(&app, "ana@example.fr", "Cabinet Lima").await;
    let ana_id = {
        let mut tx = app.store.begin().await.unwrap();
        let email = gardien_core::Email::parse("ana@example.fr").unwrap();
        tx.account_by_email(&email)
            .await
            .unwrap()
            .unwrap()
            .id
            .to_string()
    };
    let signed_up = one_event(&app, &[&ana_id], &mut seen, "account.signed_up").await;
    assert_eq!(signed_up.before, None);
    assert_eq!(
        signed_up.after.as_ref().unwrap()["account"]["email"],
        "ana@example.fr"
    );
    support::verify_email(&app, "ana@example.fr").await;
    one_event(&app, &[&ana_id], &mut seen, "account.email_verified").await;
    let (ana, body) = log_in(&app, "ana@example.fr", PASSWORD).await;
    let org = body["organization"]["id"].as_str().unwrap().to_owned();
    let logged_in = one_event(&app, &[&ana_id], &mut seen, "account.logged_in").await;
    assert_eq!(logged_in.organization_id.unwrap().to_string(), org);
    let consent = call(
        &app,
        Method::POST,
        Some(&ana),
        "/api/v1/me/consent",
        Some(json!({ "policy_version": "2026-11" })),
    )
    .await;
    assert_eq!(consent.status(), 200);
    let consented = one_event(
        &app,
        &[&ana_id],
        &mut seen,
        "account.privacy_policy_accepted",
    )
    .await;
    assert_eq!(
        consented.after,
        Some(json!({ "policy_version": "2026-11" }))
    );

    // Login failure.
    let failed = app
        .post_json(
            "/api/v1/login",
            &json!({ "email": "ana@example.fr", "password": "not the password" }),
        )
        .await;
    assert_eq!(failed.status(), 401);
    one_event(&app, &[&ana_id], &mut seen, "account.login_failed").await;

    // Settings change.
    let settings = call(
        &app,
        Method::PATCH,
        Some(&ana),
        &format!("/api/v1/organizations/{org}/settings"),
        Some(json!({ "requires_activation": true })),
    )
    .await;
    assert_eq!(settings.status(), 200);
    let changed = one_event(&app, &[&ana_id], &mut seen, "organization.settings_changed").await;
    assert_eq!(
        changed.before,
        Some(json!({ "requires_activation": false }))
    );
    assert_eq!(changed.after, Some(json!({ "requires_activation": true })));

    // Invitation sent, resent, revoked; then a new one accepted.
    let user_role = role_id(&app, &org, "user").await;
    let first = invite(&app, &ana, &org, "bruno@example.fr", &user_role).await;
    let created = one_event(&app, &[&ana_id], &mut seen, "invitation.created").await;
    assert_eq!(
        created.target,
        Some(format!("invitation:{}", first["id"].as_str().unwrap()))
    );
    assert_eq!(created.after.as_ref().unwrap()["email"], "bruno@example.fr");
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
    assert_eq!(resent.status(), 201, "{:?}", resent.text().await);
    let resent_event = one_event(&app, &[&ana_id], &mut seen, "invitation.resent").await;
    assert_eq!(
        resent_event.before,
        Some(json!({ "invitation": first["id"] }))
    );
    let second_id = resent_event.after.as_ref().unwrap()["invitation"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = call(
        &app,
        Method::DELETE,
        Some(&ana),
        &format!("/api/v1/organizations/{org}/invitations/{second_id}"),
        None,
    )
    .await;
    assert!(revoked.status().is_success(), "{}", revoked.status());
    let revoked_event = one_event(&app, &[&ana_id], &mut seen, "invitation.revoked").await;
    assert_eq!(revoked_event.before, Some(json!({ "state": "pending" })));
    assert_eq!(revoked_event.after, Some(json!({ "state": "revoked" })));
    let third = call(
        &app,
        Method::POST,
        Some(&ana),
        &format!("/api/v1/organizations/{org}/invitations/{second_id}/resend"),
        None,
    )
    .await;
    assert_eq!(third.status(), 201);
    one_event(&app, &[&ana_id], &mut seen, "invitation.resent").await;
    let token = link_token(&app, "bruno@example.fr", "/invitations/", 3).await;
    assert_eq!(accept(&app, &token).await.status(), 200);
    let bruno_id = {
        let mut tx = app.store.begin().await.unwrap();
        let email = gardien_core::Email::parse("bruno@example.fr").unwrap();
        tx.account_by_email(&email)
            .await
            .unwrap()
            .unwrap()
            .id
            .to_string()
    };
    let member_id = first["membership_id"].as_str().unwrap().to_owned();
    let accepted = one_event(
        &app,
        &[&ana_id, &bruno_id],
        &mut seen,
        "invitation.accepted",
    )
    .await;
    assert_eq!(
        accepted.before,
        Some(json!({ "membership": { "status": "invited" } }))
    );
    assert_eq!(
        accepted.after.as_ref().unwrap()["membership"]["status"],
        "pending_activation"
    );

    // Activation, role change, suspension, reactivation, removal, restore.
    assert_eq!(
        member_action(&app, &ana, &org, &member_id, "activate").await,
        200
    );
    let activated = one_event(&app, &[&ana_id], &mut seen, "membership.activated").await;
    status_change(&activated, "pending_activation", "active");
    assert_eq!(activated.target, Some(format!("membership:{member_id}")));
    let billing = role_id(&app, &org, "billing").await;
    let role_change = call(
        &app,
        Method::PATCH,
        Some(&ana),
        &format!("/api/v1/organizations/{org}/members/{member_id}"),
        Some(json!({ "role_id": billing })),
    )
    .await;
    assert_eq!(role_change.status(), 200);
    let role_changed = one_event(&app, &[&ana_id], &mut seen, "membership.role_changed").await;
    assert_eq!(
        role_changed.before.as_ref().unwrap()["role"]["id"],
        user_role.as_str()
    );
    assert_eq!(
        role_changed.after.as_ref().unwrap()["role"]["id"],
        billing.as_str()
    );
    assert_eq!(
        role_changed.after.as_ref().unwrap()["role"]["name"],
        "Billing"
    );
    for (action, event, before, after) in [
        ("suspend", "membership.suspended", "active", "suspended"),
        (
            "reactivate",
            "membership.reactivated",
            "suspended",
            "active",
        ),
        ("remove", "membership.removed", "active", "removed"),
        ("restore", "membership.restored", "removed", "active"),
    ] {
        assert_eq!(
            member_action(&app, &ana, &org, &member_id, action).await,
            200,
            "{action}"
        );
        let written = one_event(&app, &[&ana_id], &mut seen, event).await;
        status_change(&written, before, after);
    }

    // API key created and revoked.
    let key = call(
        &app,
        Method::POST,
        Some(&ana),
        &format!("/api/v1/organizations/{org}/api-keys"),
        Some(json!({ "name": "Portal back end" })),
    )
    .await;
    assert_eq!(key.status(), 201);
    let key: Value = key.json().await.unwrap();
    let key_id = key["id"].as_str().unwrap();
    let created = one_event(&app, &[&ana_id], &mut seen, "api_key.created").await;
    assert_eq!(created.after, Some(json!({ "name": "Portal back end" })));
    let secret = key["secret"].as_str().unwrap();
    assert!(
        !serde_json::to_string(&created).unwrap().contains(secret),
        "the secret is never in the trail"
    );
    let revoked = call(
        &app,
        Method::DELETE,
        Some(&ana),
        &format!("/api/v1/organizations/{org}/api-keys/{key_id}"),
        None,
    )
    .await;
    assert!(revoked.status().is_success());
    let revoked = one_event(&app, &[&ana_id], &mut seen, "api_key.revoked").await;
    assert_eq!(revoked.before, Some(json!({ "name": "Portal back end" })));

    // Bruno's consent is part of his acceptance; he logs in (one event) and deletes his account.
    let (bruno, _) = log_in(&app, "bruno@example.fr", INVITEE_PASSWORD).await;
    one_event(&app, &[&bruno_id], &mut seen, "account.logged_in").await;
    let (csrf_cookie, csrf) = app.csrf().await;
    let deleted = app
        .http
        .delete(app.url("/api/v1/me"))
        .header("cookie", format!("{csrf_cookie}; {bruno}"))
        .header("x-csrf-token", csrf)
        .json(&json!({ "password": INVITEE_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success(), "{}", deleted.status());
    let deletion = one_event(&app, &[&bruno_id], &mut seen, "account.deleted").await;
    let text = serde_json::to_string(&deletion).unwrap();
    assert!(
        !text.contains("bruno@example.fr"),
        "no personal data: {text}"
    );

    // Password change, then reset by emailed link.
    let change = call(
        &app,
        Method::POST,
        Some(&ana),
        "/api/v1/me/password",
        Some(json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD })),
    )
    .await;
    assert!(change.status().is_success(), "{}", change.status());
    let changed = one_event(&app, &[&ana_id], &mut seen, "account.password_changed").await;
    let text = serde_json::to_string(&changed).unwrap();
    assert!(
        !text.contains(NEW_PASSWORD) && !text.contains("argon2"),
        "{text}"
    );
    let asked = app
        .post_json(
            "/api/v1/password-resets",
            &json!({ "email": "ana@example.fr" }),
        )
        .await;
    assert_eq!(asked.status(), 202);
    one_event(
        &app,
        &[&ana_id],
        &mut seen,
        "account.password_reset_requested",
    )
    .await;
    let token = link_token(&app, "ana@example.fr", "/password-resets/", 1).await;
    let reset = app
        .post_json(
            &format!("/api/v1/password-resets/{token}"),
            &json!({ "password": RESET_PASSWORD }),
        )
        .await;
    assert_eq!(reset.status(), 204);
    one_event(&app, &[&ana_id], &mut seen, "account.password_reset").await;

    // Logout.
    let (ana, _) = log_in(&app, "ana@example.fr", RESET_PASSWORD).await;
    one_event(&app, &[&ana_id], &mut seen, "account.logged_in").await;
    let out = call(
        &app,
        Method::POST,
        Some(&ana),
        "/api/v1/logout",
        Some(json!({})),
    )
    .await;
    assert!(out.status().is_success(), "{}", out.status());
    one_event(&app, &[&ana_id], &mut seen, "account.logged_out").await;
    app.stop().await;
}

app_test!(
    async fn a_change_refused_by_the_last_administrator_rule_writes_no_event(app: TestApp) {
        let (ana, org, ana_id) = owner(&app, "ana@example.fr", "Cabinet Lima").await;
        let mut seen = HashSet::new();
        new_events(&app, &[&ana_id], &mut seen).await;
        let (_, list) = get_json(&app, &ana, &format!("/api/v1/organizations/{org}/members")).await;
        let me = list["items"][0]["id"].as_str().unwrap().to_owned();
        for action in ["suspend", "remove"] {
            assert_eq!(member_action(&app, &ana, &org, &me, action).await, 409);
        }
        let user_role = role_id(&app, &org, "user").await;
        let demote = call(
            &app,
            Method::PATCH,
            Some(&ana),
            &format!("/api/v1/organizations/{org}/members/{me}"),
            Some(json!({ "role_id": user_role })),
        )
        .await;
        assert_eq!(demote.status(), 409);
        assert_eq!(new_events(&app, &[&ana_id], &mut seen).await, vec![]);
        let (_, page) = get_json(
            &app,
            &ana,
            &format!("/api/v1/organizations/{org}/audit-events?action=membership."),
        )
        .await;
        assert_eq!(page["items"], json!([]));
        app.stop().await;
    }
);

/// Appends events straight to the store (a big trail without a thousand HTTP calls).
async fn append(app: &TestApp, events: &[AuditEvent]) {
    let mut tx = app.store.begin().await.unwrap();
    for event in events {
        tx.append_audit_event(event).await.unwrap();
    }
    tx.commit().await.unwrap();
}

fn event(
    org: &str,
    at: OffsetDateTime,
    actor: Actor,
    action: &str,
    target: Option<String>,
) -> AuditEvent {
    AuditEvent {
        id: AuditEventId::new(),
        occurred_at: at,
        organization_id: Some(OrganizationId::from_uuid(org.parse().unwrap())),
        actor,
        action: action.into(),
        target,
        before: Some(json!({ "status": "active" })),
        after: Some(json!({ "status": "suspended" })),
        ip: Some("192.0.2.1".into()),
        user_agent: Some("test".into()),
        request_id: Some("r".into()),
    }
}

async fn all_pages(app: &TestApp, session: &str, org: &str, query: &str, limit: u32) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/organizations/{org}/audit-events?limit={limit}{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (status, page) = get_json(app, session, &path).await;
        assert_eq!(status, 200, "{path}: {page}");
        let page_items = page["items"].as_array().unwrap().clone();
        assert!(page_items.len() <= limit as usize);
        items.extend(page_items);
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    items
}

app_test!(
    async fn filters_and_pages_cover_every_event_once_newest_first(app: TestApp) {
        let (ana, org, ana_id) = owner(&app, "ana@example.fr", "Cabinet Lima").await;
        let (bruno, member_id, bruno_id) =
            member(&app, &ana, &org, "bruno@example.fr", "administrator").await;
        let (_, other_org, _) = owner(&app, "carla@example.fr", "Carla SARL").await;
        let ana_actor = Actor::Account(AccountId::from_uuid(ana_id.parse().unwrap()));
        let bruno_actor = Actor::Account(AccountId::from_uuid(bruno_id.parse().unwrap()));
        // 60 events over three days, several at the very same time (the
        // keyset's id breaks ties), and 10 in another organization.
        let base = time::macros::datetime!(2026-10-01 12:00 UTC);
        let mut events = Vec::new();
        for i in 0..60i64 {
            let at = base + time::Duration::hours(i / 3 * 3);
            let (actor, action) = match i % 3 {
                0 => (ana_actor.clone(), "membership.suspended"),
                1 => (bruno_actor.clone(), "membership.reactivated"),
                _ => (ana_actor.clone(), "invitation.created"),
            };
            let target = (i % 2 == 0).then(|| format!("membership:{member_id}"));
            events.push(event(&org, at, actor, action, target));
        }
        for _ in 0..10 {
            events.push(event(
                &other_org,
                base,
                ana_actor.clone(),
                "membership.suspended",
                None,
            ));
        }
        append(&app, &events).await;

        let range = "&from=2026-10-01&to=2026-10-03";
        let everything = all_pages(&app, &ana, &org, range, 7).await;
        let ids: Vec<&str> = everything
            .iter()
            .map(|e| e["id"].as_str().unwrap())
            .collect();
        let unique: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(
            ids.len(),
            60,
            "every event of the range, none of the other organization"
        );
        assert_eq!(unique.len(), 60, "no duplicates across pages");
        let times: Vec<&str> = everything
            .iter()
            .map(|e| e["occurred_at"].as_str().unwrap())
            .collect();
        let mut sorted = times.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(times, sorted, "newest first");

        // One day only: the 3-hourly events of October 1st (hours 12 to 21).
        let day = all_pages(&app, &ana, &org, "&from=2026-10-01&to=2026-10-01", 10).await;
        assert_eq!(day.len(), 12);
        let by_actor = all_pages(&app, &ana, &org, &format!("{range}&actor={bruno_id}"), 6).await;
        assert_eq!(by_actor.len(), 20);
        assert!(by_actor
            .iter()
            .all(|e| e["actor"]["id"] == bruno_id.as_str()));
        assert_eq!(by_actor[0]["actor"]["name"], "Bruno Costa");
        let exact = all_pages(
            &app,
            &ana,
            &org,
            &format!("{range}&action=membership.suspended"),
            50,
        )
        .await;
        assert_eq!(exact.len(), 20);
        let prefix = all_pages(&app, &ana, &org, &format!("{range}&action=membership."), 9).await;
        assert_eq!(prefix.len(), 40);
        assert!(prefix
            .iter()
            .all(|e| e["action"].as_str().unwrap().starts_with("membership.")));
        let about = all_pages(&app, &ana, &org, &format!("{range}&member={member_id}"), 8).await;
        assert_eq!(about.len(), 30);
        assert_eq!(about[0]["target_label"], "Bruno Costa <bruno@example.fr>");
        let combined = all_pages(
            &app,
            &ana,
            &org,
            &format!("{range}&member={member_id}&actor={ana_id}&action=invitation*"),
            4,
        )
        .await;
        assert_eq!(combined.len(), 10);

        // Bad filters are named, and nothing else is said.
        let (status, problem) = get_json(
            &app,
            &ana,
            &format!("/api/v1/organizations/{org}/audit-events?from=yesterday&actor=bob&cursor=x"),
        )
        .await;
        assert_eq!(status, 422);
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["from", "actor", "cursor"]);
        drop(bruno);
        app.stop().await;
    }
);

app_test!(
    async fn other_organizations_and_members_without_audit_read_are_refused(app: TestApp) {
        let (ana, org, _) = owner(&app, "ana@example.fr", "Cabinet Lima").await;
        let (carla, carla_org, _) = owner(&app, "carla@example.fr", "Carla SARL").await;
        let (_, carla_member, _) = member(&app, &carla, &carla_org, "dan@example.fr", "user").await;
        let (user, _, _) = member(&app, &ana, &org, "bruno@example.fr", "user").await;
        for path in [
            format!("/api/v1/organizations/{org}/audit-events"),
            format!("/api/v1/organizations/{org}/audit-events/export?format=csv"),
            format!("/api/v1/organizations/{org}/access-review"),
            format!("/api/v1/organizations/{org}/access-review/export"),
        ] {
            let (status, problem) = get_json(&app, &carla, &path).await;
            assert_eq!(status, 404, "{path}: another organization is not found");
            assert_eq!(problem["type"], "/problems/not-found");
            let (status, _) = get_json(&app, &user, &path).await;
            assert_eq!(
                status, 403,
                "{path}: the user role holds neither audit.read nor team.manage"
            );
            let anonymous = app.http.get(app.url(&path)).send().await.unwrap();
            assert_eq!(anonymous.status(), 401, "{path}");
        }
        // Ana's own trail holds none of Carla's events.
        let (_, page) = get_json(
            &app,
            &ana,
            &format!("/api/v1/organizations/{org}/audit-events?limit=1000"),
        )
        .await;
        let text = page.to_string();
        assert!(
            !text.contains("carla@example.fr") && !text.contains(&carla_org),
            "{text}"
        );
        // Another organization's member is no filter value here.
        let (status, problem) = get_json(
            &app,
            &ana,
            &format!("/api/v1/organizations/{org}/audit-events?member={carla_member}"),
        )
        .await;
        assert_eq!(status, 422);
        assert_eq!(problem["errors"][0]["field"], "member");
        app.stop().await;
    }
);

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

app_test!(
    async fn exports_stream_csv_and_json_lines_with_the_filters(app: TestApp) {
        let (ana, org, ana_id) = owner(&app, "ana@example.fr", "Cabinet Lima").await;
        let actor = Actor::Account(AccountId::from_uuid(ana_id.parse().unwrap()));
        let base = time::macros::datetime!(2026-10-01 12:00 UTC);
        // More than one batch of 1000, and a cell a spreadsheet would run.
        let mut events: Vec<AuditEvent> = (0..2100i64)
            .map(|i| {
                event(
                    &org,
                    base + time::Duration::seconds(i),
                    actor.clone(),
                    "membership.suspended",
                    None,
                )
            })
            .collect();
        let mut formula = event(
            &org,
            base + time::Duration::days(1),
            actor.clone(),
            "role.created",
            None,
        );
        formula.user_agent = Some("=HYPERLINK(\"http://evil\",\"x\")".into());
        formula.after = Some(json!({ "name": "Dispatch, \"north\"" }));
        events.push(formula.clone());
        append(&app, &events).await;

        let csv = call(
            &app,
            Method::GET,
            Some(&ana),
            &format!("/api/v1/organizations/{org}/audit-events/export?format=csv&from=2026-10-01&to=2026-10-02"),
            None,
        )
        .await;
        assert_eq!(csv.status(), 200);
        assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
        let disposition = csv.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            disposition.starts_with("attachment; filename=\"audit-events-")
                && disposition.ends_with(".csv\""),
            "{disposition}"
        );
        let rows = csv_rows(&csv.text().await.unwrap());
        assert_eq!(rows[0][..3], ["occurred_at", "id", "actor_type"]);
        assert_eq!(
            rows.len(),
            1 + 2101,
            "a header and every event of the range"
        );
        let ids: HashSet<&String> = rows[1..].iter().map(|r| &r[1]).collect();
        assert_eq!(ids.len(), 2101, "no duplicates across batches");
        let first = &rows[1];
        assert_eq!(first[1], formula.id.to_string(), "newest first");
        assert_eq!(first[6], "role.created");
        assert_eq!(
            first[11], "'=HYPERLINK(\"http://evil\",\"x\")",
            "formula neutralized"
        );
        assert_eq!(
            first[9], "{\"name\":\"Dispatch, \\\"north\\\"\"}",
            "quoted properly"
        );
        assert_eq!(first[4], "Ana Lima");

        let jsonl = call(
            &app,
            Method::GET,
            Some(&ana),
            &format!("/api/v1/organizations/{org}/audit-events/export?format=jsonl&action=role."),
            None,
        )
        .await;
        assert_eq!(jsonl.status(), 200);
        assert_eq!(jsonl.headers()["content-type"], "application/x-ndjson");
        let text = jsonl.text().await.unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["id"], formula.id.to_string());
        assert_eq!(lines[0]["after"]["name"], "Dispatch, \"north\"");
        assert_eq!(lines[0]["actor"]["email"], "ana@example.fr");

        let (status, problem) = get_json(
            &app,
            &ana,
            &format!("/api/v1/organizations/{org}/audit-events/export?format=xlsx"),
        )
        .await;
        assert_eq!(status, 422);
        assert_eq!(problem["errors"][0]["field"], "format");
        app.stop().await;
    }
);

app_test!(
    async fn a_deleted_account_stays_in_the_trail_as_an_anonymized_actor(app: TestApp) {
        let (ana, org, _) = owner(&app, "ana@example.fr", "Cabinet Lima").await;
        let (bruno, _, bruno_id) = member(&app, &ana, &org, "bruno@example.fr", "manager").await;
        let settings = call(
            &app,
            Method::PATCH,
            Some(&bruno),
            &format!("/api/v1/organizations/{org}/settings"),
            Some(json!({ "requires_activation": true })),
        )
        .await;
        assert_eq!(settings.status(), 200);
        let (csrf_cookie, csrf) = app.csrf().await;
        let deleted = app
            .http
            .delete(app.url("/api/v1/me"))
            .header("cookie", format!("{csrf_cookie}; {bruno}"))
            .header("x-csrf-token", csrf)
            .json(&json!({ "password": INVITEE_PASSWORD }))
            .send()
            .await
            .unwrap();
        assert!(deleted.status().is_success());
        let (_, page) = get_json(
            &app,
            &ana,
            &format!("/api/v1/organizations/{org}/audit-events?actor={bruno_id}&action=organization.settings_changed"),
        )
        .await;
        let item = &page["items"][0];
        assert_eq!(
            item["actor"]["id"],
            bruno_id.as_str(),
            "the event keeps its actor"
        );
        assert_eq!(item["actor"]["deleted"], true);
        assert_eq!(item["actor"]["name"], Value::Null);
        assert_eq!(item["actor"]["email"], Value::Null);
        assert_eq!(item["after"], json!({ "requires_activation": true }));
        app.stop().await;
    }
);

app_test!(
    async fn access_review_lists_access_inactive_members_and_old_invitations(app: TestApp) {
        let (ana, org, _) = owner(&app, "ana@example.fr", "Cabinet Lima").await;
        let (_, bruno_member, bruno_id) =
            member(&app, &ana, &org, "bruno@example.fr", "user").await;
        let (_, eva_member, _) = member(&app, &ana, &org, "eva@example.fr", "manager").await;
        let user_role = role_id(&app, &org, "user").await;
        invite(&app, &ana, &org, "zoe@example.fr", &user_role).await;
        // Bruno last logged in 100 days ago.
        let organization = OrganizationId::from_uuid(org.parse().unwrap());
        let mut tx = app.store.begin().await.unwrap();
        tx.record_login(
            organization,
            AccountId::from_uuid(bruno_id.parse().unwrap()),
            OffsetDateTime::now_utc() - time::Duration::days(100),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let (status, review) = get_json(
            &app,
            &ana,
            &format!("/api/v1/organizations/{org}/access-review"),
        )
        .await;
        assert_eq!(status, 200, "{review}");
        assert_eq!(review["days"], 90);
        let members = review["members"].as_array().unwrap();
        let admins: Vec<bool> = members
            .iter()
            .map(|m| m["administrator"].as_bool().unwrap())
            .collect();
        assert_eq!(
            admins,
            [true, true, false, false],
            "administrators first (Zoe is invited)"
        );
        assert_eq!(review["inactive_members"], json!([bruno_member]));
        let bruno = members
            .iter()
            .find(|m| m["id"] == bruno_member.as_str())
            .unwrap();
        assert_eq!(bruno["role_name"], "User");
        assert_eq!(bruno["scoped"], true);
        assert_eq!(
            review["stale_invitations"],
            json!([]),
            "Zoe's invitation is recent"
        );
        // Over 30 days nobody else is inactive; over 1 day the same.
        let (_, short) = get_json(
            &app,
            &ana,
            &format!("/api/v1/organizations/{org}/access-review?days=1"),
        )
        .await;
        assert_eq!(short["inactive_members"], json!([bruno_member]));
        let (status, problem) = get_json(
            &app,
            &ana,
            &format!("/api/v1/organizations/{org}/access-review?days=0"),
        )
        .await;
        assert_eq!(status, 422);
        assert_eq!(problem["errors"][0]["field"], "days");

        let csv = call(
            &app,
            Method::GET,
            Some(&ana),
            &format!("/api/v1/organizations/{org}/access-review/export"),
            None,
        )
        .await;
        assert_eq!(csv.status(), 200);
        assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
        let rows = csv_rows(&csv.text().await.unwrap());
        assert_eq!(rows[0][0], "type");
        let bruno_row = rows.iter().find(|r| r[1] == "bruno@example.fr").unwrap();
        assert_eq!(bruno_row[6], "User");
        assert_eq!(bruno_row[9], "true", "inactive");
        assert_eq!(rows.len(), 1 + 4);

        // Suspending from the review is the team's suspension (audited once).
        assert_eq!(
            member_action(&app, &ana, &org, &bruno_member, "suspend").await,
            200
        );
        let (_, review) = get_json(
            &app,
            &ana,
            &format!("/api/v1/organizations/{org}/access-review"),
        )
        .await;
        assert_eq!(review["inactive_members"], json!([]));
        drop(eva_member);
        app.stop().await;
    }
);

app_test!(
    async fn retention_purge_deletes_old_events_and_records_it(app: TestApp) {
        let (ana, org, ana_id) = owner(&app, "ana@example.fr", "Cabinet Lima").await;
        let actor = Actor::Account(AccountId::from_uuid(ana_id.parse().unwrap()));
        let now = OffsetDateTime::now_utc();
        let old: Vec<AuditEvent> = (0..5)
            .map(|i| {
                event(
                    &org,
                    now - time::Duration::days(40 + i),
                    actor.clone(),
                    "membership.suspended",
                    None,
                )
            })
            .collect();
        append(&app, &old).await;
        let services = gardien_service::Services::new(app.store.clone(), app.address.clone());
        let purged = services.purge_audit_events(30).await.unwrap();
        let here = purged
            .iter()
            .find(|p| p.organization_id.map(|o| o.to_string()) == Some(org.clone()))
            .unwrap();
        assert_eq!(here.deleted, 5);
        let (_, page) = get_json(
            &app,
            &ana,
            &format!("/api/v1/organizations/{org}/audit-events?limit=1000"),
        )
        .await;
        let items = page["items"].as_array().unwrap();
        assert!(
            items.iter().all(|e| e["action"] != "membership.suspended"),
            "old events gone"
        );
        assert!(
            items.iter().any(|e| e["action"] == "account.signed_up"),
            "recent events kept"
        );
        let purge = items
            .iter()
            .find(|e| e["action"] == "audit.purged")
            .expect("the purge is audited");
        assert_eq!(purge["after"]["deleted"], 5);
        assert_eq!(purge["after"]["retention_days"], 30);
        assert_eq!(purge["actor"]["type"], "system");
        // Nothing left to purge: nothing written.
        assert_eq!(services.purge_audit_events(30).await.unwrap(), vec![]);
        app.stop().await;
    }
);
