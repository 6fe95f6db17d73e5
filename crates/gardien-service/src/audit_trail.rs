//! Reading the audit trail and the access review (flow 14, seed 002
//! « auditez régulièrement »), and the retention purge.
//!
//! * Reading (page, API, export) needs `audit.read`; an organization sees
//!   only its own events (the store query always starts with it).
//! * The access review needs `audit.read` or `team.manage` to read; its one
//!   action, suspending a member, is the team's own use case
//!   ([`Services::change_member_status`]) and needs `team.manage`.
//! * The purge deletes events older than the retention period, the only
//!   deletion there is, and records one `audit.purged` event per organization
//!   in the same transaction.

use std::collections::HashMap;

use futures_util::stream::{self, BoxStream, StreamExt};
use gardien_core::audit::{Actor, RequestContext};
use gardien_core::invitation::Invitation;
use gardien_core::{
    AccountId, InvitationId, MembershipId, MembershipStatus, OrganizationId, Role, ValidationError,
};
use gardien_store::{
    ActionFilter, AuditCursor, AuditEntry, AuditFilter, AuditPage, PurgedCount, ReviewMember,
    AUDIT_BATCH_MAX, DELETED_ACCOUNT_DOMAIN,
};
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, OffsetDateTime, Time};

use crate::{audit, CurrentSession, ServiceError, Services, TEAM_MANAGE};

/// May read the organization's audit trail.
pub const AUDIT_READ: &str = "audit.read";
/// The access review's default: members without a login for this many days.
pub const REVIEW_DEFAULT_DAYS: u32 = 90;
/// The longest period the access review accepts (ten years).
pub const REVIEW_MAX_DAYS: u32 = 3650;
/// The page size of the audit page and the API's default.
pub const AUDIT_PAGE_DEFAULT: u32 = 50;

/// The audit filters as people and the API give them (text, blank = any).
#[derive(Debug, Clone, Default)]
pub struct AuditFilterInput {
    /// `2026-11-23` (that day's start, UTC) or RFC 3339.
    pub from: Option<String>,
    /// `2026-11-23` (that whole day included) or RFC 3339 (excluded).
    pub to: Option<String>,
    /// An account id.
    pub actor: Option<String>,
    /// `membership.suspended`, or a prefix ending with `.` or `*` (`membership.`).
    pub action: Option<String>,
    /// A membership id: the events about that member.
    pub member: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// Parsed filters: what the store is asked, plus the member to resolve.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
    pub actor: Option<AccountId>,
    pub action: Option<ActionFilter>,
    pub member: Option<MembershipId>,
    pub cursor: Option<AuditCursor>,
    pub limit: u32,
}

fn blank(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A date (`2026-11-23`, midnight UTC, plus one day when `end_of_day`) or
/// an RFC 3339 time.
fn parse_time(text: &str, end_of_day: bool) -> Option<OffsetDateTime> {
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(at);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = Date::parse(text, &format).ok()?;
    let start = day.with_time(Time::MIDNIGHT).assume_utc();
    Some(if end_of_day {
        start + Duration::days(1)
    } else {
        start
    })
}

/// The longest action filter accepted.
const ACTION_MAX: usize = 100;

impl AuditFilterInput {
    /// Checks every field, reporting each bad one by name.
    pub fn parse(&self) -> Result<AuditQuery, ServiceError> {
        let mut errors: Vec<(&'static str, ValidationError)> = Vec::new();
        let mut time_field = |field: &'static str, end: bool| {
            blank(if field == "from" {
                &self.from
            } else {
                &self.to
            })
            .and_then(|text| {
                let parsed = parse_time(text, end);
                if parsed.is_none() {
                    errors.push((
                        field,
                        ValidationError::UnknownValue(
                            text.to_owned(),
                            "a date (2026-11-23) or an RFC 3339 time",
                        ),
                    ));
                }
                parsed
            })
        };
        let from = time_field("from", false);
        let to = time_field("to", true);
        if let (Some(from), Some(to)) = (from, to) {
            if from >= to {
                errors.push((
                    "to",
                    ValidationError::UnknownValue(
                        blank(&self.to).unwrap_or_default().to_owned(),
                        "a time after `from`",
                    ),
                ));
            }
        }
        let actor = blank(&self.actor).and_then(|text| match text.parse::<AccountId>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push((
                    "actor",
                    ValidationError::UnknownValue(text.to_owned(), "an account id"),
                ));
                None
            }
        });
        let action = blank(&self.action).and_then(|text| {
            let stem = text.strip_suffix('*').unwrap_or(text);
            let valid = !stem.is_empty()
                && stem
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
            if text.chars().count() > ACTION_MAX {
                errors.push((
                    "action",
                    ValidationError::TooLong {
                        field: "action",
                        max: ACTION_MAX,
                    },
                ));
                None
            } else if !valid {
                errors.push((
                    "action",
                    ValidationError::UnknownValue(
                        text.to_owned(),
                        "an action such as membership.suspended, or a prefix such as membership.",
                    ),
                ));
                None
            } else if text.ends_with('*') || stem.ends_with('.') {
                Some(ActionFilter::Prefix(stem.to_owned()))
            } else {
                Some(ActionFilter::Exact(stem.to_owned()))
            }
        });
        let member = blank(&self.member).and_then(|text| match text.parse::<MembershipId>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push((
                    "member",
                    ValidationError::UnknownValue(text.to_owned(), "a member id"),
                ));
                None
            }
        });
        let cursor = blank(&self.cursor).and_then(|text| match text.parse::<AuditCursor>() {
            Ok(cursor) => Some(cursor),
            Err(()) => {
                errors.push((
                    "cursor",
                    ValidationError::UnknownValue(text.to_owned(), "a next_cursor of a page"),
                ));
                None
            }
        });
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        Ok(AuditQuery {
            from,
            to,
            actor,
            action,
            member,
            cursor,
            limit: self
                .limit
                .unwrap_or(AUDIT_PAGE_DEFAULT)
                .clamp(1, AUDIT_BATCH_MAX),
        })
    }
}

/// What a target (`membership:<id>`, …) is, for people to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetLabel {
    Person { name: String, email: String },
    DeletedAccount,
}

/// A page of the audit trail, with its targets made readable.
#[derive(Debug, Clone)]
pub struct AuditView {
    pub page: AuditPage,
    pub targets: HashMap<String, TargetLabel>,
}

/// One member in the access review.
#[derive(Debug, Clone)]
pub struct ReviewedMember {
    pub member: ReviewMember,
    pub role: Option<Role>,
    /// Holds an administrator's role (listed first).
    pub administrator: bool,
    /// Active, and no login (or, never logged in, no membership) for the
    /// review's number of days.
    pub inactive: bool,
}

/// The access review of one organization (seed 002).
#[derive(Debug, Clone)]
pub struct AccessReview {
    pub days: u32,
    /// Logins before this time count as old.
    pub cutoff: OffsetDateTime,
    /// Administrators first, then by name.
    pub members: Vec<ReviewedMember>,
    /// Invitations sent before the cutoff and still neither accepted nor revoked.
    pub stale_invitations: Vec<Invitation>,
    /// The acting member may suspend (holds `team.manage`).
    pub can_suspend: bool,
}

impl AccessReview {
    pub fn inactive(&self) -> impl Iterator<Item = &ReviewedMember> {
        self.members.iter().filter(|m| m.inactive)
    }
}

/// Parses the review's `days` (blank: 90).
pub fn review_days(text: Option<&str>) -> Result<u32, ServiceError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(REVIEW_DEFAULT_DAYS),
        Some(text) => match text.parse::<u32>() {
            Ok(days) if (1..=REVIEW_MAX_DAYS).contains(&days) => Ok(days),
            _ => Err(ServiceError::Invalid(vec![(
                "days",
                ValidationError::UnknownValue(text.to_owned(), "a number of days from 1 to 3650"),
            )])),
        },
    }
}

impl Services {
    /// Resolves the query's member into the targets of events about them.
    async fn audit_filter(
        &self,
        tx: &mut dyn gardien_store::Transaction,
        organization: OrganizationId,
        query: &AuditQuery,
    ) -> Result<AuditFilter, ServiceError> {
        let mut targets = Vec::new();
        if let Some(member) = query.member {
            let membership = tx.membership(organization, member).await?.ok_or_else(|| {
                ServiceError::Invalid(vec![(
                    "member",
                    ValidationError::UnknownValue(
                        member.to_string(),
                        "a member of this organization",
                    ),
                )])
            })?;
            targets.push(format!("membership:{member}"));
            targets.push(format!("account:{}", membership.account_id));
            for invitation in tx.invitations_of_membership(organization, member).await? {
                targets.push(format!("invitation:{invitation}"));
            }
        }
        Ok(AuditFilter {
            from: query.from,
            to: query.to,
            actor: query.actor,
            action: query.action.clone(),
            targets,
        })
    }

    /// One page of the organization's audit trail, newest first (needs `audit.read`).
    pub async fn audit_events(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        query: &AuditQuery,
    ) -> Result<AuditView, ServiceError> {
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[AUDIT_READ])
            .await?;
        let filter = self.audit_filter(&mut *tx, organization, query).await?;
        let page = self
            .store
            .audit_page(organization, &filter, query.cursor, query.limit)
            .await?;
        let mut targets = HashMap::new();
        for entry in &page.items {
            let Some(target) = &entry.event.target else {
                continue;
            };
            if targets.contains_key(target) {
                continue;
            }
            if let Some(label) = target_label(&mut *tx, organization, target).await? {
                targets.insert(target.clone(), label);
            }
        }
        Ok(AuditView { page, targets })
    }

    /// Every event of the query, oldest batch last, read from the database
    /// in keyset batches of [`AUDIT_BATCH_MAX`] as the consumer pulls them:
    /// an export of millions of events never holds more than one batch.
    /// Authorization (`audit.read`) is checked before the first batch.
    pub async fn audit_export(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        query: &AuditQuery,
    ) -> Result<BoxStream<'static, Result<Vec<AuditEntry>, ServiceError>>, ServiceError> {
        let filter = {
            let mut tx = self.store.begin().await?;
            self.authorize(&mut *tx, current, organization, &[AUDIT_READ])
                .await?;
            self.audit_filter(&mut *tx, organization, query).await?
        };
        let store = self.store.clone();
        // (next cursor, finished)
        let start: (Option<AuditCursor>, bool) = (None, false);
        Ok(stream::unfold(start, move |(cursor, finished)| {
            let store = store.clone();
            let filter = filter.clone();
            async move {
                if finished {
                    return None;
                }
                match store
                    .audit_page(organization, &filter, cursor, AUDIT_BATCH_MAX)
                    .await
                {
                    Ok(page) => {
                        let done = page.next.is_none();
                        Some((Ok(page.items), (page.next, done)))
                    }
                    Err(error) => Some((Err(error.into()), (None, true))),
                }
            }
        })
        .boxed())
    }

    /// The access review (needs `audit.read` or `team.manage`): who holds
    /// which role, overrides and assignments, administrators first; who has
    /// not logged in for `days`; invitations pending for longer.
    pub async fn access_review(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        days: u32,
    ) -> Result<AccessReview, ServiceError> {
        let now = OffsetDateTime::now_utc();
        let cutoff = now - Duration::days(i64::from(days.clamp(1, REVIEW_MAX_DAYS)));
        let mut tx = self.store.begin().await?;
        let acting = self
            .authorize(&mut *tx, current, organization, &[AUDIT_READ, TEAM_MANAGE])
            .await?;
        let roles = tx.roles(organization).await?;
        let members = tx.review_members(organization).await?;
        let stale_invitations = tx.stale_invitations(organization, cutoff).await?;
        let mut members: Vec<ReviewedMember> = members
            .into_iter()
            .map(|member| {
                let role = roles
                    .iter()
                    .find(|r| r.id == member.membership.role_id)
                    .cloned();
                let administrator = role.as_ref().is_some_and(Role::is_administrator);
                let last_seen = member.last_login_at.unwrap_or(member.membership.created_at);
                let inactive =
                    member.membership.status == MembershipStatus::Active && last_seen < cutoff;
                ReviewedMember {
                    member,
                    role,
                    administrator,
                    inactive,
                }
            })
            .collect();
        members.sort_by(|a, b| {
            b.administrator.cmp(&a.administrator).then_with(|| {
                let key = |m: &ReviewedMember| {
                    (
                        m.member.last_name.to_lowercase(),
                        m.member.first_name.to_lowercase(),
                        m.member.email.as_str().to_owned(),
                    )
                };
                key(a).cmp(&key(b))
            })
        });
        Ok(AccessReview {
            days,
            cutoff,
            members,
            stale_invitations,
            can_suspend: acting.holds(TEAM_MANAGE),
        })
    }

    /// The retention purge: deletes every audit event older than
    /// `retention_days` and, in the same transaction, records one
    /// `audit.purged` event per organization that lost events (and one
    /// without organization for events of none). Nothing to delete: nothing
    /// written.
    pub async fn purge_audit_events(
        &self,
        retention_days: u32,
    ) -> Result<Vec<PurgedCount>, ServiceError> {
        let now = OffsetDateTime::now_utc();
        let before = now - Duration::days(i64::from(retention_days));
        let mut tx = self.store.begin().await?;
        let purged = tx.purge_audit_events(before).await?;
        let before_text = before.format(&Rfc3339).unwrap_or_default();
        for count in &purged {
            let mut event = audit(
                &RequestContext::default(),
                now,
                count.organization_id,
                Actor::System,
                "audit.purged",
                count.organization_id.map(|o| format!("organization:{o}")),
            );
            event.after = Some(json!({
                "deleted": count.deleted,
                "before": before_text,
                "retention_days": retention_days,
            }));
            tx.append_audit_event(&event).await?;
        }
        tx.commit().await?;
        Ok(purged)
    }
}

/// The readable label of a target of the organization, if it names a person.
async fn target_label(
    tx: &mut dyn gardien_store::Transaction,
    organization: OrganizationId,
    target: &str,
) -> Result<Option<TargetLabel>, ServiceError> {
    let Some((kind, id)) = target.split_once(':') else {
        return Ok(None);
    };
    let account_id = match kind {
        "membership" => {
            let Ok(id) = id.parse::<MembershipId>() else {
                return Ok(None);
            };
            let Some(membership) = tx.membership(organization, id).await? else {
                return Ok(None);
            };
            if membership.status == MembershipStatus::Invited {
                // An invited account's own names are not this organization's
                // to see (seed 000): its address only.
                let Some(account) = tx.account(membership.account_id).await? else {
                    return Ok(None);
                };
                return Ok(Some(person_label(String::new(), account.email.as_str())));
            }
            membership.account_id
        }
        "account" => {
            let Ok(account_id) = id.parse::<AccountId>() else {
                return Ok(None);
            };
            // Only people of this organization.
            if tx.membership_of(organization, account_id).await?.is_none() {
                return Ok(None);
            }
            account_id
        }
        "invitation" => {
            let Ok(id) = id.parse::<InvitationId>() else {
                return Ok(None);
            };
            return Ok(tx
                .invitation(organization, id)
                .await?
                .map(|i| person_label(String::new(), i.email.as_str())));
        }
        _ => return Ok(None),
    };
    Ok(tx.account(account_id).await?.map(|account| {
        person_label(
            format!("{} {}", account.first_name, account.last_name),
            account.email.as_str(),
        )
    }))
}

fn person_label(name: String, email: &str) -> TargetLabel {
    if email.ends_with(DELETED_ACCOUNT_DOMAIN) {
        TargetLabel::DeletedAccount
    } else {
        TargetLabel::Person {
            name: name.trim().to_owned(),
            email: email.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(from: &str, to: &str, action: &str) -> AuditFilterInput {
        AuditFilterInput {
            from: Some(from.into()),
            to: Some(to.into()),
            action: Some(action.into()),
            ..AuditFilterInput::default()
        }
    }

    #[test]
    fn dates_cover_whole_days_and_prefixes_are_recognized() {
        let query = input("2026-11-01", "2026-11-01", "membership.")
            .parse()
            .unwrap();
        assert_eq!(
            query.to.unwrap() - query.from.unwrap(),
            Duration::days(1),
            "a one-day range includes that day"
        );
        assert_eq!(
            query.action,
            Some(ActionFilter::Prefix("membership.".into()))
        );
        let query = input("", "", "membership.suspended").parse().unwrap();
        assert_eq!(
            query.action,
            Some(ActionFilter::Exact("membership.suspended".into()))
        );
        let query = input("2026-11-01T10:00:00Z", "", "invitation*")
            .parse()
            .unwrap();
        assert_eq!(
            query.action,
            Some(ActionFilter::Prefix("invitation".into()))
        );
        assert_eq!(query.limit, AUDIT_PAGE_DEFAULT);
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = AuditFilterInput {
            from: Some("yesterday".into()),
            to: Some("2026-13-01".into()),
            actor: Some("bob".into()),
            action: Some("DROP TABLE".into()),
            member: Some("42".into()),
            cursor: Some("nope".into()),
            limit: None,
        };
        let Err(ServiceError::Invalid(errors)) = bad.parse() else {
            panic!("refused");
        };
        let fields: Vec<_> = errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            ["from", "to", "actor", "action", "member", "cursor"]
        );
        let Err(ServiceError::Invalid(errors)) = input("2026-11-02", "2026-11-01", "").parse()
        else {
            panic!("a reversed range is refused");
        };
        assert_eq!(errors[0].0, "to");
    }

    #[test]
    fn review_days_default_and_bounds() {
        assert_eq!(review_days(None).unwrap(), 90);
        assert_eq!(review_days(Some(" ")).unwrap(), 90);
        assert_eq!(review_days(Some("30")).unwrap(), 30);
        for bad in ["0", "-1", "abc", "3651"] {
            assert!(review_days(Some(bad)).is_err(), "{bad}");
        }
    }
}
