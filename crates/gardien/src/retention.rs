//! The audit retention purge (`--audit-retention-days`): at start-up, then
//! every hour, events older than the retention period are deleted and each
//! organization's purge is recorded as an `audit.purged` event (see
//! `gardien-service`'s `audit_trail.rs`). Without the setting, nothing runs
//! and events are kept forever.

use std::sync::Arc;
use std::time::Duration;

use gardien_service::Services;

/// How often the purge runs.
pub const PURGE_INTERVAL: Duration = Duration::from_secs(3600);

/// Starts the purge loop; abort the handle to stop it.
pub(crate) fn spawn(services: Arc<Services>, retention_days: u32) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(PURGE_INTERVAL);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match services.purge_audit_events(retention_days).await {
                Ok(purged) => {
                    let deleted: u64 = purged.iter().map(|p| p.deleted).sum();
                    if deleted > 0 {
                        tracing::info!(deleted, retention_days, "audit events purged");
                    }
                }
                // A busy or unreachable database: the next run tries again.
                Err(error) => tracing::warn!(%error, "the audit retention purge failed"),
            }
        }
    })
}
