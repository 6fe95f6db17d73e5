//! The HTTP skeleton: probes, problem JSON, security headers, OpenAPI,
//! languages and static files.

#[macro_use]
mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{get, send};

both_back_ends!(
    async fn healthz_answers_ok(backend) {
        let app = common::app(backend).await;
        let reply = get(&app, "/healthz").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.json(), serde_json::json!({ "status": "ok" }));
    }
);

both_back_ends!(
    async fn readyz_answers_when_the_store_does(backend) {
        let app = common::app(backend).await;
        let ready = get(&app, "/readyz").await;
        assert_eq!(ready.status, StatusCode::OK);
        assert_eq!(ready.json()["status"], "ok");
    }
);

/// A real PostgreSQL database that stops accepting connections: readiness
/// follows it down with a problem that names no internals, and back up.
#[tokio::test]
async fn readyz_follows_the_database_down_and_back() {
    let database = common::OwnDatabase::create().await;
    let app = common::router_over(
        gardien_store::connect(&database.url)
            .await
            .expect("a PostgreSQL store"),
        "http://localhost",
    );
    assert_eq!(get(&app, "/readyz").await.status, StatusCode::OK);

    database.refuse_connections(true);
    let down = get(&app, "/readyz").await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        down.header(header::CONTENT_TYPE),
        "application/problem+json"
    );
    assert_eq!(
        down.header(header::RETRY_AFTER),
        "1",
        "a client may try again shortly"
    );
    let problem = down.json();
    assert_eq!(problem["type"], "/problems/unavailable");
    assert_eq!(problem["status"], 503);
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        !detail.contains("accepting") && !detail.contains(&database.name),
        "no internals: {detail}"
    );

    database.refuse_connections(false);
    assert_eq!(get(&app, "/readyz").await.status, StatusCode::OK);
}

both_back_ends!(
    async fn every_response_has_the_security_headers(backend) {
        let app = common::app(backend).await;
        for path in [
            "/",
            "/healthz",
            "/api/nothing",
            "/nothing",
            "/static/gardien.css",
        ] {
            let reply = get(&app, path).await;
            let csp = reply.header(header::CONTENT_SECURITY_POLICY);
            assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
            assert!(csp.contains("frame-ancestors 'none'"), "{path}");
            assert!(csp.contains("form-action 'self'"), "{path}");
            assert!(csp.contains("base-uri 'none'"), "{path}");
            assert!(csp.contains("object-src 'none'"), "{path}");
            assert_eq!(
                reply.header(header::X_CONTENT_TYPE_OPTIONS),
                "nosniff",
                "{path}"
            );
            assert_eq!(reply.header(header::X_FRAME_OPTIONS), "DENY", "{path}");
            assert_eq!(
                reply.header(header::REFERRER_POLICY),
                "strict-origin-when-cross-origin"
            );
            assert!(!reply.header("permissions-policy").is_empty(), "{path}");
            assert!(
                reply
                    .headers
                    .get(header::STRICT_TRANSPORT_SECURITY)
                    .is_none(),
                "http: no HSTS"
            );
            assert!(!reply.header("x-request-id").is_empty(), "{path}");
        }
        let over_https = common::app_with(backend, "https://team.example.com").await;
        let https = get(&over_https, "/healthz").await;
        assert!(https
            .header(header::STRICT_TRANSPORT_SECURITY)
            .starts_with("max-age="));
    }
);

both_back_ends!(
    async fn unknown_api_path_is_a_problem_with_the_request_id(backend) {
        let app = common::app(backend).await;
        let request = Request::get("/api/v1/nothing?token=secret")
            .header("x-request-id", "req-123")
            .header(header::ACCEPT_LANGUAGE, "fr")
            .body(Body::empty())
            .expect("request");
        let reply = send(&app, request).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert_eq!(
            reply.header(header::CONTENT_TYPE),
            "application/problem+json"
        );
        assert_eq!(reply.header("x-request-id"), "req-123");
        let problem = reply.json();
        assert_eq!(problem["type"], "/problems/not-found");
        assert_eq!(problem["status"], 404);
        assert_eq!(problem["title"], "Page introuvable");
        assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
        assert_eq!(problem["request_id"], "req-123");
        assert_eq!(problem["instance"], "urn:gardien:request:req-123");
    }
);

both_back_ends!(
    async fn unknown_page_is_an_html_page(backend) {
        let app = common::app(backend).await;
        let reply = get(&app, "/no/such/page").await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert!(reply.header(header::CONTENT_TYPE).starts_with("text/html"));
        assert!(reply.body.contains("<html lang=\"en\">"));
        assert!(reply.body.contains("Page not found"));
    }
);

both_back_ends!(
    async fn wrong_method_is_405_as_page_or_problem(backend) {
        let app = common::app(backend).await;
        let page = get(&app, "/language").await;
        assert_eq!(page.status, StatusCode::METHOD_NOT_ALLOWED);
        assert!(page.header(header::CONTENT_TYPE).starts_with("text/html"));

        // A bearer request skips the CSRF check and reaches the method routing.
        let request = Request::delete("/api/v1/openapi.json")
            .header(header::AUTHORIZATION, "Bearer test")
            .body(Body::empty())
            .expect("request");
        let reply = send(&app, request).await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(reply.json()["type"], "/problems/method-not-allowed");
        assert!(reply.header(header::ALLOW).contains("GET"));
    }
);

both_back_ends!(
    async fn openapi_document_describes_the_probes_and_problems(backend) {
        let app = common::app(backend).await;
        let reply = get(&app, "/api/v1/openapi.json").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(reply
            .header(header::CONTENT_TYPE)
            .starts_with("application/json"));
        let doc = reply.json();
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
        assert_eq!(doc["info"]["title"], "Gardien");
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
        for path in ["/healthz", "/readyz", "/api/v1/csrf-token"] {
            assert!(
                doc["paths"][path]["get"].is_object(),
                "{path} is documented"
            );
        }
        assert!(doc["components"]["schemas"]["Problem"].is_object());
        let readyz_503 = &doc["paths"]["/readyz"]["get"]["responses"]["503"]["content"];
        assert!(readyz_503["application/problem+json"].is_object());
    }
);

both_back_ends!(
    async fn accept_language_french_gives_a_french_page(backend) {
        let app = common::app(backend).await;
        let request = Request::get("/")
            .header(header::ACCEPT_LANGUAGE, "fr-FR,fr;q=0.9,en;q=0.8")
            .body(Body::empty())
            .expect("request");
        let reply = send(&app, request).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(reply.body.contains("<html lang=\"fr\">"));
        assert!(reply
            .body
            .contains("<title>Gardien — Gestion de l’équipe et des accès</title>"));
        assert!(reply.body.contains("Se connecter"));
        assert!(
            reply.cookie("lang").is_none(),
            "negotiation alone sets no cookie"
        );
    }
);

both_back_ends!(
    async fn explicit_lang_overrides_and_is_remembered(backend) {
        let app = common::app(backend).await;
        let request = Request::get("/?lang=en")
            .header(header::ACCEPT_LANGUAGE, "fr")
            .header(header::COOKIE, "lang=fr")
            .body(Body::empty())
            .expect("request");
        let reply = send(&app, request).await;
        assert!(reply.body.contains("<html lang=\"en\">"));
        assert!(reply
            .body
            .contains("<title>Gardien — Team and access management</title>"));
        assert_eq!(reply.cookie("lang").as_deref(), Some("lang=en"));

        let remembered = Request::get("/")
            .header(header::ACCEPT_LANGUAGE, "en")
            .header(header::COOKIE, "lang=fr")
            .body(Body::empty())
            .expect("request");
        assert!(send(&app, remembered)
            .await
            .body
            .contains("<html lang=\"fr\">"));
    }
);

both_back_ends!(
    async fn stylesheet_is_versioned_and_revalidated(backend) {
        let app = common::app(backend).await;
        let page = get(&app, "/").await;
        let start = page
            .body
            .find("/static/gardien.css?v=")
            .expect("a versioned link");
        let href = &page.body[start..start + page.body[start..].find('"').expect("end")];

        let css = get(&app, href).await;
        assert_eq!(css.status, StatusCode::OK);
        assert!(css.header(header::CONTENT_TYPE).starts_with("text/css"));
        assert!(css.header(header::CACHE_CONTROL).contains("immutable"));
        assert!(css.body.contains(".field-error"));
        let etag = css.header(header::ETAG).to_owned();

        let unversioned = get(&app, "/static/gardien.css").await;
        assert!(unversioned
            .header(header::CACHE_CONTROL)
            .contains("no-cache"));

        let request = Request::get("/static/gardien.css")
            .header(header::IF_NONE_MATCH, &etag)
            .body(Body::empty())
            .expect("request");
        assert_eq!(send(&app, request).await.status, StatusCode::NOT_MODIFIED);
    }
);
