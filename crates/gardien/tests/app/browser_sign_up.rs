//! Flow 1 then flow 6 in a real browser: sign up through the page, open the
//! emailed verification link, sign out, sign in, land in the organization.
//! Screenshots of each page, in French and English.

use crate::support;

use std::time::Duration;

use support::browser::Browser;

const PASSWORD: &str = "violet tractor under the rain";

/// Makes Ana a client contact of a second organization, through the store.
async fn add_client_membership(app: &support::TestApp, name: &str) {
    use gardien_core::role::BUILT_IN_ROLES;
    use gardien_core::{
        Email, Kind, Membership, MembershipId, MembershipStatus, Organization, OrganizationId,
        Role, RoleId,
    };
    let now = time::OffsetDateTime::now_utc();
    let mut tx = app.store.begin().await.unwrap();
    let ana = tx
        .account_by_email(&Email::parse("ana@example.fr").unwrap())
        .await
        .unwrap()
        .unwrap();
    let organization = Organization {
        id: OrganizationId::new(),
        name: name.into(),
        requires_activation: false,
        created_at: now,
    };
    tx.insert_organization(&organization).await.unwrap();
    let template = BUILT_IN_ROLES.iter().find(|t| t.key == "user").unwrap();
    let role = Role {
        id: RoleId::new(),
        organization_id: organization.id,
        template: Some(template.key.into()),
        name: template.name_fr.into(),
        description: String::new(),
        permissions: template.permissions(),
        scoped: template.scoped,
    };
    tx.insert_role(&role).await.unwrap();
    tx.insert_membership(&Membership {
        id: MembershipId::new(),
        organization_id: organization.id,
        account_id: ana.id,
        kind: Kind::Client,
        role_id: role.id,
        status: MembershipStatus::Active,
        created_at: now,
        updated_at: now,
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

app_test! {
    async fn signing_up_verifying_and_signing_in_through_the_pages(app: TestApp) {
        let backend = format!("{:?}", app.store.backend()).to_lowercase();
        let browser = Browser::start().await;

        // The form in English, with a refused common password shown by its field.
        browser.goto(&app.url("/signup?lang=en")).await;
        assert_eq!(browser.title().await, "Create your account · Gardien");
        browser.screenshot(&format!("signup-en-{backend}")).await;

        // In French, fill it in: first with a common password.
        browser.goto(&app.url("/signup?lang=fr")).await;
        assert_eq!(browser.title().await, "Créer votre compte · Gardien");
        browser.fill("#first_name", "Ana").await;
        browser.fill("#last_name", "Lima").await;
        browser.fill("#organization_name", "Cabinet Lima").await;
        browser.fill("#email", "ana@example.fr").await;
        browser.fill("#password", "motdepasse").await;
        browser.click("#signup-submit").await;
        browser.wait_for(".field.has-error #password").await;
        assert!(browser.text("#password-error").await.contains("plus courants"));
        browser.screenshot(&format!("signup-error-fr-{backend}")).await;

        browser.fill("#password", PASSWORD).await;
        browser.click("#signup-submit").await;
        browser.wait_for("h1").await;
        assert_eq!(browser.current_url().await, app.url("/signup/check-email"));
        assert_eq!(browser.text("h1").await, "Consultez vos e-mails");
        browser.screenshot(&format!("signup-sent-fr-{backend}")).await;

        // The verification mail, in French, over SMTP.
        let mails = app.mail.wait_for(1, Duration::from_secs(10)).await;
        let text = mails[0].text_body().unwrap();
        let start = text.find(&format!("{}/verify-email/", app.address)).expect("a link");
        let link: String = text[start..].split_whitespace().next().unwrap().to_owned();
        browser.goto(&link).await;
        assert_eq!(browser.text("#verify-result").await, "Votre adresse e-mail est confirmée");
        browser.screenshot(&format!("email-verified-fr-{backend}")).await;

        // Sign in, wrongly then rightly, and land in the organization.
        browser.goto(&app.url("/login?lang=en")).await;
        browser.fill("#email", "ana@example.fr").await;
        browser.fill("#password", "not my password").await;
        browser.click("#login-submit").await;
        browser.wait_for("#login-error").await;
        assert!(browser.text("#login-error").await.contains("wrong"));
        browser.screenshot(&format!("login-error-en-{backend}")).await;
        browser.fill("#password", PASSWORD).await;
        browser.click("#login-submit").await;
        browser.wait_for("#signed-in").await;
        assert_eq!(browser.current_url().await, app.url("/"));
        assert_eq!(browser.text("#signed-in-organization").await, "Cabinet Lima");
        // The account's language (fr, chosen at sign-up) now wins over the cookie.
        assert_eq!(browser.attr("html", "lang").await.as_deref(), Some("fr"));
        browser.screenshot(&format!("signed-in-fr-{backend}")).await;

        // Sign out: back to the login page, and / is the public home again.
        browser.click("#logout").await;
        browser.wait_for("#login-submit").await;
        assert_eq!(browser.current_url().await, app.url("/login"));
        browser.screenshot(&format!("login-after-logout-{backend}")).await;
        browser.goto(&app.url("/")).await;
        assert!(browser.client().find(fantoccini::Locator::Css("#signed-in")).await.is_err());

        // The forgotten-password page is one click away from the login page.
        browser.goto(&app.url("/login")).await;
        browser.click("#forgot-password").await;
        browser.wait_for("#reset-request-submit").await;
        browser.screenshot(&format!("password-reset-request-en-{backend}")).await;

        // Sign in again: straight into the organization.
        browser.goto(&app.url("/login")).await;
        browser.fill("#email", "ana@example.fr").await;
        browser.fill("#password", PASSWORD).await;
        browser.click("#login-submit").await;
        browser.wait_for("#signed-in").await;
        assert_eq!(browser.text("#signed-in-organization").await, "Cabinet Lima");

        // With a second organization (Ana is a client contact there), the
        // picker shows both, each with its kind.
        add_client_membership(&app, "Fournitures Dupont").await;
        browser.goto(&app.url("/select-organization")).await;
        browser.wait_for(".choice-list").await;
        let choices = browser.text(".choice-list").await;
        assert!(choices.contains("Cabinet Lima") && choices.contains("Collaborateur"), "{choices}");
        assert!(choices.contains("Fournitures Dupont") && choices.contains("Client"), "{choices}");
        browser.screenshot(&format!("select-organization-fr-{backend}")).await;
        browser.click(".choice-list li:nth-child(2) button").await;
        browser.wait_for("#signed-in").await;
        assert_eq!(browser.text("#signed-in-organization").await, "Fournitures Dupont");

        browser.close().await;
        app.stop().await;
    }
}

app_test! {
    async fn the_unverified_banner_sends_a_new_link_that_verifies(app: TestApp) {
        let backend = format!("{:?}", app.store.backend()).to_lowercase();
        support::sign_up(&app, "ana@example.fr", "Cabinet Lima").await;
        app.mail_to("ana@example.fr", 1).await;

        let browser = Browser::start().await;
        browser.goto(&app.url("/login?lang=en")).await;
        browser.fill("#email", "ana@example.fr").await;
        browser.fill("#password", support::SIGN_UP_PASSWORD).await;
        browser.click("#login-submit").await;
        browser.wait_for("#unverified-banner").await;
        assert!(browser.text("#unverified-banner").await.contains("cannot invite"));
        browser.screenshot(&format!("unverified-banner-en-{backend}")).await;

        browser.click("#resend-verification").await;
        browser.wait_for("#profile-saved").await;
        assert_eq!(browser.current_url().await, app.url("/me?saved=verification"));
        assert!(browser.text("#profile-saved").await.contains("new confirmation link"));
        let second = app.mail_to("ana@example.fr", 2).await;
        let token = support::link_token(&second.text_body().unwrap(), "/verify-email/");

        browser.goto(&app.url(&format!("/verify-email/{token}"))).await;
        browser.wait_for("#verify-result").await;
        browser.goto(&app.url("/")).await;
        browser.wait_for("#signed-in").await;
        assert!(browser
            .client()
            .find(fantoccini::Locator::Css("#unverified-banner"))
            .await
            .is_err());
        browser.close().await;
        app.stop().await;
    }
}
