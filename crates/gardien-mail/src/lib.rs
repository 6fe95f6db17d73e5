//! Gardien's mail: fr/en templates rendered into the transactional outbox,
//! the SMTP and folder transports, and the worker that delivers the outbox.
//!
//! The service layer renders a [`MailTemplate`] with [`new_mail`] and
//! enqueues it in the transaction of the change that causes it; the
//! [`Worker`] delivers committed messages only, retries failures with
//! back-off, and gives up after a bounded number of attempts.

mod error;
mod template;
mod transport;
mod worker;

#[cfg(feature = "testing")]
pub mod smtp_sink;

pub use error::MailError;
pub use template::{new_mail, render, MailTemplate, Rendered, PRODUCT_NAME};
pub use transport::{message_id, Mailer, Sender, SmtpSettings, SmtpTls, Transport};
pub use worker::{WakeHandle, Worker, WorkerSettings};
