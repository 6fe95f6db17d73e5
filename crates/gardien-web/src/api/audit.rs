//! The audit trail and the access review (flow 14) under `/api/v1`: the
//! filtered, cursor-paged list of an organization's events, its streamed
//! export (CSV or JSON lines), and the access review with its CSV export.

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use gardien_core::audit::Actor;
use gardien_core::{OrganizationId, ValidationError};
use gardien_service::{review_days, AccessReview, AuditFilterInput, ReviewedMember, TargetLabel};
use gardien_store::{ActorLabel, AuditEntry};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::invitations::rfc3339;
use crate::error::{ApiError, Problem};
use crate::session::SignedIn;
use crate::state::AppState;

/// The filters of the audit trail (all optional, combined with AND).
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
pub struct AuditEventsQuery {
    /// Events at or after: a date (`2026-11-23`, from midnight UTC) or an RFC 3339 time.
    pub from: Option<String>,
    /// Events before: a date (that whole day included) or an RFC 3339 time (excluded).
    pub to: Option<String>,
    /// The account id of the person who acted.
    pub actor: Option<String>,
    /// An action (`membership.suspended`) or a prefix ending with `.` or `*` (`membership.`).
    pub action: Option<String>,
    /// A membership id: the events about that member (their membership,
    /// their account in this organization, their invitations).
    pub member: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 1000 (default 50).
    pub limit: Option<u32>,
}

impl AuditEventsQuery {
    pub(crate) fn input(&self) -> AuditFilterInput {
        AuditFilterInput {
            from: self.from.clone(),
            to: self.to.clone(),
            actor: self.actor.clone(),
            action: self.action.clone(),
            member: self.member.clone(),
            cursor: self.cursor.clone(),
            limit: self.limit,
        }
    }
}

/// Who acted.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ActorBody {
    /// `account`, `api_key` or `system`.
    #[serde(rename = "type")]
    pub actor_type: String,
    /// The account or API key id (`null` for `system`).
    pub id: Option<Uuid>,
    /// The account's name or the API key's name; `null` when deleted or `system`.
    pub name: Option<String>,
    pub email: Option<String>,
    /// The account was deleted since: only its id remains.
    pub deleted: bool,
}

/// One audit event.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEventBody {
    pub id: Uuid,
    /// RFC 3339.
    pub occurred_at: String,
    pub actor: ActorBody,
    /// A stable dotted name, such as `membership.suspended` (see docs/audit.md).
    pub action: String,
    /// What the change was about, as `kind:id` (`membership:0190…`).
    pub target: Option<String>,
    /// The target's person as `Name <email>` when it is one (list only).
    pub target_label: Option<String>,
    /// The values the change replaced.
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// The values the change set.
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

/// A page of audit events, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEventList {
    pub items: Vec<AuditEventBody>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    pub next_cursor: Option<String>,
}

fn actor_body(entry: &AuditEntry) -> ActorBody {
    let (actor_type, id) = match entry.event.actor {
        Actor::Account(id) => ("account", Some(id.as_uuid())),
        Actor::ApiKey(id) => ("api_key", Some(id)),
        Actor::System => ("system", None),
    };
    let (name, email, deleted) = match &entry.actor {
        ActorLabel::Account {
            first_name,
            last_name,
            email,
        } => (
            Some(format!("{first_name} {last_name}").trim().to_owned()),
            Some(email.clone()),
            false,
        ),
        ActorLabel::DeletedAccount => (None, None, true),
        ActorLabel::ApiKey { name } => (Some(name.clone()), None, false),
        ActorLabel::System => (None, None, false),
    };
    ActorBody {
        actor_type: actor_type.into(),
        id,
        name,
        email,
        deleted,
    }
}

pub(crate) fn event_body(entry: &AuditEntry, target_label: Option<&TargetLabel>) -> AuditEventBody {
    let event = &entry.event;
    AuditEventBody {
        id: event.id.as_uuid(),
        occurred_at: rfc3339(event.occurred_at),
        actor: actor_body(entry),
        action: event.action.clone(),
        target: event.target.clone(),
        target_label: target_label.and_then(|label| match label {
            TargetLabel::Person { name, email } if name.is_empty() => Some(email.clone()),
            TargetLabel::Person { name, email } => Some(format!("{name} <{email}>")),
            TargetLabel::DeletedAccount => None,
        }),
        before: event.before.clone(),
        after: event.after.clone(),
        ip: event.ip.clone(),
        user_agent: event.user_agent.clone(),
        request_id: event.request_id.clone(),
    }
}

/// The organization's audit events, newest first, filtered and paged by cursor.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/audit-events", tag = "audit",
    params(("org" = Uuid, Path, description = "The organization"), AuditEventsQuery),
    responses(
        (status = 200, description = "A page of events", body = AuditEventList),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your role may not read the audit trail (`audit.read`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not your session's organization", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter, each named", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Path(org): Path<Uuid>,
    Query(query): Query<AuditEventsQuery>,
) -> Result<Json<AuditEventList>, ApiError> {
    let query = query.input().parse()?;
    let view = state
        .services
        .audit_events(&current, OrganizationId::from_uuid(org), &query)
        .await?;
    Ok(Json(AuditEventList {
        items: view
            .page
            .items
            .iter()
            .map(|entry| {
                let label = entry
                    .event
                    .target
                    .as_ref()
                    .and_then(|t| view.targets.get(t));
                event_body(entry, label)
            })
            .collect(),
        next_cursor: view.page.next.map(|c| c.to_string()),
    }))
}

/// The export's query: the filters of the list and the format.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct ExportQuery {
    /// `csv` (default) or `jsonl` (one JSON event per line).
    pub format: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub member: Option<String>,
}

/// The CSV columns of the audit export, in order.
pub const AUDIT_CSV_HEADER: [&str; 13] = [
    "occurred_at",
    "id",
    "actor_type",
    "actor_id",
    "actor_name",
    "actor_email",
    "action",
    "target",
    "before",
    "after",
    "ip",
    "user_agent",
    "request_id",
];

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, or a
/// tab or carriage return before one) gets a leading `'` (CSV injection).
pub(crate) fn neutralize(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// One CSV record (with its line end), through the `csv` crate's quoting.
pub(crate) fn csv_record<I, S>(cells: I) -> Result<Vec<u8>, csv::Error>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    writer.write_record(
        cells
            .into_iter()
            .map(|c| neutralize(c.as_ref()).into_owned()),
    )?;
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

fn json_text(value: &Option<serde_json::Value>) -> String {
    value.as_ref().map(|v| v.to_string()).unwrap_or_default()
}

fn csv_row(entry: &AuditEntry) -> Result<Vec<u8>, csv::Error> {
    let body = event_body(entry, None);
    csv_record([
        body.occurred_at,
        body.id.to_string(),
        body.actor.actor_type,
        body.actor.id.map(|i| i.to_string()).unwrap_or_default(),
        body.actor.name.unwrap_or_default(),
        body.actor.email.unwrap_or_default(),
        body.action,
        body.target.unwrap_or_default(),
        json_text(&body.before),
        json_text(&body.after),
        body.ip.unwrap_or_default(),
        body.user_agent.unwrap_or_default(),
        body.request_id.unwrap_or_default(),
    ])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    JsonLines,
}

fn attachment(format: Format, name: &str, body: Body) -> Response {
    let (content_type, extension) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::JsonLines => ("application/x-ndjson", "jsonl"),
    };
    let now = OffsetDateTime::now_utc();
    let disposition = format!(
        "attachment; filename=\"{name}-{:04}{:02}{:02}.{extension}\"",
        now.year(),
        u8::from(now.month()),
        now.day()
    );
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Exports the organization's audit events matching the filters, newest
/// first, streamed: CSV with a header row, or JSON lines (each line an
/// event as in the list, without `target_label`).
#[utoipa::path(get, path = "/api/v1/organizations/{org}/audit-events/export", tag = "audit",
    params(("org" = Uuid, Path, description = "The organization"), ExportQuery),
    responses(
        (status = 200, description = "Every matching event, streamed", content(
            (String = "text/csv"),
            (String = "application/x-ndjson"),
        )),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your role may not read the audit trail (`audit.read`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not your session's organization", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter or format, each named", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn export(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Path(org): Path<Uuid>,
    Query(query): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let format = match query.format.as_deref().map(str::trim) {
        None | Some("") | Some("csv") => Format::Csv,
        Some("jsonl") => Format::JsonLines,
        Some(other) => {
            return Err(ApiError::validation(
                "format",
                ValidationError::UnknownValue(other.to_owned(), "csv or jsonl"),
            ))
        }
    };
    let input = AuditFilterInput {
        from: query.from,
        to: query.to,
        actor: query.actor,
        action: query.action,
        member: query.member,
        ..AuditFilterInput::default()
    };
    let parsed = input.parse()?;
    let batches = state
        .services
        .audit_export(&current, OrganizationId::from_uuid(org), &parsed)
        .await?;
    let header = match format {
        Format::Csv => csv_record(AUDIT_CSV_HEADER).map_err(|_| ApiError::internal())?,
        Format::JsonLines => Vec::new(),
    };
    let rows = batches.map(move |batch| -> Result<Bytes, std::io::Error> {
        let batch = batch.map_err(|error| {
            tracing::error!(%error, "the audit export stopped");
            std::io::Error::other("the audit export stopped")
        })?;
        let mut chunk = Vec::with_capacity(batch.len() * 256);
        for entry in &batch {
            match format {
                Format::Csv => chunk.extend(csv_row(entry).map_err(std::io::Error::other)?),
                Format::JsonLines => {
                    serde_json::to_writer(&mut chunk, &event_body(entry, None))
                        .map_err(std::io::Error::other)?;
                    chunk.push(b'\n');
                }
            }
        }
        Ok(Bytes::from(chunk))
    });
    let stream = futures_util::stream::once(async move { Ok(Bytes::from(header)) }).chain(rows);
    Ok(attachment(
        format,
        "audit-events",
        Body::from_stream(stream),
    ))
}

// The access review.

/// The access review's query.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct ReviewQuery {
    /// Members without a login for this many days, and invitations pending
    /// for longer, are listed (1 to 3650, default 90).
    pub days: Option<String>,
}

/// A per-member permission override.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OverrideBody {
    pub permission: String,
    /// `grant` or `deny`.
    pub effect: String,
}

/// A resource assigned to a member.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AssignmentBody {
    pub resource_type: String,
    pub resource_id: String,
    pub label: Option<String>,
}

/// One member in the access review.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReviewMemberBody {
    /// The membership id.
    pub id: Uuid,
    pub account_id: Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// `staff` or `client`.
    pub kind: String,
    pub status: String,
    pub role_id: Uuid,
    pub role_name: String,
    /// The role manages the team (`team.manage`, not scoped).
    pub administrator: bool,
    /// The role is scoped: its holder sees only assigned resources.
    pub scoped: bool,
    /// RFC 3339, `null` when never.
    pub last_login_at: Option<String>,
    /// Active without a login (or, never logged in, member) for `days`.
    pub inactive: bool,
    pub overrides: Vec<OverrideBody>,
    pub assignments: Vec<AssignmentBody>,
}

/// An invitation pending for longer than the review's days.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StaleInvitationBody {
    pub id: Uuid,
    pub membership_id: Uuid,
    pub email: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub expires_at: String,
    pub expired: bool,
}

/// The access review of one organization.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AccessReviewBody {
    pub days: u32,
    /// RFC 3339: logins before this time are older than `days`.
    pub cutoff: String,
    /// Administrators first, then by name; removed members are not listed.
    pub members: Vec<ReviewMemberBody>,
    /// The ids of the members listed as inactive.
    pub inactive_members: Vec<Uuid>,
    pub stale_invitations: Vec<StaleInvitationBody>,
}

fn review_member_body(reviewed: &ReviewedMember) -> ReviewMemberBody {
    let m = &reviewed.member;
    ReviewMemberBody {
        id: m.membership.id.as_uuid(),
        account_id: m.membership.account_id.as_uuid(),
        email: m.email.as_str().to_owned(),
        first_name: m.first_name.clone(),
        last_name: m.last_name.clone(),
        kind: m.membership.kind.as_str().to_owned(),
        status: m.membership.status.as_str().to_owned(),
        role_id: m.membership.role_id.as_uuid(),
        role_name: reviewed
            .role
            .as_ref()
            .map(|r| r.name.clone())
            .unwrap_or_default(),
        administrator: reviewed.administrator,
        scoped: reviewed.role.as_ref().is_some_and(|r| r.scoped),
        last_login_at: m.last_login_at.map(rfc3339),
        inactive: reviewed.inactive,
        overrides: m
            .overrides
            .iter()
            .map(|(permission, effect)| OverrideBody {
                permission: permission.clone(),
                effect: effect.clone(),
            })
            .collect(),
        assignments: m
            .assignments
            .iter()
            .map(|a| AssignmentBody {
                resource_type: a.resource_type.clone(),
                resource_id: a.resource_id.clone(),
                label: a.label.clone(),
            })
            .collect(),
    }
}

pub(crate) fn review_body(review: &AccessReview) -> AccessReviewBody {
    let now = OffsetDateTime::now_utc();
    AccessReviewBody {
        days: review.days,
        cutoff: rfc3339(review.cutoff),
        members: review.members.iter().map(review_member_body).collect(),
        inactive_members: review
            .inactive()
            .map(|m| m.member.membership.id.as_uuid())
            .collect(),
        stale_invitations: review
            .stale_invitations
            .iter()
            .map(|i| StaleInvitationBody {
                id: i.id.as_uuid(),
                membership_id: i.membership_id.as_uuid(),
                email: i.email.as_str().to_owned(),
                created_at: rfc3339(i.created_at),
                expires_at: rfc3339(i.expires_at),
                expired: now >= i.expires_at,
            })
            .collect(),
    }
}

/// Who has which access (seed 002, « auditez régulièrement »): every member
/// with role, overrides and assignments, administrators first; members
/// without a login for `days`; invitations pending for longer. Needs
/// `audit.read` or `team.manage`.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/access-review", tag = "audit",
    params(("org" = Uuid, Path, description = "The organization"), ReviewQuery),
    responses(
        (status = 200, description = "The access review", body = AccessReviewBody),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your role holds neither `audit.read` nor `team.manage`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not your session's organization", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid `days`", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn access_review(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Path(org): Path<Uuid>,
    Query(query): Query<ReviewQuery>,
) -> Result<Json<AccessReviewBody>, ApiError> {
    let days = review_days(query.days.as_deref())?;
    let review = state
        .services
        .access_review(&current, OrganizationId::from_uuid(org), days)
        .await?;
    Ok(Json(review_body(&review)))
}

/// The CSV columns of the access review export.
pub const REVIEW_CSV_HEADER: [&str; 12] = [
    "type",
    "email",
    "first_name",
    "last_name",
    "kind",
    "status",
    "role",
    "administrator",
    "last_login_at",
    "inactive",
    "overrides",
    "assignments",
];

/// The access review as CSV: one row per member (`type` = `member`), then
/// one per stale invitation (`type` = `invitation`).
pub(crate) fn review_csv(review: &AccessReview) -> Result<Vec<u8>, csv::Error> {
    let body = review_body(review);
    let mut out = csv_record(REVIEW_CSV_HEADER)?;
    for m in &body.members {
        let overrides: Vec<String> = m
            .overrides
            .iter()
            .map(|o| format!("{}:{}", o.permission, o.effect))
            .collect();
        let assignments: Vec<String> = m
            .assignments
            .iter()
            .map(|a| match &a.label {
                Some(label) => format!("{}:{} ({label})", a.resource_type, a.resource_id),
                None => format!("{}:{}", a.resource_type, a.resource_id),
            })
            .collect();
        out.extend(csv_record([
            "member".to_owned(),
            m.email.clone(),
            m.first_name.clone(),
            m.last_name.clone(),
            m.kind.clone(),
            m.status.clone(),
            m.role_name.clone(),
            m.administrator.to_string(),
            m.last_login_at.clone().unwrap_or_default(),
            m.inactive.to_string(),
            overrides.join("; "),
            assignments.join("; "),
        ])?);
    }
    for i in &body.stale_invitations {
        out.extend(csv_record([
            "invitation".to_owned(),
            i.email.clone(),
            String::new(),
            String::new(),
            String::new(),
            if i.expired { "expired" } else { "pending" }.to_owned(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            format!("sent {}", i.created_at),
        ])?);
    }
    Ok(out)
}

/// The access review as a CSV file (same rights and `days` as the review).
#[utoipa::path(get, path = "/api/v1/organizations/{org}/access-review/export", tag = "audit",
    params(("org" = Uuid, Path, description = "The organization"), ReviewQuery),
    responses(
        (status = 200, description = "The review, one row per member then per stale invitation", content_type = "text/csv", body = String),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your role holds neither `audit.read` nor `team.manage`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not your session's organization", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid `days`", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn access_review_export(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Path(org): Path<Uuid>,
    Query(query): Query<ReviewQuery>,
) -> Result<Response, ApiError> {
    let days = review_days(query.days.as_deref())?;
    let review = state
        .services
        .access_review(&current, OrganizationId::from_uuid(org), days)
        .await?;
    let csv = review_csv(&review).map_err(|_| ApiError::internal())?;
    Ok(attachment(Format::Csv, "access-review", Body::from(csv)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralized_and_quoting_is_proper() {
        let line =
            csv_record(["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "a,b", "plain"]).unwrap();
        let text = String::from_utf8(line).unwrap();
        assert_eq!(
            text,
            "\"'=HYPERLINK(\"\"x\"\")\",'+1,'-2,'@SUM(A1),\"a,b\",plain\r\n"
        );
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        let record = reader.records().next().unwrap().unwrap();
        assert_eq!(&record[0], "'=HYPERLINK(\"x\")");
        assert_eq!(&record[4], "a,b");
    }
}
