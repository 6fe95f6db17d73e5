//! The storage layer's error.

/// What went wrong in storage. The web layer maps it to a response once.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule refused the write; `constraint` names which
    /// (`accounts_email`, `memberships_account`, `roles_name`, …).
    #[error("conflict on {constraint}")]
    Conflict { constraint: &'static str },
    /// A row the change depends on does not exist (or is in another organization).
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// A constraint of the schema refused the write (foreign key, check).
    #[error("refused by the schema: {0}")]
    Invalid(String),
    /// The database URL or options are wrong.
    #[error("{0}")]
    Config(String),
    /// The database cannot be reached or opened.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Stored data no longer parses (should never happen; a bug or tampering).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}
