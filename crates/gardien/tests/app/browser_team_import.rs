//! Bulk invitations and company details in a real browser, and an existing
//! account of another organization joining (seed 000): the manager uploads
//! a CSV file with one bad row, sees the preview with the error next to its
//! line and field, confirms, and the others are invited; the company form
//! shows its errors next to the fields; an invited account of another
//! organization accepts while logged in and then picks either organization.

use crate::support;

use std::time::Duration;

use serde_json::json;
use support::browser::Browser;
use support::TestApp;

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
    support::verify_email(app, email).await;
}

async fn log_in(browser: &Browser, app: &TestApp, email: &str) {
    browser.goto(&app.url("/login?lang=en")).await;
    browser.fill("#email", email).await;
    browser.fill("#password", PASSWORD).await;
    browser.click("#login-submit").await;
}

app_test! {
    async fn manager_imports_a_csv_file_with_one_bad_row(app: TestApp) {
        let backend = format!("{:?}", app.store.backend()).to_lowercase();
        sign_up(&app, "ana@example.fr", "Cabinet Lima").await;
        let manager = Browser::start().await;
        log_in(&manager, &app, "ana@example.fr").await;
        manager.wait_for("#team-link").await;
        manager.click("#team-link").await;
        manager.wait_for("#import-button").await;
        let team_url = manager.current_url().await;
        manager.click("#import-button").await;
        manager.wait_for("#csv_file").await;

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("members.csv");
        std::fs::write(
            &file,
            "email;first name;last name;role;kind\n\
             gil@example.fr;Gil;Mota;User;staff\n\
             ines@example.fr;Inès;Faure;Boss;staff\n\
             karim@example.fr;Karim;Ben Ali;Administrator;client\n",
        )
        .unwrap();
        manager
            .find("#csv_file")
            .await
            .send_keys(file.to_str().unwrap())
            .await
            .expect("the file is chosen");
        manager.click("#import-preview").await;
        manager.wait_for("#import-rows").await;
        let bad = "tr[data-line='3']";
        assert_eq!(manager.attr(bad, "data-status").await.as_deref(), Some("error"));
        let message = manager.text(&format!("{bad} li[data-field='role']")).await;
        assert!(message.contains("Role") && message.contains("Boss"), "{message}");
        assert_eq!(
            manager.attr("tr[data-line='2']", "data-status").await.as_deref(),
            Some("valid")
        );
        assert!(manager.text("#import-summary").await.contains('2'));
        manager.screenshot(&format!("team-import-preview-{backend}")).await;
        // Nothing is sent before the confirmation.
        assert!(app.mail.messages().iter().all(|m| !m.to.iter().any(|t| t == "gil@example.fr")));

        manager.click("#import-confirm").await;
        manager.wait_for("#import-done").await;
        assert!(manager.text("#import-done").await.contains('2'));
        assert_eq!(
            manager.attr("tr[data-line='4']", "data-status").await.as_deref(),
            Some("invited")
        );
        manager.screenshot(&format!("team-import-done-{backend}")).await;
        for email in ["gil@example.fr", "karim@example.fr"] {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while !app.mail.messages().iter().any(|m| m.to.iter().any(|t| t == email)) {
                assert!(std::time::Instant::now() < deadline, "no invitation to {email}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        manager.goto(&team_url).await;
        let members = manager.text("#members").await;
        assert!(members.contains("gil@example.fr") && members.contains("karim@example.fr"));
        assert!(!members.contains("ines@example.fr"));

        // The company details: errors next to their fields, then saved.
        let company_url = team_url.replace("/team", "/company");
        manager.goto(&company_url).await;
        manager.wait_for("#company-submit").await;
        manager.fill("#legal_name", "Lima & Associés SARL").await;
        manager.fill("#vat_number", "12345").await;
        manager.fill("#phone", "call us").await;
        manager.click("#company-submit").await;
        manager.wait_for(".field.has-error #vat_number").await;
        assert!(manager.text("#vat_number-error").await.contains("VAT number"));
        assert!(!manager.text("#phone-error").await.is_empty());
        manager.screenshot(&format!("company-errors-{backend}")).await;
        manager.fill("#vat_number", "FR 40 303 265 045").await;
        manager.fill("#phone", "+33 1 23 45 67 89").await;
        manager.click("#company-submit").await;
        manager.wait_for("#company-saved").await;
        assert_eq!(
            manager.attr("#vat_number", "value").await.as_deref(),
            Some("FR40303265045")
        );
        manager.screenshot(&format!("company-saved-{backend}")).await;

        manager.close().await;
        app.stop().await;
    }
}

app_test! {
    async fn existing_account_of_another_organization_joins_and_picks_either(app: TestApp) {
        let backend = format!("{:?}", app.store.backend()).to_lowercase();
        sign_up(&app, "ana@example.fr", "Cabinet Lima").await;
        sign_up(&app, "carla@example.fr", "Carla SARL").await;

        // Ana invites Carla's address from the team page, as for anyone.
        let manager = Browser::start().await;
        log_in(&manager, &app, "ana@example.fr").await;
        manager.wait_for("#team-link").await;
        manager.click("#team-link").await;
        manager.wait_for("#invite-button").await;
        manager.click("#invite-button").await;
        manager.wait_for("#invite-submit").await;
        manager.fill("#first_name", "Carla").await;
        manager.fill("#last_name", "Neves").await;
        manager.fill("#email", "carla@example.fr").await;
        manager.select("#kind", "client").await;
        manager.click("#invite-submit").await;
        manager.wait_for("#invitations").await;
        assert!(manager.text(".flash").await.contains("Invitation sent"));

        // Carla, logged in to her own organization, opens the link and accepts.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let link = loop {
            let found = app.mail.messages().into_iter().find_map(|m| {
                let text = m.text_body()?;
                let start = text.find(&format!("{}/invitations/", app.address))?;
                (m.to.iter().any(|t| t == "carla@example.fr"))
                    .then(|| text[start..].split_whitespace().next().unwrap().to_owned())
            });
            if let Some(link) = found {
                break link;
            }
            assert!(std::time::Instant::now() < deadline, "no invitation to Carla");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let carla = Browser::start().await;
        log_in(&carla, &app, "carla@example.fr").await;
        carla.wait_for("#signed-in").await;
        assert_eq!(carla.text("#signed-in-organization").await, "Carla SARL");
        carla.goto(&link).await;
        carla.wait_for("#accept-submit").await;
        assert_eq!(carla.attr("#invitation", "data-audience").await.as_deref(), Some("signed_in_as_invitee"));
        carla.click("#accept_privacy").await;
        carla.click("#accept-submit").await;
        carla.wait_for("#signed-in").await;
        assert_eq!(carla.text("#signed-in-organization").await, "Cabinet Lima");

        // Next login: the picker offers both, each with its kind.
        carla.click("#nav-logout").await;
        log_in(&carla, &app, "carla@example.fr").await;
        carla.wait_for(".choice-list").await;
        let choices = carla.text(".choice-list").await;
        assert!(choices.contains("Cabinet Lima") && choices.contains("Carla SARL"), "{choices}");
        carla.screenshot(&format!("picker-two-organizations-{backend}")).await;

        carla.close().await;
        manager.close().await;
        app.stop().await;
    }
}
