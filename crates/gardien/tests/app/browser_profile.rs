//! Flows 7 and 12 in a real browser: the first login asks for the privacy
//! policy before anything else; the profile page edits in French then in
//! English; the "generate a strong password" helper fills the field and
//! the strength meter follows (a CSP-compatible script).

use crate::support;

use serde_json::json;
use support::browser::Browser;
use support::{spawn_app_with, TestApp};

const PASSWORD: &str = "violet tractor under the rain";

macro_rules! browser_consent_test {
    (async fn $name:ident($app:ident: TestApp) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($app: TestApp) $body

            async fn spawn(backend: gardien_store::test_support::TestBackend) -> TestApp {
                spawn_app_with(backend, |s| s.privacy_policy_version = Some("2026-11".into())).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run(spawn(gardien_store::test_support::TestBackend::Sqlite).await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run(spawn(gardien_store::test_support::TestBackend::Postgres).await).await;
            }
        }
    };
}

browser_consent_test!(
    async fn first_login_asks_consent_then_profile_edits_in_french_and_english(app: TestApp) {
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
                    "language": "fr",
                }),
            )
            .await;
        assert_eq!(signed_up.status(), 202);
        let browser = Browser::start().await;

        browser.goto(&app.url("/login")).await;
        browser.fill("#email", "ana@example.fr").await;
        browser.fill("#password", PASSWORD).await;
        browser.click("#login-submit").await;
        browser.wait_for("#consent-heading").await;
        assert_eq!(browser.current_url().await, app.url("/consent?return_to=/"));
        browser.screenshot(&format!("consent-fr-{backend}")).await;
        // Without the box ticked, the page says what to do.
        browser.click("#consent-submit").await;
        browser.wait_for("#accept-error").await;
        assert!(browser
            .text("#accept-error")
            .await
            .contains("Cochez la case"));
        browser.click("#accept").await;
        browser.click("#consent-submit").await;
        browser.wait_for("#signed-in").await;
        assert_eq!(browser.current_url().await, app.url("/"));

        // The profile, in French (the account's language).
        browser.click("#profile-link").await;
        browser.wait_for("#profile-submit").await;
        assert_eq!(browser.title().await, "Mon profil · Gardien");
        browser.fill("#phone", "pas un numéro").await;
        browser.click("#profile-submit").await;
        browser.wait_for(".field.has-error #phone").await;
        assert!(browser
            .text("#phone-error")
            .await
            .contains("6 à 20 chiffres"));
        browser.fill("#phone", "+33 6 12 34 56 78").await;
        browser.fill("#title", "Gérante").await;
        browser.click("#profile-submit").await;
        browser.wait_for("#profile-saved").await;
        assert_eq!(
            browser.text("#profile-saved").await,
            "Votre profil est enregistré."
        );
        browser.screenshot(&format!("profile-fr-{backend}")).await;

        // Switch the account to English: the page follows.
        browser.select("#language", "en").await;
        browser.click("#profile-submit").await;
        browser.wait_for("#profile-saved").await;
        assert_eq!(
            browser.text("#profile-saved").await,
            "Your profile is saved."
        );
        assert_eq!(browser.attr("html", "lang").await.as_deref(), Some("en"));

        // The password helper: generate, and the meter says strong.
        browser.click("#new_password-generate").await;
        let generated = browser
            .find("#new_password")
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default();
        assert_eq!(generated.chars().count(), 20, "{generated}");
        assert_eq!(browser.text("#new_password-strength-label").await, "Strong");
        browser.screenshot(&format!("profile-en-{backend}")).await;
        browser.fill("#current_password", PASSWORD).await;
        browser.click("#password-submit").await;
        browser.wait_for("#profile-saved").await;
        assert!(browser
            .text("#profile-saved")
            .await
            .contains("password is changed"));

        browser.close().await;
        app.stop().await;
    }
);
