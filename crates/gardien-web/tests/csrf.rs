//! CSRF protection, end to end through the language preference form.

#[macro_use]
mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{form_post, get, send};

/// A fresh browser: its CSRF cookie (`name=value`) and the token of its page.
async fn browser(app: &axum::Router) -> (String, String) {
    let page = get(app, "/").await;
    let cookie = page
        .cookie("gardien_csrf")
        .expect("the page sets the CSRF cookie");
    (cookie, page.csrf_token())
}

both_back_ends!(
    async fn the_cookie_is_http_only_and_lax_and_secure_over_https(backend) {
        let app = common::app(backend).await;
        let page = get(&app, "/").await;
        let line = page.set_cookie_line("gardien_csrf").expect("cookie");
        assert!(line.contains("HttpOnly") && line.contains("SameSite=Lax") && line.contains("Path=/"));
        assert!(!line.contains("Secure"));

        let over_https = common::app_with(backend, "https://team.example.com").await;
        let secure = get(&over_https, "/").await;
        let line = secure
            .set_cookie_line("__Host-csrf")
            .expect("__Host- cookie over https");
        assert!(line.contains("Secure") && line.contains("Path=/") && !line.contains("Domain"));
    }
);

both_back_ends!(
    async fn pages_without_forms_set_no_cookie(backend) {
        let app = common::app(backend).await;
        assert!(get(&app, "/healthz")
            .await
            .cookie("gardien_csrf")
            .is_none());
    }
);

both_back_ends!(
    async fn valid_token_passes_and_the_language_changes(backend) {
        let app = common::app(backend).await;
        let (cookie, token) = browser(&app).await;
        let body = format!("csrf_token={token}&language=fr&return_to=%2F");
        let reply = send(&app, form_post("/language", &cookie, &body)).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        assert_eq!(reply.header(header::LOCATION), "/");
        assert_eq!(reply.cookie("lang").as_deref(), Some("lang=fr"));
        let flash = reply.cookie("gardien_flash").expect("a flash message");

        let request = Request::get("/")
            .header(header::COOKIE, format!("{cookie}; lang=fr; {flash}"))
            .body(Body::empty())
            .expect("request");
        let next = send(&app, request).await;
        assert!(next.body.contains("<html lang=\"fr\">"));
        assert!(next
            .body
            .contains("Votre préférence de langue a été enregistrée."));
        let cleared = next
            .set_cookie_line("gardien_flash")
            .expect("the flash is cleared");
        assert!(cleared.contains("Max-Age=0"));
    }
);

both_back_ends!(
    async fn missing_token_is_refused_with_a_localized_page(backend) {
        let app = common::app(backend).await;
        let (cookie, _) = browser(&app).await;
        let mut request = form_post("/language", &format!("{cookie}; lang=fr"), "language=en");
        request
            .headers_mut()
            .insert(header::ACCEPT, "text/html".parse().expect("header"));
        let reply = send(&app, request).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert!(reply.header(header::CONTENT_TYPE).starts_with("text/html"));
        assert!(reply.body.contains("Formulaire expiré"));
        assert!(reply.cookie("lang").is_none(), "nothing changed");
    }
);

both_back_ends!(
    async fn wrong_token_is_refused(backend) {
        let app = common::app(backend).await;
        let (cookie, _) = browser(&app).await;
        let body = "csrf_token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&language=fr";
        let reply = send(&app, form_post("/language", &cookie, body)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    }
);

both_back_ends!(
    async fn token_of_another_cookie_is_refused(backend) {
        let app = common::app(backend).await;
        let (_, token_of_a) = browser(&app).await;
        let (cookie_of_b, _) = browser(&app).await;
        let body = format!("csrf_token={token_of_a}&language=fr");
        let reply = send(&app, form_post("/language", &cookie_of_b, &body)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    }
);

both_back_ends!(
    async fn no_cookie_is_refused(backend) {
        let app = common::app(backend).await;
        let (_, token) = browser(&app).await;
        let body = format!("csrf_token={token}&language=fr");
        let reply = send(&app, form_post("/language", "", &body)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    }
);

both_back_ends!(
    async fn cross_site_request_is_refused_even_with_a_valid_token(backend) {
        let app = common::app(backend).await;
        let (cookie, token) = browser(&app).await;
        let body = format!("csrf_token={token}&language=fr");
        let mut request = form_post("/language", &cookie, &body);
        request.headers_mut().insert(
            header::ORIGIN,
            "https://evil.example".parse().expect("header"),
        );
        assert_eq!(send(&app, request).await.status, StatusCode::FORBIDDEN);

        let mut request = form_post("/language", &cookie, &body);
        request
            .headers_mut()
            .insert("sec-fetch-site", "cross-site".parse().expect("header"));
        assert_eq!(send(&app, request).await.status, StatusCode::FORBIDDEN);

        let mut request = form_post("/language", &cookie, &body);
        request.headers_mut().insert(
            header::ORIGIN,
            "http://127.0.0.1:8080".parse().expect("header"),
        );
        request
            .headers_mut()
            .insert("sec-fetch-site", "same-origin".parse().expect("header"));
        assert_eq!(send(&app, request).await.status, StatusCode::SEE_OTHER);
    }
);

both_back_ends!(
    async fn header_token_works_for_fetch_calls_and_api_refusals_are_problems(backend) {
        let app = common::app(backend).await;
        let token_reply = get(&app, "/api/v1/csrf-token").await;
        let cookie = token_reply.cookie("gardien_csrf").expect("cookie");
        let token = token_reply.json()["token"]
            .as_str()
            .expect("token")
            .to_owned();

        let request = |token: Option<&str>| {
            let mut builder = Request::post("/language")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, &cookie);
            if let Some(token) = token {
                builder = builder.header("x-csrf-token", token);
            }
            builder.body(Body::from("language=fr")).expect("request")
        };
        assert_eq!(
            send(&app, request(Some(&token))).await.status,
            StatusCode::SEE_OTHER
        );

        let api = Request::post("/api/v1/anything")
            .header(header::COOKIE, &cookie)
            .header(header::ACCEPT_LANGUAGE, "fr")
            .body(Body::empty())
            .expect("request");
        let reply = send(&app, api).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert_eq!(
            reply.header(header::CONTENT_TYPE),
            "application/problem+json"
        );
        assert_eq!(reply.json()["type"], "/problems/csrf");
        assert!(reply.json()["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("jeton"));
    }
);

both_back_ends!(
    async fn bearer_requests_are_exempt(backend) {
        let app = common::app(backend).await;
        let request = Request::post("/api/v1/anything")
            .header(header::AUTHORIZATION, "Bearer some-api-key")
            .body(Body::empty())
            .expect("request");
        assert_eq!(send(&app, request).await.status, StatusCode::NOT_FOUND);
    }
);

both_back_ends!(
    async fn invalid_language_is_a_validation_problem(backend) {
        let app = common::app(backend).await;
        let (cookie, token) = browser(&app).await;
        let mut request = form_post(
            "/language",
            &cookie,
            &format!("csrf_token={token}&language=de"),
        );
        request
            .headers_mut()
            .insert(header::ACCEPT, "application/json".parse().expect("header"));
        let reply = send(&app, request).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        let problem = reply.json();
        assert_eq!(problem["type"], "/problems/validation");
        assert_eq!(problem["errors"][0]["field"], "language");
        assert_eq!(problem["errors"][0]["code"], "unknown-value");
        assert!(problem["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("de"));
    }
);

both_back_ends!(
    async fn malformed_form_is_a_bad_request_problem(backend) {
        let app = common::app(backend).await;
        let (cookie, token) = browser(&app).await;
        let mut request = form_post("/language", &cookie, &format!("csrf_token={token}"));
        request
            .headers_mut()
            .insert(header::ACCEPT, "application/json".parse().expect("header"));
        let reply = send(&app, request).await;
        assert!(reply.status.is_client_error(), "{}", reply.status);
        assert_eq!(
            reply.header(header::CONTENT_TYPE),
            "application/problem+json"
        );
        assert!(reply.json()["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("language"));
    }
);

both_back_ends!(
    async fn return_to_never_leaves_the_site(backend) {
        let app = common::app(backend).await;
        let (cookie, token) = browser(&app).await;
        let body = format!("csrf_token={token}&language=en&return_to=%2F%2Fevil.example");
        let reply = send(&app, form_post("/language", &cookie, &body)).await;
        assert_eq!(reply.header(header::LOCATION), "/");
    }
);
