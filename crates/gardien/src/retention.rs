//! Housekeeping loops of the audit trail.
//!
//! - The retention purge (`--audit-retention-days`): at start-up, then
//!   every hour, events older than the retention period are deleted and
//!   each organization's purge is recorded as an `audit.purged` event (see
//!   `gardien-service`'s `audit_trail.rs`). Without the setting, nothing
//!   runs and events are kept forever.
//! - The expiry sweep, always on: at start-up, then every five minutes,
//!   each invitation whose link expired unused is recorded once as an
//!   `invitation.expired` event.

use std::sync::Arc;
use std::time::Duration;

use gardien_service::Services;

/// How often the purge runs.
pub const PURGE_INTERVAL: Duration = Duration::from_secs(3600);

/// How often the expiry sweep runs.
pub const EXPIRY_SWEEP_INTERVAL: Duration = Duration::from_secs(300);

/// Starts the expiry sweep; abort the handle to stop it.
pub(crate) fn spawn_expiry_sweep(services: Arc<Services>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(EXPIRY_SWEEP_INTERVAL);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match services.record_expired_invitations().await {
                Ok(0) => {}
                Ok(recorded) => tracing::info!(recorded, "expired invitations recorded"),
                // A busy or unreachable database: the next run tries again.
                Err(error) => tracing::warn!(%error, "the invitation expiry sweep failed"),
            }
        }
    })
}

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
