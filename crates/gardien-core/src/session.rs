//! Browser sessions (flow 6): who is logged in, and in which organization.
//!
//! The cookie holds a [`crate::Token`]; only its hash is stored, as the
//! session's id. A session dies at the first of: its absolute expiry, its
//! idle timeout since last seen, or its revocation (logout).

use time::{Duration, OffsetDateTime};

use crate::{AccountId, Kind, OrganizationId, TokenHash};

/// How long sessions live: a deployment setting, applied to each session
/// when it starts (it keeps its own timeouts afterwards).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// At most this long, however active.
    pub lifetime: Duration,
    /// Dead after this long without a request.
    pub idle_timeout: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            lifetime: Session::LIFETIME,
            idle_timeout: Session::IDLE_TIMEOUT,
        }
    }
}

/// One session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The SHA-256 of the cookie's token.
    pub id: TokenHash,
    pub account_id: AccountId,
    /// The organization chosen at login, and the kind of that membership.
    pub organization: Option<(OrganizationId, Kind)>,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub idle_timeout: Duration,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub revoked_at: Option<OffsetDateTime>,
}

impl Session {
    /// How long a session lives at most, however active.
    pub const LIFETIME: Duration = Duration::hours(12);
    /// How long a session survives without a request.
    pub const IDLE_TIMEOUT: Duration = Duration::hours(2);

    /// A new, unbound session of `account`, created `now`, with the default
    /// [`SessionPolicy`].
    pub fn new(id: TokenHash, account_id: AccountId, now: OffsetDateTime) -> Self {
        Self::with_policy(id, account_id, now, SessionPolicy::default())
    }

    /// A new, unbound session under the deployment's `policy`.
    pub fn with_policy(
        id: TokenHash,
        account_id: AccountId,
        now: OffsetDateTime,
        policy: SessionPolicy,
    ) -> Self {
        Self {
            id,
            account_id,
            organization: None,
            created_at: now,
            last_seen_at: now,
            expires_at: now + policy.lifetime,
            idle_timeout: policy.idle_timeout,
            ip: None,
            user_agent: None,
            revoked_at: None,
        }
    }

    /// At most how stale `last_seen_at` may be: a request records its time
    /// only when the last record is at least this old, so that reading a page
    /// or the API does not cost a database write each time. A minute, or a
    /// tenth of a shorter idle timeout: the session then dies at most that
    /// much before its idle timeout after the last request.
    pub const LAST_SEEN_PRECISION: Duration = Duration::minutes(1);

    /// Whether a request at `now` should record it as the last activity.
    pub fn activity_due(&self, now: OffsetDateTime) -> bool {
        let precision = Self::LAST_SEEN_PRECISION.min(self.idle_timeout / 10);
        now - self.last_seen_at >= precision
    }

    /// Whether the session still works at `now`.
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none()
            && now < self.expires_at
            && now < self.last_seen_at + self.idle_timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Token;

    fn session(now: OffsetDateTime) -> Session {
        Session::new(
            Token::from_random_bytes([1; 32]).hash(),
            AccountId::new(),
            now,
        )
    }

    #[test]
    fn dies_when_idle_for_too_long() {
        let now = OffsetDateTime::now_utc();
        let s = session(now);
        assert!(s.is_live(now + Duration::minutes(119)));
        assert!(!s.is_live(now + Duration::minutes(120)));
    }

    #[test]
    fn records_activity_at_most_once_a_minute() {
        let now = OffsetDateTime::now_utc();
        let s = session(now);
        assert!(!s.activity_due(now));
        assert!(!s.activity_due(now + Duration::seconds(59)));
        assert!(s.activity_due(now + Duration::seconds(60)));
    }

    #[test]
    fn records_activity_more_often_under_a_short_idle_timeout() {
        let now = OffsetDateTime::now_utc();
        let mut s = session(now);
        s.idle_timeout = Duration::seconds(5);
        assert!(!s.activity_due(now + Duration::milliseconds(499)));
        assert!(s.activity_due(now + Duration::milliseconds(500)));
    }

    #[test]
    fn dies_at_its_absolute_expiry_even_when_active() {
        let now = OffsetDateTime::now_utc();
        let mut s = session(now);
        s.last_seen_at = now + Duration::hours(11) + Duration::minutes(59);
        assert!(s.is_live(now + Duration::hours(11) + Duration::minutes(59)));
        s.last_seen_at = now + Duration::hours(12);
        assert!(!s.is_live(now + Duration::hours(12)));
    }

    #[test]
    fn dies_when_revoked() {
        let now = OffsetDateTime::now_utc();
        let mut s = session(now);
        s.revoked_at = Some(now);
        assert!(!s.is_live(now));
    }
}
