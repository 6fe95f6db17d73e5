//! The permission catalog and custom roles (flow 9) through the real HTTP
//! stack, on both back ends: create / rename / edit / delete with their
//! audit events, every refusal (and that it changed nothing), tenant
//! isolation, `roles.manage`, the last-administrator rule, and a role edit
//! denied by the very next check of a holder.

use crate::support;

use gardien_core::OrganizationId;
use gardien_store::PageRequest;
use reqwest::Method;
use serde_json::{json, Value};
use support::{call, invitation_token, session_cookie, sign_up_and_log_in, TestApp};

const INVITEE_PASSWORD: &str = "seven green lanterns at dawn";

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

async fn roles(app: &TestApp, session: &str, org: &str) -> Value {
    let response = call(
        app,
        Method::GET,
        Some(session),
        &format!("/api/v1/organizations/{org}/roles"),
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    json_of(response).await
}

/// The id of the organization's role named `name`.
async fn role_named(app: &TestApp, session: &str, org: &str, name: &str) -> String {
    roles(app, session, org).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no role {name}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn create_role(app: &TestApp, session: &str, org: &str, body: Value) -> reqwest::Response {
    call(
        app,
        Method::POST,
        Some(session),
        &format!("/api/v1/organizations/{org}/roles"),
        Some(body),
    )
    .await
}

async fn patch_role(
    app: &TestApp,
    session: &str,
    org: &str,
    role: &str,
    body: Value,
) -> reqwest::Response {
    call(
        app,
        Method::PATCH,
        Some(session),
        &format!("/api/v1/organizations/{org}/roles/{role}"),
        Some(body),
    )
    .await
}

async fn delete_role(
    app: &TestApp,
    session: &str,
    org: &str,
    role: &str,
    replacement: Option<&str>,
) -> reqwest::Response {
    let query = replacement
        .map(|r| format!("?replacement={r}"))
        .unwrap_or_default();
    call(
        app,
        Method::DELETE,
        Some(session),
        &format!("/api/v1/organizations/{org}/roles/{role}{query}"),
        None,
    )
    .await
}

/// The problem `type` of a refused response, after checking its status.
async fn problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    json_of(response).await
}

/// Invites `email` with `role` and accepts as a new account:
/// `(membership id, account id, session cookie)`.
async fn add_member(
    app: &TestApp,
    admin: &str,
    org: &str,
    email: &str,
    role: &str,
) -> (String, String, String) {
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
    let invited = json_of(invited).await;
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
    let me = json_of(
        app.http
            .get(app.url("/api/v1/session/introspect"))
            .header("cookie", &session)
            .send()
            .await
            .unwrap(),
    )
    .await;
    (
        membership,
        me["account"]["id"].as_str().unwrap().to_owned(),
        session,
    )
}

/// The audit events of `org` with `action`, newest first.
async fn audit_events(
    app: &TestApp,
    org: &str,
    action: &str,
) -> Vec<gardien_core::audit::AuditEvent> {
    let org = OrganizationId::from_uuid(org.parse().unwrap());
    let mut tx = app.store.begin().await.unwrap();
    tx.audit_events(org, PageRequest::first(200))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.action == action)
        .collect()
}

app_test! {
    async fn the_catalog_is_served_grouped_with_both_languages(app: TestApp) {
        let (session, org, _) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let response = call(&app, Method::GET, Some(&session), "/api/v1/permissions", None).await;
        assert_eq!(response.status(), 200);
        let catalog = json_of(response).await;
        let groups = catalog["groups"].as_array().unwrap();
        let keys: Vec<&str> = groups.iter().map(|g| g["key"].as_str().unwrap()).collect();
        assert_eq!(
            keys,
            ["mail", "invoices", "formalities", "orders", "services", "team", "roles", "company", "audit"]
        );
        assert_eq!(groups[0]["label"]["fr"], "Courrier");
        let mail: Vec<&str> = groups[0]["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["key"].as_str().unwrap())
            .collect();
        assert_eq!(mail, ["mail.read", "mail.download", "mail.forward", "mail.export", "mail.tag"]);
        assert_eq!(groups[0]["permissions"][0]["label"]["en"], "Read mail");
        assert_eq!(groups[0]["permissions"][0]["label"]["fr"], "Consulter les courriers");

        // A host back end reads it with its API key; nobody else.
        let key = call(
            &app,
            Method::POST,
            Some(&session),
            &format!("/api/v1/organizations/{org}/api-keys"),
            Some(json!({ "name": "Portal" })),
        )
        .await;
        let secret = json_of(key).await["secret"].as_str().unwrap().to_owned();
        let with_key = app
            .http
            .get(app.url("/api/v1/permissions"))
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap();
        assert_eq!(with_key.status(), 200);
        let anonymous = app.http.get(app.url("/api/v1/permissions")).send().await.unwrap();
        assert_eq!(anonymous.status(), 401);
        let bad_key = app
            .http
            .get(app.url("/api/v1/permissions"))
            .bearer_auth("gk_nope")
            .send()
            .await
            .unwrap();
        assert_eq!(bad_key.status(), 401);

        // Every endpoint is documented for the API's clients (and its fuzzer).
        let doc: Value = app.http.get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
        assert!(doc["paths"]["/api/v1/permissions"]["get"].is_object());
        assert!(doc["paths"]["/api/v1/organizations/{org}/roles"]["post"]["requestBody"].is_object());
        for method in ["get", "patch", "delete"] {
            assert!(doc["paths"]["/api/v1/organizations/{org}/roles/{role}"][method].is_object(), "{method}");
        }
        assert!(doc["components"]["schemas"]["RoleBody"].is_object());
        app.stop().await;
    }
}

app_test! {
    async fn a_custom_role_is_created_renamed_edited_and_deleted_with_audit(app: TestApp) {
        let (session, org, account) =
            sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let before = roles(&app, &session, &org).await;
        let built_in = before["items"].as_array().unwrap();
        assert_eq!(built_in.len(), 6);
        assert!(built_in.iter().all(|r| r["built_in"] == true));
        let manager = built_in.iter().find(|r| r["template"] == "manager").unwrap();
        assert_eq!(manager["members"], 1);
        assert_eq!(manager["administrator"], true);
        let user = built_in.iter().find(|r| r["template"] == "user").unwrap();
        assert_eq!(user["scoped"], true);

        let created = create_role(
            &app,
            &session,
            &org,
            json!({
                "name": "  Comptabilité ",
                "description": "Suit les factures",
                "permissions": ["invoices.read", "invoices.download"],
            }),
        )
        .await;
        assert_eq!(created.status(), 201);
        let created = json_of(created).await;
        assert_eq!(created["name"], "Comptabilité");
        assert_eq!(created["built_in"], false);
        assert_eq!(created["scoped"], false);
        assert_eq!(created["members"], 0);
        assert_eq!(created["permissions"], json!(["invoices.download", "invoices.read"]));
        let id = created["id"].as_str().unwrap().to_owned();
        let listed = roles(&app, &session, &org).await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 7);
        assert_eq!(listed["items"][6]["id"], id.as_str());

        let event = &audit_events(&app, &org, "role.created").await[0];
        assert_eq!(event.target.as_deref(), Some(format!("role:{id}").as_str()));
        assert_eq!(event.actor, gardien_core::audit::Actor::Account(account.parse().unwrap()));
        assert_eq!(event.after.as_ref().unwrap()["name"], "Comptabilité");
        assert!(event.request_id.is_some());

        // Rename and edit (scoped, other permissions).
        let edited = patch_role(
            &app,
            &session,
            &org,
            &id,
            json!({ "name": "Billing team", "permissions": ["invoices.read", "orders.read"], "scoped": true }),
        )
        .await;
        assert_eq!(edited.status(), 200);
        let edited = json_of(edited).await;
        assert_eq!(edited["name"], "Billing team");
        assert_eq!(edited["description"], "Suit les factures");
        assert_eq!(edited["scoped"], true);
        assert_eq!(edited["permissions"], json!(["invoices.read", "orders.read"]));
        let shown = call(
            &app,
            Method::GET,
            Some(&session),
            &format!("/api/v1/organizations/{org}/roles/{id}"),
            None,
        )
        .await;
        assert_eq!(json_of(shown).await, edited);
        let event = &audit_events(&app, &org, "role.updated").await[0];
        assert_eq!(event.before.as_ref().unwrap()["name"], "Comptabilité");
        assert_eq!(event.before.as_ref().unwrap()["scoped"], false);
        assert_eq!(event.after.as_ref().unwrap()["name"], "Billing team");
        assert_eq!(
            event.after.as_ref().unwrap()["permissions"],
            json!(["invoices.read", "orders.read"])
        );

        // Nobody holds it: deleted without a replacement.
        let deleted = delete_role(&app, &session, &org, &id, None).await;
        assert_eq!(deleted.status(), 200);
        assert_eq!(json_of(deleted).await, json!({ "replacement_id": null, "moved_members": 0 }));
        assert_eq!(roles(&app, &session, &org).await, before);
        let event = &audit_events(&app, &org, "role.deleted").await[0];
        assert_eq!(event.before.as_ref().unwrap()["name"], "Billing team");
        assert_eq!(event.after.as_ref().unwrap()["moved_members"], 0);
        let gone = call(
            &app,
            Method::GET,
            Some(&session),
            &format!("/api/v1/organizations/{org}/roles/{id}"),
            None,
        )
        .await;
        assert_eq!(gone.status(), 404);
        app.stop().await;
    }
}

app_test! {
    async fn refused_role_changes_say_why_and_change_nothing(app: TestApp) {
        let (session, org, _) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let created = create_role(&app, &session, &org, json!({ "name": "Accounting", "permissions": ["invoices.read"] })).await;
        assert_eq!(created.status(), 201);
        let id = json_of(created).await["id"].as_str().unwrap().to_owned();
        let before = roles(&app, &session, &org).await;
        let events_before = audit_events(&app, &org, "role.created").await.len()
            + audit_events(&app, &org, "role.updated").await.len()
            + audit_events(&app, &org, "role.deleted").await.len();

        // A name already used, whatever its case, by a custom or built-in role.
        for name in ["accounting", "MANAGER"] {
            let body = problem(create_role(&app, &session, &org, json!({ "name": name })).await, 409).await;
            assert_eq!(body["type"], "/problems/role-name-taken");
        }
        let manager = role_named(&app, &session, &org, "Manager").await;
        let other = create_role(&app, &session, &org, json!({ "name": "Mail" })).await;
        let other = json_of(other).await["id"].as_str().unwrap().to_owned();
        let body = problem(patch_role(&app, &session, &org, &other, json!({ "name": "Accounting" })).await, 409).await;
        assert_eq!(body["type"], "/problems/role-name-taken");
        assert_eq!(delete_role(&app, &session, &org, &other, None).await.status(), 200);

        // An unknown permission: the detail lists every valid key.
        for bad in ["mail.burn", "Mail.Read", "", "team"] {
            let body = problem(
                create_role(&app, &session, &org, json!({ "name": "Extra", "permissions": ["mail.read", bad] })).await,
                422,
            )
            .await;
            let detail = body["detail"].as_str().unwrap();
            assert!(detail.contains(&format!("'{bad}'")), "{detail}");
            for valid in ["mail.read", "invoices.download", "roles.manage", "audit.read"] {
                assert!(detail.contains(valid), "{detail}");
            }
            let body = problem(
                patch_role(&app, &session, &org, &id, json!({ "permissions": [bad] })).await,
                422,
            )
            .await;
            assert!(body["detail"].as_str().unwrap().contains("mail.tag"));
        }

        // Bad names and descriptions, each named.
        let body = problem(create_role(&app, &session, &org, json!({ "name": "  " })).await, 422).await;
        assert_eq!(body["errors"][0]["field"], "name");
        assert_eq!(body["errors"][0]["code"], "empty");
        let body = problem(
            create_role(&app, &session, &org, json!({ "name": "x".repeat(121), "description": "d".repeat(501) })).await,
            422,
        )
        .await;
        let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["name", "description"]);
        let body = problem(patch_role(&app, &session, &org, &id, json!({ "name": "a\u{0}b" })).await, 422).await;
        assert_eq!(body["errors"][0]["code"], "control-characters");
        let malformed = call(
            &app,
            Method::POST,
            Some(&session),
            &format!("/api/v1/organizations/{org}/roles"),
            Some(json!({ "name": 7 })),
        )
        .await;
        assert_eq!(malformed.status(), 422);

        // Built-in roles are neither edited nor deleted.
        for (patch, delete) in [(json!({ "name": "Boss" }), true), (json!({ "permissions": [] }), false)] {
            let body = problem(patch_role(&app, &session, &org, &manager, patch).await, 409).await;
            assert_eq!(body["type"], "/problems/role-built-in");
            if delete {
                let body = problem(delete_role(&app, &session, &org, &manager, None).await, 409).await;
                assert_eq!(body["type"], "/problems/role-built-in");
            }
        }

        // An unknown role id.
        let missing = uuid::Uuid::new_v4();
        assert_eq!(patch_role(&app, &session, &org, &missing.to_string(), json!({ "name": "X" })).await.status(), 404);
        assert_eq!(delete_role(&app, &session, &org, &missing.to_string(), None).await.status(), 404);

        assert_eq!(roles(&app, &session, &org).await, before);
        let events_after = audit_events(&app, &org, "role.created").await.len()
            + audit_events(&app, &org, "role.updated").await.len()
            + audit_events(&app, &org, "role.deleted").await.len();
        // Only "Mail", created then deleted on purpose.
        assert_eq!(events_after, events_before + 2);
        app.stop().await;
    }
}

app_test! {
    async fn deleting_a_role_in_use_moves_its_members_to_a_replacement_of_the_organization(app: TestApp) {
        let (session, org, _) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let (_, other_org, _) = sign_up_and_log_in(&app, "carla@example.fr", "Autre").await;
        let created = create_role(&app, &session, &org, json!({ "name": "Accounting", "permissions": ["invoices.read"] })).await;
        let role = json_of(created).await["id"].as_str().unwrap().to_owned();
        let (membership, _, _) = add_member(&app, &session, &org, "bruno@example.fr", &role).await;
        let listed = roles(&app, &session, &org).await;
        let row = listed["items"].as_array().unwrap().iter().find(|r| r["id"] == role.as_str()).unwrap().clone();
        assert_eq!(row["members"], 1);

        let body = problem(delete_role(&app, &session, &org, &role, None).await, 409).await;
        assert_eq!(body["type"], "/problems/role-in-use");
        let foreign = {
            let mut tx = app.store.begin().await.unwrap();
            let other = OrganizationId::from_uuid(other_org.parse().unwrap());
            tx.roles(other).await.unwrap()[0].id.to_string()
        };
        for bad in [foreign.as_str(), role.as_str(), "not-a-role"] {
            let body = problem(delete_role(&app, &session, &org, &role, Some(bad)).await, 422).await;
            assert_eq!(body["errors"][0]["field"], "replacement");
        }
        assert_eq!(roles(&app, &session, &org).await, listed);

        let billing = role_named(&app, &session, &org, "Billing").await;
        let deleted = delete_role(&app, &session, &org, &role, Some(&billing)).await;
        assert_eq!(deleted.status(), 200);
        assert_eq!(
            json_of(deleted).await,
            json!({ "replacement_id": billing, "moved_members": 1 })
        );
        let members = json_of(
            call(&app, Method::GET, Some(&session), &format!("/api/v1/organizations/{org}/members"), None).await,
        )
        .await;
        let bruno = members["items"].as_array().unwrap().iter().find(|m| m["id"] == membership.as_str()).unwrap();
        assert_eq!(bruno["role_id"], billing.as_str());
        let event = &audit_events(&app, &org, "role.deleted").await[0];
        assert_eq!(event.before.as_ref().unwrap()["members"], 1);
        assert_eq!(event.after.as_ref().unwrap()["replacement"]["id"], billing.as_str());
        assert_eq!(event.after.as_ref().unwrap()["moved_members"], 1);
        app.stop().await;
    }
}

app_test! {
    async fn another_organizations_roles_are_not_found_and_roles_manage_is_required(app: TestApp) {
        let (session, org, _) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let (intruder, intruder_org, _) = sign_up_and_log_in(&app, "eve@example.fr", "Eve SARL").await;
        let created = create_role(&app, &session, &org, json!({ "name": "Accounting" })).await;
        let role = json_of(created).await["id"].as_str().unwrap().to_owned();
        let before = roles(&app, &session, &org).await;

        // Through the victim's path, and through the intruder's own path.
        for path_org in [org.as_str(), intruder_org.as_str()] {
            let path = format!("/api/v1/organizations/{path_org}/roles/{role}");
            assert_eq!(call(&app, Method::GET, Some(&intruder), &path, None).await.status(), 404);
            assert_eq!(
                call(&app, Method::PATCH, Some(&intruder), &path, Some(json!({ "name": "Pwned" }))).await.status(),
                404
            );
            assert_eq!(call(&app, Method::DELETE, Some(&intruder), &path, None).await.status(), 404);
        }
        let list = call(&app, Method::GET, Some(&intruder), &format!("/api/v1/organizations/{org}/roles"), None).await;
        assert_eq!(list.status(), 404);
        let create = create_role(&app, &intruder, &org, json!({ "name": "Backdoor" })).await;
        assert_eq!(create.status(), 404);
        // The intruder's replacement is refused too (another organization's role).
        let theirs = role_named(&app, &intruder, &intruder_org, "Billing").await;
        assert_eq!(delete_role(&app, &session, &org, &role, Some(&theirs)).await.status(), 422);

        // A member without roles.manage: 403 everywhere.
        let billing = role_named(&app, &session, &org, "Billing").await;
        let (_, _, member) = add_member(&app, &session, &org, "bruno@example.fr", &billing).await;
        let path = format!("/api/v1/organizations/{org}/roles/{role}");
        assert_eq!(call(&app, Method::GET, Some(&member), &format!("/api/v1/organizations/{org}/roles"), None).await.status(), 403);
        assert_eq!(create_role(&app, &member, &org, json!({ "name": "Mine" })).await.status(), 403);
        assert_eq!(call(&app, Method::GET, Some(&member), &path, None).await.status(), 403);
        assert_eq!(patch_role(&app, &member, &org, &role, json!({ "permissions": ["team.manage"] })).await.status(), 403);
        assert_eq!(delete_role(&app, &member, &org, &role, None).await.status(), 403);
        // Not logged in: 401.
        assert_eq!(
            app.http.get(app.url(&format!("/api/v1/organizations/{org}/roles"))).send().await.unwrap().status(),
            401
        );

        let mut after = roles(&app, &session, &org).await;
        // Bruno now holds Billing: only that count moved.
        for item in after["items"].as_array_mut().unwrap() {
            if item["id"] == billing.as_str() {
                assert_eq!(item["members"], 1);
                item["members"] = json!(0);
            }
        }
        assert_eq!(after, before);
        app.stop().await;
    }
}

app_test! {
    async fn a_role_edit_is_denied_on_the_holders_very_next_check(app: TestApp) {
        let (session, org, _) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let created = create_role(
            &app,
            &session,
            &org,
            json!({ "name": "Accounting", "permissions": ["invoices.read", "invoices.download"] }),
        )
        .await;
        let role = json_of(created).await["id"].as_str().unwrap().to_owned();
        let (_, account, _) = add_member(&app, &session, &org, "bruno@example.fr", &role).await;
        let key = call(
            &app,
            Method::POST,
            Some(&session),
            &format!("/api/v1/organizations/{org}/api-keys"),
            Some(json!({ "name": "Portal" })),
        )
        .await;
        let secret = json_of(key).await["secret"].as_str().unwrap().to_owned();
        let check = |permission: &'static str| {
            let body = json!({ "account_id": account, "organization_id": org, "permission": permission });
            let request = app.http.post(app.url("/api/v1/check")).bearer_auth(&secret).json(&body);
            async move {
                let response = request.send().await.unwrap();
                assert_eq!(response.status(), 200);
                response.json::<Value>().await.unwrap()
            }
        };

        let allowed = check("invoices.read").await;
        assert_eq!(allowed["allowed"], true, "{allowed}");
        assert_eq!(allowed["reason"]["code"], "granted_by_role");
        assert_eq!(allowed["reason"]["role_id"], role.as_str());

        // The role loses the permission: the very next check is denied.
        let edited = patch_role(&app, &session, &org, &role, json!({ "permissions": ["invoices.download"] })).await;
        assert_eq!(edited.status(), 200);
        let denied = check("invoices.read").await;
        assert_eq!(denied["allowed"], false, "{denied}");
        assert_eq!(denied["reason"]["code"], "no_permission");
        assert_eq!(check("invoices.download").await["allowed"], true);

        // A permission added is granted at once too.
        patch_role(&app, &session, &org, &role, json!({ "permissions": ["invoices.download", "mail.read"] })).await;
        assert_eq!(check("mail.read").await["allowed"], true);

        // Deleted with a replacement: the holder has the replacement's rights at once.
        let billing = role_named(&app, &session, &org, "Billing").await;
        assert_eq!(delete_role(&app, &session, &org, &role, Some(&billing)).await.status(), 200);
        assert_eq!(check("mail.read").await["allowed"], false);
        let moved = check("invoices.read").await;
        assert_eq!(moved["allowed"], true);
        assert_eq!(moved["reason"]["role_id"], billing.as_str());
        app.stop().await;
    }
}

app_test! {
    async fn a_custom_administrator_role_cannot_leave_the_organization_without_one(app: TestApp) {
        let (session, org, account) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let created = create_role(
            &app,
            &session,
            &org,
            json!({ "name": "Direction", "permissions": ["team.read", "team.manage", "roles.manage"] }),
        )
        .await;
        let created = json_of(created).await;
        assert_eq!(created["administrator"], true);
        let direction = created["id"].as_str().unwrap().to_owned();
        // Ana, the only administrator, moves to the custom role.
        let members = json_of(
            call(&app, Method::GET, Some(&session), &format!("/api/v1/organizations/{org}/members"), None).await,
        )
        .await;
        let ana = members["items"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(members["items"][0]["account_id"], account.as_str());
        let moved = call(
            &app,
            Method::PATCH,
            Some(&session),
            &format!("/api/v1/organizations/{org}/members/{ana}"),
            Some(json!({ "role_id": direction })),
        )
        .await;
        assert_eq!(moved.status(), 200);
        let before = roles(&app, &session, &org).await;

        for patch in [json!({ "permissions": ["team.read", "roles.manage"] }), json!({ "scoped": true })] {
            let body = problem(patch_role(&app, &session, &org, &direction, patch).await, 409).await;
            assert_eq!(body["type"], "/problems/last-administrator");
        }
        let billing = role_named(&app, &session, &org, "Billing").await;
        let body = problem(delete_role(&app, &session, &org, &direction, Some(&billing)).await, 409).await;
        assert_eq!(body["type"], "/problems/last-administrator");
        assert_eq!(roles(&app, &session, &org).await, before);

        // Renaming keeps it an administrator's role: allowed.
        assert_eq!(patch_role(&app, &session, &org, &direction, json!({ "name": "Board" })).await.status(), 200);
        // Moving Ana to the built-in Administrator role by deleting hers: allowed.
        let administrator = role_named(&app, &session, &org, "Administrator").await;
        let deleted = delete_role(&app, &session, &org, &direction, Some(&administrator)).await;
        assert_eq!(deleted.status(), 200);
        app.stop().await;
    }
}
