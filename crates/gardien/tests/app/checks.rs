//! The check API (flow 11) and its API keys through the real HTTP stack, on
//! both back ends: decisions with their reasons, batches, key scope and
//! revocation, a revoked right denied on the very next check, the index
//! always equal to a fresh one built from the database, and (PostgreSQL) a
//! change made through one instance denied by another.

use crate::support;

use std::time::{Duration, Instant};

use gardien_authz::{AuthzIndex, CheckRequest};
use gardien_core::permission::DEFAULT_CATALOG;
use gardien_core::{OrganizationId, PermissionKey};
use reqwest::Method;
use serde_json::{json, Value};
use support::{
    call, create_key, invitation_token, role_id, session_cookie, sign_up_and_log_in, with_key,
    TestApp,
};

const INVITEE_PASSWORD: &str = "seven green lanterns at dawn";

async fn check(
    app: &TestApp,
    key: &str,
    account: &str,
    org: &str,
    permission: &str,
    resource: Option<Value>,
) -> reqwest::Response {
    let mut body = json!({
        "account_id": account,
        "organization_id": org,
        "permission": permission,
    });
    if let Some(resource) = resource {
        body["resource"] = resource;
    }
    with_key(app, key, "/api/v1/check", body).await
}

async fn decision(app: &TestApp, key: &str, account: &str, org: &str, permission: &str) -> Value {
    let response = check(app, key, account, org, permission, None).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Invites `email` with the role of `template` and accepts as a new
/// account: `(membership id, account id)`.
async fn add_member(
    app: &TestApp,
    admin: &str,
    org: &str,
    email: &str,
    template: &str,
) -> (String, String) {
    let role = role_id(app, org, template).await;
    let invited = call(
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
    assert_eq!(invited.status(), 201);
    let invited: Value = invited.json().await.unwrap();
    let membership = invited["membership_id"].as_str().unwrap().to_owned();
    let token = invitation_token(app, email).await;
    let accepted = call(
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
    .await;
    let session = session_cookie(&accepted).expect("the invitee is logged in");
    let me: Value = app
        .http
        .get(app.url("/api/v1/session/introspect"))
        .header("cookie", session)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (membership, me["account"]["id"].as_str().unwrap().to_owned())
}

/// Every member of `org` and every permission of the catalog: the app's
/// answers (batch API) equal those of an index built afresh from the
/// database. Proves that every write made so far reached the live index.
async fn assert_index_matches_database(app: &TestApp, key: &str, org: &str) {
    let fresh = AuthzIndex::from_snapshot(app.store.authz_snapshot().await.unwrap());
    let org_id = OrganizationId::from_uuid(org.parse().unwrap());
    let accounts: Vec<_> = app
        .store
        .authz_snapshot()
        .await
        .unwrap()
        .memberships
        .into_iter()
        .filter(|m| m.organization_id == org_id)
        .map(|m| m.account_id)
        .collect();
    assert!(!accounts.is_empty());
    let mut requests = Vec::new();
    for account in &accounts {
        for entry in DEFAULT_CATALOG {
            requests.push(CheckRequest {
                account_id: *account,
                organization_id: org_id,
                permission: PermissionKey::parse(entry.key).unwrap(),
                resource: None,
            });
        }
    }
    let checks: Vec<Value> = requests
        .iter()
        .map(|r| {
            json!({
                "account_id": r.account_id,
                "organization_id": r.organization_id,
                "permission": r.permission.as_str(),
            })
        })
        .collect();
    let response = with_key(app, key, "/api/v1/check/batch", json!({ "checks": checks })).await;
    assert_eq!(response.status(), 200);
    let answers: Value = response.json().await.unwrap();
    let expected = fresh.check_batch(&requests);
    for (i, (answer, expected)) in answers["results"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&expected)
        .enumerate()
    {
        assert_eq!(answer["allowed"], expected.allowed, "check #{i}");
        assert_eq!(
            answer["reason"]["code"],
            serde_json::to_value(&expected.reason).unwrap()["code"],
            "check #{i}"
        );
    }
}

app_test!(
    async fn member_is_allowed_by_role_with_the_reason(app: TestApp) {
        let (ana, org, account) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let (_, key) = create_key(&app, &ana, &org).await;
        let manager = role_id(&app, &org, "manager").await;

        let allowed = decision(&app, &key, &account, &org, "team.manage").await;
        assert_eq!(allowed["allowed"], true);
        assert_eq!(allowed["reason"]["code"], "granted_by_role");
        assert_eq!(allowed["reason"]["role_id"], manager.as_str());

        // A machine's answer: never cached, sniffed or framed, traceable by
        // its request id, and no cookie.
        let answer = check(&app, &key, &account, &org, "team.manage", None).await;
        let header = |name: &str| {
            answer
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(header("cache-control"), "no-store");
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("x-frame-options"), "DENY");
        assert!(header("content-security-policy").contains("frame-ancestors 'none'"));
        assert!(!header("x-request-id").is_empty());
        assert!(answer.headers().get("set-cookie").is_none());

        // A stranger is not a member.
        let stranger = uuid::Uuid::now_v7().to_string();
        let denied = decision(&app, &key, &stranger, &org, "team.manage").await;
        assert_eq!(denied["allowed"], false);
        assert_eq!(denied["reason"]["code"], "not_a_member");

        // An unknown permission is refused with the valid ones.
        let unknown = check(&app, &key, &account, &org, "mail.burn", None).await;
        assert_eq!(unknown.status(), 422);
        let problem: Value = unknown.json().await.unwrap();
        assert!(problem["detail"]
            .as_str()
            .unwrap()
            .contains("invoices.read"));

        // A resource with an empty id is refused precisely.
        let malformed = check(
            &app,
            &key,
            &account,
            &org,
            "orders.read",
            Some(json!({ "type": "order", "id": " " })),
        )
        .await;
        assert_eq!(malformed.status(), 422);

        // The manager's role is not scoped: every order is visible.
        let visible = with_key(
            &app,
            &key,
            "/api/v1/check/resources",
            json!({
                "account_id": account,
                "organization_id": org,
                "permission": "team.read",
                "resource_type": "order",
            }),
        )
        .await;
        assert_eq!(visible.status(), 200);
        assert_eq!(visible.json::<Value>().await.unwrap()["all"], true);
        app.stop().await;
    }
);

app_test!(
    async fn batch_answers_in_order_and_refuses_more_than_a_thousand(app: TestApp) {
        let (ana, org, account) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let (_, key) = create_key(&app, &ana, &org).await;
        let stranger = uuid::Uuid::now_v7().to_string();
        let response = with_key(
            &app,
            &key,
            "/api/v1/check/batch",
            json!({ "checks": [
                { "account_id": account, "organization_id": org, "permission": "team.manage" },
                { "account_id": stranger, "organization_id": org, "permission": "team.manage" },
            ]}),
        )
        .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["results"][0]["allowed"], true);
        assert_eq!(body["results"][1]["allowed"], false);
        assert_eq!(body["results"][1]["reason"]["code"], "not_a_member");

        let too_many: Vec<Value> = (0..1001)
            .map(|_| json!({ "account_id": account, "organization_id": org, "permission": "team.read" }))
            .collect();
        let refused = with_key(
            &app,
            &key,
            "/api/v1/check/batch",
            json!({ "checks": too_many }),
        )
        .await;
        assert_eq!(refused.status(), 422);
        app.stop().await;
    }
);

app_test!(
    async fn key_of_another_organization_and_revoked_key_are_refused(app: TestApp) {
        let (ana, org_a, account_a) =
            sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let (carla, org_b, _) = sign_up_and_log_in(&app, "carla@example.fr", "Atelier Dias").await;
        let (key_a_id, key_a) = create_key(&app, &ana, &org_a).await;
        let (_, key_b) = create_key(&app, &carla, &org_b).await;

        // Org B's key may not ask about org A.
        let refused = check(&app, &key_b, &account_a, &org_a, "team.read", None).await;
        assert_eq!(refused.status(), 403);
        // Nor may anyone manage org A's keys from org B's session.
        let listed = call(
            &app,
            Method::GET,
            Some(&carla),
            &format!("/api/v1/organizations/{org_a}/api-keys"),
            None,
        )
        .await;
        assert_eq!(listed.status(), 404);

        // No credentials at all: refused (the CSRF layer answers first).
        let anonymous = app
            .http
            .post(app.url("/api/v1/check"))
            .json(&json!({ "account_id": account_a, "organization_id": org_a, "permission": "team.read" }))
            .send()
            .await
            .unwrap();
        assert!(anonymous.status().is_client_error());
        // A malformed or made-up key: 401.
        assert_eq!(
            check(&app, "nope", &account_a, &org_a, "team.read", None)
                .await
                .status(),
            401
        );
        let made_up = format!("gk_{}", "A".repeat(43));
        assert_eq!(
            check(&app, &made_up, &account_a, &org_a, "team.read", None)
                .await
                .status(),
            401
        );

        // Revoked: refused on the very next request.
        assert_eq!(
            check(&app, &key_a, &account_a, &org_a, "team.read", None)
                .await
                .status(),
            200
        );
        let revoked = call(
            &app,
            Method::DELETE,
            Some(&ana),
            &format!("/api/v1/organizations/{org_a}/api-keys/{key_a_id}"),
            None,
        )
        .await;
        assert_eq!(revoked.status(), 200);
        assert_eq!(
            check(&app, &key_a, &account_a, &org_a, "team.read", None)
                .await
                .status(),
            401
        );

        // The list shows it revoked, never its secret; both acts are audited.
        let list: Value = call(
            &app,
            Method::GET,
            Some(&ana),
            &format!("/api/v1/organizations/{org_a}/api-keys"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
        assert!(list["items"][0]["revoked_at"].is_string());
        assert!(list["items"][0].get("secret").is_none());
        let mut tx = app.store.begin().await.unwrap();
        let events = tx
            .audit_events(
                OrganizationId::from_uuid(org_a.parse().unwrap()),
                gardien_store::PageRequest::first(100),
            )
            .await
            .unwrap();
        for action in ["api_key.created", "api_key.revoked"] {
            assert!(events.items.iter().any(|e| e.action == action), "{action}");
        }
        app.stop().await;
    }
);

app_test!(
    async fn suspended_member_is_denied_on_the_very_next_check(app: TestApp) {
        let (ana, org, _) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let (_, key) = create_key(&app, &ana, &org).await;
        let (member, bruno) =
            add_member(&app, &ana, &org, "bruno@example.fr", "administrator").await;
        let allowed = decision(&app, &key, &bruno, &org, "team.read").await;
        assert_eq!(allowed["allowed"], true, "{allowed}");
        assert_index_matches_database(&app, &key, &org).await;

        let act = |action: &'static str| {
            let path = format!("/api/v1/organizations/{org}/members/{member}/{action}");
            let app = &app;
            let ana = ana.clone();
            async move { call(app, Method::POST, Some(&ana), &path, None).await }
        };
        assert_eq!(act("suspend").await.status(), 200);
        let denied = decision(&app, &key, &bruno, &org, "team.read").await;
        assert_eq!(denied["allowed"], false);
        assert_eq!(denied["reason"]["code"], "suspended");
        assert_index_matches_database(&app, &key, &org).await;

        assert_eq!(act("reactivate").await.status(), 200);
        assert_eq!(
            decision(&app, &key, &bruno, &org, "team.read").await["allowed"],
            true
        );
        assert_eq!(act("remove").await.status(), 200);
        let removed = decision(&app, &key, &bruno, &org, "team.read").await;
        assert_eq!(removed["reason"]["code"], "removed");
        assert_eq!(act("restore").await.status(), 200);
        assert_eq!(
            decision(&app, &key, &bruno, &org, "team.read").await["allowed"],
            true
        );

        // A role change takes effect at once: the scoped `user` role lacks team.read.
        let user = role_id(&app, &org, "user").await;
        let patched = call(
            &app,
            Method::PATCH,
            Some(&ana),
            &format!("/api/v1/organizations/{org}/members/{member}"),
            Some(json!({ "role_id": user })),
        )
        .await;
        assert_eq!(patched.status(), 200);
        assert_index_matches_database(&app, &key, &org).await;
        assert_eq!(
            decision(&app, &key, &bruno, &org, "team.read").await["reason"]["code"],
            "no_permission"
        );
        // The `user` role is scoped: an order not assigned to the member is denied,
        // and none is visible.
        let order = check(
            &app,
            &key,
            &bruno,
            &org,
            "orders.read",
            Some(json!({ "type": "order", "id": "42" })),
        )
        .await;
        let order: Value = order.json().await.unwrap();
        assert_eq!(order["allowed"], false);
        assert_eq!(order["reason"]["code"], "not_assigned");
        let visible: Value = with_key(
            &app,
            &key,
            "/api/v1/check/resources",
            json!({
                "account_id": bruno,
                "organization_id": org,
                "permission": "orders.read",
                "resource_type": "order",
            }),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(visible, json!({ "all": false, "ids": [] }));

        // Effective permissions follow the role.
        let effective: Value = app
            .http
            .get(app.url(&format!(
                "/api/v1/organizations/{org}/members/{member}/effective-permissions"
            )))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let expected = app
            .store
            .authz_snapshot()
            .await
            .unwrap()
            .roles
            .into_iter()
            .find(|r| r.role_id.to_string() == user)
            .unwrap()
            .permissions
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect::<Vec<_>>();
        assert_eq!(effective["permissions"], json!(expected));
        app.stop().await;
    }
);

app_test!(
    async fn deleted_account_is_denied_on_the_next_check(app: TestApp) {
        let (ana, org, _) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let (_, key) = create_key(&app, &ana, &org).await;
        let (_, bruno) = add_member(&app, &ana, &org, "bruno@example.fr", "administrator").await;
        assert_eq!(
            decision(&app, &key, &bruno, &org, "team.read").await["allowed"],
            true
        );
        let login = app
            .post_json(
                "/api/v1/login",
                &json!({ "email": "bruno@example.fr", "password": INVITEE_PASSWORD }),
            )
            .await;
        let bruno_session = session_cookie(&login).unwrap();
        let deleted = call(
            &app,
            Method::DELETE,
            Some(&bruno_session),
            "/api/v1/me",
            Some(json!({ "password": INVITEE_PASSWORD })),
        )
        .await;
        assert!(deleted.status().is_success(), "{}", deleted.status());
        assert_eq!(
            decision(&app, &key, &bruno, &org, "team.read").await["allowed"],
            false
        );
        assert_index_matches_database(&app, &key, &org).await;
        app.stop().await;
    }
);

/// Two instances on one PostgreSQL database: a suspension through A is
/// denied by B. NOTIFY is asynchronous, so B is polled; the bound asserted
/// (and printed) is the propagation delay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspension_through_one_instance_is_denied_by_another() {
    let a = support::spawn_app(gardien_store::test_support::TestBackend::Postgres).await;
    let data_dir = tempfile::tempdir().unwrap();
    let settings = support::test_settings(a.database.url(), data_dir.path(), a.mail.port());
    let b_app = gardien::Application::build(settings.resolve().unwrap())
        .await
        .unwrap();
    let b_address = format!("http://{}", b_app.local_addr());
    let (stop_b, stopped_b) = tokio::sync::oneshot::channel::<()>();
    let b_server = tokio::spawn(async move {
        b_app
            .run_until_stopped(async {
                let _ = stopped_b.await;
            })
            .await
            .unwrap();
    });

    let (ana, org, _) = sign_up_and_log_in(&a, "ana@example.fr", "Cabinet Lima").await;
    let (key_id, key) = create_key(&a, &ana, &org).await;
    let (member, bruno) = add_member(&a, &ana, &org, "bruno@example.fr", "administrator").await;
    let ask_b = || async {
        let response = a
            .http
            .post(format!("{b_address}/api/v1/check"))
            .bearer_auth(&key)
            .json(
                &json!({ "account_id": bruno, "organization_id": org, "permission": "team.read" }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json::<Value>().await.unwrap()["allowed"] == true
    };
    let deadline = Instant::now() + Duration::from_secs(2);
    while !ask_b().await {
        assert!(Instant::now() < deadline, "B never saw the new member");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let suspended = call(
        &a,
        Method::POST,
        Some(&ana),
        &format!("/api/v1/organizations/{org}/members/{member}/suspend"),
        None,
    )
    .await;
    assert_eq!(suspended.status(), 200);
    let since = Instant::now();
    while ask_b().await {
        assert!(
            since.elapsed() < Duration::from_millis(100),
            "B still allowed after {:?}",
            since.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    println!("instance B denied {:?} after A answered", since.elapsed());

    // A key revoked through A is refused by B (which had it in memory).
    let revoked = call(
        &a,
        Method::DELETE,
        Some(&ana),
        &format!("/api/v1/organizations/{org}/api-keys/{key_id}"),
        None,
    )
    .await;
    assert_eq!(revoked.status(), 200);
    let since = Instant::now();
    loop {
        let status = a
            .http
            .post(format!("{b_address}/api/v1/check"))
            .bearer_auth(&key)
            .json(
                &json!({ "account_id": bruno, "organization_id": org, "permission": "team.read" }),
            )
            .send()
            .await
            .unwrap()
            .status();
        if status == 401 {
            break;
        }
        assert!(
            since.elapsed() < Duration::from_millis(100),
            "B still accepts the revoked key after {:?}",
            since.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    println!(
        "instance B refused the revoked key {:?} after A answered",
        since.elapsed()
    );

    let _ = stop_b.send(());
    let _ = b_server.await;
    a.stop().await;
}
