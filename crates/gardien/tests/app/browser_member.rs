//! Flows 8 and 10 in a real browser, on the member page: the manager opens
//! a member from the team page, toggles an override (saved on change, no
//! submit button), reloads and finds it kept, and assigns a resource, with
//! a refused one first. Screenshots of the page.

use crate::support;

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use support::browser::Browser;
use support::{call, session_cookie, TestApp};

const PASSWORD: &str = "violet tractor under the rain";
const INVITEE_PASSWORD: &str = "seven green lanterns at dawn";

/// Bruno joins Ana's organization with the Billing role: his membership id.
async fn add_bruno(app: &TestApp, ana: &str, org: &str) -> String {
    let mut tx = app.store.begin().await.unwrap();
    let role = tx
        .roles(gardien_core::OrganizationId::from_uuid(
            org.parse().unwrap(),
        ))
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.template.as_deref() == Some("billing"))
        .unwrap()
        .id;
    drop(tx);
    let invited: Value = call(
        app,
        Method::POST,
        Some(ana),
        &format!("/api/v1/organizations/{org}/invitations"),
        Some(json!({
            "email": "bruno@example.fr",
            "first_name": "Bruno",
            "last_name": "Costa",
            "kind": "staff",
            "role_id": role.to_string(),
        })),
    )
    .await
    .json()
    .await
    .unwrap();
    let mail = app.mail.wait_for(2, Duration::from_secs(10)).await;
    let text = mail
        .iter()
        .filter_map(|m| m.text_body())
        .find(|t| t.contains("/invitations/"))
        .expect("the invitation");
    let start = text.find("/invitations/").unwrap() + "/invitations/".len();
    let token: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let accepted = call(
        app,
        Method::POST,
        None,
        &format!("/api/v1/invitations/{token}"),
        Some(json!({
            "first_name": "Bruno",
            "last_name": "Costa",
            "password": INVITEE_PASSWORD,
            "accept_privacy": true,
        })),
    )
    .await;
    assert!(session_cookie(&accepted).is_some());
    invited["membership_id"].as_str().unwrap().to_owned()
}

async fn wait_for_text(browser: &Browser, css: &str, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = browser.text(css).await;
        if text.contains(expected) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{css} shows '{text}', not '{expected}'"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

app_test! {
    async fn manager_toggles_an_override_that_saves_itself_and_assigns_a_resource(app: TestApp) {
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
        let login = app
            .post_json("/api/v1/login", &json!({ "email": "ana@example.fr", "password": PASSWORD }))
            .await;
        let ana = session_cookie(&login).unwrap();
        let org = login.json::<Value>().await.unwrap()["organization"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let bruno = add_bruno(&app, &ana, &org).await;

        // The manager opens Bruno's page from the team page.
        let browser = Browser::start().await;
        browser.goto(&app.url("/login?lang=en")).await;
        browser.fill("#email", "ana@example.fr").await;
        browser.fill("#password", PASSWORD).await;
        browser.click("#login-submit").await;
        browser.wait_for("#team-link").await;
        browser.click("#team-link").await;
        browser.wait_for("#members").await;
        browser
            .click(&format!("tr[data-member='{bruno}'] a[data-member-link]"))
            .await;
        browser.wait_for("#overrides").await;
        assert!(browser.current_url().await.ends_with(&format!("/team/{bruno}")));
        assert_eq!(browser.text("#member-heading").await, "Bruno Costa");

        // The per-row button is hidden: the control saves on change.
        let row = "tr[data-permission='orders.place']";
        let button = browser.find(&format!("{row} .override-submit")).await;
        let deadline = Instant::now() + Duration::from_secs(5);
        while button.is_displayed().await.unwrap() {
            assert!(Instant::now() < deadline, "no submit button with script");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }        browser.select(&format!("{row} select"), "grant").await;
        wait_for_text(&browser, &format!("{row} .save-status"), "Saved").await;
        browser.select("tr[data-permission='invoices.read'] select", "deny").await;
        wait_for_text(&browser, "tr[data-permission='invoices.read'] .save-status", "Saved").await;
        browser.screenshot(&format!("member-saved-{backend}")).await;

        // Reloaded, the choices are kept, and the effective access says why.
        browser.goto(&app.url(&format!("/o/{org}/team/{bruno}"))).await;
        browser.wait_for("#overrides").await;
        let kept = browser.find(&format!("{row} select")).await.prop("value").await.unwrap();
        assert_eq!(kept.as_deref(), Some("grant"));
        let kept = browser
            .find("tr[data-permission='invoices.read'] select")
            .await
            .prop("value")
            .await
            .unwrap();
        assert_eq!(kept.as_deref(), Some("deny"));
        browser.click("#effective-access summary").await;
        let access = browser.text("#effective-access").await;
        assert!(access.contains("Place orders"), "{access}");
        assert!(access.contains("granted to this member"), "{access}");
        assert!(access.contains("denied to this member"), "{access}");

        // A malformed type is refused next to its field, then a good one is assigned.
        browser.fill("#assign-type", "Order").await;
        browser.fill("#assign-id", "42").await;
        browser.click("#assign-submit").await;
        browser.wait_for(".field.has-error #assign-type").await;
        assert!(browser.text("#type-error").await.contains("not a resource type"));
        browser.fill("#assign-type", "order").await;
        browser.fill("#assign-label", "Order 42").await;
        browser.click_and_load("#assign-submit").await;
        browser.wait_for("#assignments-table").await;
        assert!(browser.text("#assignments-table").await.contains("Order 42"));
        browser.screenshot(&format!("member-{backend}")).await;

        // What the page saved is what the API reports.
        let access: Value = call(
            &app,
            Method::GET,
            Some(&ana),
            &format!("/api/v1/organizations/{org}/members/{bruno}/access"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(
            access["overrides"],
            json!([
                { "permission": "invoices.read", "effect": "deny" },
                { "permission": "orders.place", "effect": "grant" },
            ])
        );
        assert_eq!(access["assignments"][0]["id"], "42");

        // In French too.
        browser.goto(&app.url(&format!("/o/{org}/team/{bruno}?lang=fr"))).await;
        browser.wait_for("#overrides").await;
        assert!(browser.text("#overrides-heading").await.contains("Droits de ce membre"));
        browser.screenshot(&format!("member-fr-{backend}")).await;
        browser.close().await;
        app.stop().await;
    }
}
