//! Start-up and shutdown: open the database (running migrations), start the
//! mail and webhook workers, bind the listener, serve until asked to stop, then drain.

use std::net::SocketAddr;
use std::sync::Arc;

use gardien_store::Store;
use gardien_web::{AppState, WebSettings};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::{ensure_writable_dir, Config, ConfigError};
use crate::secret;

/// Why the service could not start, phrased for the operator.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("cannot open the database: {0}")]
    Store(#[from] gardien_store::StoreError),
    #[error("cannot listen on {addr}: {source} (choose another address with --listen or GARDIEN_LISTEN)")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Serve(std::io::Error),
    #[error("cannot load the authorization index: {0}")]
    Authz(#[from] gardien_service::ServiceError),
    #[error("{0}")]
    Webhooks(#[from] gardien_webhook::WebhookError),
    #[error("{0}")]
    Demo(#[from] crate::demo::DemoError),
}

/// A configured, bound, ready-to-serve Gardien.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    worker: gardien_mail::Worker,
    webhook_worker: gardien_webhook::Worker,
    config: Config,
    /// On PostgreSQL: applies other instances' access changes (see `gardien-service`'s `authz.rs`).
    authz_listener: Option<gardien_service::AuthzListenerHandle>,
}

impl Application {
    /// Checks the data folder, opens the database and binds the listener.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        ensure_writable_dir(&config.data_dir, "data")?;
        let secret_key = secret::load_or_create(config.secret_key.as_deref(), &config.data_dir)?;
        let store = open_store(&config.database_url).await?;
        let worker = crate::mail::worker(&config.mail, store.clone())?;
        let webhook_worker = gardien_webhook::Worker::new(
            store.clone(),
            gardien_webhook::WebhookSettings {
                schedule: config.webhooks.retry.clone(),
                timeout: config.webhooks.timeout,
                allow_private_networks: config.webhooks.allow_private_networks,
                ..Default::default()
            },
        )?;
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StartError::Bind {
                    addr: config.listen,
                    source,
                })?;
        // With port 0 (tests), links must name the port actually bound.
        let mut config = config;
        if config.listen.port() == 0 {
            if let Ok(bound) = listener.local_addr() {
                config.public_url = config
                    .public_url
                    .replace(":0", &format!(":{}", bound.port()));
                config.listen = bound;
            }
        }
        let settings = WebSettings {
            public_url: config.public_url.clone(),
            secret_key,
            trusted_proxies: config.trusted_proxies.clone(),
        };
        let services = gardien_service::Services::new(store, config.public_url.clone())
            .with_mail_wake(worker.wake_handle())
            .with_privacy_policy(config.privacy_policy.clone())
            .with_session_policy(config.session_policy)
            .with_permission_catalog(config.permission_catalog.clone())
            .with_silent_assignment_types(config.silent_assignment_types.clone())
            .with_invitation_lifetime_days(config.invitation_days)
            .with_signing_secret(secret_key);
        services.load_authz().await?;
        // Before the mail worker runs: the seeder reads the demo people's
        // links from the outbox.
        if let Some(demo) = &config.demo {
            crate::demo::seed(&services, demo, &config.public_url, &config.data_dir).await?;
        }
        let state = AppState::with_services(services, settings);
        let authz_listener = gardien_service::spawn_authz_listener(
            state.services.clone(),
            &config.database_url,
            config.authz_poll,
        )
        .await?;
        Ok(Self {
            listener,
            state,
            worker,
            webhook_worker,
            config,
            authz_listener,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or(self.config.listen)
    }

    /// Makes this instance ignore PostgreSQL's notifications of other
    /// instances' changes, as when its LISTEN connection dies silently: only
    /// the change counter poll keeps its index current. For tests.
    pub fn deafen_authz_listener(&self) {
        if let Some(listener) = &self.authz_listener {
            listener.deafen();
        }
    }

    pub fn store(&self) -> Arc<dyn Store> {
        self.state.store.clone()
    }

    /// The service layer (tests run its periodic jobs on demand).
    pub fn services(&self) -> Arc<gardien_service::Services> {
        self.state.services.clone()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests and
    /// stops the mail worker after its current message.
    pub async fn run_until_stopped(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartError> {
        let listen = self.local_addr();
        let (stop_tx, stop_rx) = watch::channel(false);
        let webhook_worker = tokio::spawn(self.webhook_worker.run(stop_rx.clone()));
        let worker = tokio::spawn(self.worker.run(stop_rx));
        let retention = self
            .config
            .audit_retention_days
            .map(|days| crate::retention::spawn(self.state.services.clone(), days));
        let expiry_sweep = crate::retention::spawn_expiry_sweep(self.state.services.clone());
        tracing::info!(
            %listen,
            public_url = %self.config.public_url,
            backend = ?self.state.store.backend(),
            "gardien is serving"
        );
        let router = gardien_web::router(self.state);
        axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(StartError::Serve)?;
        let _ = stop_tx.send(true);
        let _ = worker.await;
        let _ = webhook_worker.await;
        if let Some(retention) = retention {
            retention.abort();
        }
        expiry_sweep.abort();
        drop(self.authz_listener);
        tracing::info!("gardien stopped");
        Ok(())
    }
}

/// Opens the store; for SQLite, makes sure the file's folder exists first.
pub async fn open_store(url: &str) -> Result<Arc<dyn Store>, StartError> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .map(|p| p.split('?').next().unwrap_or(p))
    {
        if let Some(parent) = std::path::Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            ensure_writable_dir(parent, "database")?;
        }
    }
    Ok(gardien_store::connect(url).await?)
}

/// Resolves when the process receives Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown requested: finishing in-flight requests");
}
