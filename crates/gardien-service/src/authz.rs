//! Keeps the in-memory authorization index exact (see `gardien-authz`'s
//! header for the why).
//!
//! - Every write that changes access commits through
//!   [`Services::commit_with_changes`]: inside the transaction it takes the
//!   next version of the deployment's change counter (row lock: versions
//!   commit in order) and records each change with its version; after the
//!   commit it applies them to the index *before* the caller answers, so a
//!   revocation is in force when the administrator sees "saved".
//! - Commit and apply are serialized by one async mutex, so this instance
//!   applies its own changes in version order. A [`ApplyOutcome::Gap`] (a
//!   change of another instance not heard of yet) is filled from the change
//!   log, never skipped.
//! - At start-up [`Services::load_authz`] reads a consistent snapshot.
//! - On PostgreSQL, [`spawn_authz_listener`] wakes on `NOTIFY gardien_authz`
//!   and applies the changes other instances committed, read from the log;
//!   after a lost connection it catches up the same way.
//! - If the index cannot be brought up to date (the database is down right
//!   after a commit), it is marked out of date and checks answer 503 until a
//!   catch-up succeeds: a stale index never answers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use gardien_authz::{ApplyOutcome, AuthzIndex, Change, VersionedChange};
use gardien_store::{AuthzListener, Store, Transaction};
use time::OffsetDateTime;

use crate::{ServiceError, Services};

/// The index and what keeps it in step with the database. Shared with the
/// task that commits (see [`Services::commit_with_changes`]).
#[derive(Clone)]
pub(crate) struct AuthzState {
    pub(crate) index: Arc<AuthzIndex>,
    /// Held across commit and apply (and by catch-ups).
    writer: Arc<tokio::sync::Mutex<()>>,
    /// False until loaded, and after a failed catch-up.
    current: Arc<AtomicBool>,
    /// Live API keys already seen (see `api_keys.rs`).
    pub(crate) keys: Arc<crate::api_keys::KeyCache>,
}

impl Default for AuthzState {
    fn default() -> Self {
        Self {
            index: Arc::new(AuthzIndex::new()),
            writer: Arc::new(tokio::sync::Mutex::new(())),
            current: Arc::new(AtomicBool::new(false)),
            keys: Arc::default(),
        }
    }
}

impl AuthzState {
    /// Applies every change committed after the index's version, from the
    /// change log. The caller holds `writer`.
    async fn catch_up_locked(&self, store: &dyn Store) -> Result<(), ServiceError> {
        let result = self.read_and_apply(store).await;
        self.current.store(result.is_ok(), Ordering::Release);
        result
    }

    async fn read_and_apply(&self, store: &dyn Store) -> Result<(), ServiceError> {
        let changes = store.authz_changes_after(self.index.version()).await?;
        for change in &changes {
            if let ApplyOutcome::Gap { expected, got } = self.index.apply(change) {
                // The log itself has a hole: only a fresh snapshot is exact.
                tracing::warn!(expected, got, "gap in the change log: reloading the index");
                self.index.load(store.authz_snapshot().await?);
                return Ok(());
            }
        }
        Ok(())
    }

    /// Records, commits and applies (see [`Services::commit_with_changes`]).
    async fn commit_and_apply(
        &self,
        store: &dyn Store,
        mut tx: Box<dyn Transaction>,
        changes: Vec<Change>,
    ) -> Result<(), ServiceError> {
        let _writer = self.writer.lock().await;
        let now = OffsetDateTime::now_utc();
        let mut versioned = Vec::with_capacity(changes.len());
        for change in changes {
            let version = tx.next_authz_version().await?;
            let change = VersionedChange { version, change };
            tx.record_authz_change(&change, now).await?;
            versioned.push(change);
        }
        if let Err(error) = tx.commit().await {
            // A connection lost during COMMIT leaves it unknown whether the
            // change committed: the log says.
            if let Err(error) = self.catch_up_locked(store).await {
                tracing::error!(%error, "authorization index out of date: checks refused until it catches up");
            }
            return Err(error.into());
        }
        for change in &versioned {
            if let ApplyOutcome::Gap { .. } = self.index.apply(change) {
                // Another instance committed in between: read it (and ours) from the log.
                if let Err(error) = self.catch_up_locked(store).await {
                    tracing::error!(%error, "authorization index out of date: checks refused until it catches up");
                }
                break;
            }
        }
        Ok(())
    }
}

impl Services {
    /// The authorization index (for in-process checks).
    pub fn authz_index(&self) -> &Arc<AuthzIndex> {
        &self.authz.index
    }

    /// What a person may do in an organization, to choose the links of the
    /// page layout. Never used to authorize (each use case does): empty while
    /// the index is out of date.
    pub fn navigation_permissions(
        &self,
        account: gardien_core::AccountId,
        organization: gardien_core::OrganizationId,
    ) -> std::collections::BTreeSet<gardien_core::PermissionKey> {
        if self.authz_is_current() {
            self.authz
                .index
                .effective_permissions(account, organization)
        } else {
            std::collections::BTreeSet::new()
        }
    }

    /// Whether the index holds every committed change this instance knows of.
    pub fn authz_is_current(&self) -> bool {
        self.authz.current.load(Ordering::Acquire)
    }

    /// Loads the index from a consistent snapshot of the database (start-up).
    pub async fn load_authz(&self) -> Result<(), ServiceError> {
        let _writer = self.authz.writer.lock().await;
        let snapshot = self.store.authz_snapshot().await?;
        tracing::info!(
            version = snapshot.version,
            roles = snapshot.roles.len(),
            memberships = snapshot.memberships.len(),
            "authorization index loaded"
        );
        self.authz.index.load(snapshot);
        self.authz.current.store(true, Ordering::Release);
        Ok(())
    }

    /// Applies every change committed after the index's version, from the
    /// change log (another instance's writes, or after a lost notification).
    pub async fn catch_up_authz(&self) -> Result<(), ServiceError> {
        let _writer = self.authz.writer.lock().await;
        self.authz.catch_up_locked(&*self.store).await
    }

    /// Records `changes` in `tx`, commits it, and applies them to the index
    /// before returning: the one way a write that changes access commits.
    ///
    /// Runs in its own task: a client that disconnects drops the request's
    /// future, and that must never stop between commit and apply.
    pub(crate) async fn commit_with_changes(
        &self,
        tx: Box<dyn Transaction>,
        changes: Vec<Change>,
    ) -> Result<(), ServiceError> {
        if changes.is_empty() {
            tx.commit().await?;
            return Ok(());
        }
        let state = self.authz.clone();
        let store = self.store.clone();
        match tokio::spawn(async move { state.commit_and_apply(&*store, tx, changes).await }).await
        {
            Ok(result) => result,
            Err(panicked) => {
                // Unknown whether it committed: refuse checks until the log says.
                self.authz.current.store(false, Ordering::Release);
                tracing::error!(error = %panicked, "the commit task failed");
                self.catch_up_authz().await?;
                Err(ServiceError::Store(gardien_store::StoreError::Unavailable(
                    panicked.to_string(),
                )))
            }
        }
    }
}

/// How often, by default, an instance on PostgreSQL reads the change counter
/// to notice a change it was not notified of (see [`spawn_authz_listener`]).
pub const DEFAULT_AUTHZ_POLL: std::time::Duration = std::time::Duration::from_millis(500);

/// The background task of [`spawn_authz_listener`]; stops when dropped.
pub struct AuthzListenerHandle {
    task: tokio::task::JoinHandle<()>,
    deaf: Arc<AtomicBool>,
}

impl AuthzListenerHandle {
    /// From now on, notifications are received and ignored, as when the LISTEN
    /// connection dies without an error (a half-open TCP connection): only the
    /// poll keeps the index current. For tests of that bound.
    pub fn deafen(&self) {
        self.deaf.store(true, Ordering::Release);
    }
}

impl Drop for AuthzListenerHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// On PostgreSQL, applies the changes other instances commit, as soon as
/// PostgreSQL notifies them; nothing on SQLite. Runs until the handle is
/// dropped.
///
/// A notification can be lost without any error: a LISTEN connection whose
/// peer vanished (half-open TCP) just stays silent. So the task also reads
/// the deployment's change counter and the number of revoked API keys every
/// `poll` (one cheap query): when the counter is ahead of the index it
/// catches up from the change log, when a key was revoked it forgets the
/// keys it remembers. An instance thus serves a change made elsewhere at the
/// latest `poll` (plus one query) after its commit, even with a deaf
/// listener; and when a poll finds the index behind twice in a row with no
/// notification heard in between, the listener is presumed deaf and opened
/// again.
pub async fn spawn_authz_listener(
    services: Arc<Services>,
    database_url: &str,
    poll: std::time::Duration,
) -> Result<Option<AuthzListenerHandle>, ServiceError> {
    let Some(listener) = AuthzListener::connect(database_url).await? else {
        return Ok(None);
    };
    // Changes committed between the snapshot and LISTEN.
    services.catch_up_authz().await?;
    let counters = services.store.authz_counters().await?;
    let deaf = Arc::new(AtomicBool::new(false));
    let watch = Watch {
        services,
        database_url: database_url.to_owned(),
        deaf: deaf.clone(),
        revoked_api_keys: counters.revoked_api_keys,
    };
    let task = tokio::spawn(watch.run(listener, poll.max(std::time::Duration::from_millis(10))));
    Ok(Some(AuthzListenerHandle { task, deaf }))
}

/// The state of [`spawn_authz_listener`]'s task.
struct Watch {
    services: Arc<Services>,
    database_url: String,
    deaf: Arc<AtomicBool>,
    /// As of the last poll.
    revoked_api_keys: u64,
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Waits for notifications in its own task (so that a wait is never
/// cancelled halfway through a message) and wakes the watch on each.
fn spawn_hearing(
    mut listener: AuthzListener,
    wake: Arc<tokio::sync::Notify>,
    deaf: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let received = listener.wait().await;
            if deaf.load(Ordering::Acquire) {
                continue;
            }
            if let Err(error) = received {
                tracing::warn!(%error, "change listener failed; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            // A notification, a lost connection or an error: the log says
            // what is missing.
            wake.notify_one();
        }
    })
}

impl Watch {
    async fn run(mut self, listener: AuthzListener, poll: std::time::Duration) {
        let wake = Arc::new(tokio::sync::Notify::new());
        // Aborted when replaced, and when this task is.
        let mut hearing = AbortOnDrop(spawn_hearing(listener, wake.clone(), self.deaf.clone()));
        let mut ticks = tokio::time::interval(poll);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Whether a notification was heard since the last poll, and polls in
        // a row that found the index behind although none was.
        let mut heard = false;
        let mut unheard_lags = 0u32;
        loop {
            tokio::select! {
                _ = wake.notified() => {
                    heard = true;
                    // A key may have been revoked elsewhere.
                    self.services.authz.keys.clear();
                    self.catch_up().await;
                }
                _ = ticks.tick() => {
                    let lagged = self.poll().await;
                    unheard_lags = if lagged && !heard { unheard_lags + 1 } else { 0 };
                    heard = false;
                    if unheard_lags >= 2 {
                        unheard_lags = 0;
                        tracing::warn!("changes found by polling but not notified: listening again");
                        match AuthzListener::connect(&self.database_url).await {
                            Ok(Some(fresh)) => {
                                let fresh = spawn_hearing(fresh, wake.clone(), self.deaf.clone());
                                // Aborts the deaf one.
                                drop(std::mem::replace(&mut hearing, AbortOnDrop(fresh)));
                            }
                            Ok(None) => {}
                            Err(error) => tracing::warn!(%error, "cannot listen again yet"),
                        }
                    }
                }
            }
        }
    }

    /// Reads the counters; catches up when the index is behind (returns
    /// whether it was), forgets remembered keys when one was revoked.
    async fn poll(&mut self) -> bool {
        let counters = match self.services.store.authz_counters().await {
            Ok(counters) => counters,
            Err(error) => {
                tracing::warn!(%error, "cannot read the change counter");
                return false;
            }
        };
        if counters.revoked_api_keys != self.revoked_api_keys {
            self.revoked_api_keys = counters.revoked_api_keys;
            self.services.authz.keys.clear();
        }
        let behind = counters.version > self.services.authz.index.version();
        if behind {
            self.catch_up().await;
        }
        behind
    }

    async fn catch_up(&self) {
        if let Err(error) = self.services.catch_up_authz().await {
            tracing::error!(%error, "cannot read the change log; checks refused until it can");
        }
    }
}
