// SCRATCH: temporary, to look at pages; to be deleted.
#[tokio::main]
async fn main() {
    let store = gardien_store::connect("sqlite:///tmp/gardien-scratch.db")
        .await
        .unwrap();
    let settings = gardien_web::WebSettings {
        public_url: "http://127.0.0.1:18080".into(),
        secret_key: [3; 32],
    };
    let app = gardien_web::router(gardien_web::AppState::new(store, settings));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:18080")
        .await
        .unwrap();
    axum::serve(listener, app).await.unwrap();
}
