//! Flow 9 in a real browser: the manager opens the roles page from the
//! navigation, creates a custom role, toggles permissions by area, saves,
//! reloads and finds them kept, sees a built-in role read-only, then deletes
//! the custom role after confirming where its member goes. Screenshots of the list and of the
//! editor in French.

use crate::support;

use serde_json::json;
use support::browser::Browser;

const PASSWORD: &str = "violet tractor under the rain";

app_test! {
    async fn manager_creates_edits_and_deletes_a_custom_role(app: TestApp) {
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
                    "language": "fr",
                }),
            )
            .await;
        assert_eq!(response.status(), 202);
        support::verify_email(&app, "ana@example.fr").await;

        let browser = Browser::start().await;
        browser.goto(&app.url("/login?lang=fr")).await;
        browser.fill("#email", "ana@example.fr").await;
        browser.fill("#password", PASSWORD).await;
        browser.click("#login-submit").await;
        browser.wait_for("#nav-roles").await;
        browser.click("#nav-roles").await;
        browser.wait_for("#roles").await;
        let list = browser.text("#roles").await;
        for name in ["Administrateur", "Gestionnaire", "Facturation", "Utilisateur"] {
            assert!(list.contains(name), "{list}");
        }
        browser.screenshot(&format!("roles-list-fr-{backend}")).await;

        // A new role: a name already taken is refused next to the field.
        browser.click("#new-role").await;
        browser.wait_for("#role-submit").await;
        assert!(browser.text(".permission-area[data-area='mail'] legend").await.contains("Courrier"));
        assert!(browser.text("label[for='perm-invoices.read']").await.contains("Consulter les factures"));
        browser.fill("#name", "facturation").await;
        browser.click("#perm-invoices\\.read").await;
        browser.click("#role-submit").await;
        browser.wait_for(".field.has-error #name").await;
        assert!(browser.text("#name-error").await.contains("porte déjà ce nom"));
        // The ticked toggle survived the refusal.
        assert_eq!(browser.attr("#perm-invoices\\.read", "checked").await.as_deref(), Some("true"));

        browser.fill("#name", "Comptabilité").await;
        browser.fill("#description", "Suit les factures et les commandes").await;
        browser.click("#perm-invoices\\.download").await;
        browser.click("#perm-orders\\.read").await;
        browser.click("label[for='scoped']").await;
        browser.screenshot(&format!("role-editor-fr-{backend}")).await;
        browser.click("#role-submit").await;
        browser.wait_for(".flash").await;
        assert!(browser.text(".flash").await.contains("Rôle enregistré"));
        let role_url = browser.current_url().await;

        // Reloaded: every toggle kept.
        browser.goto(&role_url).await;
        browser.wait_for("#role-submit").await;
        for key in ["invoices\\.read", "invoices\\.download", "orders\\.read", "scoped"] {
            assert_eq!(browser.attr(&format!("#perm-{key}, #{key}"), "checked").await.as_deref(), Some("true"), "{key}");
        }
        assert_eq!(browser.attr("#perm-mail\\.read", "checked").await, None);

        // Untick one, tick another, save, reload: kept.
        browser.click("#perm-orders\\.read").await;
        browser.click("#perm-mail\\.read").await;
        browser.click("#role-submit").await;
        browser.wait_for(".flash").await;
        browser.goto(&role_url).await;
        browser.wait_for("#role-submit").await;
        assert_eq!(browser.attr("#perm-orders\\.read", "checked").await, None);
        assert_eq!(browser.attr("#perm-mail\\.read", "checked").await.as_deref(), Some("true"));
        assert_eq!(browser.text("#name-error").await, "");
        browser.screenshot(&format!("role-editor-saved-fr-{backend}")).await;

        // A built-in role is read-only, with a way to duplicate it.
        browser.click("#nav-roles").await;
        browser.wait_for("#roles").await;
        assert!(browser.text("#roles").await.contains("Comptabilité"));
        browser.click("tr[data-name='Facturation'] a[data-action='view']").await;
        browser.wait_for("#built-in-note").await;
        assert!(browser.client().find(fantoccini::Locator::Css("#role-submit")).await.is_err());
        browser.screenshot(&format!("role-built-in-fr-{backend}")).await;

        // Someone holds the role (an invitation made through the API).
        let login = app
            .post_json("/api/v1/login", &json!({ "email": "ana@example.fr", "password": PASSWORD }))
            .await;
        let session = support::session_cookie(&login).expect("a session");
        let org = login.json::<serde_json::Value>().await.unwrap()["organization"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let role_id = role_url.rsplit('/').next().unwrap().to_owned();
        let invited = support::call(
            &app,
            reqwest::Method::POST,
            Some(&session),
            &format!("/api/v1/organizations/{org}/invitations"),
            Some(json!({
                "email": "bruno@example.fr",
                "first_name": "Bruno",
                "last_name": "Costa",
                "kind": "staff",
                "role_id": role_id,
            })),
        )
        .await;
        assert_eq!(invited.status(), 201);

        // Deleting it asks where its member goes; a choice is required.
        browser.goto(&role_url).await;
        browser.wait_for("#delete-role").await;
        browser.click("#delete-role").await;
        browser.wait_for("#confirm-delete").await;
        assert!(browser.text("#delete-role-name").await.contains("Comptabilité"));
        browser.click("#confirm-delete").await;
        browser.wait_for(".field.has-error #replacement").await;
        assert!(browser.text("#replacement-error").await.contains("Choisissez le rôle"));
        let billing = browser
            .client()
            .find(fantoccini::Locator::XPath("//select[@id='replacement']/option[text()='Facturation']"))
            .await
            .expect("the Facturation role")
            .attr("value")
            .await
            .unwrap()
            .unwrap();
        browser.select("#replacement", &billing).await;
        browser.screenshot(&format!("role-delete-fr-{backend}")).await;
        browser.click("#confirm-delete").await;
        browser.wait_for("#roles").await;
        assert!(browser.text(".flash").await.contains("Rôle supprimé"));
        assert!(!browser.text("#roles").await.contains("Comptabilité"));
        assert_eq!(
            browser.attr("tr[data-name='Facturation']", "data-members").await.as_deref(),
            Some("1")
        );

        browser.close().await;
        app.stop().await;
    }
}
