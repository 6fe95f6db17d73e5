//! Flow 2's options and the ownership hand-over in a real browser: the
//! owner invites someone with a role created on the spot and two orders
//! assigned (one row refused first), the email lists the orders, the
//! invitee joins, and the owner hands the ownership over to them, stepping
//! down in the same action. Screenshots of each page.

use crate::support;

use reqwest::Method;
use serde_json::json;
use support::browser::Browser;
use support::{call, sign_up, verify_email, SIGN_UP_PASSWORD};

/// The role shown selected in a member's row of the team page.
async fn role_of(browser: &Browser, email: &str) -> String {
    browser
        .client()
        .find(fantoccini::Locator::XPath(&format!(
            "//tr[@data-email='{email}']//select[@name='role_id']/option[@selected]"
        )))
        .await
        .expect("the member's role")
        .text()
        .await
        .unwrap()
}

app_test! {
    async fn owner_invites_with_a_new_role_and_orders_then_hands_over(app: TestApp) {
        let backend = format!("{:?}", app.store.backend()).to_lowercase();
        sign_up(&app, "ana@example.fr", "Cabinet Lima").await;
        verify_email(&app, "ana@example.fr").await;

        let owner = Browser::start().await;
        owner.goto(&app.url("/login?lang=en")).await;
        owner.fill("#email", "ana@example.fr").await;
        owner.fill("#password", SIGN_UP_PASSWORD).await;
        owner.click("#login-submit").await;
        owner.wait_for("#team-link").await;
        owner.click("#team-link").await;
        owner.wait_for("#members").await;
        let team_url = owner.current_url().await;
        let ana_row = "tr[data-email='ana@example.fr']";
        assert!(owner.text(&format!("{ana_row} [data-owner]")).await.contains("Owner"));

        // The new-role fieldset appears only once "New role…" is chosen.
        owner.click("#invite-button").await;
        owner.wait_for("#invite-submit").await;
        assert!(!owner.find("#new-role").await.is_displayed().await.unwrap());
        owner.select("#role_id", "new").await;
        assert!(owner.find("#new-role").await.is_displayed().await.unwrap());
        owner.fill("#first_name", "Bruno").await;
        owner.fill("#last_name", "Costa").await;
        owner.fill("#email", "bruno@example.fr").await;
        owner.fill("#new_role_name", "Suivi de commandes").await;
        owner.click("#new-perm-orders\\.read").await;
        owner.click("label[for='new_role_scoped']").await;
        owner.fill("#assignment_type_0", "order").await;
        owner.fill("#assignment_id_0", "42").await;
        owner.fill("#assignment_label_0", "Commande 42").await;
        owner.fill("#assignment_type_1", "Bad Type").await;
        owner.fill("#assignment_id_1", "43").await;
        owner.screenshot(&format!("invite-new-role-{backend}")).await;
        owner.click("#invite-submit").await;

        // The bad row is refused where it was typed; everything else is kept.
        owner.wait_for(".assignment-row[data-row='1'] .field.has-error").await;
        assert!(owner.find("#new-role").await.is_displayed().await.unwrap());
        assert_eq!(
            owner.attr("#new_role_name", "value").await.as_deref(),
            Some("Suivi de commandes")
        );
        assert_eq!(owner.attr("#assignment_label_0", "value").await.as_deref(), Some("Commande 42"));
        owner.screenshot(&format!("invite-new-role-error-{backend}")).await;
        owner.fill("#assignment_type_1", "order").await;
        // A third row, added by the button.
        owner.click("#add-assignment").await;
        owner.wait_for("#assignment_type_4").await;
        owner.fill("#assignment_type_4", "order").await;
        owner.fill("#assignment_id_4", "44").await;
        owner.click("#invite-submit").await;
        owner.wait_for("#invitations").await;
        assert!(owner.text(".flash").await.contains("Invitation sent"));

        // The email lists the three orders; the role is in the role list.
        let mail = app.mail_to("bruno@example.fr", 1).await;
        let text = mail.text_body().unwrap();
        for line in ["- Commande 42", "- 43", "- 44"] {
            assert!(text.contains(line), "{line} in {text}");
        }
        let token = support::invitation_token(&app, "bruno@example.fr").await;
        let accepted = call(
            &app,
            Method::POST,
            None,
            &format!("/api/v1/invitations/{token}"),
            Some(json!({
                "first_name": "Bruno", "last_name": "Costa", "title": "", "phone": "",
                "password": "seven green lanterns at dawn", "accept_privacy": true,
            })),
        )
        .await;
        assert_eq!(accepted.status(), 200);

        // Hand the ownership to Bruno (who becomes Administrator with it),
        // keeping my role: the API tests cover stepping down.
        owner.goto(&team_url).await;
        let bruno_row = "tr[data-email='bruno@example.fr']";
        assert_eq!(role_of(&owner, "bruno@example.fr").await, "Suivi de commandes");
        owner.click(&format!("{bruno_row} a[data-action='hand-over']")).await;
        owner.wait_for("#confirm-submit").await;
        let kept = owner
            .client()
            .find(fantoccini::Locator::XPath(
                "//select[@id='previous_owner_role_id']/option[@selected]",
            ))
            .await
            .expect("a preselected choice");
        assert_eq!(kept.text().await.unwrap(), "Keep my current role");
        owner.screenshot(&format!("ownership-confirm-{backend}")).await;
        owner.click("#confirm-submit").await;
        owner.wait_for(".flash").await;
        assert!(owner.text(".flash").await.contains("Ownership handed over"));
        assert!(owner.text(&format!("{bruno_row} [data-owner]")).await.contains("Owner"));
        assert_eq!(role_of(&owner, "bruno@example.fr").await, "Administrator");
        assert!(owner
            .client()
            .find(fantoccini::Locator::Css(&format!("{ana_row} [data-owner]")))
            .await
            .is_err());
        // The former owner no longer hands over.
        assert!(owner
            .client()
            .find(fantoccini::Locator::Css("a[data-action='hand-over']"))
            .await
            .is_err());
        owner.screenshot(&format!("ownership-handed-over-{backend}")).await;

        let mail = app.mail_to("bruno@example.fr", 2).await;
        assert!(mail.text_body().unwrap().contains("handed the ownership of Cabinet Lima"));

        owner.close().await;
        app.stop().await;
    }
}
