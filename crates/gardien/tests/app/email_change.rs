//! Changing the login email (flow 12): the change needs the password, a
//! link opened from the NEW address, and tells the OLD address; it never
//! reveals whether the new address has an account. Both back ends.

use crate::support;

use reqwest::Method;
use serde_json::{json, Value};
use support::{call, link_token, session_cookie, TestApp};

const PASSWORD: &str = "violet tractor under the rain";

async fn sign_up(app: &TestApp, email: &str) {
    let response = app
        .post_json(
            "/api/v1/signup",
            &json!({
                "email": email,
                "password": PASSWORD,
                "first_name": "Ana",
                "last_name": "Lima",
                "organization_name": format!("Cabinet {email}"),
                "language": "en",
            }),
        )
        .await;
    assert_eq!(response.status(), 202);
}

/// The session cookie, or `None` when the login is refused.
async fn log_in(app: &TestApp, email: &str) -> Option<String> {
    let response = app
        .post_json(
            "/api/v1/login",
            &json!({ "email": email, "password": PASSWORD }),
        )
        .await;
    session_cookie(&response)
}

async fn me(app: &TestApp, session: &str) -> Value {
    let response = call(app, Method::GET, Some(session), "/api/v1/me", None).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn request_change(
    app: &TestApp,
    session: &str,
    new_email: &str,
    password: &str,
) -> reqwest::Response {
    call(
        app,
        Method::POST,
        Some(session),
        "/api/v1/me/email",
        Some(json!({ "new_email": new_email, "current_password": password })),
    )
    .await
}

async fn confirm(app: &TestApp, token: &str) -> reqwest::Response {
    call(
        app,
        Method::POST,
        None,
        &format!("/api/v1/email-changes/{token}"),
        None,
    )
    .await
}

/// The token of the `nth` confirmation link sent to `to`.
async fn confirmation_token(app: &TestApp, to: &str, nth: usize) -> String {
    let mail = app.mail_to(to, nth).await;
    link_token(&mail.text_body().unwrap(), "/email-changes/")
}

async fn problem(response: reqwest::Response) -> Value {
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    response.json().await.unwrap()
}

app_test!(
    async fn the_login_email_changes_only_when_the_new_address_confirms(app: TestApp) {
        sign_up(&app, "ana@example.fr").await;
        let session = log_in(&app, "ana@example.fr").await.expect("logged in");

        let response = request_change(&app, &session, "ana.lima@new.example", PASSWORD).await;
        assert_eq!(response.status(), 202);
        let mail = app.mail_to("ana.lima@new.example", 1).await;
        assert_eq!(
            mail.decoded_header("subject").unwrap(),
            "Confirm your new login address"
        );
        // Nothing changed yet: the old address still logs in.
        assert_eq!(me(&app, &session).await["email"], "ana@example.fr");
        assert!(log_in(&app, "ana@example.fr").await.is_some());
        assert!(log_in(&app, "ana.lima@new.example").await.is_none());

        let token = link_token(&mail.text_body().unwrap(), "/email-changes/");
        let response = confirm(&app, &token).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["email"], "ana.lima@new.example");

        // The old address is told, with the new one named.
        let notice = app.mail_to("ana@example.fr", 2).await;
        assert_eq!(
            notice.decoded_header("subject").unwrap(),
            "Your login address has changed"
        );
        assert!(notice.text_body().unwrap().contains("ana.lima@new.example"));
        assert!(!notice.text_body().unwrap().contains("/email-changes/"));

        assert!(log_in(&app, "ana.lima@new.example").await.is_some());
        assert!(log_in(&app, "ana@example.fr").await.is_none());
        assert_eq!(me(&app, &session).await["email"], "ana.lima@new.example");

        // The link works once.
        assert_eq!(confirm(&app, &token).await.status(), 410);
    }
);

app_test!(
    async fn bad_requests_are_refused_precisely_and_change_nothing(app: TestApp) {
        sign_up(&app, "ana@example.fr").await;
        let session = log_in(&app, "ana@example.fr").await.expect("logged in");

        let wrong = request_change(&app, &session, "ana@new.example", "not my password").await;
        assert_eq!(wrong.status(), 422);
        let body = problem(wrong).await;
        assert_eq!(body["errors"][0]["field"], "current_password", "{body}");

        let malformed = request_change(&app, &session, "ana.new.example", PASSWORD).await;
        assert_eq!(malformed.status(), 422);
        let body = problem(malformed).await;
        assert_eq!(body["errors"][0]["field"], "new_email", "{body}");

        let same = request_change(&app, &session, "ANA@example.fr", PASSWORD).await;
        assert_eq!(same.status(), 422);
        let body = problem(same).await;
        assert_eq!(body["errors"][0]["field"], "new_email", "{body}");

        let anonymous = call(
            &app,
            Method::POST,
            None,
            "/api/v1/me/email",
            Some(json!({ "new_email": "x@new.example", "current_password": PASSWORD })),
        )
        .await;
        assert_eq!(anonymous.status(), 401);

        // A forged link and a malformed one.
        let forged = "A".repeat(43);
        assert_eq!(confirm(&app, &forged).await.status(), 410);
        assert_eq!(confirm(&app, "not-a-token").await.status(), 410);

        // Nothing was sent to the new addresses, nothing changed.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(app.mails_to("ana@new.example").is_empty());
        assert!(app.mails_to("ana.new.example").is_empty());
        assert_eq!(me(&app, &session).await["email"], "ana@example.fr");
    }
);

app_test!(
    async fn an_address_with_an_account_is_answered_like_a_free_one(app: TestApp) {
        sign_up(&app, "ana@example.fr").await;
        sign_up(&app, "bruno@example.fr").await;
        let session = log_in(&app, "ana@example.fr").await.expect("logged in");

        let taken = request_change(&app, &session, "bruno@example.fr", PASSWORD).await;
        let free = request_change(&app, &session, "carla@example.fr", PASSWORD).await;
        assert_eq!(taken.status(), free.status());
        assert_eq!(taken.status(), 202);
        assert_eq!(taken.text().await.unwrap(), free.text().await.unwrap());

        // The address with an account learns of the attempt, with no link
        // that could move it to another account.
        let notice = app.mail_to("bruno@example.fr", 2).await;
        assert_eq!(
            notice.decoded_header("subject").unwrap(),
            "This address already has an account"
        );
        assert!(!notice.text_body().unwrap().contains("/email-changes/"));
        assert_eq!(me(&app, &session).await["email"], "ana@example.fr");
        assert!(log_in(&app, "bruno@example.fr").await.is_some());
    }
);

app_test!(
    async fn a_newer_request_kills_the_older_link(app: TestApp) {
        sign_up(&app, "ana@example.fr").await;
        let session = log_in(&app, "ana@example.fr").await.expect("logged in");
        assert_eq!(
            request_change(&app, &session, "first@new.example", PASSWORD)
                .await
                .status(),
            202
        );
        let first = confirmation_token(&app, "first@new.example", 1).await;
        assert_eq!(
            request_change(&app, &session, "second@new.example", PASSWORD)
                .await
                .status(),
            202
        );
        let second = confirmation_token(&app, "second@new.example", 1).await;

        assert_eq!(confirm(&app, &first).await.status(), 410);
        assert_eq!(me(&app, &session).await["email"], "ana@example.fr");
        assert_eq!(confirm(&app, &second).await.status(), 200);
        assert_eq!(me(&app, &session).await["email"], "second@new.example");
    }
);

app_test!(
    async fn an_address_taken_after_the_request_is_refused_at_confirmation(app: TestApp) {
        sign_up(&app, "ana@example.fr").await;
        let session = log_in(&app, "ana@example.fr").await.expect("logged in");
        assert_eq!(
            request_change(&app, &session, "shared@example.fr", PASSWORD)
                .await
                .status(),
            202
        );
        let token = confirmation_token(&app, "shared@example.fr", 1).await;
        // Someone signs up with that address before Ana confirms.
        sign_up(&app, "shared@example.fr").await;

        let response = confirm(&app, &token).await;
        assert_eq!(response.status(), 409);
        let body = problem(response).await;
        assert!(
            body["type"].as_str().unwrap().ends_with("/email-taken"),
            "{body}"
        );
        assert_eq!(me(&app, &session).await["email"], "ana@example.fr");
        assert!(log_in(&app, "ana@example.fr").await.is_some());
    }
);
