//! The outbox delivery worker: leases due messages from the store, sends
//! each through the [`Mailer`], and records the outcome — sent, retried later
//! with exponential back-off, or abandoned after the last attempt.
//!
//! Messages to different recipients go out side by side (at most
//! [`WorkerSettings::concurrency`] at once, over the transport's pooled
//! connections), so one slow exchange does not hold up every other
//! recipient's mail; the messages of one recipient go out one after the
//! other, in the order they were written, so an invitation does not arrive
//! after the mail that withdraws it (unless its attempt failed: a retry
//! comes later, after the messages behind it).
//!
//! Delivery is at least once: a crash between the server's answer and
//! `mark_mail_sent` sends the message again when its lease expires, with the
//! same `Message-ID`, so receivers can recognise the duplicate.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{stream, StreamExt as _};

use gardien_store::{NewMail, OutboxMessage, Store};
use time::OffsetDateTime;
use tokio::sync::{watch, Notify};

use crate::{MailError, Mailer, Sender, Transport};

/// How the worker paces itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerSettings {
    /// How long the worker sleeps when the outbox is empty (it wakes earlier
    /// through its [`WakeHandle`]).
    pub poll_interval: Duration,
    /// How long a claimed message is reserved for this worker. Longer than
    /// one SMTP exchange, so two instances never send the same message at once.
    pub lease: Duration,
    /// Messages claimed per pass.
    pub batch_size: u32,
    /// Recipients whose mail is being sent at the same time.
    pub concurrency: usize,
    /// Attempts after which a message is abandoned.
    pub max_attempts: u32,
    /// Delay before the second attempt; doubled after each further failure.
    pub retry_base: Duration,
    /// Longest delay between two attempts.
    pub retry_cap: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(1),
            lease: Duration::from_secs(60),
            batch_size: 20,
            concurrency: 8,
            max_attempts: 8,
            retry_base: Duration::from_secs(30),
            retry_cap: Duration::from_secs(3600),
        }
    }
}

impl WorkerSettings {
    /// The delay after the failure of attempt number `attempts` (1-based):
    /// `retry_base · 2^(attempts − 1)`, at most `retry_cap`.
    pub fn retry_delay(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(31);
        self.retry_base
            .checked_mul(1u32 << doublings)
            .map_or(self.retry_cap, |delay| delay.min(self.retry_cap))
    }
}

/// Wakes the worker at once, e.g. right after a transaction that enqueued
/// mail committed, instead of waiting for the next poll.
#[derive(Debug, Clone)]
pub struct WakeHandle(Arc<Notify>);

impl WakeHandle {
    pub fn wake(&self) {
        // `notify_one` keeps a permit when the worker is busy: a wake during
        // a pass triggers one more pass right after it.
        self.0.notify_one();
    }
}

/// Delivers the outbox.
pub struct Worker {
    store: Arc<dyn Store>,
    mailer: Mailer,
    settings: WorkerSettings,
    wake: Arc<Notify>,
}

/// What one pass did.
struct Pass {
    claimed: usize,
    sent: usize,
}

impl Worker {
    /// Fails only on a bad transport configuration.
    pub fn new(
        store: Arc<dyn Store>,
        transport: Transport,
        sender: Sender,
        settings: WorkerSettings,
    ) -> Result<Self, MailError> {
        Ok(Self {
            store,
            mailer: Mailer::new(transport, sender)?,
            settings,
            wake: Arc::new(Notify::new()),
        })
    }

    pub fn settings(&self) -> &WorkerSettings {
        &self.settings
    }

    pub fn wake_handle(&self) -> WakeHandle {
        WakeHandle(self.wake.clone())
    }

    /// One pass over the messages due now; returns how many were sent.
    pub async fn deliver_due(&self) -> Result<usize, MailError> {
        self.deliver_due_at(OffsetDateTime::now_utc()).await
    }

    /// One pass over the messages due at `now` (tests move the clock with it).
    pub async fn deliver_due_at(&self, now: OffsetDateTime) -> Result<usize, MailError> {
        Ok(self.pass(now, None).await?.sent)
    }

    /// Delivers until `shutdown` becomes true (or its sender is dropped). On
    /// shutdown the message being sent is finished and recorded; messages
    /// claimed but not yet attempted return to the outbox when their lease
    /// expires.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(
            sender = %self.mailer.sender(),
            poll_interval = ?self.settings.poll_interval,
            "mail worker started"
        );
        loop {
            if *shutdown.borrow() {
                break;
            }
            let full_batch = match self.pass(OffsetDateTime::now_utc(), Some(&shutdown)).await {
                Ok(pass) => pass.claimed >= self.settings.batch_size as usize,
                Err(error) => {
                    tracing::warn!(%error, "mail outbox pass failed; retrying after the poll interval");
                    false
                }
            };
            if full_batch {
                // More may be due right now.
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
        tracing::info!("mail worker stopped");
    }

    async fn pass(
        &self,
        now: OffsetDateTime,
        shutdown: Option<&watch::Receiver<bool>>,
    ) -> Result<Pass, MailError> {
        let lease = time::Duration::try_from(self.settings.lease)
            .map_err(|e| MailError::Config(format!("mail lease: {e}")))?;
        let claimed = self
            .store
            .claim_mail(now, lease, self.settings.batch_size.max(1))
            .await?;
        let claimed_count = claimed.len();
        let stopping = || shutdown.is_some_and(|s| *s.borrow());
        let sent: Vec<Result<usize, MailError>> = stream::iter(by_recipient(claimed))
            .map(|queue| async move {
                let mut sent = 0;
                for message in queue {
                    if stopping() {
                        break;
                    }
                    if self.deliver_one(message, now).await? {
                        sent += 1;
                    }
                }
                Ok(sent)
            })
            .buffer_unordered(self.settings.concurrency.max(1))
            .collect()
            .await;
        let mut pass = Pass {
            claimed: claimed_count,
            sent: 0,
        };
        for sent in sent {
            pass.sent += sent?;
        }
        Ok(pass)
    }

    /// Sends one claimed message and records the outcome. `Ok(true)` when
    /// sent; an error only when the outcome could not be recorded.
    async fn deliver_one(
        &self,
        message: OutboxMessage,
        now: OffsetDateTime,
    ) -> Result<bool, MailError> {
        let id = message.id;
        let attempt = message.attempts;
        let mail = NewMail {
            id,
            to: message.to,
            subject: message.subject,
            text_body: message.text_body,
            html_body: message.html_body,
        };
        match self.mailer.send(&mail).await {
            Ok(()) => {
                // After a successful send, the clock of the record is the
                // real one: `now` may be a test's shifted clock, or stale.
                let at = OffsetDateTime::now_utc().max(now);
                self.store.mark_mail_sent(id, at).await?;
                tracing::info!(mail_id = %id, attempt, "mail sent");
                Ok(true)
            }
            Err(error) => {
                let give_up = !error.is_retryable() || attempt >= self.settings.max_attempts;
                let retry_at = if give_up {
                    None
                } else {
                    Some(now + self.settings.retry_delay(attempt))
                };
                self.store
                    .mark_mail_failed(id, &error.to_string(), retry_at)
                    .await?;
                match retry_at {
                    Some(retry_at) => {
                        tracing::warn!(mail_id = %id, attempt, %error, %retry_at, "mail delivery failed; will retry")
                    }
                    None => {
                        tracing::error!(mail_id = %id, attempt, %error, "mail delivery failed; giving up")
                    }
                }
                Ok(false)
            }
        }
    }
}

/// `messages` (in the order they were written) as one queue per recipient,
/// each in that order; queues in the order of their first message.
fn by_recipient(messages: Vec<OutboxMessage>) -> Vec<Vec<OutboxMessage>> {
    let mut queues: Vec<Vec<OutboxMessage>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for message in messages {
        let key = message.to.as_str().to_lowercase();
        match index.get(&key) {
            Some(&i) => queues[i].push(message),
            None => {
                index.insert(key, queues.len());
                queues.push(vec![message]);
            }
        }
    }
    queues
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(to: &str, n: u32) -> OutboxMessage {
        OutboxMessage {
            id: gardien_core::MailId::new(),
            to: gardien_core::Email::parse(to).unwrap(),
            subject: format!("message {n}"),
            text_body: String::new(),
            html_body: String::new(),
            attempts: n,
            created_at: OffsetDateTime::UNIX_EPOCH,
            sent_at: None,
            failed_at: None,
            last_error: None,
        }
    }

    #[test]
    fn each_recipient_gets_one_queue_in_the_order_written() {
        let messages = vec![
            message("ana@example.fr", 1),
            message("bruno@example.fr", 2),
            message("ana@example.fr", 3),
            message("carla@example.fr", 4),
            message("bruno@example.fr", 5),
        ];
        let queues: Vec<Vec<(String, u32)>> = by_recipient(messages)
            .into_iter()
            .map(|q| {
                q.into_iter()
                    .map(|m| (m.to.as_str().to_owned(), m.attempts))
                    .collect()
            })
            .collect();
        assert_eq!(
            queues,
            [
                vec![
                    ("ana@example.fr".to_owned(), 1),
                    ("ana@example.fr".to_owned(), 3)
                ],
                vec![
                    ("bruno@example.fr".to_owned(), 2),
                    ("bruno@example.fr".to_owned(), 5)
                ],
                vec![("carla@example.fr".to_owned(), 4)],
            ]
        );
    }

    #[test]
    fn retry_delay_doubles_up_to_the_cap() {
        let settings = WorkerSettings::default();
        let secs = |n| settings.retry_delay(n).as_secs();
        assert_eq!(
            (1..=9).map(secs).collect::<Vec<_>>(),
            [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
        );
        assert_eq!(secs(0), 30);
        assert_eq!(secs(u32::MAX), 3600);
    }
}
