//! Reading the audit trail (flow 14), the access review's reads, and the
//! retention purge, shared by both back ends.
//!
//! Pages are one organization's events, newest first, paged by the keyset
//! `(occurred_at, id)`: a page asks for rows strictly before the last row of
//! the previous one, so pages never repeat or skip an event even when events
//! share a time. The SQL is built with only the filters asked for, so each
//! combination is its own prepared statement and its own plan (a catch-all
//! `$n IS NULL OR …` would make PostgreSQL's generic plans ignore the
//! indexes of migration 0009).

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use gardien_core::audit::AuditEvent;
use gardien_core::invitation::Invitation;
use gardien_core::OrganizationId;
use gardien_core::{AccountId, AuditEventId, Email, InvitationId, Membership, MembershipId};
use sqlx::types::Json;
use sqlx::{Encode, Executor, IntoArguments, Pool, Type};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::engine::{map_error, Dialect};
use crate::rows::{self, DbTime, RowExt};
use crate::{Backend, StoreError};

/// Which events of one organization a page or an export holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Events at or after this time.
    pub from: Option<OffsetDateTime>,
    /// Events strictly before this time.
    pub to: Option<OffsetDateTime>,
    /// Events whose actor is this account.
    pub actor: Option<AccountId>,
    pub action: Option<ActionFilter>,
    /// Events whose target is one of these (`membership:<id>`, …); empty: any.
    pub targets: Vec<String>,
}

/// The action filter: one action, or every action under a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionFilter {
    /// `membership.suspended`
    Exact(String),
    /// `membership.` (every action that starts with it)
    Prefix(String),
}

/// Where a page of events starts: strictly before this event in the order
/// newest first. Written `<unix microseconds>.<event id>` in URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditCursor {
    pub occurred_at: OffsetDateTime,
    pub id: AuditEventId,
}

impl AuditCursor {
    pub fn of(event: &AuditEvent) -> Self {
        Self {
            occurred_at: event.occurred_at,
            id: event.id,
        }
    }
}

impl fmt::Display for AuditCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let micros = self.occurred_at.unix_timestamp_nanos().div_euclid(1000);
        write!(f, "{micros}.{}", self.id.as_uuid().simple())
    }
}

impl FromStr for AuditCursor {
    type Err = ();
    fn from_str(text: &str) -> Result<Self, ()> {
        let (micros, id) = text.split_once('.').ok_or(())?;
        let micros: i64 = micros.parse().map_err(|_| ())?;
        let occurred_at =
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000).map_err(|_| ())?;
        let id = Uuid::try_parse(id).map_err(|_| ())?;
        Ok(Self {
            occurred_at,
            id: AuditEventId::from_uuid(id),
        })
    }
}

/// Who an event's actor is, as far as the store knows, for people to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActorLabel {
    /// An account: its name and email at reading time.
    Account {
        first_name: String,
        last_name: String,
        email: String,
    },
    /// An account deleted since (anonymized: only its id remains).
    DeletedAccount,
    /// An API key, by its name.
    ApiKey { name: String },
    /// Gardien itself, or an actor the store no longer has.
    System,
}

/// The email domain of deleted (anonymized) accounts.
pub const DELETED_ACCOUNT_DOMAIN: &str = "@deleted.invalid";

/// One event of a page, with its actor made readable.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub event: AuditEvent,
    pub actor: ActorLabel,
}

/// One page of events; `next` is set when older events follow.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub next: Option<AuditCursor>,
}

/// How many events a purge deleted in one organization (`None`: events of
/// no organization, such as failed logins of unknown addresses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgedCount {
    pub organization_id: Option<OrganizationId>,
    pub deleted: u64,
}

/// One member as the access review shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewMember {
    pub membership: Membership,
    pub email: Email,
    pub first_name: String,
    pub last_name: String,
    pub last_login_at: Option<OffsetDateTime>,
    /// `(permission, "grant" | "deny")`, by permission.
    pub overrides: Vec<(String, String)>,
    pub assignments: Vec<ReviewAssignment>,
}

/// A resource assigned to a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewAssignment {
    pub resource_type: String,
    pub resource_id: String,
    pub label: Option<String>,
}

/// The SQL of this module, over any back end.
pub(crate) struct AuditSql<DB>(PhantomData<DB>);

/// A bound value of a page query (kept in order with its placeholder).
enum Value {
    Uuid(Uuid),
    Text(String),
    Time(DbTime),
}

const EVENT_COLUMNS: &str = "e.id, e.occurred_at, e.organization_id, e.actor_type, e.actor_id, \
    e.action, e.target, e.before, e.after, e.ip, e.user_agent, e.request_id, \
    a.first_name AS actor_first_name, a.last_name AS actor_last_name, a.email AS actor_email, \
    k.name AS actor_key_name";

/// The page query for `filter`, its bound values in placeholder order.
fn page_sql(
    backend: Backend,
    organization: OrganizationId,
    filter: &AuditFilter,
    after: Option<AuditCursor>,
    limit: i64,
) -> (String, Vec<Value>) {
    let mut values = vec![Value::Uuid(organization.as_uuid())];
    let mut conditions = vec!["e.organization_id = $1".to_owned()];
    let mut prefix_actions: Option<(String, String)> = None;
    let bind = |values: &mut Vec<Value>, value: Value| {
        values.push(value);
        format!("${}", values.len())
    };
    if let Some(from) = filter.from {
        let p = bind(&mut values, Value::Time(DbTime(from)));
        conditions.push(format!("e.occurred_at >= {p}"));
    }
    if let Some(to) = filter.to {
        let p = bind(&mut values, Value::Time(DbTime(to)));
        conditions.push(format!("e.occurred_at < {p}"));
    }
    if let Some(actor) = filter.actor {
        let p = bind(&mut values, Value::Uuid(actor.as_uuid()));
        conditions.push(format!("e.actor_id = {p} AND e.actor_type = 'account'"));
    }
    // Actions compare byte by byte (PostgreSQL's "C" collation, SQLite's
    // BINARY), as the index of migration 0009 orders them: a prefix is then
    // a plain range.
    let action = match backend {
        Backend::Postgres => "e.action COLLATE \"C\"",
        Backend::Sqlite => "e.action",
    };
    match &filter.action {
        Some(ActionFilter::Exact(exact)) => {
            let p = bind(&mut values, Value::Text(exact.clone()));
            conditions.push(format!("{action} = {p}"));
        }
        Some(ActionFilter::Prefix(prefix)) => {
            // A range, not LIKE: it uses the index on both back ends, and
            // `%`/`_` in the prefix mean themselves.
            let low = bind(&mut values, Value::Text(prefix.clone()));
            let high = bind(&mut values, Value::Text(format!("{prefix}\u{10FFFF}")));
            // An actor or a target has its own index in time order, and the
            // prefix is then a filter on few rows; alone, the prefix needs
            // its own index, which PostgreSQL cannot read in time order for
            // a range of actions (it would sort the whole range). The
            // actions under the prefix are then found by skipping through
            // the index (one seek each), and each one's newest page merged.
            let alone = filter.actor.is_none() && filter.targets.is_empty();
            if backend == Backend::Postgres && alone {
                prefix_actions = Some((low, high));
                conditions.push(format!("{action} = acts.a"));
            } else {
                conditions.push(format!("{action} >= {low} AND {action} < {high}"));
            }
        }
        None => {}
    }
    if !filter.targets.is_empty() {
        let list: Vec<String> = filter
            .targets
            .iter()
            .map(|t| bind(&mut values, Value::Text(t.clone())))
            .collect();
        conditions.push(format!("e.target IN ({})", list.join(", ")));
    }
    if let Some(cursor) = after {
        let t = bind(&mut values, Value::Time(DbTime(cursor.occurred_at)));
        let id = bind(&mut values, Value::Uuid(cursor.id.as_uuid()));
        // Behind an equality on the actor, SQLite does not narrow the index
        // range by a row value (a next page took 500 ms at 10 million
        // events): there the keyset is spelled as a time range and a
        // tie-break. Elsewhere the row value is its fastest form
        // (bench/README.md).
        let spelled_out = backend == Backend::Sqlite && filter.actor.is_some();
        conditions.push(if spelled_out {
            format!("e.occurred_at <= {t} AND (e.occurred_at < {t} OR e.id < {id})")
        } else {
            format!("(e.occurred_at, e.id) < ({t}, {id})")
        });
    }
    let joins = "LEFT JOIN accounts a ON e.actor_type = 'account' AND a.id = e.actor_id \
         LEFT JOIN api_keys k ON e.actor_type = 'api_key' AND k.id = e.actor_id";
    let order = format!("ORDER BY e.occurred_at DESC, e.id DESC LIMIT {limit}");
    let sql = match prefix_actions {
        None => format!(
            "SELECT {EVENT_COLUMNS} FROM audit_events e {joins} WHERE {} {order}",
            conditions.join(" AND ")
        ),
        Some((low, high)) => {
            let x = "x.action COLLATE \"C\"";
            format!(
                "WITH RECURSIVE acts(a) AS (\
                   SELECT min({x}) FROM audit_events x \
                   WHERE x.organization_id = $1 AND {x} >= {low} AND {x} < {high} \
                   UNION ALL \
                   SELECT (SELECT min({x}) FROM audit_events x \
                     WHERE x.organization_id = $1 AND {x} > acts.a AND {x} < {high}) \
                   FROM acts WHERE acts.a IS NOT NULL) \
                 SELECT {EVENT_COLUMNS} FROM acts CROSS JOIN LATERAL (\
                   SELECT * FROM audit_events e WHERE {} {order}) e \
                 {joins} {order}",
                conditions.join(" AND ")
            )
        }
    };
    (sql, values)
}

fn actor_label(row: &impl RowExt, event: &AuditEvent) -> Result<ActorLabel, StoreError> {
    Ok(match event.actor {
        gardien_core::audit::Actor::Account(_) => match row.opt_text("actor_email")? {
            Some(email) if email.ends_with(DELETED_ACCOUNT_DOMAIN) => ActorLabel::DeletedAccount,
            Some(email) => ActorLabel::Account {
                first_name: row.opt_text("actor_first_name")?.unwrap_or_default(),
                last_name: row.opt_text("actor_last_name")?.unwrap_or_default(),
                email,
            },
            None => ActorLabel::DeletedAccount,
        },
        gardien_core::audit::Actor::ApiKey(_) => match row.opt_text("actor_key_name")? {
            Some(name) => ActorLabel::ApiKey { name },
            None => ActorLabel::System,
        },
        gardien_core::audit::Actor::System => ActorLabel::System,
    })
}

impl<DB> AuditSql<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    DB::Row: RowExt,
    for<'q> Uuid: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> DbTime: Encode<'q, DB> + Type<DB>,
    for<'q> Json<serde_json::Value>: Encode<'q, DB> + Type<DB>,
{
    /// One page of an organization's events, newest first.
    pub(crate) async fn page(
        pool: &Pool<DB>,
        organization: OrganizationId,
        filter: &AuditFilter,
        after: Option<AuditCursor>,
        limit: u32,
    ) -> Result<AuditPage, StoreError> {
        let limit = limit.clamp(1, crate::PageRequest::MAX_LIMIT.max(AUDIT_BATCH_MAX));
        let (sql, values) = page_sql(
            DB::BACKEND,
            organization,
            filter,
            after,
            i64::from(limit) + 1,
        );
        let mut query = sqlx::query(&sql);
        for value in values {
            query = match value {
                Value::Uuid(v) => query.bind(v),
                Value::Text(v) => query.bind(v),
                Value::Time(v) => query.bind(v),
            };
        }
        let rows = query.fetch_all(pool).await.map_err(map_error::<DB>)?;
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            let event = rows::audit_event(row)?;
            let actor = actor_label(row, &event)?;
            items.push(AuditEntry { event, actor });
        }
        let next = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|e| AuditCursor::of(&e.event))
        } else {
            None
        };
        Ok(AuditPage { items, next })
    }

    /// The ids of the invitations ever sent for a membership (so that the
    /// "target member" filter finds the events about them too).
    pub(crate) async fn invitations_of_membership(
        conn: &mut DB::Connection,
        organization: OrganizationId,
        membership: MembershipId,
    ) -> Result<Vec<InvitationId>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM invitations WHERE organization_id = $1 AND membership_id = $2 \
             ORDER BY id",
        )
        .bind(organization.as_uuid())
        .bind(membership.as_uuid())
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        rows.iter()
            .map(|r| Ok(InvitationId::from_uuid(r.uuid("id")?)))
            .collect()
    }

    /// Every membership of the organization except removed ones, with its
    /// overrides and assignments, read straight from their tables.
    pub(crate) async fn review_members(
        conn: &mut DB::Connection,
        organization: OrganizationId,
    ) -> Result<Vec<ReviewMember>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.id, m.organization_id, m.account_id, m.kind, m.role_id, m.status, \
             m.created_at, m.updated_at, m.last_login_at, a.email, \
             CASE WHEN m.status = 'invited' AND m.invited_first_name IS NOT NULL \
                 THEN m.invited_first_name ELSE a.first_name END AS first_name, \
             CASE WHEN m.status = 'invited' AND m.invited_last_name IS NOT NULL \
                 THEN m.invited_last_name ELSE a.last_name END AS last_name \
             FROM memberships m JOIN accounts a ON a.id = m.account_id \
             WHERE m.organization_id = $1 AND m.status <> 'removed' ORDER BY m.id",
        )
        .bind(organization.as_uuid())
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        let mut members = Vec::with_capacity(rows.len());
        for row in &rows {
            let summary = rows::member_summary(row)?;
            members.push(ReviewMember {
                membership: summary.membership,
                email: summary.email,
                first_name: summary.first_name,
                last_name: summary.last_name,
                last_login_at: summary.last_login_at,
                overrides: Vec::new(),
                assignments: Vec::new(),
            });
        }
        let position = |id: Uuid, members: &[ReviewMember]| {
            members
                .binary_search_by(|m| m.membership.id.as_uuid().cmp(&id))
                .ok()
        };
        // Both back ends order UUIDs like `Uuid`'s `Ord` (bytes), so the
        // list sorted by id can be searched.
        members.sort_by_key(|m| m.membership.id.as_uuid());
        let overrides = sqlx::query(
            "SELECT o.membership_id, o.permission, o.effect FROM overrides o \
             JOIN memberships m ON m.id = o.membership_id \
             WHERE m.organization_id = $1 ORDER BY o.membership_id, o.permission",
        )
        .bind(organization.as_uuid())
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        for row in &overrides {
            if let Some(i) = position(row.uuid("membership_id")?, &members) {
                members[i]
                    .overrides
                    .push((row.text("permission")?, row.text("effect")?));
            }
        }
        let assignments = sqlx::query(
            "SELECT membership_id, resource_type, resource_id, label FROM assignments \
             WHERE organization_id = $1 ORDER BY membership_id, resource_type, resource_id",
        )
        .bind(organization.as_uuid())
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        for row in &assignments {
            if let Some(i) = position(row.uuid("membership_id")?, &members) {
                members[i].assignments.push(ReviewAssignment {
                    resource_type: row.text("resource_type")?,
                    resource_id: row.text("resource_id")?,
                    label: row.opt_text("label")?,
                });
            }
        }
        Ok(members)
    }

    /// Invitations neither accepted nor revoked, sent before `created_before`
    /// (expired ones included), oldest first.
    pub(crate) async fn stale_invitations(
        conn: &mut DB::Connection,
        organization: OrganizationId,
        created_before: OffsetDateTime,
    ) -> Result<Vec<Invitation>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, organization_id, membership_id, email, language, invited_by, \
             created_at, expires_at, accepted_at, revoked_at FROM invitations \
             WHERE organization_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL \
             AND created_at < $2 ORDER BY created_at, id",
        )
        .bind(organization.as_uuid())
        .bind(DbTime(created_before))
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        rows.iter().map(rows::invitation).collect()
    }

    /// Deletes every event before `before` — the one deletion the schema
    /// allows, and only through here (see migration 0009) — and says how
    /// many per organization.
    pub(crate) async fn purge(
        conn: &mut DB::Connection,
        before: OffsetDateTime,
    ) -> Result<Vec<PurgedCount>, StoreError> {
        let counts = sqlx::query(
            "SELECT organization_id, COUNT(*) AS n FROM audit_events \
             WHERE occurred_at < $1 GROUP BY organization_id",
        )
        .bind(DbTime(before))
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error::<DB>)?;
        let mut purged = Vec::with_capacity(counts.len());
        for row in &counts {
            purged.push(PurgedCount {
                organization_id: row
                    .opt_uuid("organization_id")?
                    .map(OrganizationId::from_uuid),
                deleted: u64::try_from(row.int64("n")?).unwrap_or_default(),
            });
        }
        if purged.is_empty() {
            return Ok(purged);
        }
        let (allow, disallow) = match DB::BACKEND {
            Backend::Postgres => (
                "SELECT set_config('gardien.audit_purge', 'on', true)",
                "SELECT set_config('gardien.audit_purge', 'off', true)",
            ),
            Backend::Sqlite => (
                "INSERT INTO audit_purge_permit (one) VALUES (1)",
                "DELETE FROM audit_purge_permit",
            ),
        };
        sqlx::query(allow)
            .execute(&mut *conn)
            .await
            .map_err(map_error::<DB>)?;
        sqlx::query("DELETE FROM audit_events WHERE occurred_at < $1")
            .bind(DbTime(before))
            .execute(&mut *conn)
            .await
            .map_err(map_error::<DB>)?;
        sqlx::query(disallow)
            .execute(&mut *conn)
            .await
            .map_err(map_error::<DB>)?;
        purged.sort_by_key(|p| p.organization_id.map(|o| o.as_uuid()));
        Ok(purged)
    }
}

/// The largest page the store serves (exports read in batches of this size).
pub const AUDIT_BATCH_MAX: u32 = 1000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let cursor = AuditCursor {
            occurred_at: OffsetDateTime::from_unix_timestamp_nanos(1_763_900_000_123_456_000)
                .unwrap(),
            id: AuditEventId::new(),
        };
        assert_eq!(cursor.to_string().parse::<AuditCursor>(), Ok(cursor));
        for bad in ["", "12", "x.y", "12.notauuid", ".0190"] {
            assert!(bad.parse::<AuditCursor>().is_err(), "{bad}");
        }
    }

    #[test]
    fn only_asked_filters_are_in_the_sql() {
        let org = OrganizationId::new();
        let (sql, values) = page_sql(Backend::Sqlite, org, &AuditFilter::default(), None, 51);
        assert_eq!(values.len(), 1);
        assert!(!sql.contains("e.action ="), "{sql}");
        assert!(!sql.contains("e.target IN"), "{sql}");
        let filter = AuditFilter {
            action: Some(ActionFilter::Prefix("membership.".into())),
            targets: vec!["membership:1".into(), "invitation:2".into()],
            ..AuditFilter::default()
        };
        let (sql, values) = page_sql(Backend::Sqlite, org, &filter, None, 51);
        assert_eq!(values.len(), 5);
        assert!(sql.contains("e.action >= $2 AND e.action < $3"), "{sql}");
        assert!(sql.contains("e.target IN ($4, $5)"), "{sql}");
        // With a target, PostgreSQL keeps the prefix as a range too…
        let (sql, _) = page_sql(Backend::Postgres, org, &filter, None, 51);
        assert!(sql.contains("e.action COLLATE \"C\" >= $2"), "{sql}");
        assert!(!sql.contains("WITH RECURSIVE"), "{sql}");
        // …and alone, skips through the actions under the prefix instead.
        let alone = AuditFilter {
            action: Some(ActionFilter::Prefix("membership.".into())),
            ..AuditFilter::default()
        };
        let (sql, values) = page_sql(Backend::Postgres, org, &alone, None, 51);
        assert_eq!(values.len(), 3);
        assert!(sql.starts_with("WITH RECURSIVE acts(a)"), "{sql}");
        assert!(sql.contains("e.action COLLATE \"C\" = acts.a"), "{sql}");
        assert!(!sql.contains("e.action COLLATE \"C\" >="), "{sql}");
    }
}
