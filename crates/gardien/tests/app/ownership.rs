//! Ownership (DESIGN: "Ownership can be handed over") through the real HTTP
//! stack, mail over SMTP, on both back ends: the founder owns the
//! organization, nobody takes administration from the owner, and only the
//! owner hands it over — in one action.

use crate::support;

use reqwest::Method;
use serde_json::{json, Value};
use support::{call, role_id, sign_up_and_log_in, TestApp};

/// Invites `email` into `org` with the built-in role `template` and accepts
/// as a new account, then logs in: `(session, membership id)`.
async fn join(
    app: &TestApp,
    owner: &str,
    org: &str,
    email: &str,
    template: &str,
    kind: &str,
) -> (String, String) {
    let role = role_id(app, org, template).await;
    let invited = call(
        app,
        Method::POST,
        Some(owner),
        &format!("/api/v1/organizations/{org}/invitations"),
        Some(json!({
            "email": email, "first_name": "Bruno", "last_name": "Costa",
            "kind": kind, "role_id": role,
        })),
    )
    .await;
    assert_eq!(invited.status(), 201, "invitation of {email}");
    let invitation: Value = invited.json().await.unwrap();
    let session = support::accept_as_new_account(app, email).await;
    (
        session,
        invitation["membership_id"].as_str().unwrap().to_owned(),
    )
}

async fn members(app: &TestApp, session: &str, org: &str) -> Value {
    let response = call(
        app,
        Method::GET,
        Some(session),
        &format!("/api/v1/organizations/{org}/members"),
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn membership_of<'a>(list: &'a Value, email: &str) -> &'a Value {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == email)
        .unwrap_or_else(|| panic!("{email} is listed"))
}

async fn hand_over(app: &TestApp, session: &str, org: &str, body: Value) -> reqwest::Response {
    call(
        app,
        Method::POST,
        Some(session),
        &format!("/api/v1/organizations/{org}/ownership"),
        Some(body),
    )
    .await
}

async fn problem_type(response: reqwest::Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["type"].as_str().unwrap_or_default().to_owned()
}

app_test!(
    async fn nobody_takes_administration_from_the_owner_and_only_the_owner_hands_over(
        app: TestApp,
    ) {
        let (owner, org, _) = sign_up_and_log_in(&app, "ana@lima.example", "Lima").await;
        let (admin, admin_id) = join(
            &app,
            &owner,
            &org,
            "carla@lima.example",
            "administrator",
            "staff",
        )
        .await;
        let list = members(&app, &owner, &org).await;
        let owner_id = membership_of(&list, "ana@lima.example")["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            list["owner_membership_id"],
            owner_id.as_str(),
            "the founder owns it"
        );

        // Another administrator can neither suspend, remove nor demote the owner…
        for action in ["suspend", "remove"] {
            let refused = call(
                &app,
                Method::POST,
                Some(&admin),
                &format!("/api/v1/organizations/{org}/members/{owner_id}/{action}"),
                None,
            )
            .await;
            assert_eq!(refused.status(), 409, "{action} the owner");
            assert!(problem_type(refused)
                .await
                .ends_with("/owner-must-hand-over"));
        }
        let user_role = role_id(&app, &org, "user").await;
        let demote = call(
            &app,
            Method::PATCH,
            Some(&admin),
            &format!("/api/v1/organizations/{org}/members/{owner_id}"),
            Some(json!({ "role_id": user_role })),
        )
        .await;
        assert_eq!(demote.status(), 409);
        assert!(problem_type(demote)
            .await
            .ends_with("/owner-must-hand-over"));
        // …nor deny them team.manage…
        let deny = call(
            &app,
            Method::PUT,
            Some(&admin),
            &format!("/api/v1/organizations/{org}/members/{owner_id}/overrides/team.manage"),
            Some(json!({ "effect": "deny" })),
        )
        .await;
        assert_eq!(deny.status(), 409, "deny team.manage to the owner");
        // …nor take the ownership.
        let taken = hand_over(&app, &admin, &org, json!({ "membership_id": admin_id })).await;
        assert_eq!(taken.status(), 403);
        assert!(problem_type(taken).await.ends_with("/not-owner"));
        let list = members(&app, &owner, &org).await;
        assert_eq!(list["owner_membership_id"], owner_id.as_str());
        assert_eq!(membership_of(&list, "ana@lima.example")["status"], "active");

        // The owner cannot close their account while they own it.
        let deleted = call(
            &app,
            Method::DELETE,
            Some(&owner),
            "/api/v1/me",
            Some(json!({ "password": support::SIGN_UP_PASSWORD })),
        )
        .await;
        assert_eq!(deleted.status(), 409);
        assert!(problem_type(deleted)
            .await
            .ends_with("/owner-must-hand-over"));
    }
);

app_test!(
    async fn the_owner_hands_over_to_a_user_and_steps_down_in_one_action(app: TestApp) {
        let (owner, org, _) = sign_up_and_log_in(&app, "ana@lima.example", "Lima").await;
        let (heir, heir_id) = join(&app, &owner, &org, "bruno@lima.example", "user", "staff").await;
        let (_, client_id) =
            join(&app, &owner, &org, "dora@client.example", "user", "client").await;
        let list = members(&app, &owner, &org).await;
        let owner_id = membership_of(&list, "ana@lima.example")["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let user_role = role_id(&app, &org, "user").await;
        let admin_role = role_id(&app, &org, "administrator").await;

        // Refusals name the field and change nothing.
        let other = sign_up_and_log_in(&app, "eva@other.example", "Other").await;
        let other_id = members(&app, &other.0, &other.1).await["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        for (to, role) in [
            (client_id.as_str(), ""),
            (owner_id.as_str(), ""),
            (other_id.as_str(), ""),
            ("not-an-id", ""),
            (heir_id.as_str(), "not-a-role"),
        ] {
            let refused = hand_over(
                &app,
                &owner,
                &org,
                json!({ "membership_id": to, "previous_owner_role_id": role }),
            )
            .await;
            assert_eq!(refused.status(), 422, "hand over to {to} / {role}");
            let body: Value = refused.json().await.unwrap();
            let field = if role.is_empty() {
                "membership_id"
            } else {
                "previous_owner_role_id"
            };
            assert_eq!(body["errors"][0]["field"], field, "{body}");
        }
        assert_eq!(
            members(&app, &owner, &org).await["owner_membership_id"],
            owner_id.as_str()
        );
        assert!(
            app.mails_to("bruno@lima.example").len() == 1,
            "only the invitation so far"
        );

        // One action: Bruno owns it and administers; Ana steps down to User.
        let done = hand_over(
            &app,
            &owner,
            &org,
            json!({ "membership_id": heir_id, "previous_owner_role_id": user_role }),
        )
        .await;
        assert_eq!(done.status(), 200);
        let done: Value = done.json().await.unwrap();
        assert_eq!(done["owner_membership_id"], heir_id.as_str());
        assert_eq!(done["promoted"], true);
        assert_eq!(done["previous_owner_role_id"], user_role.as_str());

        let list = members(&app, &heir, &org).await;
        assert_eq!(list["owner_membership_id"], heir_id.as_str());
        assert_eq!(
            membership_of(&list, "bruno@lima.example")["role_id"],
            admin_role.as_str()
        );
        assert_eq!(
            membership_of(&list, "ana@lima.example")["role_id"],
            user_role.as_str()
        );

        // At once: Ana no longer manages the team; Bruno does, and may now
        // suspend the former owner.
        let refused = call(
            &app,
            Method::POST,
            Some(&owner),
            &format!("/api/v1/organizations/{org}/members/{heir_id}/suspend"),
            None,
        )
        .await;
        assert_eq!(refused.status(), 403);
        let suspended = call(
            &app,
            Method::POST,
            Some(&heir),
            &format!("/api/v1/organizations/{org}/members/{owner_id}/suspend"),
            None,
        )
        .await;
        assert_eq!(suspended.status(), 200);

        // Bruno was told, in his language, by email.
        let mail = app.mail_to("bruno@lima.example", 2).await;
        assert_eq!(
            mail.decoded_header("Subject").as_deref(),
            Some("You now own Lima")
        );
        let text = mail.text_body().unwrap();
        assert!(
            text.contains("Ana Lima handed the ownership of Lima"),
            "{text}"
        );
        assert!(text.contains(&format!("/o/{org}/team")), "{text}");

        // The audit trail tells who handed what to whom.
        let events = call(
            &app,
            Method::GET,
            Some(&heir),
            &format!("/api/v1/organizations/{org}/audit-events?action=organization.ownership_transferred"),
            None,
        )
        .await;
        assert_eq!(events.status(), 200);
        let events: Value = events.json().await.unwrap();
        let event = &events["items"][0];
        assert_eq!(event["before"]["owner"], owner_id.as_str());
        assert_eq!(event["after"]["owner"], heir_id.as_str());
    }
);
