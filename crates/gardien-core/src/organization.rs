//! Organizations: the tenants.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::OrganizationId;

/// A tenant: a client company, a firm, a customer space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    pub id: OrganizationId,
    pub name: String,
    /// New members wait in `pending_activation` until an administrator activates them (seed 001).
    pub requires_activation: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}
