//! The page shell in a real browser: title, language switch through the
//! CSRF-protected language form, and the header's FR/EN links.

use crate::support;

use support::browser::Browser;

app_test! {
    async fn shell_page_switches_language_through_the_csrf_protected_form(app: TestApp) {
        let backend = format!("{:?}", app.store.backend()).to_lowercase();
        let browser = Browser::start().await;

        browser.goto(&app.url("/")).await;
        assert_eq!(browser.title().await, "Gardien — Team and access management");
        assert_eq!(browser.attr("html", "lang").await.as_deref(), Some("en"));
        assert_eq!(browser.attr("a[href='/login']", "class").await.as_deref(), Some("button button-primary"));
        browser.screenshot(&format!("shell-en-{backend}")).await;

        // The language form posts with its hidden CSRF token and redirects back.
        browser.select("#language", "fr").await;
        browser.click("#language-save").await;
        browser.wait_for("html[lang='fr']").await;
        assert_eq!(browser.title().await, "Gardien — Gestion de l’équipe et des accès");
        assert_eq!(browser.text(".flash").await, "Votre préférence de langue a été enregistrée.");
        assert_eq!(browser.current_url().await, app.url("/"));
        browser.screenshot(&format!("shell-fr-{backend}")).await;

        // The choice is remembered: a new visit stays in French, without the flash.
        browser.goto(&app.url("/")).await;
        assert_eq!(browser.attr("html", "lang").await.as_deref(), Some("fr"));
        assert!(browser.client().find(fantoccini::Locator::Css(".flash")).await.is_err());

        // The header's switch goes back to English.
        browser.click(".lang-switch a[hreflang='en']").await;
        browser.wait_for("html[lang='en']").await;
        assert_eq!(browser.title().await, "Gardien — Team and access management");

        // An unknown page is a styled, localized error page.
        browser.goto(&app.url("/no/such/page")).await;
        assert_eq!(browser.text("h1").await, "Page not found");
        browser.screenshot(&format!("not-found-{backend}")).await;

        browser.close().await;
        app.stop().await;
    }
}
