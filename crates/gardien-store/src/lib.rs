//! Gardien's storage: one [`Store`] interface and two real back ends through
//! sqlx, SQLite (the embedded default) and PostgreSQL (for scale-out).
//!
//! Every change runs in a [`Transaction`]: the service layer validates,
//! authorizes, writes the change, its audit event and its outbox mail, then
//! commits once — so there is never a change without its event or its mail.

mod access;
mod api;
mod audit;
mod authz;
mod engine;
mod error;
mod oidc;
mod postgres;
mod roles;
mod rows;
mod sql;
mod sqlite;
pub mod test_support;

pub use api::*;
pub use audit::{
    ActionFilter, ActorLabel, AuditCursor, AuditEntry, AuditFilter, AuditPage, PurgedCount,
    ReviewAssignment, ReviewMember, AUDIT_BATCH_MAX, DELETED_ACCOUNT_DOMAIN,
};
pub use authz::{ApiKey, AuthzCounters, AuthzListener, API_KEYS_CHANNEL, AUTHZ_CHANNEL};
pub use error::StoreError;
pub use oidc::{OidcClient, OidcCode, OidcGrant, RefreshTokenRecord, SigningKeyRecord, Used};

use std::sync::Arc;

/// Opens the database named by `url` (`sqlite://path` or `postgres://…`),
/// creating an SQLite file if needed, and brings its schema up to date.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::connect(url, None).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::connect(url).await?))
    } else {
        Err(StoreError::Config(format!(
            "the database URL must start with sqlite:// or postgres://, not '{}'",
            url.split(':').next().unwrap_or_default()
        )))
    }
}
