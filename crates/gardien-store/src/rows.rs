//! Reading rows into domain types, shared by both back ends: typed column
//! access ([`RowExt`]), the time column type ([`DbTime`], encoded per back
//! end) and one decoder per concept. A value that no longer parses is
//! reported as [`StoreError::Corrupt`].

use std::collections::{BTreeSet, HashMap};

use gardien_core::audit::{Actor, AuditEvent};
use gardien_core::invitation::Invitation;
use gardien_core::{
    Account, AccountId, AuditEventId, Email, InvitationId, MailId, Membership, MembershipId,
    Organization, OrganizationId, PermissionKey, Role, RoleId,
};
use sqlx::types::Json;
use sqlx::{ColumnIndex, Decode, Row, Type};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{OutboxMessage, StoreError};

/// A point in time as a column. PostgreSQL stores it as `TIMESTAMPTZ`;
/// SQLite as integer microseconds since the Unix epoch, so that times compare
/// and sort in SQL. Both keep microseconds: finer parts are dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DbTime(pub OffsetDateTime);

/// Typed access to the columns of a row, whatever the back end.
pub(crate) trait RowExt {
    fn uuid(&self, column: &str) -> Result<Uuid, StoreError>;
    fn opt_uuid(&self, column: &str) -> Result<Option<Uuid>, StoreError>;
    fn text(&self, column: &str) -> Result<String, StoreError>;
    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError>;
    fn time(&self, column: &str) -> Result<OffsetDateTime, StoreError>;
    fn opt_time(&self, column: &str) -> Result<Option<OffsetDateTime>, StoreError>;
    fn flag(&self, column: &str) -> Result<bool, StoreError>;
    fn int64(&self, column: &str) -> Result<i64, StoreError>;
    fn int32(&self, column: &str) -> Result<i32, StoreError>;
    fn opt_int32(&self, column: &str) -> Result<Option<i32>, StoreError>;
    fn json(&self, column: &str) -> Result<Option<serde_json::Value>, StoreError>;
}

fn get<'r, T, R>(row: &'r R, column: &str) -> Result<T, StoreError>
where
    R: Row,
    T: Decode<'r, R::Database> + Type<R::Database>,
    for<'a> &'a str: ColumnIndex<R>,
{
    row.try_get(column)
        .map_err(|e| StoreError::Corrupt(format!("column {column}: {e}")))
}

impl<R> RowExt for R
where
    R: Row,
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> Uuid: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> DbTime: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i32: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Json<serde_json::Value>: Decode<'r, R::Database> + Type<R::Database>,
{
    fn uuid(&self, column: &str) -> Result<Uuid, StoreError> {
        get(self, column)
    }
    fn opt_uuid(&self, column: &str) -> Result<Option<Uuid>, StoreError> {
        get(self, column)
    }
    fn text(&self, column: &str) -> Result<String, StoreError> {
        get(self, column)
    }
    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        get(self, column)
    }
    fn time(&self, column: &str) -> Result<OffsetDateTime, StoreError> {
        get::<DbTime, _>(self, column).map(|t| t.0)
    }
    fn opt_time(&self, column: &str) -> Result<Option<OffsetDateTime>, StoreError> {
        get::<Option<DbTime>, _>(self, column).map(|t| t.map(|t| t.0))
    }
    fn flag(&self, column: &str) -> Result<bool, StoreError> {
        get(self, column)
    }
    fn int64(&self, column: &str) -> Result<i64, StoreError> {
        get(self, column)
    }
    fn int32(&self, column: &str) -> Result<i32, StoreError> {
        get(self, column)
    }
    fn opt_int32(&self, column: &str) -> Result<Option<i32>, StoreError> {
        get(self, column)
    }
    fn json(&self, column: &str) -> Result<Option<serde_json::Value>, StoreError> {
        get::<Option<Json<serde_json::Value>>, _>(self, column).map(|v| v.map(|v| v.0))
    }
}

fn corrupt(what: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {error}"))
}

fn email(row: &impl RowExt, column: &str) -> Result<Email, StoreError> {
    Email::parse(&row.text(column)?).map_err(|e| corrupt(column, e))
}

fn parsed<T>(row: &impl RowExt, column: &str) -> Result<T, StoreError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    row.text(column)?.parse().map_err(|e| corrupt(column, e))
}

pub(crate) fn account(row: &impl RowExt) -> Result<Account, StoreError> {
    Ok(Account {
        id: AccountId::from_uuid(row.uuid("id")?),
        email: email(row, "email")?,
        first_name: row.text("first_name")?,
        last_name: row.text("last_name")?,
        language: parsed(row, "language")?,
        email_verified_at: row.opt_time("email_verified_at")?,
        created_at: row.time("created_at")?,
    })
}

pub(crate) fn email_verification(
    row: &impl RowExt,
) -> Result<gardien_core::EmailVerification, StoreError> {
    Ok(gardien_core::EmailVerification {
        account_id: gardien_core::AccountId::from_uuid(row.uuid("account_id")?),
        created_at: row.time("created_at")?,
        expires_at: row.time("expires_at")?,
        used_at: row.opt_time("used_at")?,
    })
}

pub(crate) fn email_change(row: &impl RowExt) -> Result<gardien_core::EmailChange, StoreError> {
    let new_email = row.text("new_email")?;
    Ok(gardien_core::EmailChange {
        account_id: gardien_core::AccountId::from_uuid(row.uuid("account_id")?),
        new_email: gardien_core::Email::parse(&new_email).map_err(|e| corrupt("new_email", e))?,
        created_at: row.time("created_at")?,
        expires_at: row.time("expires_at")?,
        used_at: row.opt_time("used_at")?,
    })
}

pub(crate) fn password_reset(row: &impl RowExt) -> Result<gardien_core::PasswordReset, StoreError> {
    Ok(gardien_core::PasswordReset {
        account_id: gardien_core::AccountId::from_uuid(row.uuid("account_id")?),
        created_at: row.time("created_at")?,
        expires_at: row.time("expires_at")?,
        used_at: row.opt_time("used_at")?,
    })
}

pub(crate) fn session(row: &impl RowExt) -> Result<gardien_core::Session, StoreError> {
    let organization = match (row.opt_uuid("organization_id")?, row.opt_text("kind")?) {
        (Some(id), Some(kind)) => Some((
            gardien_core::OrganizationId::from_uuid(id),
            kind.parse().map_err(|e| corrupt("sessions.kind", e))?,
        )),
        (None, None) => None,
        _ => return Err(corrupt("sessions", "organization without kind")),
    };
    Ok(gardien_core::Session {
        id: gardien_core::TokenHash::from_stored(row.text("id")?),
        account_id: gardien_core::AccountId::from_uuid(row.uuid("account_id")?),
        organization,
        created_at: row.time("created_at")?,
        last_seen_at: row.time("last_seen_at")?,
        expires_at: row.time("expires_at")?,
        idle_timeout: time::Duration::seconds(row.int64("idle_timeout_seconds")?),
        ip: row.opt_text("ip")?,
        user_agent: row.opt_text("user_agent")?,
        revoked_at: row.opt_time("revoked_at")?,
    })
}

pub(crate) fn organization(row: &impl RowExt) -> Result<Organization, StoreError> {
    Ok(Organization {
        id: OrganizationId::from_uuid(row.uuid("id")?),
        name: row.text("name")?,
        requires_activation: row.flag("requires_activation")?,
        created_at: row.time("created_at")?,
    })
}

/// A role without its permissions: see [`with_permissions`].
pub(crate) fn role(row: &impl RowExt) -> Result<Role, StoreError> {
    Ok(Role {
        id: RoleId::from_uuid(row.uuid("id")?),
        organization_id: OrganizationId::from_uuid(row.uuid("organization_id")?),
        template: row.opt_text("template")?,
        name: row.text("name")?,
        description: row.text("description")?,
        permissions: BTreeSet::new(),
        scoped: row.flag("scoped")?,
    })
}

/// Fills roles with the permissions read from `(role_id, permission)` rows.
pub(crate) fn with_permissions<R: RowExt>(
    mut roles: Vec<Role>,
    permission_rows: &[R],
) -> Result<Vec<Role>, StoreError> {
    let mut by_role: HashMap<Uuid, BTreeSet<PermissionKey>> = HashMap::new();
    for row in permission_rows {
        let key =
            PermissionKey::parse(&row.text("permission")?).map_err(|e| corrupt("permission", e))?;
        by_role.entry(row.uuid("role_id")?).or_default().insert(key);
    }
    for role in &mut roles {
        role.permissions = by_role.remove(&role.id.as_uuid()).unwrap_or_default();
    }
    Ok(roles)
}

pub(crate) fn membership(row: &impl RowExt) -> Result<Membership, StoreError> {
    Ok(Membership {
        id: MembershipId::from_uuid(row.uuid("id")?),
        organization_id: OrganizationId::from_uuid(row.uuid("organization_id")?),
        account_id: AccountId::from_uuid(row.uuid("account_id")?),
        kind: parsed(row, "kind")?,
        role_id: RoleId::from_uuid(row.uuid("role_id")?),
        status: parsed(row, "status")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

pub(crate) fn invitation(row: &impl RowExt) -> Result<Invitation, StoreError> {
    Ok(Invitation {
        id: InvitationId::from_uuid(row.uuid("id")?),
        organization_id: OrganizationId::from_uuid(row.uuid("organization_id")?),
        membership_id: MembershipId::from_uuid(row.uuid("membership_id")?),
        email: email(row, "email")?,
        language: parsed(row, "language")?,
        invited_by: row.opt_uuid("invited_by")?.map(AccountId::from_uuid),
        created_at: row.time("created_at")?,
        expires_at: row.time("expires_at")?,
        accepted_at: row.opt_time("accepted_at")?,
        revoked_at: row.opt_time("revoked_at")?,
    })
}

pub(crate) fn member_summary(row: &impl RowExt) -> Result<crate::MemberSummary, StoreError> {
    Ok(crate::MemberSummary {
        membership: membership(row)?,
        email: email(row, "email")?,
        first_name: row.text("first_name")?,
        last_name: row.text("last_name")?,
        last_login_at: row.opt_time("last_login_at")?,
    })
}

/// How an actor is stored: `actor_type` and `actor_id`.
pub(crate) fn actor_columns(actor: &Actor) -> (&'static str, Option<Uuid>) {
    match actor {
        Actor::Account(id) => ("account", Some(id.as_uuid())),
        Actor::ApiKey(id) => ("api_key", Some(*id)),
        Actor::System => ("system", None),
    }
}

pub(crate) fn audit_event(row: &impl RowExt) -> Result<AuditEvent, StoreError> {
    let actor_type = row.text("actor_type")?;
    let actor_id = row.opt_uuid("actor_id")?;
    let actor = match (actor_type.as_str(), actor_id) {
        ("account", Some(id)) => Actor::Account(AccountId::from_uuid(id)),
        ("api_key", Some(id)) => Actor::ApiKey(id),
        ("system", None) => Actor::System,
        _ => {
            return Err(corrupt(
                "actor",
                format!("'{actor_type}' with id {actor_id:?}"),
            ))
        }
    };
    Ok(AuditEvent {
        id: AuditEventId::from_uuid(row.uuid("id")?),
        occurred_at: row.time("occurred_at")?,
        organization_id: row
            .opt_uuid("organization_id")?
            .map(OrganizationId::from_uuid),
        actor,
        action: row.text("action")?,
        target: row.opt_text("target")?,
        before: row.json("before")?,
        after: row.json("after")?,
        ip: row.opt_text("ip")?,
        user_agent: row.opt_text("user_agent")?,
        request_id: row.opt_text("request_id")?,
    })
}

pub(crate) fn outbox_message(row: &impl RowExt) -> Result<OutboxMessage, StoreError> {
    let attempts = row.int32("attempts")?;
    Ok(OutboxMessage {
        id: MailId::from_uuid(row.uuid("id")?),
        to: email(row, "recipient")?,
        subject: row.text("subject")?,
        text_body: row.text("text_body")?,
        html_body: row.text("html_body")?,
        attempts: u32::try_from(attempts).map_err(|e| corrupt("attempts", e))?,
        created_at: row.time("created_at")?,
        sent_at: row.opt_time("sent_at")?,
        failed_at: row.opt_time("failed_at")?,
        last_error: row.opt_text("last_error")?,
    })
}

/// Cuts a list read with `limit + 1` rows into a page.
pub(crate) fn page<T>(mut items: Vec<T>, limit: u32, id: impl Fn(&T) -> Uuid) -> crate::Page<T> {
    let limit = limit as usize;
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(id)
    } else {
        None
    };
    crate::Page { items, next_cursor }
}

pub(crate) fn consent(row: &impl RowExt) -> Result<gardien_core::Consent, StoreError> {
    Ok(gardien_core::Consent {
        account_id: AccountId::from_uuid(row.uuid("account_id")?),
        policy_version: row.text("policy_version")?,
        accepted_at: row.time("accepted_at")?,
        ip: row.opt_text("ip")?,
        user_agent: row.opt_text("user_agent")?,
    })
}

pub(crate) fn profile(row: &impl RowExt) -> Result<gardien_core::Profile, StoreError> {
    let notification_email = row
        .opt_text("notification_email")?
        .map(|e| Email::parse(&e).map_err(|e| corrupt("notification_email", e)))
        .transpose()?;
    Ok(gardien_core::Profile {
        first_name: row.text("first_name")?,
        last_name: row.text("last_name")?,
        phone: row.opt_text("phone")?,
        title: row.opt_text("title")?,
        notification_email,
        language: parsed(row, "language")?,
    })
}

pub(crate) fn company_details(
    row: &impl RowExt,
) -> Result<gardien_core::CompanyDetails, StoreError> {
    Ok(gardien_core::CompanyDetails {
        name: row.text("name")?,
        legal_name: row.opt_text("legal_name")?,
        address: row.opt_text("address")?,
        phone: row.opt_text("phone")?,
        vat_number: row.opt_text("vat_number")?,
        registration_number: row.opt_text("registration_number")?,
    })
}

pub(crate) fn member_details(row: &impl RowExt) -> Result<crate::MemberDetails, StoreError> {
    Ok(crate::MemberDetails {
        membership: membership(row)?,
        email: email(row, "email")?,
        account: crate::AccountDetails {
            first_name: row.text("first_name")?,
            last_name: row.text("last_name")?,
            title: row.opt_text("title")?,
            phone: row.opt_text("phone")?,
        },
        record: crate::MemberRecord {
            first_name: row.opt_text("member_first_name")?,
            last_name: row.opt_text("member_last_name")?,
            title: row.opt_text("member_title")?,
            phone: row.opt_text("member_phone")?,
        },
        invited_first_name: row.opt_text("invited_first_name")?,
        invited_last_name: row.opt_text("invited_last_name")?,
        in_other_organizations: row.flag("in_other_organizations")?,
    })
}
