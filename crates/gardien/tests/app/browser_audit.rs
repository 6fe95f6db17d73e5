//! Flow 14 in a real browser: the administrator filters the audit trail,
//! downloads its CSV export with the browser's own session, then opens the
//! access review, sees a member without a login for 100 days and suspends
//! them after confirming. Screenshots of each page.

use crate::support;

use std::time::Duration;

use gardien_core::{AccountId, OrganizationId};
use reqwest::Method;
use serde_json::{json, Value};
use support::browser::Browser;
use support::{call, session_cookie};
use time::OffsetDateTime;

const PASSWORD: &str = "violet tractor under the rain";
const INVITEE_PASSWORD: &str = "seven green lanterns at dawn";

app_test! {
    async fn administrator_filters_the_trail_exports_it_and_suspends_an_inactive_member(app: TestApp) {
        let backend = format!("{:?}", app.store.backend()).to_lowercase();
        // Ana's organization, with Bruno as a member who stopped coming.
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
        support::verify_email(&app, "ana@example.fr").await;
        let login = app
            .post_json("/api/v1/login", &json!({ "email": "ana@example.fr", "password": PASSWORD }))
            .await;
        let ana = session_cookie(&login).unwrap();
        let body: Value = login.json().await.unwrap();
        let org = body["organization"]["id"].as_str().unwrap().to_owned();
        let roles = {
            let mut tx = app.store.begin().await.unwrap();
            tx.roles(OrganizationId::from_uuid(org.parse().unwrap())).await.unwrap()
        };
        let user = roles.iter().find(|r| r.template.as_deref() == Some("user")).unwrap();
        let invited = call(
            &app,
            Method::POST,
            Some(&ana),
            &format!("/api/v1/organizations/{org}/invitations"),
            Some(json!({
                "email": "bruno@example.fr", "first_name": "Bruno", "last_name": "Costa",
                "kind": "staff", "role_id": user.id.to_string(),
            })),
        )
        .await;
        assert_eq!(invited.status(), 201);
        let mails = app.mail.wait_for(2, Duration::from_secs(10)).await;
        let text = mails
            .iter()
            .find(|m| m.to.iter().any(|t| t == "bruno@example.fr"))
            .and_then(|m| m.text_body())
            .unwrap();
        let start = text.find("/invitations/").unwrap() + "/invitations/".len();
        let token: String = text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        let accepted = call(
            &app,
            Method::POST,
            None,
            &format!("/api/v1/invitations/{token}"),
            Some(json!({
                "first_name": "Bruno", "last_name": "Costa",
                "password": INVITEE_PASSWORD, "accept_privacy": true,
            })),
        )
        .await;
        assert_eq!(accepted.status(), 200);
        let settings = call(
            &app,
            Method::PATCH,
            Some(&ana),
            &format!("/api/v1/organizations/{org}/settings"),
            Some(json!({ "requires_activation": true })),
        )
        .await;
        assert_eq!(settings.status(), 200);
        let bruno_account = {
            let mut tx = app.store.begin().await.unwrap();
            let email = gardien_core::Email::parse("bruno@example.fr").unwrap();
            tx.account_by_email(&email).await.unwrap().unwrap().id
        };
        let mut tx = app.store.begin().await.unwrap();
        tx.record_login(
            OrganizationId::from_uuid(org.parse().unwrap()),
            AccountId::from_uuid(bruno_account.as_uuid()),
            OffsetDateTime::now_utc() - time::Duration::days(100),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        // Ana signs in (in French) and opens the audit trail.
        let browser = Browser::start().await;
        browser.goto(&app.url("/login?lang=fr")).await;
        browser.fill("#email", "ana@example.fr").await;
        browser.fill("#password", PASSWORD).await;
        browser.click("#login-submit").await;
        browser.wait_for("#signed-in").await;
        browser.goto(&app.url(&format!("/o/{org}/audit"))).await;
        browser.wait_for("#audit-events").await;
        assert_eq!(browser.text("#audit-heading").await, "Journal d’audit");
        let all = browser.text("#audit-events").await;
        assert!(all.contains("A modifié les réglages de l’organisation"), "{all}");
        assert!(all.contains("A envoyé une invitation"), "{all}");
        browser.screenshot(&format!("audit-{backend}")).await;

        // Filter: what = settings changes.
        browser.select("#action", "organization.settings_changed").await;
        browser.click_and_load("#filter-submit").await;
        browser.wait_for("#audit-events").await;
        assert!(browser.current_url().await.contains("action=organization.settings_changed"));
        let rows = browser
            .client()
            .find_all(fantoccini::Locator::Css("#audit-events tbody tr[data-action]"))
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "only the settings change");
        let filtered = browser.text("#audit-events").await;
        assert!(filtered.contains("Ana Lima") && filtered.contains("requires_activation"), "{filtered}");
        assert!(filtered.contains("false") && filtered.contains("true"), "before → after: {filtered}");
        browser.screenshot(&format!("audit-filtered-{backend}")).await;

        // The CSV export of the same filters, fetched with the browser's cookies.
        let href = browser.attr("#export-csv", "href").await.unwrap();
        assert!(href.contains("format=csv") && href.contains("action=organization.settings_changed"), "{href}");
        let cookies = browser.client().get_all_cookies().await.unwrap();
        let cookie = cookies
            .iter()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect::<Vec<_>>()
            .join("; ");
        let url = if href.starts_with("http") { href.clone() } else { app.url(&href) };
        let csv = app.http.get(&url).header("cookie", cookie).send().await.unwrap();
        assert_eq!(csv.status(), 200);
        assert!(csv.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
        let text = csv.text().await.unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("occurred_at,id,actor_type"), "{text}");
        assert_eq!(lines.len(), 2, "a header and the one event: {text}");
        assert!(lines[1].contains("organization.settings_changed") && lines[1].contains("ana@example.fr"));

        // The access review shows Bruno inactive; Ana suspends him.
        browser.goto(&app.url(&format!("/o/{org}/access-review"))).await;
        browser.wait_for("#inactive-members").await;
        let row = "#inactive-members tr[data-email='bruno@example.fr']";
        browser.wait_for(row).await;
        let admin_first = browser.attr("#review-members tbody tr", "data-email").await;
        assert_eq!(admin_first.as_deref(), Some("ana@example.fr"), "administrators first");
        browser.screenshot(&format!("access-review-{backend}")).await;
        browser.click(&format!("{row} a[data-action='suspend']")).await;
        browser.wait_for("#confirm-submit").await;
        browser.screenshot(&format!("access-review-confirm-{backend}")).await;
        browser.click("#confirm-submit").await;
        browser.wait_for("#inactive-empty").await;
        assert_eq!(
            browser.attr("#review-members tr[data-email='bruno@example.fr']", "data-status").await.as_deref(),
            Some("suspended")
        );
        browser.screenshot(&format!("access-review-suspended-{backend}")).await;
        browser.close().await;
        app.stop().await;
    }
}
