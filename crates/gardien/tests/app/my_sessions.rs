//! "My sessions": list, end one, end every other, through the real HTTP
//! stack on both back ends.

use crate::support;

use serde_json::{json, Value};
use support::TestApp;

const PASSWORD: &str = "violet tractor under the rain";

async fn sign_up(app: &TestApp, email: &str) {
    let response = app
        .post_json(
            "/api/v1/signup",
            &json!({
                "email": email,
                "password": PASSWORD,
                "first_name": "Ana",
                "last_name": "Lima",
                "organization_name": "Cabinet Lima",
                "language": "en",
            }),
        )
        .await;
    assert_eq!(response.status(), 202);
}

async fn log_in(app: &TestApp, email: &str) -> String {
    let response = app
        .post_json(
            "/api/v1/login",
            &json!({ "email": email, "password": PASSWORD }),
        )
        .await;
    assert_eq!(response.status(), 200);
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("gardien_session="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned()
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    session: &str,
    path: &str,
) -> reqwest::Response {
    let (csrf_cookie, token) = app.csrf().await;
    app.http
        .request(method, app.url(path))
        .header("cookie", format!("{csrf_cookie}; {session}"))
        .header("x-csrf-token", token)
        .send()
        .await
        .unwrap()
}

async fn list(app: &TestApp, session: &str) -> Vec<Value> {
    let response = send(app, reqwest::Method::GET, session, "/api/v1/me/sessions").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

app_test!(
    async fn my_sessions_lists_live_sessions_and_ends_one_or_all_others(app: TestApp) {
        sign_up(&app, "ana@example.fr").await;
        sign_up(&app, "bob@example.fr").await;
        let first = log_in(&app, "ana@example.fr").await;
        let second = log_in(&app, "ana@example.fr").await;
        let third = log_in(&app, "ana@example.fr").await;
        let bob = log_in(&app, "bob@example.fr").await;

        let sessions = list(&app, &first).await;
        assert_eq!(sessions.len(), 3);
        assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
        assert!(sessions.iter().all(|s| s["ip"] == "127.0.0.1"));

        // Another account's session is not reachable.
        let bob_id = list(&app, &bob).await[0]["id"].as_str().unwrap().to_owned();
        let foreign = send(
            &app,
            reqwest::Method::DELETE,
            &first,
            &format!("/api/v1/me/sessions/{bob_id}"),
        )
        .await;
        assert_eq!(foreign.status(), 404);
        assert_eq!(list(&app, &bob).await.len(), 1, "bob's session lives on");
        let unknown = send(
            &app,
            reqwest::Method::DELETE,
            &first,
            "/api/v1/me/sessions/not-a-session",
        )
        .await;
        assert_eq!(unknown.status(), 404);

        // End the second one.
        let second_id = list(&app, &second)
            .await
            .into_iter()
            .find(|s| s["current"] == true)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let ended = send(
            &app,
            reqwest::Method::DELETE,
            &first,
            &format!("/api/v1/me/sessions/{second_id}"),
        )
        .await;
        assert_eq!(ended.status(), 204);
        let gone = send(&app, reqwest::Method::GET, &second, "/api/v1/me/sessions").await;
        assert_eq!(gone.status(), 401);
        assert_eq!(list(&app, &first).await.len(), 2);

        // End every other one: only this one stays.
        let others = send(&app, reqwest::Method::DELETE, &first, "/api/v1/me/sessions").await;
        assert_eq!(others.status(), 204);
        let left = list(&app, &first).await;
        assert_eq!(left.len(), 1);
        assert_eq!(left[0]["current"], true);
        let third_now = send(&app, reqwest::Method::GET, &third, "/api/v1/me/sessions").await;
        assert_eq!(third_now.status(), 401);
        assert_eq!(list(&app, &bob).await.len(), 1);

        // The profile page lists them too.
        let page = app
            .http
            .get(app.url("/me"))
            .header("cookie", &first)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("id=\"sessions\""));
        assert!(page.contains("This session"));
        app.stop().await;
    }
);
