//! What every handler can reach: the use cases, the store and the web settings.

use std::fmt;
use std::sync::Arc;

use gardien_service::Services;
use gardien_store::Store;

/// The shared state of the router, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// The write path of every use case (see `gardien-service`).
    pub services: Arc<Services>,
    pub settings: Arc<WebSettings>,
    /// Login, sign-up, forgotten-password and emailed-link attempts.
    pub rate_limits: Arc<crate::rate_limit::RateLimits>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, settings: WebSettings) -> Self {
        let services = Services::new(store.clone(), settings.public_url.clone());
        Self::with_services(services, settings)
    }

    /// A state over configured services (the binary wires the mail wake-up).
    pub fn with_services(services: Services, settings: WebSettings) -> Self {
        Self {
            store: services.store().clone(),
            services: Arc::new(services),
            settings: Arc::new(settings),
            rate_limits: Arc::new(crate::rate_limit::RateLimits::new()),
        }
    }
}

/// Settings of the HTTP layer, given by the binary.
#[derive(Clone)]
pub struct WebSettings {
    /// The address people reach Gardien at, such as `http://127.0.0.1:8080`:
    /// used in links, and an `https` URL turns on `Secure` cookies and HSTS.
    pub public_url: String,
    /// The key that signs CSRF tokens; generated and persisted by the binary.
    pub secret_key: [u8; 32],
    /// Reverse proxies whose `X-Forwarded-For` is believed (see
    /// `context.rs`); empty: the TCP peer is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl WebSettings {
    /// Whether people reach Gardien over TLS (then cookies are `Secure`).
    pub fn is_https(&self) -> bool {
        self.public_url
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("https://")
    }

    /// `host[:port]` of the public URL, compared with `Origin` headers.
    pub(crate) fn public_authority(&self) -> Option<&str> {
        let rest = self.public_url.trim().split_once("://")?.1;
        let authority = rest.split(['/', '?', '#']).next()?;
        (!authority.is_empty()).then_some(authority)
    }
}

impl fmt::Debug for WebSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSettings")
            .field("public_url", &self.public_url)
            .field("secret_key", &"<redacted>")
            .finish()
    }
}

/// The check API's handlers take only the services: one reference count to
/// touch per request instead of the whole state's four.
impl axum::extract::FromRef<AppState> for Arc<Services> {
    fn from_ref(state: &AppState) -> Self {
        state.services.clone()
    }
}
