//! Flow 13 in real browsers: Ana is signed in on one browser; on another she
//! asks for a reset link from the login page, opens the emailed link, sets a
//! new password; the first browser's session is over on its next click, and
//! the link works once. Then her login email change through the profile page
//! (flow 12). Both back ends.

use crate::support;

use serde_json::json;
use support::browser::Browser;
use support::{link_token, verify_email};

const PASSWORD: &str = "violet tractor under the rain";
const NEW_PASSWORD: &str = "seven green lanterns at dawn";

async fn sign_in(browser: &Browser, app: &support::TestApp, email: &str, password: &str) {
    browser.goto(&app.url("/login?lang=en")).await;
    browser.fill("#email", email).await;
    browser.fill("#password", password).await;
    browser.click("#login-submit").await;
    browser.wait_for("#signed-in").await;
}

app_test! {
    async fn forgotten_password_through_the_pages_ends_the_other_sessions(app: TestApp) {
        let backend = format!("{:?}", app.store.backend()).to_lowercase();
        let signed_up = app
            .post_json(
                "/api/v1/signup",
                &json!({
                    "email": "ana@example.fr",
                    "password": PASSWORD,
                    "first_name": "Ana",
                    "last_name": "Lima",
                    "organization_name": "Cabinet Lima",
                    "language": "en",
                }),
            )
            .await;
        assert_eq!(signed_up.status(), 202);
        verify_email(&app, "ana@example.fr").await;

        // Browser 1: Ana's office computer, signed in.
        let office = Browser::start().await;
        sign_in(&office, &app, "ana@example.fr", PASSWORD).await;
        assert_eq!(office.text("#signed-in-organization").await, "Cabinet Lima");

        // Browser 2: at home, she forgot her password.
        let home = Browser::start().await;
        home.goto(&app.url("/login?lang=en")).await;
        home.click("#forgot-password").await;
        home.fill("#email", "ana@example.fr").await;
        home.click("#reset-request-submit").await;
        home.wait_for("#reset-sent").await;
        assert_eq!(home.current_url().await, app.url("/password-resets/sent"));

        let mail = app.mail_to("ana@example.fr", 2).await;
        assert_eq!(mail.decoded_header("subject").unwrap(), "Reset your password");
        let token = link_token(&mail.text_body().unwrap(), "/password-resets/");
        let link = app.url(&format!("/password-resets/{token}"));
        home.goto(&link).await;
        // A weak password is refused next to its field, nothing changes.
        home.fill("#password", "password123").await;
        home.click("#reset-submit").await;
        home.wait_for("#password-error").await;
        assert!(!home.text("#password-error").await.is_empty());
        home.fill("#password", NEW_PASSWORD).await;
        home.screenshot(&format!("password-reset-form-en-{backend}")).await;
        home.click("#reset-submit").await;
        home.wait_for("#reset-done").await;
        home.screenshot(&format!("password-reset-done-en-{backend}")).await;

        // The office session is over on its next click.
        office.goto(&app.url("/me")).await;
        office.wait_for("#login-submit").await;
        assert!(office.current_url().await.starts_with(&app.url("/login")));

        // The link works once; the old password no longer opens the door.
        home.goto(&link).await;
        home.wait_for("#reset-dead").await;
        home.goto(&app.url("/login?lang=en")).await;
        home.fill("#email", "ana@example.fr").await;
        home.fill("#password", PASSWORD).await;
        home.click("#login-submit").await;
        home.wait_for("#login-error").await;
        sign_in(&home, &app, "ana@example.fr", NEW_PASSWORD).await;

        // Flow 12: the login email changes from the profile page, once the
        // new address confirms.
        home.goto(&app.url("/me")).await;
        home.fill("#new_email", "ana.lima@new.example").await;
        home.fill("#email_current_password", "wrong password").await;
        home.click("#email-change-submit").await;
        home.wait_for("#email_current_password-error").await;
        assert!(!home.text("#email_current_password-error").await.is_empty());
        home.fill("#email_current_password", NEW_PASSWORD).await;
        home.click("#email-change-submit").await;
        home.wait_for("#profile-saved").await;
        home.screenshot(&format!("email-change-sent-en-{backend}")).await;
        let mail = app.mail_to("ana.lima@new.example", 1).await;
        let token = link_token(&mail.text_body().unwrap(), "/email-changes/");
        home.goto(&app.url(&format!("/email-changes/{token}"))).await;
        home.click("#email-change-confirm").await;
        home.wait_for("#email-change-result").await;
        assert!(home.text("main").await.contains("ana.lima@new.example"));
        home.screenshot(&format!("email-change-done-en-{backend}")).await;
        home.goto(&app.url("/me")).await;
        assert_eq!(home.text("#login-email").await, "ana.lima@new.example");

        office.close().await;
        home.close().await;
        app.stop().await;
    }
}
