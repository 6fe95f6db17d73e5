//! `gardien serve --demo` on both back ends: the seeding makes the demo
//! people and organizations through Gardien's use cases, writes the file
//! the portal reads, is idempotent, and the portal's own check client reads
//! Gardien's answers fresh on every call (a right granted shows at once).

#[path = "../../../crates/gardien/tests/app/support/mod.rs"]
mod support;

use gardien::demo::{self, ADMIN, BILLING, BOULANGERIE, CABINET, DEMO_PASSWORD, MAIL, PORTAL_FILE};
use gardien_core::{Email, OrganizationId};
use gardien_demo::checks::{self, Checker};
use gardien_store::test_support::TestBackend;

const PORTAL_URL: &str = "http://127.0.0.1:8090";

async fn demo_app(backend: TestBackend) -> support::TestApp {
    support::spawn_app_with(backend, |settings| {
        settings.demo = Some(true);
        settings.demo_portal_url = Some(PORTAL_URL.into());
    })
    .await
}

/// The organizations `email` is an active member of, by name.
async fn organizations_of(app: &support::TestApp, email: &str) -> Vec<(String, OrganizationId)> {
    let mut tx = app.store.begin().await.unwrap();
    let account = tx
        .account_by_email(&Email::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{email} was seeded"));
    let mut names = Vec::new();
    for membership in tx.memberships_of_account(account.id).await.unwrap() {
        let organization = tx
            .organization(membership.organization_id)
            .await
            .unwrap()
            .unwrap();
        names.push((organization.name, organization.id));
    }
    names.sort();
    names
}

async fn account_id(app: &support::TestApp, email: &str) -> uuid::Uuid {
    let mut tx = app.store.begin().await.unwrap();
    tx.account_by_email(&Email::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap()
        .id
        .as_uuid()
}

async fn demo_people_log_in_and_the_portal_checks_their_rights(backend: TestBackend) {
    let app = demo_app(backend).await;

    // The file the portal reads names this Gardien and a live key.
    let text = std::fs::read_to_string(app.data_dir.path().join(PORTAL_FILE)).unwrap();
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(file["issuer"], app.address.as_str());
    assert_eq!(file["portal_url"], PORTAL_URL);
    let api_key = file["api_key"].as_str().unwrap().to_owned();
    assert!(api_key.starts_with("gk_"));

    // Every demo login works with the demo password.
    for person in demo::PEOPLE {
        let login = app
            .post_json(
                "/api/v1/login",
                &serde_json::json!({ "email": person.email, "password": DEMO_PASSWORD }),
            )
            .await;
        assert_eq!(login.status(), 200, "login of {}", person.email);
    }
    // Julie is in both organizations (Gardien's picker shows), Marc in one.
    let julie_in = organizations_of(&app, MAIL.email).await;
    let names: Vec<&str> = julie_in.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, [BOULANGERIE, CABINET]);
    let marc_in = organizations_of(&app, BILLING.email).await;
    assert_eq!(marc_in.len(), 1);
    let boulangerie = julie_in[0].1;

    // The portal's check client, against this Gardien with the demo key.
    let checker = Checker::new(reqwest::Client::new(), &app.address, api_key);
    let julie = account_id(&app, MAIL.email).await;
    let rights = checker
        .rights(julie, boulangerie.as_uuid())
        .await
        .expect("Gardien answers");
    assert!(rights.allows(checks::MAIL_READ));
    assert!(rights.allows(checks::MAIL_DOWNLOAD));
    assert!(!rights.allows(checks::INVOICES_READ));
    assert_eq!(
        rights.decision(checks::INVOICES_READ).unwrap().reason.code,
        "no_permission"
    );
    assert!(!rights.allows(checks::TEAM_READ));
    let marc = account_id(&app, BILLING.email).await;
    let rights = checker.rights(marc, boulangerie.as_uuid()).await.unwrap();
    assert!(rights.allows(checks::INVOICES_READ));
    assert!(!rights.allows(checks::MAIL_READ));

    // Claire grants Julie the invoices: the very next check says so.
    let login = app
        .post_json(
            "/api/v1/login",
            &serde_json::json!({ "email": ADMIN.email, "password": DEMO_PASSWORD }),
        )
        .await;
    let claire = support::session_cookie(&login).unwrap();
    let member = {
        let mut tx = app.store.begin().await.unwrap();
        tx.membership_of(boulangerie, gardien_core::AccountId::from_uuid(julie))
            .await
            .unwrap()
            .unwrap()
            .id
    };
    let granted = support::call(
        &app,
        reqwest::Method::PUT,
        Some(&claire),
        &format!("/api/v1/organizations/{boulangerie}/members/{member}/overrides/invoices.read"),
        Some(serde_json::json!({ "effect": "grant" })),
    )
    .await;
    assert_eq!(granted.status(), 200);
    let rights = checker.rights(julie, boulangerie.as_uuid()).await.unwrap();
    assert!(rights.allows(checks::INVOICES_READ));

    // Seeding again changes nothing: same people, same file.
    let config = app.services.clone();
    let demo_config = gardien::config::DemoConfig {
        portal_url: PORTAL_URL.into(),
    };
    demo::seed(&config, &demo_config, &app.address, app.data_dir.path())
        .await
        .expect("a second seeding");
    assert_eq!(
        std::fs::read_to_string(app.data_dir.path().join(PORTAL_FILE)).unwrap(),
        text
    );
    assert_eq!(organizations_of(&app, MAIL.email).await, julie_in);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_people_log_in_and_the_portal_checks_their_rights_sqlite() {
    demo_people_log_in_and_the_portal_checks_their_rights(TestBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_people_log_in_and_the_portal_checks_their_rights_postgres() {
    demo_people_log_in_and_the_portal_checks_their_rights(TestBackend::Postgres).await;
}
