//! Rate limits on login, sign-up, forgotten password and emailed links,
//! through the real HTTP stack on both back ends.

use crate::support;

use std::net::IpAddr;

use serde_json::json;
use support::TestApp;

/// A client whose requests come from another loopback address.
fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(IpAddr::from(ip))
        .build()
        .expect("HTTP client")
}

/// POSTs JSON with a CSRF cookie and token, from `client`.
async fn post_from(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    body: &serde_json::Value,
) -> reqwest::Response {
    let response = client
        .get(app.url("/api/v1/csrf-token"))
        .send()
        .await
        .expect("csrf-token answers");
    let cookie = support::csrf_cookie(&response);
    let token: serde_json::Value = response.json().await.expect("JSON");
    client
        .post(app.url(path))
        .header("cookie", cookie)
        .header("x-csrf-token", token["token"].as_str().expect("token"))
        .json(body)
        .send()
        .await
        .expect("answered")
}

fn login(email: &str) -> serde_json::Value {
    json!({ "email": email, "password": "not the right password at all" })
}

app_test!(
    async fn eleventh_quick_login_attempt_is_refused_with_retry_after_other_email_and_ip_unaffected(
        app: TestApp,
    ) {
        for attempt in 1..=10 {
            let response = app
                .post_json("/api/v1/login", &login("ana@example.fr"))
                .await;
            assert_eq!(response.status(), 401, "attempt {attempt} is checked");
        }
        let refused = app
            .post_json("/api/v1/login", &login(" ANA@Example.fr "))
            .await;
        assert_eq!(refused.status(), 429);
        let retry_after: u64 = refused
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .expect("a Retry-After header in seconds");
        assert!((1..=60).contains(&retry_after), "{retry_after}");
        assert_eq!(
            refused.headers()["content-type"],
            "application/problem+json"
        );
        let problem: serde_json::Value = refused.json().await.unwrap();
        assert_eq!(problem["type"], "/problems/too-many-requests");
        assert_eq!(problem["status"], 429);
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains(&format!("Try again in {retry_after} seconds")),
            "{detail}"
        );

        // Another email from the same address is still checked.
        let other_email = app
            .post_json("/api/v1/login", &login("bob@example.fr"))
            .await;
        assert_eq!(other_email.status(), 401);
        // The same email from another address is still checked.
        let other_ip = post_from(
            &app,
            &client_from([127, 0, 0, 2]),
            "/api/v1/login",
            &login("ana@example.fr"),
        )
        .await;
        assert_eq!(other_ip.status(), 401);
        app.stop().await;
    }
);

app_test!(
    async fn login_page_shows_try_again_in_n_seconds_when_refused(app: TestApp) {
        let client = &app.http;
        let mut last = None;
        for _ in 0..11 {
            let page = client.get(app.url("/login?lang=fr")).send().await.unwrap();
            let cookie = page
                .headers()
                .get_all("set-cookie")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .filter_map(|v| v.split(';').next())
                .collect::<Vec<_>>()
                .join("; ");
            let html = page.text().await.unwrap();
            let start = html
                .find("name=\"csrf_token\" value=\"")
                .expect("a CSRF field")
                + 25;
            let token = &html[start..start + html[start..].find('"').unwrap()];
            last = Some(
                client
                    .post(app.url("/login"))
                    .header("cookie", cookie)
                    .form(&[
                        ("csrf_token", token),
                        ("email", "ana@example.fr"),
                        ("password", "not the right password"),
                    ])
                    .send()
                    .await
                    .unwrap(),
            );
        }
        let refused = last.unwrap();
        assert_eq!(refused.status(), 429);
        assert!(refused.headers().contains_key("retry-after"));
        let html = refused.text().await.unwrap();
        assert!(html.contains("Réessayez dans"), "{html}");
        assert!(html.contains("ana@example.fr"), "the form keeps the email");
        app.stop().await;
    }
);

app_test!(
    async fn sixth_password_reset_request_for_one_email_in_an_hour_is_refused(app: TestApp) {
        for _ in 0..5 {
            let asked = app
                .post_json(
                    "/api/v1/password-resets",
                    &json!({ "email": "ana@example.fr" }),
                )
                .await;
            assert_eq!(asked.status(), 202);
        }
        let refused = app
            .post_json(
                "/api/v1/password-resets",
                &json!({ "email": "ana@example.fr" }),
            )
            .await;
        assert_eq!(refused.status(), 429);
        assert!(refused.headers().contains_key("retry-after"));
        let other = app
            .post_json(
                "/api/v1/password-resets",
                &json!({ "email": "bob@example.fr" }),
            )
            .await;
        assert_eq!(other.status(), 202);
        app.stop().await;
    }
);
