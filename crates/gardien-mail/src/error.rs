//! The mail layer's error.

use gardien_store::StoreError;

/// What went wrong while preparing or delivering mail.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The sender mailbox or the SMTP settings are wrong (a start-up error).
    #[error("mail configuration: {0}")]
    Config(String),
    /// A message could not be turned into a valid email (an address the
    /// transport refuses, for instance). Retrying will not help.
    #[error("the message cannot be built: {0}")]
    Message(String),
    /// The SMTP server could not be reached, or refused the message.
    #[error("SMTP delivery failed: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    /// The mail folder could not be written.
    #[error("cannot write to the mail folder {path}: {source}")]
    Folder {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// The outbox could not be read or updated.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl MailError {
    /// Whether another attempt may succeed: everything but a message that
    /// cannot be built. SMTP permanent (5xx) answers are retried too, because
    /// they are often a fixable server-side setting (a relay refusing an
    /// unauthenticated sender) and the outbox must not lose mail to it; the
    /// attempt limit bounds the cost.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, MailError::Message(_) | MailError::Config(_))
    }
}
