//! Flow 5 in a real browser (seed 001): the manager turns on "new members
//! need an administrator's activation", invites Bruno; Bruno accepts and
//! waits; the manager activates him after confirming; Bruno is told by
//! email and gets in. Screenshots of each step.

use crate::support;

use support::browser::Browser;

const INVITEE_PASSWORD: &str = "seven green lanterns at dawn";

app_test! {
    async fn an_accepted_member_waits_until_the_manager_activates_them(app: TestApp) {
        let backend = format!("{:?}", app.store.backend()).to_lowercase();
        support::sign_up(&app, "ana@example.fr", "Cabinet Lima").await;
        support::verify_email(&app, "ana@example.fr").await;

        let manager = Browser::start().await;
        manager.goto(&app.url("/login?lang=en")).await;
        manager.fill("#email", "ana@example.fr").await;
        manager.fill("#password", support::SIGN_UP_PASSWORD).await;
        manager.click("#login-submit").await;
        manager.wait_for("#team-link").await;
        manager.click("#team-link").await;
        manager.wait_for("#members").await;
        let team_url = manager.current_url().await;

        // The setting, saved from the team page.
        manager.click("#requires_activation").await;
        manager.click_and_load("#settings-submit").await;
        manager.wait_for("#members").await;
        assert_eq!(
            manager.attr("#requires_activation", "checked").await.as_deref(),
            Some("true")
        );

        // Invite Bruno.
        manager.click("#invite-button").await;
        manager.wait_for("#invite-submit").await;
        manager.fill("#first_name", "Bruno").await;
        manager.fill("#last_name", "Costa").await;
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
        manager.select("#language", "en").await;
        manager.click("#invite-submit").await;
        manager.wait_for("#invitations").await;

        // Bruno accepts: he waits, he is not in.
        let mail = app.mail_to("bruno@example.fr", 1).await;
        let token = support::link_token(&mail.text_body().unwrap(), "/invitations/");
        let invitee = Browser::start().await;
        invitee.goto(&app.url(&format!("/invitations/{token}?lang=en"))).await;
        invitee.wait_for("#accept-submit").await;
        invitee.fill("#password", INVITEE_PASSWORD).await;
        invitee.click("#accept_privacy").await;
        invitee.click("#accept-submit").await;
        invitee.wait_for("#pending-activation").await;
        invitee.screenshot(&format!("activation-waiting-{backend}")).await;
        invitee.goto(&app.url("/")).await;
        assert!(invitee.client().find(fantoccini::Locator::Css("#signed-in")).await.is_err());

        // The manager sees him pending and activates him, after confirming.
        manager.goto(&team_url).await;
        let row = "tr[data-email='bruno@example.fr']";
        assert_eq!(
            manager.attr(row, "data-status").await.as_deref(),
            Some("pending_activation")
        );
        manager.screenshot(&format!("activation-pending-{backend}")).await;
        manager.click(&format!("{row} a[data-action='activate']")).await;
        manager.wait_for("#confirm-submit").await;
        manager.screenshot(&format!("activation-confirm-{backend}")).await;
        manager.click("#confirm-submit").await;
        manager.wait_for("#members").await;
        assert_eq!(manager.attr(row, "data-status").await.as_deref(), Some("active"));

        // Bruno is told, and now gets in.
        let told = app.mail_to("bruno@example.fr", 2).await;
        assert!(
            told.text_body().unwrap().contains("Cabinet Lima"),
            "{:?}",
            told.text_body()
        );
        invitee.goto(&app.url("/login?lang=en")).await;
        invitee.fill("#email", "bruno@example.fr").await;
        invitee.fill("#password", INVITEE_PASSWORD).await;
        invitee.click("#login-submit").await;
        invitee.wait_for("#signed-in").await;
        assert_eq!(invitee.text("#signed-in-organization").await, "Cabinet Lima");
        invitee.screenshot(&format!("activation-signed-in-{backend}")).await;

        invitee.close().await;
        manager.close().await;
        app.stop().await;
    }
}
