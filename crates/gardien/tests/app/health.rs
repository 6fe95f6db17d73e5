//! The service answers its probes and serves its OpenAPI document, on both
//! back ends, through the real HTTP stack.

app_test!(
    async fn healthz_and_readyz_answer(app: TestApp) {
        let health = app.http.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(health.status(), 200);
        assert!(health.headers().contains_key("x-request-id"));
        let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), 200);
        app.stop().await;
    }
);

app_test!(
    async fn openapi_document_is_served(app: TestApp) {
        let response = app
            .http
            .get(app.url("/api/v1/openapi.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let doc: serde_json::Value = response.json().await.unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        assert!(doc["paths"]["/healthz"].is_object(), "{doc}");
        app.stop().await;
    }
);

app_test!(
    async fn unknown_api_path_is_problem_json(app: TestApp) {
        let response = app
            .http
            .get(app.url("/api/v1/nothing-here"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "application/problem+json"
        );
        let problem: serde_json::Value = response.json().await.unwrap();
        assert_eq!(problem["status"], 404);
        assert!(problem["type"].as_str().is_some() && problem["title"].as_str().is_some());
        app.stop().await;
    }
);
