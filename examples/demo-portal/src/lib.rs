//! `gardien-demo`: a small client space of a domiciliation portal (seed
//! 004: Mail, Invoices, Formalities, Team) that uses Gardien the way a host
//! application should:
//!
//! * people log in through Gardien by OpenID Connect (`/login`,
//!   `/callback`), choosing their organization on Gardien's picker;
//! * every page asks Gardien's check API, on every request, what this
//!   person may do in this organization — a page they may not open answers
//!   403 and says which right is missing and who can grant it;
//! * "Mon équipe" is Gardien's own team page.
//!
//! [`Portal`] is the whole application; the binary and the tests start the
//! same one.

pub mod checks;
pub mod config;
pub mod data;
pub mod oidc;
mod pages;
pub mod sessions;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

pub use config::PortalConfig;

/// What every handler shares.
pub struct AppState {
    pub config: PortalConfig,
    pub oidc: oidc::Oidc,
    pub checker: checks::Checker,
    pub sessions: sessions::Sessions,
}

/// A bound, ready-to-serve portal.
pub struct Portal {
    listener: TcpListener,
    state: Arc<AppState>,
}

/// Why the portal could not start.
#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    #[error("cannot listen on {addr}: {source} (choose another address with --listen)")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot make an HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("{0}")]
    Serve(std::io::Error),
}

impl Portal {
    /// Binds `config.listen`.
    pub async fn build(config: PortalConfig) -> Result<Self, PortalError> {
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| PortalError::Bind {
                    addr: config.listen,
                    source,
                })?;
        Self::with_listener(listener, config)
    }

    /// Serves on a listener bound beforehand (tests bind port 0 first, to
    /// register the portal's address in Gardien).
    pub fn with_listener(listener: TcpListener, config: PortalConfig) -> Result<Self, PortalError> {
        // No redirects followed: Gardien's answers are read as they come.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()?;
        let oidc = oidc::Oidc::new(
            http.clone(),
            &config.gardien.issuer,
            &config.gardien.client_id,
            &config.gardien.client_secret,
            format!("{}/callback", config.public_url),
        );
        let checker =
            checks::Checker::new(http, &config.gardien.issuer, config.gardien.api_key.clone());
        Ok(Self {
            listener,
            state: Arc::new(AppState {
                config,
                oidc,
                checker,
                sessions: sessions::Sessions::default(),
            }),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.state.config.listen)
    }

    /// Serves until `shutdown` resolves.
    pub async fn run_until_stopped(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), PortalError> {
        tracing::info!(
            listen = %self.local_addr(),
            public_url = %self.state.config.public_url,
            gardien = %self.state.config.gardien.issuer,
            "the demo portal is serving"
        );
        axum::serve(self.listener, pages::router(self.state))
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(PortalError::Serve)
    }
}
