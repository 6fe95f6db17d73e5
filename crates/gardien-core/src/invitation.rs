//! Invitations: emailed, single-use, expiring links that create or attach an
//! account and a membership.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{AccountId, Email, InvitationId, Language, MembershipId, OrganizationId};

/// Where an invitation stands. `expired` is derived from the time, never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationState {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

/// An invitation as stored (the token itself is never stored, only its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub id: InvitationId,
    pub organization_id: OrganizationId,
    pub membership_id: MembershipId,
    pub email: Email,
    pub language: Language,
    pub invited_by: Option<AccountId>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub accepted_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

impl Invitation {
    /// The state at `now`.
    pub fn state(&self, now: OffsetDateTime) -> InvitationState {
        if self.accepted_at.is_some() {
            InvitationState::Accepted
        } else if self.revoked_at.is_some() {
            InvitationState::Revoked
        } else if now >= self.expires_at {
            InvitationState::Expired
        } else {
            InvitationState::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    #[test]
    fn state_follows_time_and_decisions() {
        let now = OffsetDateTime::now_utc();
        let mut inv = Invitation {
            id: InvitationId::new(),
            organization_id: OrganizationId::new(),
            membership_id: MembershipId::new(),
            email: Email::parse("a@b.fr").unwrap(),
            language: Language::Fr,
            invited_by: None,
            created_at: now,
            expires_at: now + Duration::days(7),
            accepted_at: None,
            revoked_at: None,
        };
        assert_eq!(inv.state(now), InvitationState::Pending);
        assert_eq!(inv.state(now + Duration::days(7)), InvitationState::Expired);
        inv.revoked_at = Some(now);
        assert_eq!(inv.state(now), InvitationState::Revoked);
        inv.accepted_at = Some(now);
        assert_eq!(
            inv.state(now + Duration::days(30)),
            InvitationState::Accepted
        );
    }
}
