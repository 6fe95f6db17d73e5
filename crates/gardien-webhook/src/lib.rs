//! Delivers the webhook outbox: leases due messages from the store, signs
//! each per the Standard Webhooks specification (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature`), POSTs it to its endpoint and
//! logs the attempt — delivered on a 2xx answer, else retried on the
//! [`RetrySchedule`] and abandoned after its last attempt.
//!
//! Delivery is at least once: a crash between the endpoint's answer and the
//! record sends the message again when its lease expires, with the same
//! `webhook-id`, so receivers can recognise the duplicate.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gardien_core::webhook::{self, RetrySchedule};
use gardien_store::{
    Store, StoreError, WebhookAttempt, WebhookDelivery, WebhookOutcome, WEBHOOK_RESPONSE_MAX,
};
use time::OffsetDateTime;
use tokio::sync::{watch, Notify};

/// How the worker paces itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// How long the worker sleeps when nothing is due (a commit that
    /// enqueued messages on this instance wakes it at once).
    pub poll_interval: Duration,
    /// How long one attempt may take, connection included.
    pub timeout: Duration,
    /// Messages claimed per pass.
    pub batch_size: u32,
    /// When failed deliveries are tried again.
    pub schedule: RetrySchedule,
    /// Whether endpoints may be on loopback or private networks (local
    /// development, tests). Off, a delivery goes only to public addresses,
    /// checked on the address actually connected to (after DNS).
    pub allow_private_networks: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            batch_size: 20,
            schedule: RetrySchedule::default(),
            allow_private_networks: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("the webhook HTTP client cannot be built: {0}")]
    Client(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Delivers the webhook outbox.
pub struct Worker {
    store: Arc<dyn Store>,
    client: reqwest::Client,
    settings: WebhookSettings,
    wake: Arc<Notify>,
}

impl Worker {
    pub fn new(store: Arc<dyn Store>, settings: WebhookSettings) -> Result<Self, WebhookError> {
        let mut client = reqwest::Client::builder();
        if !settings.allow_private_networks {
            client = client.dns_resolver(Arc::new(PublicOnly));
        }
        let client = client
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            // A redirect is an answer that is not 2xx: the endpoint's
            // address is what its organization configured, nothing else.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Gardien-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| WebhookError::Client(e.to_string()))?;
        let wake = store.webhook_wake().unwrap_or_default();
        Ok(Self {
            store,
            client,
            settings,
            wake,
        })
    }

    /// A lease outlives the longest attempt, so two instances never send a
    /// message at the same time.
    fn lease(&self) -> time::Duration {
        time::Duration::try_from(self.settings.timeout * 2 + Duration::from_secs(30))
            .unwrap_or(time::Duration::minutes(1))
    }

    /// One pass over the messages due now; how many were delivered.
    pub async fn deliver_due(&self) -> Result<usize, WebhookError> {
        Ok(self.pass(None).await?.1)
    }

    /// Delivers until `shutdown` becomes true (or its sender is dropped).
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(
            poll_interval = ?self.settings.poll_interval,
            timeout = ?self.settings.timeout,
            "webhook worker started"
        );
        loop {
            if *shutdown.borrow() {
                break;
            }
            let full_batch = match self.pass(Some(&shutdown)).await {
                Ok((claimed, _)) => claimed >= self.settings.batch_size as usize,
                Err(error) => {
                    tracing::warn!(%error, "webhook outbox pass failed; retrying after the poll interval");
                    false
                }
            };
            if full_batch {
                continue;
            }
            tokio::select! {
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.settings.poll_interval) => {}
            }
        }
        tracing::info!("webhook worker stopped");
    }

    /// `(claimed, delivered)`.
    async fn pass(
        &self,
        shutdown: Option<&watch::Receiver<bool>>,
    ) -> Result<(usize, usize), WebhookError> {
        let claimed = self
            .store
            .claim_webhooks(
                OffsetDateTime::now_utc(),
                self.lease(),
                self.settings.batch_size.max(1),
            )
            .await?;
        let count = claimed.len();
        let mut delivered = 0;
        for delivery in claimed {
            if shutdown.is_some_and(|s| *s.borrow()) {
                // The rest returns to the outbox when its lease expires.
                break;
            }
            if self.deliver_one(delivery).await? {
                delivered += 1;
            }
        }
        Ok((count, delivered))
    }

    /// Sends one claimed message and records the attempt; `Ok(true)` when
    /// delivered. An error only when the attempt could not be recorded.
    async fn deliver_one(&self, delivery: WebhookDelivery) -> Result<bool, WebhookError> {
        let message = &delivery.message;
        let attempted_at = OffsetDateTime::now_utc();
        let started = Instant::now();
        let internal = if self.settings.allow_private_networks {
            None
        } else {
            literal_internal_address(&delivery.url)
        };
        let (http_status, error, response) = match webhook::secret_key(&delivery.secret) {
            Err(_) => (
                None,
                Some("the endpoint's secret is unusable".to_owned()),
                String::new(),
            ),
            Ok(_) if internal.is_some() => (
                None,
                internal.map(|ip| NotPublic(ip.to_string()).to_string()),
                String::new(),
            ),
            Ok(key) => {
                let id = message.id.to_string();
                let timestamp = attempted_at.unix_timestamp();
                let signature = webhook::sign(&key, &id, timestamp, &message.payload);
                let sent = self
                    .client
                    .post(&delivery.url)
                    .header("content-type", "application/json")
                    .header("webhook-id", &id)
                    .header("webhook-timestamp", timestamp.to_string())
                    .header("webhook-signature", signature)
                    .body(message.payload.clone())
                    .send()
                    .await;
                match sent {
                    Ok(answer) => {
                        let status = answer.status().as_u16();
                        (Some(status), None, snippet(answer).await)
                    }
                    Err(e) => (None, Some(describe(&e)), String::new()),
                }
            }
        };
        let success = http_status.is_some_and(|s| (200..300).contains(&s));
        let outcome = if success {
            WebhookOutcome::Delivered
        } else {
            match self.settings.schedule.delay_after(message.attempts) {
                Some(delay) => WebhookOutcome::Retry(attempted_at + delay),
                None => WebhookOutcome::Failed,
            }
        };
        let attempt = WebhookAttempt {
            message_id: message.id,
            attempted_at,
            http_status,
            error: error.clone(),
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            response,
        };
        self.store.record_webhook_attempt(&attempt, outcome).await?;
        let why = error.unwrap_or_else(|| format!("HTTP {}", http_status.unwrap_or_default()));
        match outcome {
            WebhookOutcome::Delivered => {
                tracing::info!(webhook_id = %message.id, event = %message.event_type, attempt = message.attempts, "webhook delivered")
            }
            WebhookOutcome::Retry(at) => {
                tracing::warn!(webhook_id = %message.id, attempt = message.attempts, %why, retry_at = %at, "webhook delivery failed; will retry")
            }
            WebhookOutcome::Failed => {
                tracing::error!(webhook_id = %message.id, attempt = message.attempts, %why, "webhook delivery failed; giving up")
            }
        }
        Ok(success)
    }
}

/// The start of an answer's body, read no further than needed.
async fn snippet(mut answer: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < WEBHOOK_RESPONSE_MAX * 4 {
        match answer.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    String::from_utf8_lossy(&bytes)
        .chars()
        .take(WEBHOOK_RESPONSE_MAX)
        .collect()
}

/// A delivery refused because its host is not a public address.
#[derive(Debug, thiserror::Error)]
#[error("refused: {0} is not a public address (endpoints on loopback or private networks need --webhook-allow-private-networks)")]
struct NotPublic(String);

/// Resolves host names to their public addresses only; a name with none is
/// refused, so a name pointing inside the network (or made to, by a DNS
/// answer changed after registration) reaches nothing.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|address| webhook::is_public_address(address.ip()))
                .collect();
            if addresses.is_empty() {
                return Err(Box::new(NotPublic(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The URL's host when it is an IP address that is not public (a literal
/// address is connected to without resolving).
fn literal_internal_address(url: &str) -> Option<IpAddr> {
    let url = reqwest::Url::parse(url).ok()?;
    let host = url.host_str()?;
    let ip: IpAddr = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()?;
    (!webhook::is_public_address(ip)).then_some(ip)
}

/// Why a request got no answer, in a few words for the delivery log.
fn describe(error: &reqwest::Error) -> String {
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        if let Some(refused) = inner.downcast_ref::<NotPublic>() {
            return refused.to_string();
        }
        source = inner.source();
    }
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        "could not connect".into()
    } else {
        let mut text = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(inner) = source {
            text.push_str(": ");
            text.push_str(&inner.to_string());
            source = inner.source();
        }
        text
    }
}
