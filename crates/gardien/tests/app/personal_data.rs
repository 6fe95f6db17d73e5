//! Personal data (flow 15): download my data, delete my account, through
//! the real HTTP stack on both back ends.

use crate::support;

use gardien_core::{Email, Kind, Membership, MembershipId, MembershipStatus};
use serde_json::{json, Value};
use support::TestApp;
use time::OffsetDateTime;

const PASSWORD: &str = "violet tractor under the rain";

async fn sign_up(app: &TestApp, email: &str, organization: &str) {
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

async fn log_in(app: &TestApp, email: &str) -> Option<String> {
    let response = app
        .post_json(
            "/api/v1/login",
            &json!({ "email": email, "password": PASSWORD }),
        )
        .await;
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("gardien_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

async fn delete_me(app: &TestApp, session: &str, password: &str) -> reqwest::Response {
    let (csrf_cookie, token) = app.csrf().await;
    app.http
        .delete(app.url("/api/v1/me"))
        .header("cookie", format!("{csrf_cookie}; {session}"))
        .header("x-csrf-token", token)
        .json(&json!({ "password": password }))
        .send()
        .await
        .unwrap()
}

/// Makes `email` a second administrator (manager role) of `owner`'s organization.
/// Makes `email` a second administrator of `owner`'s organization, and
/// hands it the ownership (an owner keeps their account until then).
async fn hand_over_to_a_second_administrator(app: &TestApp, owner: &str, email: &str) {
    let mut tx = app.store.begin().await.unwrap();
    let owner = tx
        .account_by_email(&Email::parse(owner).unwrap())
        .await
        .unwrap()
        .unwrap();
    let other = tx
        .account_by_email(&Email::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap();
    let membership = tx.memberships_of_account(owner.id).await.unwrap().remove(0);
    let now = OffsetDateTime::now_utc();
    let second = MembershipId::new();
    tx.insert_membership(&Membership {
        id: second,
        organization_id: membership.organization_id,
        account_id: other.id,
        kind: Kind::Staff,
        role_id: membership.role_id,
        status: MembershipStatus::Active,
        created_at: now,
        updated_at: now,
    })
    .await
    .unwrap();
    tx.set_organization_owner(membership.organization_id, second)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

app_test!(
    async fn export_holds_my_account_memberships_and_the_events_i_made(app: TestApp) {
        sign_up(&app, "ana@example.fr", "Cabinet Lima").await;
        sign_up(&app, "bob@example.fr", "Bob SARL").await;
        let session = log_in(&app, "ana@example.fr").await.unwrap();
        let _ = log_in(&app, "bob@example.fr").await.unwrap();
        let response = app
            .http
            .get(app.url("/api/v1/me/export"))
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"));
        let data: Value = response.json().await.unwrap();
        assert_eq!(data["account"]["email"], "ana@example.fr");
        assert_eq!(data["account"]["first_name"], "Ana");
        let memberships = data["memberships"].as_array().unwrap();
        assert_eq!(memberships.len(), 1);
        assert_eq!(memberships[0]["organization"]["name"], "Cabinet Lima");
        assert_eq!(memberships[0]["status"], "active");
        let actions: Vec<&str> = data["audit_events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            ["account.signed_up", "account.logged_in"],
            "only mine"
        );
        assert_eq!(data["sessions"].as_array().unwrap().len(), 1);
        let anonymous = app
            .http
            .get(app.url("/api/v1/me/export"))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), 401);
        app.stop().await;
    }
);

app_test!(
    async fn the_owner_cannot_delete_the_account_and_a_wrong_password_changes_nothing(
        app: TestApp,
    ) {
        sign_up(&app, "ana@example.fr", "Cabinet Lima").await;
        let session = log_in(&app, "ana@example.fr").await.unwrap();
        let wrong = delete_me(&app, &session, "not my password").await;
        assert_eq!(wrong.status(), 422);
        let problem: Value = wrong.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "password");
        // The founder owns the organization (and is its last administrator):
        // the account stays until the ownership is handed over.
        let last = delete_me(&app, &session, PASSWORD).await;
        assert_eq!(last.status(), 409);
        let problem: Value = last.json().await.unwrap();
        assert_eq!(problem["type"], "/problems/owner-must-hand-over");
        assert!(
            log_in(&app, "ana@example.fr").await.is_some(),
            "nothing changed"
        );
        app.stop().await;
    }
);

app_test!(
    async fn deleting_my_account_anonymizes_it_ends_sessions_and_removes_memberships(app: TestApp) {
        sign_up(&app, "ana@example.fr", "Cabinet Lima").await;
        sign_up(&app, "bob@example.fr", "Bob SARL").await;
        hand_over_to_a_second_administrator(&app, "ana@example.fr", "bob@example.fr").await;
        let session = log_in(&app, "ana@example.fr").await.unwrap();
        let other = log_in(&app, "ana@example.fr").await.unwrap();
        let account_id = {
            let mut tx = app.store.begin().await.unwrap();
            tx.account_by_email(&Email::parse("ana@example.fr").unwrap())
                .await
                .unwrap()
                .unwrap()
                .id
        };

        let deleted = delete_me(&app, &session, PASSWORD).await;
        assert_eq!(deleted.status(), 204);
        for cookie in [&session, &other] {
            let gone = app
                .http
                .get(app.url("/api/v1/me"))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(gone.status(), 401, "every session ends");
        }
        assert!(log_in(&app, "ana@example.fr").await.is_none());

        let mut tx = app.store.begin().await.unwrap();
        assert!(tx
            .account_by_email(&Email::parse("ana@example.fr").unwrap())
            .await
            .unwrap()
            .is_none());
        let account = tx.account(account_id).await.unwrap().unwrap();
        assert_eq!(
            account.email.as_str(),
            format!("deleted-{}@deleted.invalid", account_id.as_uuid().simple())
        );
        assert_eq!(
            (account.first_name.as_str(), account.last_name.as_str()),
            ("", "")
        );
        assert_eq!(tx.password_hash(account_id).await.unwrap(), None);
        let memberships = tx.memberships_of_account(account_id).await.unwrap();
        assert!(memberships
            .iter()
            .all(|m| m.status == MembershipStatus::Removed));
        // The audit trail still points at the (anonymized) account.
        let events = tx.audit_events_by_actor(account_id, 100).await.unwrap();
        assert_eq!(events.last().unwrap().action, "account.deleted");
        assert!(events.iter().any(|e| e.action == "account.signed_up"));
        drop(tx);
        // The address is free again.
        sign_up(&app, "ana@example.fr", "Nouveau cabinet").await;
        assert!(log_in(&app, "ana@example.fr").await.is_some());
        app.stop().await;
    }
);
