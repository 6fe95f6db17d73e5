//! Audit events: the append-only record of who changed what, when, from where.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{AccountId, AuditEventId, OrganizationId};

/// Who performed a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Actor {
    Account(AccountId),
    ApiKey(uuid::Uuid),
    /// Gardien itself (expiry, retention purge, command line).
    System,
}

/// One audit event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: AuditEventId,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    pub organization_id: Option<OrganizationId>,
    pub actor: Actor,
    /// A stable dotted name: `membership.suspended`, `invitation.sent`, …
    pub action: String,
    /// What the change was about, as `kind:id` (`membership:0190…`).
    pub target: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

/// Where a change came from: filled by the web layer, carried to the audit event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}
