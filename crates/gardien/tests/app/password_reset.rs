//! Forgotten password (flow 13) through the real HTTP stack, mail over
//! SMTP, on both back ends.

use crate::support;

use std::time::Duration;

use serde_json::json;
use support::TestApp;

const PASSWORD: &str = "violet tractor under the rain";
const NEW_PASSWORD: &str = "seven green lanterns at dawn";
const MAIL_WAIT: Duration = Duration::from_secs(10);

async fn sign_up(app: &TestApp) {
    let body = json!({
        "email": "ana@example.fr",
        "password": PASSWORD,
        "first_name": "Ana",
        "last_name": "Lima",
        "organization_name": "Cabinet Lima",
        "language": "en",
    });
    assert_eq!(app.post_json("/api/v1/signup", &body).await.status(), 202);
}

async fn log_in_status(app: &TestApp, password: &str) -> u16 {
    app.post_json(
        "/api/v1/login",
        &json!({ "email": "ana@example.fr", "password": password }),
    )
    .await
    .status()
    .as_u16()
}

app_test!(
    async fn password_reset_link_sets_a_new_password_once(app: TestApp) {
        sign_up(&app).await;
        app.mail.wait_for(1, MAIL_WAIT).await;
        let asked = app
            .post_json(
                "/api/v1/password-resets",
                &json!({ "email": "ANA@example.fr" }),
            )
            .await;
        assert_eq!(asked.status(), 202);
        let mails = app.mail.wait_for(2, MAIL_WAIT).await;
        let text = mails[1].text_body().unwrap();
        let start = text.find("/password-resets/").expect("a reset link");
        let path = &text[start..start + "/password-resets/".len() + 43];

        let api_path = format!("/api/v1{path}");
        let weak = app
            .post_json(&api_path, &json!({ "password": "password1" }))
            .await;
        assert_eq!(
            weak.status(),
            422,
            "a refused password keeps the link alive"
        );
        let done = app
            .post_json(&api_path, &json!({ "password": NEW_PASSWORD }))
            .await;
        assert_eq!(done.status(), 204);
        assert_eq!(log_in_status(&app, NEW_PASSWORD).await, 200);
        assert_eq!(log_in_status(&app, PASSWORD).await, 401);

        let again = app
            .post_json(&api_path, &json!({ "password": "yet another fine phrase" }))
            .await;
        assert_eq!(again.status(), 410);
        let page = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(page.status(), 410);
        app.stop().await;
    }
);

app_test!(
    async fn password_reset_for_unknown_email_answers_the_same_and_sends_nothing(app: TestApp) {
        sign_up(&app).await;
        app.mail.wait_for(1, MAIL_WAIT).await;
        let known = app
            .post_json(
                "/api/v1/password-resets",
                &json!({ "email": "ana@example.fr" }),
            )
            .await;
        let known = (known.status(), known.text().await.unwrap());
        let unknown = app
            .post_json(
                "/api/v1/password-resets",
                &json!({ "email": "nobody@example.fr" }),
            )
            .await;
        let unknown = (unknown.status(), unknown.text().await.unwrap());
        assert_eq!(known, unknown);
        let mails = app.mail.wait_for(3, Duration::from_secs(3)).await;
        assert_eq!(mails.len(), 2, "only the account's owner is mailed");
        app.stop().await;
    }
);
