//! Overrides, assignments, effective access and deployment-wide API keys
//! (flows 10 and 11, seeds 001, 002, 003) through the real HTTP stack, on
//! both back ends: every rule and refusal, the check API's answer right
//! after each change, the assignment emails read from the SMTP sink.

use crate::support;

use std::time::{Duration, Instant};

use gardien_core::OrganizationId;
use reqwest::Method;
use serde_json::{json, Value};
use support::{
    call, create_key, invitation_token, role_id, session_cookie, sign_up_and_log_in, with_key,
    TestApp,
};

const INVITEE_PASSWORD: &str = "seven green lanterns at dawn";
const MAIL_WAIT: Duration = Duration::from_secs(10);

/// The decision of one check: `(allowed, reason code)`.
async fn decide(
    app: &TestApp,
    key: &str,
    account: &str,
    org: &str,
    permission: &str,
    resource: Option<(&str, &str)>,
) -> (bool, String) {
    let mut body = json!({
        "account_id": account,
        "organization_id": org,
        "permission": permission,
    });
    if let Some((t, id)) = resource {
        body["resource"] = json!({ "type": t, "id": id });
    }
    let response = with_key(app, key, "/api/v1/check", body).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    (
        body["allowed"].as_bool().unwrap(),
        body["reason"]["code"].as_str().unwrap().to_owned(),
    )
}

/// Invites `email` (in `language`) with the role of `template` and accepts:
/// `(membership id, account id, session cookie)`.
async fn add_member(
    app: &TestApp,
    admin: &str,
    org: &str,
    email: &str,
    template: &str,
    language: &str,
) -> (String, String, String) {
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
            "language": language,
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
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        membership,
        me["account"]["id"].as_str().unwrap().to_owned(),
        session,
    )
}

async fn put_override(
    app: &TestApp,
    session: &str,
    org: &str,
    member: &str,
    permission: &str,
    effect: Option<&str>,
) -> reqwest::Response {
    let path = format!("/api/v1/organizations/{org}/members/{member}/overrides/{permission}");
    match effect {
        Some(effect) => {
            call(
                app,
                Method::PUT,
                Some(session),
                &path,
                Some(json!({ "effect": effect })),
            )
            .await
        }
        None => call(app, Method::DELETE, Some(session), &path, None).await,
    }
}

async fn audit_actions(app: &TestApp, org: &str) -> Vec<gardien_core::audit::AuditEvent> {
    let mut tx = app.store.begin().await.unwrap();
    tx.audit_events(
        OrganizationId::from_uuid(org.parse().unwrap()),
        gardien_store::PageRequest::first(200),
    )
    .await
    .unwrap()
    .items
}

/// Waits until `n` messages reached `to`, then a little more to catch extras.
async fn wait_for_mails(
    app: &TestApp,
    to: &str,
    n: usize,
) -> Vec<gardien_mail::smtp_sink::ReceivedMail> {
    let deadline = Instant::now() + MAIL_WAIT;
    while app.mails_to(to).len() < n {
        assert!(Instant::now() < deadline, "fewer than {n} mails to {to}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    app.mails_to(to)
}

app_test!(
    async fn an_override_is_in_force_for_the_very_next_check(app: TestApp) {
        let (ana, org, _) = sign_up_and_log_in(&app, "ana@cabinet.fr", "Cabinet Dupont").await;
        let (_, key) = create_key(&app, &ana, &org).await;
        let (bruno, bruno_account, _) =
            add_member(&app, &ana, &org, "bruno@cabinet.fr", "billing", "en").await;
        let mails_before = app.mails_to("bruno@cabinet.fr").len();

        assert_eq!(
            decide(&app, &key, &bruno_account, &org, "invoices.read", None).await,
            (true, "granted_by_role".into())
        );
        let denied = put_override(&app, &ana, &org, &bruno, "invoices.read", Some("deny")).await;
        assert_eq!(denied.status(), 200);
        let body: Value = denied.json().await.unwrap();
        assert_eq!(
            body,
            json!({ "permission": "invoices.read", "effect": "deny" })
        );
        assert_eq!(
            decide(&app, &key, &bruno_account, &org, "invoices.read", None).await,
            (false, "denied_by_override".into())
        );
        // Back to the role's value.
        let cleared = put_override(&app, &ana, &org, &bruno, "invoices.read", None).await;
        assert_eq!(cleared.status(), 200);
        assert_eq!(
            decide(&app, &key, &bruno_account, &org, "invoices.read", None).await,
            (true, "granted_by_role".into())
        );
        // A grant adds what the role lacks.
        assert_eq!(
            decide(&app, &key, &bruno_account, &org, "orders.place", None).await,
            (false, "no_permission".into())
        );
        let granted = put_override(&app, &ana, &org, &bruno, "orders.place", Some("grant")).await;
        assert_eq!(granted.status(), 200);
        assert_eq!(
            decide(&app, &key, &bruno_account, &org, "orders.place", None).await,
            (true, "granted_by_override".into())
        );
        // The same value again changes nothing (no second event).
        let again = put_override(&app, &ana, &org, &bruno, "orders.place", Some("grant")).await;
        assert_eq!(again.status(), 200);

        let events = audit_actions(&app, &org).await;
        let changes: Vec<_> = events
            .iter()
            .filter(|e| e.action == "member.override_changed")
            .collect();
        assert_eq!(changes.len(), 3, "deny, clear, grant");
        let grant = changes
            .iter()
            .find(|e| e.after.as_ref().unwrap()["effect"] == "grant")
            .unwrap();
        assert_eq!(grant.before.as_ref().unwrap()["effect"], Value::Null);
        assert_eq!(grant.after.as_ref().unwrap()["permission"], "orders.place");
        assert_eq!(
            grant.target.as_deref(),
            Some(format!("membership:{bruno}").as_str())
        );

        // Seed 003: the member gets no message about changed rights.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(app.mails_to("bruno@cabinet.fr").len(), mails_before);
        app.stop().await;
    }
);

app_test!(
    async fn override_refusals_are_precise_and_change_nothing(app: TestApp) {
        let (ana, org, _) = sign_up_and_log_in(&app, "ana@cabinet.fr", "Cabinet Dupont").await;
        let (_, other_org, _) = sign_up_and_log_in(&app, "zoe@autre.fr", "Autre").await;
        let (bruno, _, bruno_session) =
            add_member(&app, &ana, &org, "bruno@cabinet.fr", "billing", "en").await;
        let ana_member = {
            let mut tx = app.store.begin().await.unwrap();
            let orgid = OrganizationId::from_uuid(org.parse().unwrap());
            let page = tx
                .members(
                    orgid,
                    &Default::default(),
                    Some("ana@"),
                    gardien_store::PageRequest::first(5),
                )
                .await
                .unwrap();
            page.items[0].membership.id.to_string()
        };

        // Unknown permission: 422 naming the valid ones.
        let unknown = put_override(&app, &ana, &org, &bruno, "invoices.pay", Some("grant")).await;
        assert_eq!(unknown.status(), 422);
        let problem: Value = unknown.json().await.unwrap();
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains("'invoices.pay'"), "{detail}");
        assert!(
            detail.contains("invoices.read") && detail.contains("team.manage"),
            "{detail}"
        );
        // Unknown effect: 422.
        let bad = put_override(&app, &ana, &org, &bruno, "invoices.read", Some("maybe")).await;
        assert_eq!(bad.status(), 422);
        // Without team.manage: refused.
        let forbidden = put_override(
            &app,
            &bruno_session,
            &org,
            &bruno,
            "invoices.read",
            Some("deny"),
        )
        .await;
        assert_eq!(forbidden.status(), 403);
        // Another organization's member, or an unknown one: 404.
        let elsewhere = put_override(
            &app,
            &ana,
            &other_org,
            &bruno,
            "invoices.read",
            Some("deny"),
        )
        .await;
        assert_eq!(elsewhere.status(), 404);
        let unknown_member = put_override(
            &app,
            &ana,
            &org,
            &uuid::Uuid::now_v7().to_string(),
            "invoices.read",
            Some("deny"),
        )
        .await;
        assert_eq!(unknown_member.status(), 404);

        // The owner, here also the last active administrator, cannot lose
        // team.manage.
        let last = put_override(&app, &ana, &org, &ana_member, "team.manage", Some("deny")).await;
        assert_eq!(last.status(), 409);
        let problem: Value = last.json().await.unwrap();
        assert_eq!(problem["type"], "/problems/owner-must-hand-over");
        assert!(audit_actions(&app, &org)
            .await
            .iter()
            .all(|e| e.action != "member.override_changed"));
        // Ana still manages: she can give Bruno team.manage…
        assert_eq!(
            put_override(&app, &ana, &org, &bruno, "team.manage", Some("grant"))
                .await
                .status(),
            200
        );
        // …and Bruno, now an administrator by override, acts as one.
        let access = call(
            &app,
            Method::GET,
            Some(&bruno_session),
            &format!("/api/v1/organizations/{org}/members/{ana_member}/access"),
            None,
        )
        .await;
        assert_eq!(access.status(), 200);
        // Once she has handed the ownership to Bruno, Ana may deny it to herself.
        let handed = call(
            &app,
            Method::POST,
            Some(&ana),
            &format!("/api/v1/organizations/{org}/ownership"),
            Some(json!({ "membership_id": bruno })),
        )
        .await;
        assert_eq!(handed.status(), 200);
        let handed: Value = handed.json().await.unwrap();
        assert_eq!(handed["promoted"], false, "an administrator by override");
        assert_eq!(
            put_override(&app, &ana, &org, &ana_member, "team.manage", Some("deny"))
                .await
                .status(),
            200
        );
        // And the deny is in force on Gardien's own pages and API.
        let refused = put_override(&app, &ana, &org, &bruno, "invoices.read", Some("deny")).await;
        assert_eq!(refused.status(), 403);
        // Bruno is now the last one: his grant cannot be cleared.
        let last = put_override(&app, &bruno_session, &org, &bruno, "team.manage", None).await;
        assert_eq!(last.status(), 409);
        app.stop().await;
    }
);

app_test!(
    async fn a_scoped_member_sees_only_assigned_resources_and_unassigning_revokes_at_once(
        app: TestApp,
    ) {
        let (ana, org, _) = sign_up_and_log_in(&app, "ana@hebergeur.fr", "Hébergeur").await;
        let (_, key) = create_key(&app, &ana, &org).await;
        let (bruno, bruno_account, _) =
            add_member(&app, &ana, &org, "bruno@hebergeur.fr", "user", "fr").await;
        let mails_before = app.mails_to("bruno@hebergeur.fr").len();
        let visible = |app: &TestApp| {
            let body = json!({
                "account_id": bruno_account,
                "organization_id": org,
                "permission": "services.read",
                "resource_type": "service",
            });
            let key = key.clone();
            let app_url = app.url("/api/v1/check/resources");
            let http = app.http.clone();
            async move {
                let response = http
                    .post(app_url)
                    .bearer_auth(key)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
                response.json::<Value>().await.unwrap()
            }
        };
        assert_eq!(visible(&app).await["ids"], json!([]));

        let path = format!("/api/v1/organizations/{org}/members/{bruno}/assignments");
        let assigned = call(
            &app,
            Method::POST,
            Some(&ana),
            &path,
            Some(json!({ "type": "service", "id": "m365", "label": "Microsoft 365" })),
        )
        .await;
        assert_eq!(assigned.status(), 200);
        let body: Value = assigned.json().await.unwrap();
        assert_eq!(body["added"][0]["label"], "Microsoft 365");
        assert_eq!(visible(&app).await["ids"], json!(["m365"]));
        assert_eq!(
            decide(
                &app,
                &key,
                &bruno_account,
                &org,
                "services.read",
                Some(("service", "m365"))
            )
            .await,
            (true, "granted_by_assignment".into())
        );
        assert_eq!(
            decide(
                &app,
                &key,
                &bruno_account,
                &org,
                "services.read",
                Some(("service", "exchange"))
            )
            .await,
            (false, "not_assigned".into())
        );

        // Assigning it again changes nothing: no event, no second email.
        let again = call(
            &app,
            Method::POST,
            Some(&ana),
            &path,
            Some(json!({ "type": "service", "id": "m365", "label": "Microsoft 365" })),
        )
        .await;
        assert_eq!(again.status(), 200);
        let body: Value = again.json().await.unwrap();
        assert_eq!(body["unchanged"], 1);
        assert_eq!(body["added"], json!([]));

        // One email, in the member's language, naming the resource.
        let mails = wait_for_mails(&app, "bruno@hebergeur.fr", mails_before + 1).await;
        assert_eq!(
            mails.len(),
            mails_before + 1,
            "exactly one assignment email"
        );
        let text = mails.last().unwrap().text_body().unwrap();
        assert!(text.contains("Microsoft 365"), "{text}");
        assert!(text.contains("attribué"), "French: {text}");

        let list: Value = call(&app, Method::GET, Some(&ana), &path, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list["items"].as_array().unwrap().len(), 1);

        // Unassigning revokes at once.
        let removed = call(
            &app,
            Method::DELETE,
            Some(&ana),
            &format!("{path}/service/m365"),
            None,
        )
        .await;
        assert_eq!(removed.status(), 200);
        let body: Value = removed.json().await.unwrap();
        assert_eq!(body["removed"][0]["id"], "m365");
        assert_eq!(
            decide(
                &app,
                &key,
                &bruno_account,
                &org,
                "services.read",
                Some(("service", "m365"))
            )
            .await,
            (false, "not_assigned".into())
        );
        assert_eq!(visible(&app).await["ids"], json!([]));

        let events = audit_actions(&app, &org).await;
        assert_eq!(
            events
                .iter()
                .filter(|e| e.action == "member.assigned")
                .count(),
            1
        );
        let unassigned = events
            .iter()
            .find(|e| e.action == "member.unassigned")
            .unwrap();
        assert_eq!(unassigned.before.as_ref().unwrap()["id"], "m365");
        app.stop().await;
    }
);

app_test!(
    async fn malformed_resources_are_refused_with_their_field(app: TestApp) {
        let (ana, org, _) = sign_up_and_log_in(&app, "ana@poseurs.fr", "Poseurs").await;
        let (bruno, _, bruno_session) =
            add_member(&app, &ana, &org, "bruno@poseurs.fr", "user", "en").await;
        let path = format!("/api/v1/organizations/{org}/members/{bruno}/assignments");
        for (body, field, code) in [
            (
                json!({ "type": "Order", "id": "42" }),
                "type",
                "resource-type",
            ),
            (
                json!({ "type": "order/x", "id": "42" }),
                "type",
                "resource-type",
            ),
            (json!({ "type": " ", "id": "42" }), "type", "empty"),
            (json!({ "type": "order", "id": "" }), "id", "empty"),
            (
                json!({ "type": "order", "id": "4\u{7}2" }),
                "id",
                "control-characters",
            ),
            (
                json!({ "type": "order", "id": "9".repeat(201) }),
                "id",
                "too-long",
            ),
            (
                json!({ "type": "order", "id": "42", "label": "x".repeat(201) }),
                "label",
                "too-long",
            ),
        ] {
            let response = call(&app, Method::POST, Some(&ana), &path, Some(body.clone())).await;
            assert_eq!(response.status(), 422, "{body}");
            let problem: Value = response.json().await.unwrap();
            assert_eq!(problem["errors"][0]["field"], field, "{body}");
            assert_eq!(problem["errors"][0]["code"], code, "{body}");
        }
        // A body that is not the right shape is refused too.
        let shapeless = call(
            &app,
            Method::POST,
            Some(&ana),
            &path,
            Some(json!({ "id": 42 })),
        )
        .await;
        assert!(shapeless.status().is_client_error());
        // Without team.manage, and across organizations.
        let forbidden = call(
            &app,
            Method::POST,
            Some(&bruno_session),
            &path,
            Some(json!({ "type": "order", "id": "42" })),
        )
        .await;
        assert_eq!(forbidden.status(), 403);
        let (zoe, zoe_org, _) = sign_up_and_log_in(&app, "zoe@autre.fr", "Autre").await;
        let across = call(
            &app,
            Method::POST,
            Some(&zoe),
            &format!("/api/v1/organizations/{zoe_org}/members/{bruno}/assignments"),
            Some(json!({ "type": "order", "id": "42" })),
        )
        .await;
        assert_eq!(across.status(), 404);
        let list: Value = call(&app, Method::GET, Some(&ana), &path, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list["items"], json!([]), "nothing was assigned");
        app.stop().await;
    }
);

app_test!(
    async fn a_bulk_call_is_all_or_nothing_and_mails_each_member_once(app: TestApp) {
        let (ana, org, _) = sign_up_and_log_in(&app, "ana@poseurs.fr", "Poseurs").await;
        let (bruno, _, _) = add_member(&app, &ana, &org, "bruno@poseurs.fr", "user", "en").await;
        let (carla, _, _) = add_member(&app, &ana, &org, "carla@poseurs.fr", "user", "fr").await;
        let (_, other_org, _) = sign_up_and_log_in(&app, "zoe@autre.fr", "Autre").await;
        let bulk_path = format!("/api/v1/organizations/{org}/assignments");
        let bulk = |body: Value| call(&app, Method::POST, Some(&ana), &bulk_path, Some(body));
        let bruno_before = app.mails_to("bruno@poseurs.fr").len();
        let carla_before = app.mails_to("carla@poseurs.fr").len();

        // One bad item (index 2): nothing is assigned, the item is named.
        let refused = bulk(json!({ "add": [
            { "member": bruno, "type": "order", "id": "41" },
            { "member": carla, "type": "order", "id": "42" },
            { "member": bruno, "type": "Order", "id": "43" },
        ]}))
        .await;
        assert_eq!(refused.status(), 422);
        let problem: Value = refused.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "add[2].type");
        // A member of another organization is not a member here.
        let foreign = bulk(json!({ "add": [
            { "member": bruno, "type": "order", "id": "41" },
        ], "remove": [
            { "member": uuid::Uuid::now_v7().to_string(), "type": "order", "id": "41" },
        ]}))
        .await;
        assert_eq!(foreign.status(), 422);
        let problem: Value = foreign.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "remove[0].member");
        for member in [&bruno, &carla] {
            let list: Value = call(
                &app,
                Method::GET,
                Some(&ana),
                &format!("/api/v1/organizations/{org}/members/{member}/assignments"),
                None,
            )
            .await
            .json()
            .await
            .unwrap();
            assert_eq!(list["items"], json!([]), "nothing assigned");
        }
        // More than 1 000 items: refused as a whole.
        let many: Vec<Value> = (0..1001)
            .map(|i| json!({ "member": bruno, "type": "order", "id": i.to_string() }))
            .collect();
        assert_eq!(bulk(json!({ "add": many })).await.status(), 422);
        // Another organization's bulk endpoint: 404.
        let across = call(
            &app,
            Method::POST,
            Some(&ana),
            &format!("/api/v1/organizations/{other_org}/assignments"),
            Some(json!({ "add": [] })),
        )
        .await;
        assert_eq!(across.status(), 404);

        // A valid call: two orders to Bruno, one to Carla → one email each.
        let done = bulk(json!({ "add": [
            { "member": bruno, "type": "order", "id": "41", "label": "Order 41" },
            { "member": bruno, "type": "order", "id": "43", "label": "Order 43" },
            { "member": carla, "type": "order", "id": "42", "label": "Commande 42" },
        ]}))
        .await;
        assert_eq!(done.status(), 200);
        let body: Value = done.json().await.unwrap();
        assert_eq!(body["added"].as_array().unwrap().len(), 3);
        let bruno_mails = wait_for_mails(&app, "bruno@poseurs.fr", bruno_before + 1).await;
        assert_eq!(bruno_mails.len(), bruno_before + 1, "one email for Bruno");
        let text = bruno_mails.last().unwrap().text_body().unwrap();
        assert!(
            text.contains("Order 41") && text.contains("Order 43"),
            "{text}"
        );
        let carla_mails = wait_for_mails(&app, "carla@poseurs.fr", carla_before + 1).await;
        assert_eq!(carla_mails.len(), carla_before + 1, "one email for Carla");
        assert!(carla_mails
            .last()
            .unwrap()
            .text_body()
            .unwrap()
            .contains("Commande 42"));

        // Remove and add in one call.
        let mixed = bulk(json!({
            "remove": [{ "member": bruno, "type": "order", "id": "41" }],
            "add": [{ "member": bruno, "type": "order", "id": "41" }, { "member": bruno, "type": "order", "id": "43" }],
        }))
        .await;
        let body: Value = mixed.json().await.unwrap();
        assert_eq!(body["removed"].as_array().unwrap().len(), 1);
        assert_eq!(body["added"].as_array().unwrap().len(), 1);
        assert_eq!(body["unchanged"], 1);
        app.stop().await;
    }
);

app_test!(
    async fn effective_access_says_what_decided_each_permission(app: TestApp) {
        let (ana, org, _) = sign_up_and_log_in(&app, "ana@hebergeur.fr", "Hébergeur").await;
        let (_, key) = create_key(&app, &ana, &org).await;
        let (bruno, bruno_account, bruno_session) =
            add_member(&app, &ana, &org, "bruno@hebergeur.fr", "user", "en").await;
        put_override(&app, &ana, &org, &bruno, "invoices.read", Some("grant")).await;
        put_override(&app, &ana, &org, &bruno, "orders.read", Some("deny")).await;
        call(
            &app,
            Method::POST,
            Some(&ana),
            &format!("/api/v1/organizations/{org}/members/{bruno}/assignments"),
            Some(json!({ "type": "service", "id": "m365" })),
        )
        .await;
        let response = call(
            &app,
            Method::GET,
            Some(&ana),
            &format!("/api/v1/organizations/{org}/members/{bruno}/access"),
            None,
        )
        .await;
        assert_eq!(response.status(), 200);
        let access: Value = response.json().await.unwrap();
        assert_eq!(access["role"]["scoped"], true);
        assert_eq!(
            access["assignments"][0]["label"], "m365",
            "the label defaults to the id"
        );
        let line = |key: &str| {
            access["permissions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["permission"] == key)
                .cloned()
                .unwrap()
        };
        assert_eq!(line("services.read")["source"], "role");
        assert_eq!(line("services.read")["only_assigned"], true);
        assert_eq!(line("invoices.read")["source"], "override_grant");
        assert_eq!(line("invoices.read")["allowed"], true);
        assert_eq!(line("orders.read")["source"], "override_deny");
        assert_eq!(line("orders.read")["allowed"], false);

        // The same, for a host back end with an API key.
        let explained: Value = with_key(
            &app,
            &key,
            "/api/v1/check/permissions",
            json!({ "account_id": bruno_account, "organization_id": org }),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(explained["status"], "active");
        assert_eq!(explained["permissions"], access["permissions"]);

        // A member without team.read may not look.
        let refused = call(
            &app,
            Method::GET,
            Some(&bruno_session),
            &format!("/api/v1/organizations/{org}/members/{bruno}/access"),
            None,
        )
        .await;
        assert_eq!(refused.status(), 403);
        app.stop().await;
    }
);

app_test!(
    async fn a_deployment_key_checks_any_organization_an_organization_key_only_its_own(
        app: TestApp,
    ) {
        let (ana, org_a, ana_account) = sign_up_and_log_in(&app, "ana@a.fr", "A").await;
        let (zoe, org_b, zoe_account) = sign_up_and_log_in(&app, "zoe@b.fr", "B").await;
        let (_, key_a) = create_key(&app, &ana, &org_a).await;
        let operator = gardien_service::Services::new(app.store.clone(), app.address.clone());
        let deployment = operator
            .create_deployment_api_key("Portal back end")
            .await
            .unwrap();
        assert!(deployment.key.organization_id.is_none());

        for (account, org) in [(&ana_account, &org_a), (&zoe_account, &org_b)] {
            assert_eq!(
                decide(&app, &deployment.secret, account, org, "team.manage", None).await,
                (true, "granted_by_role".into())
            );
        }
        assert!(
            decide(&app, &key_a, &ana_account, &org_a, "team.manage", None)
                .await
                .0
        );
        let refused = with_key(
            &app,
            &key_a,
            "/api/v1/check",
            json!({ "account_id": zoe_account, "organization_id": org_b, "permission": "team.manage" }),
        )
        .await;
        assert_eq!(refused.status(), 403);
        let refused = with_key(
            &app,
            &key_a,
            "/api/v1/check/permissions",
            json!({ "account_id": zoe_account, "organization_id": org_b }),
        )
        .await;
        assert_eq!(refused.status(), 403);

        // The key list shows when a key was last used (written off the
        // request path, at most once a minute).
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
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
            if list["items"][0]["last_used_at"].is_string() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "last_used_at never recorded: {list}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let keys = operator.deployment_api_keys().await.unwrap();
        assert_eq!(keys.len(), 1);

        // A deployment key revoked before use is refused; an organization's
        // members never see deployment keys in their list.
        let spare = operator.create_deployment_api_key("Spare").await.unwrap();
        operator
            .revoke_deployment_api_key(spare.key.id)
            .await
            .unwrap();
        let revoked = with_key(
            &app,
            &spare.secret,
            "/api/v1/check",
            json!({ "account_id": zoe_account, "organization_id": org_b, "permission": "team.manage" }),
        )
        .await;
        assert_eq!(revoked.status(), 401);
        assert!(matches!(
            operator.revoke_deployment_api_key(spare.key.id).await,
            Err(gardien_service::ServiceError::NotFound)
        ));
        let list: Value = call(
            &app,
            Method::GET,
            Some(&zoe),
            &format!("/api/v1/organizations/{org_b}/api-keys"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(list["items"], json!([]));
        app.stop().await;
    }
);

/// Silent resource types (`--silent-assignment-types`) send no email.
async fn silent_types_send_no_mail(backend: gardien_store::test_support::TestBackend) {
    let app = support::spawn_app_with(backend, |settings| {
        settings.silent_assignment_types = Some("invoice".into());
    })
    .await;
    let (ana, org, _) = sign_up_and_log_in(&app, "ana@domicile.fr", "Domiciliation").await;
    let (bruno, _, _) = add_member(&app, &ana, &org, "bruno@domicile.fr", "user", "en").await;
    let before = app.mails_to("bruno@domicile.fr").len();
    let done = call(
        &app,
        Method::POST,
        Some(&ana),
        &format!("/api/v1/organizations/{org}/assignments"),
        Some(json!({ "add": [
            { "member": bruno, "type": "invoice", "id": "F-1" },
            { "member": bruno, "type": "invoice", "id": "F-2" },
        ]})),
    )
    .await;
    assert_eq!(done.status(), 200);
    // A non-silent type afterwards is mailed: the silence is per type.
    let done = call(
        &app,
        Method::POST,
        Some(&ana),
        &format!("/api/v1/organizations/{org}/members/{bruno}/assignments"),
        Some(json!({ "type": "order", "id": "42", "label": "Order 42" })),
    )
    .await;
    assert_eq!(done.status(), 200);
    let mails = wait_for_mails(&app, "bruno@domicile.fr", before + 1).await;
    assert_eq!(mails.len(), before + 1, "only the order was mailed");
    let text = mails.last().unwrap().text_body().unwrap();
    assert!(text.contains("Order 42") && !text.contains("F-1"), "{text}");
    app.stop().await;
}

mod silent_assignment_types {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::silent_types_send_no_mail(gardien_store::test_support::TestBackend::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::silent_types_send_no_mail(gardien_store::test_support::TestBackend::Postgres).await;
    }
}
