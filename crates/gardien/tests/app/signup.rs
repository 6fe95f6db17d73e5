//! Sign-up and email verification (flow 1), through the real HTTP stack,
//! with mail delivered over SMTP, on both back ends.

use crate::support;

use std::time::Duration;

use gardien_core::role::BUILT_IN_ROLES;
use gardien_core::{Email, Kind, MembershipStatus};
use gardien_store::PageRequest;
use serde_json::json;
use support::TestApp;

const MAIL_WAIT: Duration = Duration::from_secs(10);

fn sign_up_body(email: &str, first_name: &str) -> serde_json::Value {
    json!({
        "email": email,
        "password": "violet tractor under the rain",
        "first_name": first_name,
        "last_name": "Lima",
        "organization_name": "Cabinet Lima",
        "language": "fr",
    })
}

/// The path of the verification link in a mail's text.
fn verification_path(text: &str) -> String {
    let start = text
        .find("/verify-email/")
        .expect("the mail holds a verification link");
    text[start..start + "/verify-email/".len() + 43].to_owned()
}

async fn sign_up(app: &TestApp, email: &str, first_name: &str) -> reqwest::Response {
    app.post_json("/api/v1/signup", &sign_up_body(email, first_name))
        .await
}

app_test!(
    async fn signup_creates_organization_and_manager_membership(app: TestApp) {
        let response = sign_up(&app, "ana@example.fr", "Ana").await;
        assert_eq!(response.status(), 202);

        let mut tx = app.store.begin().await.unwrap();
        let account = tx
            .account_by_email(&Email::parse("ana@example.fr").unwrap())
            .await
            .unwrap()
            .expect("the account exists");
        assert_eq!(account.first_name, "Ana");
        assert_eq!(account.email_verified_at, None);
        let memberships = tx.memberships_of_account(account.id).await.unwrap();
        assert_eq!(memberships.len(), 1);
        let membership = &memberships[0];
        assert_eq!(membership.kind, Kind::Staff);
        assert_eq!(membership.status, MembershipStatus::Active);
        let organization = tx
            .organization(membership.organization_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(organization.name, "Cabinet Lima");
        let roles = tx.roles(organization.id).await.unwrap();
        assert_eq!(roles.len(), BUILT_IN_ROLES.len());
        let role = roles.iter().find(|r| r.id == membership.role_id).unwrap();
        assert_eq!(role.template.as_deref(), Some("manager"));
        assert_eq!(role.name, "Gestionnaire", "named in the account's language");
        assert!(role.is_administrator());
        let events = tx
            .audit_events(organization.id, PageRequest::first(10))
            .await
            .unwrap();
        assert!(events
            .items
            .iter()
            .any(|e| e.action == "account.signed_up" && e.request_id.is_some()));
        drop(tx);

        let mails = app.mail.wait_for(1, MAIL_WAIT).await;
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].to, vec!["ana@example.fr".to_owned()]);
        let text = mails[0].text_body().unwrap();
        assert!(
            text.contains(&format!("{}/verify-email/", app.address)),
            "{text}"
        );
        app.stop().await;
    }
);

app_test!(
    async fn signup_with_taken_email_answers_the_same_and_mails_the_owner(app: TestApp) {
        let first = sign_up(&app, "ana@example.fr", "Ana").await;
        let first_status = first.status();
        let first_body = first.text().await.unwrap();
        app.mail.wait_for(1, MAIL_WAIT).await;

        let second = sign_up(&app, "  ANA@example.fr", "Someone").await;
        let second_status = second.status();
        let second_body = second.text().await.unwrap();
        assert_eq!(first_status, second_status);
        assert_eq!(first_body, second_body);

        let mails = app.mail.wait_for(2, MAIL_WAIT).await;
        assert_eq!(mails.len(), 2);
        let owner_mail = &mails[1];
        assert_eq!(owner_mail.to, vec!["ana@example.fr".to_owned()]);
        let text = owner_mail.text_body().unwrap();
        assert!(!text.contains("/verify-email/"), "{text}");
        assert!(text.contains(&format!("{}/login", app.address)), "{text}");

        let mut tx = app.store.begin().await.unwrap();
        let account = tx
            .account_by_email(&Email::parse("ana@example.fr").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(account.first_name, "Ana", "the account is unchanged");
        assert_eq!(
            tx.memberships_of_account(account.id).await.unwrap().len(),
            1
        );
        drop(tx);
        app.stop().await;
    }
);

app_test!(
    async fn verification_link_is_single_use(app: TestApp) {
        assert_eq!(sign_up(&app, "ana@example.fr", "Ana").await.status(), 202);
        let mails = app.mail.wait_for(1, MAIL_WAIT).await;
        let path = verification_path(&mails[0].text_body().unwrap());

        let first = app.http.get(app.url(&path)).send().await.unwrap();
        assert_eq!(first.status(), 200);
        let mut tx = app.store.begin().await.unwrap();
        let account = tx
            .account_by_email(&Email::parse("ana@example.fr").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(account.email_verified_at.is_some());
        drop(tx);

        let again = app.http.get(app.url(&path)).send().await.unwrap();
        assert_eq!(again.status(), 410);
        let damaged = app
            .http
            .get(app.url("/verify-email/not-a-token"))
            .send()
            .await
            .unwrap();
        assert_eq!(damaged.status(), 410);
        app.stop().await;
    }
);

app_test!(
    async fn signup_refuses_a_common_password_next_to_its_field(app: TestApp) {
        let mut body = sign_up_body("ana@example.fr", "Ana");
        body["password"] = json!("Password123");
        let response = app.post_json("/api/v1/signup", &body).await;
        assert_eq!(response.status(), 422);
        let problem: serde_json::Value = response.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "password", "{problem}");
        assert_eq!(problem["errors"][0]["code"], "password-common", "{problem}");
        let mut tx = app.store.begin().await.unwrap();
        let none = tx
            .account_by_email(&Email::parse("ana@example.fr").unwrap())
            .await
            .unwrap();
        assert!(none.is_none(), "nothing was created");
        drop(tx);
        app.stop().await;
    }
);
