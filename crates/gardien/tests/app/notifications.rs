//! Where notices go (seed 001: « adresse e-mail de notification, où les
//! messages sont envoyés »): to the notification email when a person set
//! one, to the login email otherwise; links that prove or protect the login
//! address always go to the login address. Both back ends.

use crate::support;

use reqwest::Method;
use serde_json::{json, Value};
use support::{call, session_cookie, verify_email, TestApp};

const PASSWORD: &str = "violet tractor under the rain";

/// Signs `email` up (verified) with its own organization: `(session, org)`.
async fn sign_up(app: &TestApp, email: &str, organization: &str) -> (String, String) {
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
    verify_email(app, email).await;
    let response = app
        .post_json(
            "/api/v1/login",
            &json!({ "email": email, "password": PASSWORD }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let session = session_cookie(&response).expect("a session");
    let body: Value = response.json().await.unwrap();
    let org = body["organization"]["id"].as_str().unwrap().to_owned();
    (session, org)
}

async fn user_role(app: &TestApp, org: &str) -> String {
    let org = gardien_core::OrganizationId::from_uuid(org.parse().unwrap());
    let mut tx = app.store.begin().await.unwrap();
    let roles = tx.roles(org).await.unwrap();
    roles
        .into_iter()
        .find(|r| r.template.as_deref() == Some("user"))
        .expect("the built-in User role")
        .id
        .to_string()
}

app_test!(
    async fn activation_notice_goes_to_the_notification_email(app: TestApp) {
        let (ana, org) = sign_up(&app, "ana@example.fr", "Cabinet Lima").await;
        let (bruno, _) = sign_up(&app, "bruno@example.fr", "Costa SARL").await;
        let saved = call(
            &app,
            Method::PATCH,
            Some(&bruno),
            "/api/v1/me",
            Some(json!({ "notification_email": "bruno.notices@example.org" })),
        )
        .await;
        assert_eq!(saved.status(), 200);
        let settings = call(
            &app,
            Method::PATCH,
            Some(&ana),
            &format!("/api/v1/organizations/{org}/settings"),
            Some(json!({ "requires_activation": true })),
        )
        .await;
        assert_eq!(settings.status(), 200);

        let role = user_role(&app, &org).await;
        let invited = call(
            &app,
            Method::POST,
            Some(&ana),
            &format!("/api/v1/organizations/{org}/invitations"),
            Some(json!({
                "email": "bruno@example.fr",
                "first_name": "Bruno",
                "last_name": "Costa",
                "kind": "staff",
                "role_id": role,
            })),
        )
        .await;
        assert_eq!(invited.status(), 201);
        let invited: Value = invited.json().await.unwrap();
        let member = invited["membership_id"].as_str().unwrap().to_owned();
        // The invitation goes to the address the administrator typed.
        let invitation = app.mail_to("bruno@example.fr", 2).await;
        let token = support::link_token(&invitation.text_body().unwrap(), "/invitations/");
        let accepted = call(
            &app,
            Method::POST,
            Some(&bruno),
            &format!("/api/v1/invitations/{token}"),
            Some(json!({ "accept_privacy": true })),
        )
        .await;
        assert_eq!(accepted.status(), 200);

        let activated = call(
            &app,
            Method::POST,
            Some(&ana),
            &format!("/api/v1/organizations/{org}/members/{member}/activate"),
            None,
        )
        .await;
        assert_eq!(activated.status(), 200);
        let notice = app.mail_to("bruno.notices@example.org", 1).await;
        assert!(
            notice
                .decoded_header("subject")
                .unwrap()
                .contains("Cabinet Lima"),
            "{:?}",
            notice.decoded_header("subject")
        );
        // Nothing more reached the login address (verification + invitation).
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(app.mails_to("bruno@example.fr").len(), 2);

        // A password reset still goes to the login address.
        let reset = app
            .post_json(
                "/api/v1/password-resets",
                &json!({ "email": "bruno@example.fr" }),
            )
            .await;
        assert_eq!(reset.status(), 202);
        let reset = app.mail_to("bruno@example.fr", 3).await;
        assert!(reset.text_body().unwrap().contains("/password-resets/"));
        assert_eq!(app.mails_to("bruno.notices@example.org").len(), 1);
    }
);
