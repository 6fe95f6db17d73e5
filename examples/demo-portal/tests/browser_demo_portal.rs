//! The demo portal end to end, in headless Chromium, on both back ends:
//! Gardien (in-process, port 0, `--demo` seeding) and the portal (in
//! process, port 0) side by side. Julie, "Gestion de courrier" in two
//! organizations, logs into the portal through Gardien's pages, picks
//! Boulangerie Martin, opens Mail, is refused Invoices; her administrator
//! grants her the Billing rights through Gardien's API, and her next
//! Invoices page opens. Screenshots under `target/screenshots/`.

#[path = "../../../crates/gardien/tests/app/support/mod.rs"]
mod support;

use fantoccini::Locator;
use gardien::demo::{ADMIN, BOULANGERIE, DEMO_PASSWORD, MAIL, PORTAL_FILE};
use gardien_demo::{Portal, PortalConfig};
use gardien_store::test_support::TestBackend;
use support::browser::Browser;

/// The portal, serving until the returned sender is dropped or used.
async fn spawn_portal(
    listener: tokio::net::TcpListener,
    config: PortalConfig,
) -> tokio::sync::oneshot::Sender<()> {
    let portal = Portal::with_listener(listener, config).expect("the portal starts");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        portal
            .run_until_stopped(async {
                let _ = stopped.await;
            })
            .await
            .expect("the portal runs");
    });
    stop
}

async fn mail_member_is_refused_invoices_until_billing_is_granted(backend: TestBackend) {
    let name = format!("{backend:?}").to_lowercase();
    // The portal's address first: Gardien's demo registers its callback.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port for the portal");
    let portal_url = format!("http://{}", listener.local_addr().unwrap());
    let app = support::spawn_app_with(backend, |settings| {
        settings.demo = Some(true);
        settings.demo_portal_url = Some(portal_url.clone());
    })
    .await;
    let file = app.data_dir.path().join(PORTAL_FILE);
    let config = PortalConfig::from_file(&file, "127.0.0.1:0", None).expect("Gardien's demo file");
    assert_eq!(config.public_url, portal_url);
    assert_eq!(config.gardien.issuer, app.address);
    let stop_portal = spawn_portal(listener, config).await;
    let browser = Browser::start().await;
    let shot = |step: &str| format!("demo-portal-{step}-{name}");

    // Signed out: the portal's landing page, then Gardien's login page.
    browser.goto(&format!("{portal_url}/")).await;
    browser.wait_for("#landing").await;
    browser.screenshot(&shot("01-landing")).await;
    browser.click("#login").await;
    browser.wait_for("#login-submit").await;
    assert!(
        browser.current_url().await.starts_with(&app.address),
        "the login happens on Gardien's pages"
    );
    browser.fill("#email", MAIL.email).await;
    browser.fill("#password", DEMO_PASSWORD).await;
    browser.screenshot(&shot("02-gardien-login")).await;
    browser.click("#login-submit").await;

    // Julie is in two organizations: Gardien's picker asks which.
    let choice = format!("//button[contains(@class, 'choice')][contains(., '{BOULANGERIE}')]");
    let boulangerie = browser
        .client()
        .wait()
        .at_most(std::time::Duration::from_secs(10))
        .for_element(Locator::XPath(&choice))
        .await
        .expect("Gardien's organization picker");
    assert!(browser.current_url().await.starts_with(&app.address));
    browser.screenshot(&shot("03-gardien-picker")).await;
    boulangerie.click().await.expect("pick Boulangerie Martin");

    // Back in the portal, in that organization, with the right menu.
    let back = browser
        .client()
        .wait()
        .at_most(std::time::Duration::from_secs(10))
        .for_element(Locator::Css("#greeting"))
        .await;
    if back.is_err() {
        browser.screenshot(&shot("03b-after-picker")).await;
        let body = browser.text("body").await;
        panic!(
            "not back in the portal: {} shows:\n{body}",
            browser.current_url().await
        );
    }
    assert!(browser.current_url().await.starts_with(&portal_url));
    assert_eq!(browser.text("#organization-name").await, BOULANGERIE);
    assert_eq!(browser.text("#person-name").await, "Julie Bernard");
    let class = |id: &'static str| {
        let browser = &browser;
        async move {
            browser
                .attr(&format!("#{id}"), "class")
                .await
                .unwrap_or_default()
        }
    };
    assert!(!class("nav-mail").await.contains("disabled"));
    assert!(class("nav-invoices").await.contains("disabled"));
    assert!(class("nav-formalities").await.contains("disabled"));
    browser.screenshot(&shot("04-dashboard")).await;

    // Mail opens.
    browser.goto(&format!("{portal_url}/courrier")).await;
    assert_eq!(browser.text("#page-title").await, "Mes courriers");
    browser.wait_for("#letters tbody tr").await;
    browser.screenshot(&shot("05-mail")).await;

    // Invoices are refused, with the missing right and who grants it.
    browser.goto(&format!("{portal_url}/factures")).await;
    browser.wait_for("#forbidden").await;
    assert_eq!(browser.text("#missing-permission").await, "invoices.read");
    assert!(browser.text("#who-can-grant").await.contains(BOULANGERIE));
    browser.screenshot(&shot("06-invoices-refused")).await;
    // The refusal is a real 403, for the same portal session.
    let session = browser
        .client()
        .get_named_cookie("demo_portal_session")
        .await
        .expect("the portal's session cookie");
    assert_eq!(session.http_only(), Some(true));
    let as_julie = |path: &str| {
        reqwest::Client::new()
            .get(format!("{portal_url}{path}"))
            .header("cookie", format!("demo_portal_session={}", session.value()))
            .send()
    };
    assert_eq!(as_julie("/factures").await.unwrap().status(), 403);
    assert_eq!(as_julie("/courrier").await.unwrap().status(), 200);

    // Her administrator grants the Billing rights in Gardien.
    let login = app
        .post_json(
            "/api/v1/login",
            &serde_json::json!({ "email": ADMIN.email, "password": DEMO_PASSWORD }),
        )
        .await;
    assert_eq!(login.status(), 200, "the demo administrator logs in");
    let admin = support::session_cookie(&login).expect("a session");
    let body: serde_json::Value = login.json().await.unwrap();
    let org = body["organization"]["id"].as_str().unwrap().to_owned();
    let member = {
        let mut tx = app.store.begin().await.unwrap();
        let julie = tx
            .account_by_email(&gardien_core::Email::parse(MAIL.email).unwrap())
            .await
            .unwrap()
            .unwrap();
        tx.membership_of(
            gardien_core::OrganizationId::from_uuid(org.parse().unwrap()),
            julie.id,
        )
        .await
        .unwrap()
        .unwrap()
        .id
    };
    for permission in ["invoices.read", "invoices.download"] {
        let granted = support::call(
            &app,
            reqwest::Method::PUT,
            Some(&admin),
            &format!("/api/v1/organizations/{org}/members/{member}/overrides/{permission}"),
            Some(serde_json::json!({ "effect": "grant" })),
        )
        .await;
        assert_eq!(granted.status(), 200, "granting {permission}");
    }

    // Her very next page load sees it: no cache anywhere.
    browser.goto(&format!("{portal_url}/factures")).await;
    assert_eq!(browser.text("#page-title").await, "Mes factures");
    browser.wait_for("#invoices tbody tr").await;
    assert!(!class("nav-invoices").await.contains("disabled"));
    browser.screenshot(&shot("07-invoices-granted")).await;

    browser.close().await;
    let _ = stop_portal.send(());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_member_is_refused_invoices_until_billing_is_granted_sqlite() {
    mail_member_is_refused_invoices_until_billing_is_granted(TestBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_member_is_refused_invoices_until_billing_is_granted_postgres() {
    mail_member_is_refused_invoices_until_billing_is_granted(TestBackend::Postgres).await;
}
