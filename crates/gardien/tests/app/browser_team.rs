//! Flows 2 and 8 in a real browser: the manager invites someone from the
//! team page, the invitee opens the emailed link, sets a password and lands
//! in the organization; the manager suspends them and their next click is
//! refused. Screenshots of each page.

use crate::support;

use std::time::Duration;

use serde_json::json;
use support::browser::Browser;

const PASSWORD: &str = "violet tractor under the rain";
const INVITEE_PASSWORD: &str = "seven green lanterns at dawn";

app_test! {
    async fn manager_invites_from_the_team_page_and_suspends(app: TestApp) {
        let backend = format!("{:?}", app.store.backend()).to_lowercase();
        let response = app
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
        assert_eq!(response.status(), 202);
        support::verify_email(&app, "ana@example.fr").await;

        // The manager signs in and opens the team page.
        let manager = Browser::start().await;
        manager.goto(&app.url("/login?lang=en")).await;
        manager.fill("#email", "ana@example.fr").await;
        manager.fill("#password", PASSWORD).await;
        manager.click("#login-submit").await;
        manager.wait_for("#team-link").await;
        manager.click("#team-link").await;
        manager.wait_for("#members").await;
        let team_url = manager.current_url().await;
        assert!(team_url.ends_with("/team"), "{team_url}");
        assert!(manager.text("#members").await.contains("ana@example.fr"));
        manager.screenshot(&format!("team-{backend}")).await;

        // Invite Bruno as a staff member with the User role, email in French.
        manager.click("#invite-button").await;
        manager.wait_for("#invite-submit").await;
        manager.fill("#first_name", "Bruno").await;
        manager.fill("#last_name", "Costa").await;
        manager.fill("#email", "not an email").await;
        manager.click("#invite-submit").await;
        manager.wait_for(".field.has-error #email").await;
        manager.screenshot(&format!("team-invite-error-{backend}")).await;
        manager.fill("#email", "bruno@example.fr").await;
        let user_role = manager
            .client()
            .find(fantoccini::Locator::XPath("//select[@id='role_id']/option[text()='User']"))
            .await
            .expect("the User role")
            .attr("value")
            .await
            .unwrap()
            .unwrap();
        manager.select("#role_id", &user_role).await;
        manager.select("#language", "fr").await;
        manager.fill("#personal_message", "Bienvenue au cabinet !").await;
        manager.screenshot(&format!("team-invite-{backend}")).await;
        manager.click("#invite-submit").await;
        manager.wait_for("#invitations").await;
        assert!(manager.text(".flash").await.contains("Invitation sent"));
        assert!(manager.text("#members").await.contains("bruno@example.fr"));
        assert!(manager.text("#invitations").await.contains("Pending"));
        manager.screenshot(&format!("team-invited-{backend}")).await;

        // The invitee opens the emailed link (in French) in their own browser.
        let mails = app.mail.wait_for(2, Duration::from_secs(10)).await;
        let invitation = mails
            .iter()
            .find(|m| m.to.iter().any(|t| t == "bruno@example.fr"))
            .expect("the invitation mail");
        let text = invitation.text_body().unwrap();
        let start = text.find(&format!("{}/invitations/", app.address)).expect("a link");
        let link: String = text[start..].split_whitespace().next().unwrap().to_owned();
        let invitee = Browser::start().await;
        invitee.goto(&format!("{link}?lang=fr")).await;
        invitee.wait_for("#accept-submit").await;
        assert!(invitee.text("h1").await.contains("Cabinet Lima"));
        invitee.fill("#title", "Comptable").await;
        invitee.fill("#password", INVITEE_PASSWORD).await;
        invitee.click("#accept-submit").await;
        // Without the privacy policy: refused next to the checkbox.
        invitee.wait_for(".field.has-error #accept_privacy").await;
        invitee.screenshot(&format!("invitation-error-fr-{backend}")).await;
        invitee.fill("#password", INVITEE_PASSWORD).await;
        invitee.click("#accept_privacy").await;
        invitee.click("#accept-submit").await;
        invitee.wait_for("#signed-in").await;
        assert_eq!(invitee.text("#signed-in-organization").await, "Cabinet Lima");
        invitee.screenshot(&format!("invitation-accepted-fr-{backend}")).await;

        // The link works once.
        invitee.goto(&link).await;
        invitee.wait_for(".error-page").await;
        invitee.screenshot(&format!("invitation-used-{backend}")).await;

        // The manager sees Bruno active, and suspends him after confirming.
        manager.goto(&team_url).await;
        let row = "tr[data-email='bruno@example.fr']";
        assert_eq!(manager.attr(row, "data-status").await.as_deref(), Some("active"));
        manager.click(&format!("{row} a[data-action='suspend']")).await;
        manager.wait_for("#confirm-submit").await;
        manager.screenshot(&format!("team-confirm-suspend-{backend}")).await;
        manager.click("#confirm-submit").await;
        manager.wait_for("#members").await;
        assert_eq!(manager.attr(row, "data-status").await.as_deref(), Some("suspended"));
        manager.screenshot(&format!("team-suspended-{backend}")).await;

        // Bruno's next click is refused: he is signed out of the organization.
        invitee.goto(&app.url("/")).await;
        assert!(invitee.client().find(fantoccini::Locator::Css("#signed-in")).await.is_err());
        invitee.goto(&team_url).await;
        assert!(invitee.current_url().await.ends_with("/login"));

        // Remove: struck through, then restore.
        manager.click(&format!("{row} a[data-action='remove']")).await;
        manager.wait_for("#confirm-submit").await;
        manager.click("#confirm-submit").await;
        manager.wait_for("#members").await;
        assert_eq!(manager.attr(row, "class").await.as_deref(), Some("is-removed"));
        manager.screenshot(&format!("team-removed-{backend}")).await;
        manager.click_and_load(&format!("{row} button[data-action='restore']")).await;
        manager.wait_for("#members").await;
        assert_eq!(manager.attr(row, "data-status").await.as_deref(), Some("active"));

        invitee.close().await;
        manager.close().await;
        app.stop().await;
    }
}
