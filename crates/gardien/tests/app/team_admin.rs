//! Team administration through the real HTTP stack, mail over SMTP, on both
//! back ends: company details (seed 003), editing a member's information and
//! sending them a password-reset link (seed 002), personal messages kept on
//! resend, and bulk invitations from a CSV file.

use crate::support;

use std::time::Duration;

use gardien_core::OrganizationId;
use reqwest::Method;
use serde_json::{json, Value};
use support::{call, session_cookie, TestApp};

const PASSWORD: &str = "violet tractor under the rain";
const INVITEE_PASSWORD: &str = "seven green lanterns at dawn";
const MAIL_WAIT: Duration = Duration::from_secs(10);

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

async fn invite(app: &TestApp, session: &str, org: &str, email: &str, extra: Value) -> Value {
    let role = role_id(app, org, "user").await;
    let mut body = json!({
        "email": email, "first_name": "Bruno", "last_name": "Costa",
        "kind": "staff", "role_id": role,
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            body.insert(k.clone(), v.clone());
        }
    }
    let response = call(
        app,
        Method::POST,
        Some(session),
        &format!("/api/v1/organizations/{org}/invitations"),
        Some(body),
    )
    .await;
    assert_eq!(response.status(), 201, "invitation of {email}");
    response.json().await.unwrap()
}

/// The text bodies of the messages sent to `to`, waiting for at least `n`.
async fn mails_to(app: &TestApp, to: &str, n: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + MAIL_WAIT;
    loop {
        let mails: Vec<String> = app
            .mail
            .messages()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(to)))
            .filter_map(|m| m.text_body())
            .collect();
        if mails.len() >= n {
            return mails;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no message #{n} to {to}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The token after `marker` (`/invitations/`, `/password-resets/`) in `text`.
fn token_after(text: &str, marker: &str) -> String {
    let start = text.find(marker).expect("a link") + marker.len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// Invites `email` and accepts as a new account; returns the membership id
/// and the member's session.
async fn member_joins(app: &TestApp, admin: &str, org: &str, email: &str) -> (String, String) {
    let invitation = invite(app, admin, org, email, json!({})).await;
    let mails = mails_to(app, email, 1).await;
    let token = token_after(mails.last().unwrap(), "/invitations/");
    let accepted = call(
        app,
        Method::POST,
        None,
        &format!("/api/v1/invitations/{token}"),
        Some(json!({
            "first_name": "Bruno", "last_name": "Costa", "password": INVITEE_PASSWORD,
            "accept_privacy": true,
        })),
    )
    .await;
    assert_eq!(accepted.status(), 200);
    (
        invitation["membership_id"].as_str().unwrap().to_owned(),
        session_cookie(&accepted).unwrap(),
    )
}

async fn events(app: &TestApp, org: &str, action: &str) -> Vec<gardien_core::audit::AuditEvent> {
    let mut tx = app.store.begin().await.unwrap();
    tx.audit_events(
        OrganizationId::from_uuid(org.parse().unwrap()),
        gardien_store::PageRequest::first(200),
    )
    .await
    .unwrap()
    .items
    .into_iter()
    .filter(|e| e.action == action)
    .collect()
}

fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn member_emails(app: &TestApp, session: &str, org: &str) -> Vec<String> {
    let list: Value = call(
        app,
        Method::GET,
        Some(session),
        &format!("/api/v1/organizations/{org}/members?limit=500"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let mut emails: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["email"].as_str().unwrap().to_owned())
        .collect();
    emails.sort();
    emails
}

app_test!(
    async fn company_details_are_saved_by_company_editors_only(app: TestApp) {
        let (ana, org) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let (eve, _) = sign_up_and_log_in(&app, "eve@example.fr", "Eve Corp").await;
        let path = format!("/api/v1/organizations/{org}/company");
        let before: Value = call(&app, Method::GET, Some(&ana), &path, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(before["name"], "Cabinet Lima");
        assert_eq!(before["vat_number"], Value::Null);

        // Every bad field is named; nothing is saved.
        let bad = call(
            &app,
            Method::PATCH,
            Some(&ana),
            &path,
            Some(json!({
                "name": " ",
                "address": "1\n2\n3\n4\n5\n6\n7",
                "phone": "call us",
                "vat_number": "12345",
                "registration_number": "n/a",
            })),
        )
        .await;
        assert_eq!(bad.status(), 422);
        let problem: Value = bad.json().await.unwrap();
        let fields = error_fields(&problem);
        for field in [
            "name",
            "address",
            "phone",
            "vat_number",
            "registration_number",
        ] {
            assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
        }
        let unchanged: Value = call(&app, Method::GET, Some(&ana), &path, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(unchanged, before);

        let saved = call(
            &app,
            Method::PATCH,
            Some(&ana),
            &path,
            Some(json!({
                "name": "Cabinet Lima & Associés",
                "legal_name": "Lima & Associés SARL",
                "address": "12 rue de la Paix\n75002 Paris\nFrance",
                "phone": "+33 1 23 45 67 89",
                "vat_number": "fr 40 303 265 045",
                "registration_number": "732 829 320 00074",
            })),
        )
        .await;
        assert_eq!(saved.status(), 200);
        let saved: Value = saved.json().await.unwrap();
        assert_eq!(saved["vat_number"], "FR40303265045");
        let read: Value = call(&app, Method::GET, Some(&ana), &path, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(read, saved);
        assert_eq!(read["address"], "12 rue de la Paix\n75002 Paris\nFrance");
        // The session's organization carries the new name at once.
        let seen: Value = app
            .http
            .get(app.url("/api/v1/session/introspect"))
            .header("cookie", &ana)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(seen["organization"]["name"], "Cabinet Lima & Associés");

        let audited = events(&app, &org, "organization.company_updated").await;
        assert_eq!(audited.len(), 1, "one change, one event");
        let event = &audited[0];
        assert_eq!(event.before.as_ref().unwrap()["vat_number"], Value::Null);
        assert_eq!(event.after.as_ref().unwrap()["vat_number"], "FR40303265045");
        assert_eq!(event.before.as_ref().unwrap()["name"], "Cabinet Lima");
        assert!(event.request_id.is_some());

        // A member whose role lacks company.edit: 403; another organization: 404.
        let (_, bruno) = member_joins(&app, &ana, &org, "bruno@example.fr").await;
        for session in [&bruno, &eve] {
            let expected = if session == &bruno { 403 } else { 404 };
            let get = call(&app, Method::GET, Some(session), &path, None).await;
            assert_eq!(get.status(), expected);
            let patch = call(
                &app,
                Method::PATCH,
                Some(session),
                &path,
                Some(json!({ "name": "Hijacked" })),
            )
            .await;
            assert_eq!(patch.status(), expected);
        }
        let after: Value = call(&app, Method::GET, Some(&ana), &path, None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(after["name"], "Cabinet Lima & Associés");
        app.stop().await;
    }
);

app_test!(
    async fn administrators_edit_a_members_information(app: TestApp) {
        let (ana, org) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let (eve, org_b) = sign_up_and_log_in(&app, "eve@example.fr", "Eve Corp").await;
        let (bruno_id, bruno) = member_joins(&app, &ana, &org, "bruno@example.fr").await;
        let path = format!("/api/v1/organizations/{org}/members/{bruno_id}");

        let saved = call(
            &app,
            Method::PATCH,
            Some(&ana),
            &path,
            Some(json!({ "first_name": "Bruno-Luis", "title": "Installer", "phone": "+33 6 12 34 56 78" })),
        )
        .await;
        assert_eq!(saved.status(), 200);
        let saved: Value = saved.json().await.unwrap();
        assert_eq!(saved["first_name"], "Bruno-Luis");
        assert_eq!(saved["last_name"], "Costa");
        assert_eq!(saved["title"], "Installer");
        let info: Value = call(&app, Method::GET, Some(&ana), &format!("{path}/info"), None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(info, saved);
        // Bruno belongs to this organization only: his own profile follows.
        let me: Value = call(&app, Method::GET, Some(&bruno), "/api/v1/me", None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(me["first_name"], "Bruno-Luis");
        assert_eq!(me["phone"], "+33 6 12 34 56 78");

        let audited = events(&app, &org, "membership.info_updated").await;
        assert_eq!(audited.len(), 1);
        let before = audited[0].before.as_ref().unwrap();
        let after = audited[0].after.as_ref().unwrap();
        assert_eq!(before["first_name"], "Bruno");
        assert_eq!(after["first_name"], "Bruno-Luis");
        assert_eq!(after["title"], "Installer");
        assert!(before.get("last_name").is_none(), "only changed fields");

        // Bad fields are named, and a role change sent with them is not made.
        let admin_role = role_id(&app, &org, "administrator").await;
        let bad = call(
            &app,
            Method::PATCH,
            Some(&ana),
            &path,
            Some(json!({ "role_id": admin_role, "first_name": "", "phone": "call me" })),
        )
        .await;
        assert_eq!(bad.status(), 422);
        let fields = error_fields(&bad.json().await.unwrap());
        assert!(fields.contains(&"first_name".to_owned()), "{fields:?}");
        assert!(fields.contains(&"phone".to_owned()), "{fields:?}");
        let info: Value = call(&app, Method::GET, Some(&ana), &format!("{path}/info"), None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(info, saved, "nothing changed");

        // Refusals: a member without team.manage, another organization.
        let refused = call(
            &app,
            Method::PATCH,
            Some(&bruno),
            &path,
            Some(json!({ "first_name": "Me" })),
        )
        .await;
        assert_eq!(refused.status(), 403);
        for foreign in [
            path.clone(),
            format!("/api/v1/organizations/{org_b}/members/{bruno_id}"),
        ] {
            let response = call(
                &app,
                Method::PATCH,
                Some(&eve),
                &foreign,
                Some(json!({ "first_name": "Eve was here" })),
            )
            .await;
            assert_eq!(response.status(), 404, "{foreign}");
            let response = call(
                &app,
                Method::GET,
                Some(&eve),
                &format!("{foreign}/info"),
                None,
            )
            .await;
            assert_eq!(response.status(), 404, "{foreign}/info");
        }

        // An account that is also another organization's is not rewritten:
        // the name is this organization's record.
        let (carla, _) = sign_up_and_log_in(&app, "carla@example.fr", "Carla SARL").await;
        let invitation = invite(&app, &ana, &org, "carla@example.fr", json!({})).await;
        let carla_id = invitation["membership_id"].as_str().unwrap();
        let token = token_after(
            mails_to(&app, "carla@example.fr", 2).await.last().unwrap(),
            "/invitations/",
        );
        let accepted = call(
            &app,
            Method::POST,
            Some(&carla),
            &format!("/api/v1/invitations/{token}"),
            Some(json!({ "accept_privacy": true })),
        )
        .await;
        assert_eq!(accepted.status(), 200);
        let renamed = call(
            &app,
            Method::PATCH,
            Some(&ana),
            &format!("/api/v1/organizations/{org}/members/{carla_id}"),
            Some(json!({ "first_name": "Carla (Lyon office)" })),
        )
        .await;
        assert_eq!(renamed.status(), 200);
        let list: Value = call(
            &app,
            Method::GET,
            Some(&ana),
            &format!("/api/v1/organizations/{org}/members?search=lyon"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(list["items"][0]["email"], "carla@example.fr");
        let me: Value = call(&app, Method::GET, Some(&carla), "/api/v1/me", None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(me["first_name"], "Ana", "her own profile is hers");
        app.stop().await;
    }
);

app_test!(
    async fn administrators_send_active_members_a_password_reset_link(app: TestApp) {
        let (ana, org) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let (eve, org_b) = sign_up_and_log_in(&app, "eve@example.fr", "Eve Corp").await;
        let (bruno_id, bruno) = member_joins(&app, &ana, &org, "bruno@example.fr").await;
        let reset = |org: &str, member: &str| {
            format!("/api/v1/organizations/{org}/members/{member}/password-reset")
        };

        // Another organization's administrator, through either path: 404;
        // a member without team.manage: 403. Nothing is sent.
        for path in [reset(&org, &bruno_id), reset(&org_b, &bruno_id)] {
            let response = call(&app, Method::POST, Some(&eve), &path, None).await;
            assert_eq!(response.status(), 404, "{path}");
        }
        let ana_id = {
            let mut tx = app.store.begin().await.unwrap();
            let org_id = OrganizationId::from_uuid(org.parse().unwrap());
            let account = tx
                .account_by_email(&gardien_core::Email::parse("ana@example.fr").unwrap())
                .await
                .unwrap()
                .unwrap();
            tx.membership_of(org_id, account.id)
                .await
                .unwrap()
                .unwrap()
                .id
                .to_string()
        };
        let refused = call(
            &app,
            Method::POST,
            Some(&bruno),
            &reset(&org, &ana_id),
            None,
        )
        .await;
        assert_eq!(refused.status(), 403);

        let sent = call(
            &app,
            Method::POST,
            Some(&ana),
            &reset(&org, &bruno_id),
            None,
        )
        .await;
        assert_eq!(sent.status(), 202);
        let mails = mails_to(&app, "bruno@example.fr", 2).await;
        assert_eq!(mails.len(), 2, "the invitation, then one reset link");
        let token = token_after(&mails[1], "/password-resets/");
        let done = app
            .post_json(
                &format!("/api/v1/password-resets/{token}"),
                &json!({ "password": "orange kites over the harbour" }),
            )
            .await;
        assert_eq!(done.status(), 204);
        log_in(&app, "bruno@example.fr", "orange kites over the harbour").await;
        let again = app
            .post_json(
                &format!("/api/v1/password-resets/{token}"),
                &json!({ "password": "purple owls above the quay" }),
            )
            .await;
        assert_eq!(again.status(), 410, "the link works once");
        let audited = events(&app, &org, "membership.password_reset_sent").await;
        assert_eq!(audited.len(), 1);
        assert_eq!(
            audited[0].target.as_deref(),
            Some(format!("membership:{bruno_id}").as_str())
        );

        // Only active members: an invited one is refused, and so is a suspended one.
        let dora = invite(&app, &ana, &org, "dora@example.fr", json!({})).await;
        let dora_id = dora["membership_id"].as_str().unwrap();
        let response = call(&app, Method::POST, Some(&ana), &reset(&org, dora_id), None).await;
        assert_eq!(response.status(), 409);
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["type"], "/problems/member-not-active");
        let suspended = call(
            &app,
            Method::POST,
            Some(&ana),
            &format!("/api/v1/organizations/{org}/members/{bruno_id}/suspend"),
            None,
        )
        .await;
        assert_eq!(suspended.status(), 200);
        let response = call(
            &app,
            Method::POST,
            Some(&ana),
            &reset(&org, &bruno_id),
            None,
        )
        .await;
        assert_eq!(response.status(), 409);
        assert_eq!(
            events(&app, &org, "membership.password_reset_sent")
                .await
                .len(),
            1
        );
        app.stop().await;
    }
);

app_test!(
    async fn a_resent_invitation_keeps_the_personal_message(app: TestApp) {
        let (ana, org) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let invitation = invite(
            &app,
            &ana,
            &org,
            "bruno@example.fr",
            json!({ "personal_message": "Welcome aboard, Bruno!\nSee you Monday." }),
        )
        .await;
        let first = mails_to(&app, "bruno@example.fr", 1).await;
        assert!(first[0].contains("Welcome aboard, Bruno!"), "{}", first[0]);
        let resent = call(
            &app,
            Method::POST,
            Some(&ana),
            &format!(
                "/api/v1/organizations/{org}/invitations/{}/resend",
                invitation["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
        assert_eq!(resent.status(), 201);
        let second: Value = resent.json().await.unwrap();
        let mails = mails_to(&app, "bruno@example.fr", 2).await;
        assert!(mails[1].contains("Welcome aboard, Bruno!"), "{}", mails[1]);
        assert!(mails[1].contains("See you Monday."), "{}", mails[1]);
        assert_ne!(
            token_after(&mails[0], "/invitations/"),
            token_after(&mails[1], "/invitations/")
        );
        // And again from the resent one.
        let again = call(
            &app,
            Method::POST,
            Some(&ana),
            &format!(
                "/api/v1/organizations/{org}/invitations/{}/resend",
                second["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
        assert_eq!(again.status(), 201);
        let mails = mails_to(&app, "bruno@example.fr", 3).await;
        assert!(mails[2].contains("Welcome aboard, Bruno!"), "{}", mails[2]);
        app.stop().await;
    }
);

async fn import(
    app: &TestApp,
    session: &str,
    org: &str,
    dry_run: bool,
    body: Vec<u8>,
) -> reqwest::Response {
    let (cookie, token) = app.csrf().await;
    app.http
        .post(app.url(&format!(
            "/api/v1/organizations/{org}/invitations/import?dry_run={dry_run}"
        )))
        .header("cookie", format!("{cookie}; {session}"))
        .header("x-csrf-token", token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap()
}

fn row(result: &Value, line: u64) -> &Value {
    result["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["line"] == line)
        .unwrap_or_else(|| panic!("line {line} in {result}"))
}

fn row_error(result: &Value, line: u64) -> (String, String) {
    let row = row(result, line);
    assert_eq!(row["status"], "error", "line {line}: {row}");
    let error = &row["errors"][0];
    (
        error["field"].as_str().unwrap().to_owned(),
        error["code"].as_str().unwrap().to_owned(),
    )
}

app_test!(
    async fn csv_import_previews_every_row_then_invites_exactly_the_valid_ones(app: TestApp) {
        let (ana, org) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        member_joins(&app, &ana, &org, "bruno@example.fr").await;
        invite(&app, &ana, &org, "dora@example.fr", json!({})).await;
        let members_before = member_emails(&app, &ana, &org).await;

        // French headers, semicolons, a BOM, a blank line, quotes.
        let file = "\u{feff}Courriel;Prénom;Nom;Rôle;Type\n\
            gil@example.fr;Gil;Mota;Utilisateur;collaborateur\n\
            not-an-email;Hugo;Roy;User;staff\n\
            ines@example.fr;Inès;Faure;Boss;staff\n\
            jade@example.fr;Jade;Lemoine;User;partner\n\
            GIL@example.fr;Gil;Again;User;staff\n\
            bruno@example.fr;Bruno;Costa;User;staff\n\
            \n\
            dora@example.fr;Dora;Neves;User;staff\n\
            karim@example.fr;Karim;\"Ben Ali; fils\";Administrateur;client\n";
        let preview = import(&app, &ana, &org, true, file.as_bytes().to_vec()).await;
        assert_eq!(preview.status(), 200);
        let preview: Value = preview.json().await.unwrap();
        assert_eq!(preview["dry_run"], true);
        assert_eq!(preview["total"], 8);
        assert_eq!(preview["valid"], 2);
        assert_eq!(preview["invited"], 0);
        assert_eq!(row(&preview, 2)["status"], "valid");
        assert_eq!(
            row_error(&preview, 3),
            ("email".into(), "email-missing-at".into())
        );
        assert_eq!(
            row_error(&preview, 4),
            ("role".into(), "unknown-role".into())
        );
        assert_eq!(
            row_error(&preview, 5),
            ("kind".into(), "unknown-kind".into())
        );
        assert_eq!(
            row_error(&preview, 6),
            ("email".into(), "duplicate-in-file".into())
        );
        assert!(row(&preview, 6)["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains('2'));
        assert_eq!(
            row_error(&preview, 7),
            ("email".into(), "already-member".into())
        );
        assert_eq!(
            row_error(&preview, 9),
            ("email".into(), "already-invited".into())
        );
        let karim = row(&preview, 10);
        assert_eq!(karim["status"], "valid");
        assert_eq!(karim["last_name"], "Ben Ali; fils");
        assert_eq!(karim["kind"], "client");
        assert_eq!(karim["role"], "Administrator");

        // The dry run changed nothing and sent nothing.
        assert_eq!(member_emails(&app, &ana, &org).await, members_before);
        assert!(events(&app, &org, "invitation.imported").await.is_empty());

        let done = import(&app, &ana, &org, false, file.as_bytes().to_vec()).await;
        assert_eq!(done.status(), 200);
        let done: Value = done.json().await.unwrap();
        assert_eq!(done["invited"], 2);
        assert_eq!(row(&done, 2)["status"], "invited");
        assert_eq!(row(&done, 10)["status"], "invited");
        assert_eq!(row(&done, 3)["status"], "error");
        let mut expected = members_before.clone();
        expected.extend(["gil@example.fr".to_owned(), "karim@example.fr".to_owned()]);
        expected.sort();
        assert_eq!(member_emails(&app, &ana, &org).await, expected);

        // The invitations arrive, with working links.
        for email in ["gil@example.fr", "karim@example.fr"] {
            let mails = mails_to(&app, email, 1).await;
            let token = token_after(&mails[0], "/invitations/");
            let view = call(
                &app,
                Method::GET,
                None,
                &format!("/api/v1/invitations/{token}"),
                None,
            )
            .await;
            assert_eq!(view.status(), 200, "{email}");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        for refused in ["ines@example.fr", "jade@example.fr"] {
            assert!(
                app.mail
                    .messages()
                    .iter()
                    .all(|m| !m.to.iter().any(|t| t == refused)),
                "{refused} was mailed"
            );
        }
        let imported = events(&app, &org, "invitation.imported").await;
        assert_eq!(imported.len(), 1);
        assert_eq!(imported[0].after.as_ref().unwrap()["invited"], 2);
        let created = events(&app, &org, "invitation.created").await;
        assert_eq!(
            created
                .iter()
                .filter(|e| e
                    .after
                    .as_ref()
                    .unwrap()
                    .get("imported_from_line")
                    .is_some())
                .count(),
            2
        );

        // Importing the same file again invites no one: both are now invited.
        let again: Value = import(&app, &ana, &org, false, file.as_bytes().to_vec())
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(again["invited"], 0);
        assert_eq!(
            row_error(&again, 2),
            ("email".into(), "already-invited".into())
        );
        app.stop().await;
    }
);

app_test!(
    async fn a_malformed_csv_file_changes_nothing_and_says_why(app: TestApp) {
        let (ana, org) = sign_up_and_log_in(&app, "ana@example.fr", "Cabinet Lima").await;
        let (eve, _) = sign_up_and_log_in(&app, "eve@example.fr", "Eve Corp").await;
        let before = member_emails(&app, &ana, &org).await;
        let mut many = String::from("email,first name,last name\n");
        for i in 0..=1000 {
            many.push_str(&format!("p{i}@example.fr,P,Q\n"));
        }
        let mut huge = String::from("email,first name,last name\n");
        while huge.len() <= 1024 * 1024 {
            huge.push_str("someone.with.a.long.address@example.fr,First,Last\n");
        }
        let cases: Vec<(Vec<u8>, u16, &str)> = vec![
            (
                vec![0x89, b'P', b'N', b'G', 0, 0xff, 0xfe],
                422,
                "import-not-text",
            ),
            (
                b"email,first name\nzoe@example.fr,Zoe\n".to_vec(),
                422,
                "import-missing-columns",
            ),
            (
                b"email,first name,last name,salary\nzoe@example.fr,Zoe,Ray,1\n".to_vec(),
                422,
                "import-unknown-column",
            ),
            (
                b"email,first name,last name\n".to_vec(),
                422,
                "import-empty",
            ),
            (b"".to_vec(), 422, "import-empty"),
            (many.into_bytes(), 422, "import-too-many-rows"),
            (huge.into_bytes(), 413, "import-too-large"),
        ];
        for (body, status, code) in cases {
            for dry_run in [true, false] {
                let response = import(&app, &ana, &org, dry_run, body.clone()).await;
                assert_eq!(response.status(), status, "{code}");
                let problem: Value = response.json().await.unwrap();
                assert_eq!(problem["type"], format!("/problems/{code}"));
                assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
            }
        }
        assert_eq!(member_emails(&app, &ana, &org).await, before);
        assert!(events(&app, &org, "invitation.created").await.is_empty());

        // Another organization's administrator: 404; a member who may not invite: 403.
        let good = b"email,first name,last name\nzoe@example.fr,Zoe,Ray\n".to_vec();
        let foreign = import(&app, &eve, &org, false, good.clone()).await;
        assert_eq!(foreign.status(), 404);
        let (_, bruno) = member_joins(&app, &ana, &org, "bruno@example.fr").await;
        let refused = import(&app, &bruno, &org, false, good).await;
        assert_eq!(refused.status(), 403);
        assert!(!member_emails(&app, &ana, &org)
            .await
            .contains(&"zoe@example.fr".to_owned()));
        app.stop().await;
    }
);
