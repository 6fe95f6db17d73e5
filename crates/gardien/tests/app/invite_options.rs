//! Flow 2's options through the real HTTP stack, mail over SMTP, on both
//! back ends: a role created on the spot and resources assigned with the
//! invitation — all of it committed together, or nothing.

use crate::support;

use reqwest::Method;
use serde_json::{json, Value};
use support::{call, create_key, sign_up_and_log_in, with_key, TestApp};

async fn invite(app: &TestApp, session: &str, org: &str, body: Value) -> reqwest::Response {
    call(
        app,
        Method::POST,
        Some(session),
        &format!("/api/v1/organizations/{org}/invitations"),
        Some(body),
    )
    .await
}

async fn roles(app: &TestApp, session: &str, org: &str) -> Vec<Value> {
    let response = call(
        app,
        Method::GET,
        Some(session),
        &format!("/api/v1/organizations/{org}/roles"),
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["items"].as_array().cloned().unwrap_or_default()
}

async fn invitation_count(app: &TestApp, session: &str, org: &str) -> usize {
    let response = call(
        app,
        Method::GET,
        Some(session),
        &format!("/api/v1/organizations/{org}/invitations"),
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["items"].as_array().map_or(0, Vec::len)
}

async fn allowed(app: &TestApp, key: &str, account: &str, org: &str, order: &str) -> bool {
    let response = with_key(
        app,
        key,
        "/api/v1/check",
        json!({
            "account_id": account, "organization_id": org,
            "permission": "orders.read",
            "resource": { "type": "order", "id": order },
        }),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["allowed"].as_bool().unwrap()
}

app_test!(
    async fn a_role_made_on_the_spot_and_assigned_orders_arrive_with_the_invitation(app: TestApp) {
        let (admin, org, _) = sign_up_and_log_in(&app, "ana@lima.example", "Lima").await;
        let (_, key) = create_key(&app, &admin, &org).await;
        let before = roles(&app, &admin, &org).await.len();

        let invited = invite(
            &app,
            &admin,
            &org,
            json!({
                "email": "bruno@costa.example", "first_name": "Bruno", "last_name": "Costa",
                "kind": "client", "language": "fr",
                "new_role": {
                    "name": "Suivi de commandes", "permissions": ["orders.read"], "scoped": true,
                },
                "assignments": [
                    { "type": "order", "id": "42", "label": "Commande 42" },
                    { "type": "order", "id": "43" },
                    { "type": "order", "id": "42", "label": "Commande 42" },
                ],
            }),
        )
        .await;
        assert_eq!(invited.status(), 201);

        // The role exists, with what was asked, and no one but the invitee holds it.
        let roles = roles(&app, &admin, &org).await;
        assert_eq!(roles.len(), before + 1);
        let role = roles
            .iter()
            .find(|r| r["name"] == "Suivi de commandes")
            .expect("the new role is listed");
        assert_eq!(role["permissions"], json!(["orders.read"]));
        assert_eq!(role["scoped"], true);

        // The email, in French, lists the resources once each.
        let mail = app.mail_to("bruno@costa.example", 1).await;
        let text = mail.text_body().unwrap();
        assert!(text.contains("Vous aurez accès à"), "{text}");
        assert_eq!(text.matches("- Commande 42").count(), 1, "{text}");
        assert!(text.contains("- 43"), "{text}");

        // Once accepted, the scoped role reads the assigned orders only.
        let _bruno = support::accept_as_new_account(&app, "bruno@costa.example").await;
        let account = {
            let mut tx = app.store.begin().await.unwrap();
            let email = gardien_core::Email::parse("bruno@costa.example").unwrap();
            tx.account_by_email(&email)
                .await
                .unwrap()
                .unwrap()
                .id
                .to_string()
        };
        assert!(allowed(&app, &key, &account, &org, "42").await);
        assert!(allowed(&app, &key, &account, &org, "43").await);
        assert!(!allowed(&app, &key, &account, &org, "44").await);
        // No second email for the assignments: the invitation told them.
        assert_eq!(app.mails_to("bruno@costa.example").len(), 1);

        // The trail has the role, the invitation and each assignment.
        let events = call(
            &app,
            Method::GET,
            Some(&admin),
            &format!("/api/v1/organizations/{org}/audit-events"),
            None,
        )
        .await;
        let events: Value = events.json().await.unwrap();
        let actions: Vec<&str> = events["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["action"].as_str())
            .collect();
        for action in ["role.created", "invitation.created"] {
            assert_eq!(
                actions.iter().filter(|a| **a == action).count(),
                1,
                "{actions:?}"
            );
        }
        assert_eq!(
            actions.iter().filter(|a| **a == "member.assigned").count(),
            2,
            "{actions:?}"
        );
    }
);

app_test!(
    async fn a_refused_invitation_creates_neither_its_role_nor_its_assignments(app: TestApp) {
        let (admin, org, _) = sign_up_and_log_in(&app, "ana@lima.example", "Lima").await;
        let user = support::role_id(&app, &org, "user").await;
        let before = roles(&app, &admin, &org).await.len();
        let base = |extra: Value| {
            let mut body = json!({
                "email": "bruno@costa.example", "first_name": "Bruno", "last_name": "Costa",
                "kind": "staff",
            });
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            body
        };
        let cases = [
            (
                base(json!({
                    "new_role": { "name": "Suivi", "permissions": ["orders.read"] },
                    "assignments": [
                        { "type": "order", "id": "42" },
                        { "type": "Bad Type", "id": "43" },
                    ],
                })),
                422,
                "assignments[1].type",
            ),
            (
                base(json!({ "role_id": user, "assignments": [{ "type": "order", "id": " " }] })),
                422,
                "assignments[0].id",
            ),
            (
                base(json!({ "role_id": user, "new_role": { "name": "Suivi" } })),
                422,
                "role_id",
            ),
            (
                base(json!({ "new_role": { "name": " " } })),
                422,
                "new_role.name",
            ),
            (
                base(json!({ "new_role": { "name": "Administrator" } })),
                409,
                "",
            ),
            (
                base(json!({ "new_role": { "name": "Suivi", "permissions": ["orders.burn"] } })),
                422,
                "",
            ),
        ];
        for (body, status, field) in cases {
            let refused = invite(&app, &admin, &org, body.clone()).await;
            assert_eq!(refused.status(), status, "{body}");
            let problem: Value = refused.json().await.unwrap();
            if !field.is_empty() {
                assert_eq!(problem["errors"][0]["field"], field, "{problem}");
            }
        }
        assert_eq!(
            roles(&app, &admin, &org).await.len(),
            before,
            "no role created"
        );
        assert_eq!(
            invitation_count(&app, &admin, &org).await,
            0,
            "no invitation"
        );
        assert!(app.mails_to("bruno@costa.example").is_empty(), "no email");
    }
);

app_test!(
    async fn inviting_with_a_new_role_or_resources_needs_those_rights_too(app: TestApp) {
        let (admin, org, _) = sign_up_and_log_in(&app, "ana@lima.example", "Lima").await;
        // A custom role that may invite, nothing more.
        let inviter_role = call(
            &app,
            Method::POST,
            Some(&admin),
            &format!("/api/v1/organizations/{org}/roles"),
            Some(json!({ "name": "Inviter", "permissions": ["team.invite"] })),
        )
        .await;
        assert_eq!(inviter_role.status(), 201);
        let inviter_role: Value = inviter_role.json().await.unwrap();
        let invited = invite(
            &app,
            &admin,
            &org,
            json!({
                "email": "carla@lima.example", "first_name": "Carla", "last_name": "Dias",
                "kind": "staff", "role_id": inviter_role["id"],
            }),
        )
        .await;
        assert_eq!(invited.status(), 201);
        let carla = support::accept_as_new_account(&app, "carla@lima.example").await;
        let user = support::role_id(&app, &org, "user").await;
        let person = |extra: Value| {
            let mut body = json!({
                "email": "bruno@costa.example", "first_name": "Bruno", "last_name": "Costa",
                "kind": "staff",
            });
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            body
        };
        let with_role = invite(
            &app,
            &carla,
            &org,
            person(json!({ "new_role": { "name": "Suivi", "permissions": ["orders.read"] } })),
        )
        .await;
        assert_eq!(with_role.status(), 403);
        let with_resources = invite(
            &app,
            &carla,
            &org,
            person(json!({ "role_id": user, "assignments": [{ "type": "order", "id": "42" }] })),
        )
        .await;
        assert_eq!(with_resources.status(), 403);
        assert!(!roles(&app, &admin, &org)
            .await
            .iter()
            .any(|r| r["name"] == "Suivi"));
        assert!(app.mails_to("bruno@costa.example").is_empty());
        let plain = invite(&app, &carla, &org, person(json!({ "role_id": user }))).await;
        assert_eq!(plain.status(), 201);
    }
);
