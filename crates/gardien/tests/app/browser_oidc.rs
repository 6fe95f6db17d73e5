//! A third-party portal signs a person in through Gardien in Chromium: the
//! authorization leads to Gardien's login, then to the consent page, whose
//! "Allow" leads back to the portal with a code (the page's security policy
//! lets the browser follow that redirect); RP-initiated logout asks for
//! confirmation, then leads to the portal's registered page. On both back
//! ends.

use crate::support;

use axum::extract::Request;
use serde_json::{json, Value};
use support::browser::Browser;
use support::with_key;

/// A portal on loopback that answers every page with its address.
async fn portal() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .fallback(|request: Request| async move { format!("portal page {}", request.uri()) });
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

app_test!(
    async fn consent_leads_back_to_the_portal_and_logout_is_confirmed(app: TestApp) {
        support::sign_up(&app, "ana@example.com", "Acme").await;
        support::verify_email(&app, "ana@example.com").await;
        let portal = portal().await;
        let callback = format!("{portal}/callback");
        let bye = format!("{portal}/bye");
        let operator = app
            .services
            .create_deployment_api_key("Portal operator")
            .await
            .unwrap();
        let response = with_key(
            &app,
            &operator.secret,
            "/api/v1/oidc-clients",
            json!({
                "name": "Partner portal",
                "kind": "public",
                "redirect_uris": [callback],
                "post_logout_redirect_uris": [bye],
            }),
        )
        .await;
        assert_eq!(response.status(), 201);
        let client: Value = response.json().await.unwrap();
        let client_id = client["client_id"].as_str().unwrap();

        // The portal sends the browser to Gardien (PKCE S256 of the RFC 7636
        // example verifier).
        let authorize = reqwest::Url::parse_with_params(
            &app.url("/oidc/authorize"),
            &[
                ("response_type", "code"),
                ("client_id", client_id),
                ("redirect_uri", &callback),
                ("scope", "openid email organization"),
                ("state", "s-42"),
                ("nonce", "n-42"),
                (
                    "code_challenge",
                    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                ),
                ("code_challenge_method", "S256"),
            ],
        )
        .unwrap();
        let browser = Browser::start().await;
        browser.goto(authorize.as_str()).await;
        browser.fill("#email", "ana@example.com").await;
        browser.fill("#password", support::SIGN_UP_PASSWORD).await;
        browser.click_and_load("#login-submit").await;

        // A third-party client: Gardien asks first.
        browser.wait_for("#oidc-consent").await;
        let consent = browser.text("#oidc-consent").await;
        assert!(consent.contains("Partner portal"), "{consent}");
        browser.screenshot("oidc-consent").await;
        browser.click_and_load("#consent-allow").await;
        let landed = browser.current_url().await;
        let landed = reqwest::Url::parse(&landed).unwrap();
        assert_eq!(
            format!("{}{}", landed.origin().ascii_serialization(), landed.path()),
            callback,
            "{landed}"
        );
        let query: std::collections::HashMap<_, _> = landed.query_pairs().into_owned().collect();
        assert_eq!(query.get("state").map(String::as_str), Some("s-42"));
        assert!(query.get("code").is_some_and(|c| !c.is_empty()), "{landed}");
        assert!(browser
            .text("body")
            .await
            .starts_with("portal page /callback"));

        // RP-initiated logout without an ID token hint: confirmed first.
        let logout = reqwest::Url::parse_with_params(
            &app.url("/oidc/logout"),
            &[
                ("client_id", client_id),
                ("post_logout_redirect_uri", &bye),
                ("state", "l-7"),
            ],
        )
        .unwrap();
        browser.goto(logout.as_str()).await;
        browser.wait_for("#oidc-logout").await;
        browser.screenshot("oidc-logout").await;
        browser.click_and_load("#oidc-logout-confirm").await;
        let left = browser.current_url().await;
        assert!(left.starts_with(&format!("{bye}?")), "{left}");
        assert!(left.contains("state=l-7"), "{left}");

        // The Gardien session is over: a page that needs one leads to the login.
        browser.goto(&app.url("/me")).await;
        browser.wait_for("#login-submit").await;
        assert!(browser.current_url().await.contains("/login"));
    }
);
