//! The audit trail page (`/o/{org}/audit`) and the access review
//! (`/o/{org}/access-review`), flow 14. Both read through the same service
//! calls as the API; the review's suspension goes through a confirmation
//! page, then the team's own use case.

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use gardien_core::{MembershipId, MembershipStatus, OrganizationId, StatusChange};
use gardien_service::{
    review_days, AccessReview, AuditFilterInput, ServiceError, TargetLabel, REVIEW_DEFAULT_DAYS,
};
use gardien_store::{ActorLabel, AuditEntry};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::flash::Flash;
use super::{render, PageContext};
use crate::context::Origin;
use crate::csrf::CsrfToken;
use crate::error::{validation_message, ApiError};
use crate::i18n::Translator;
use crate::session::MaybeSignedIn;
use crate::state::AppState;

fn to_login() -> Response {
    Redirect::to("/login").into_response()
}

/// A time as people of the page's language read it (UTC).
pub(crate) fn local_time(t: &Translator, at: OffsetDateTime) -> String {
    let month = t.get(&format!("audit-month-{}", u8::from(at.month())));
    format!(
        "{} {month} {} {:02}:{:02}",
        at.day(),
        at.year(),
        at.hour(),
        at.minute()
    )
}

/// An action in plain words; an action without words yet shows as itself.
pub(crate) fn action_label(t: &Translator, action: &str) -> String {
    let key = format!("audit-action-{}", action.replace(['.', '_'], "-"));
    t.find(&key)
        .filter(|label| !label.is_empty())
        .unwrap_or_else(|| action.to_owned())
}

/// The groups of actions offered as prefixes in the filter.
const ACTION_GROUPS: [&str; 10] = [
    "account",
    "session",
    "invitation",
    "membership",
    "member",
    "organization",
    "api_key",
    "role",
    "audit",
    "webhook",
];

/// Every action that has words, offered one by one in the filter.
const KNOWN_ACTIONS: [&str; 47] = [
    "account.signed_up",
    "account.email_verified",
    "account.verification_resent",
    "account.logged_in",
    "account.logged_out",
    "account.login_failed",
    "account.password_changed",
    "account.password_reset",
    "account.password_reset_requested",
    "account.privacy_policy_accepted",
    "account.profile_updated",
    "account.sign_up_with_existing_email",
    "account.deleted",
    "account.email_change_requested",
    "account.email_changed",
    "session.organization_chosen",
    "session.revoked",
    "session.others_revoked",
    "invitation.created",
    "invitation.resent",
    "invitation.revoked",
    "invitation.accepted",
    "invitation.expired",
    "invitation.imported",
    "membership.activated",
    "membership.suspended",
    "membership.reactivated",
    "membership.removed",
    "membership.restored",
    "membership.role_changed",
    "membership.info_updated",
    "membership.password_reset_sent",
    "member.override_changed",
    "member.assigned",
    "member.unassigned",
    "role.created",
    "role.updated",
    "role.deleted",
    "organization.settings_changed",
    "organization.company_updated",
    "organization.ownership_transferred",
    "api_key.created",
    "api_key.revoked",
    "audit.purged",
    "webhook.created",
    "webhook.deleted",
    "webhook.replayed",
];

#[derive(Debug, Default, Deserialize)]
pub(super) struct AuditPageQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    member: String,
    #[serde(default)]
    cursor: String,
}

impl AuditPageQuery {
    /// The filters as URL parameters (without the cursor).
    fn params(&self) -> Vec<String> {
        [
            ("from", &self.from),
            ("to", &self.to),
            ("actor", &self.actor),
            ("action", &self.action),
            ("member", &self.member),
        ]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", urlencode(v.trim())))
        .collect()
    }
}

fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

struct ChangeLine {
    field: String,
    before: String,
    after: String,
}

struct EventRow {
    id: String,
    action: String,
    when: String,
    when_iso: String,
    who: String,
    who_detail: String,
    what: String,
    target: String,
    changes: Vec<ChangeLine>,
    ip: String,
}

fn value_text(value: Option<&serde_json::Value>) -> String {
    match value {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// `before → after`, field by field when both are objects.
fn change_lines(
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> Vec<ChangeLine> {
    let empty = serde_json::Map::new();
    let as_object = |v: Option<&serde_json::Value>| match v {
        Some(serde_json::Value::Object(map)) => Some(map.clone()),
        None | Some(serde_json::Value::Null) => Some(empty.clone()),
        _ => None,
    };
    match (as_object(before), as_object(after)) {
        (Some(b), Some(a)) => {
            let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            keys.into_iter()
                .map(|k| ChangeLine {
                    field: k.clone(),
                    before: value_text(b.get(k)),
                    after: value_text(a.get(k)),
                })
                .collect()
        }
        _ => vec![ChangeLine {
            field: String::new(),
            before: value_text(before),
            after: value_text(after),
        }],
    }
}

fn event_row(
    t: &Translator,
    entry: &AuditEntry,
    targets: &HashMap<String, TargetLabel>,
) -> EventRow {
    let event = &entry.event;
    let (who, who_detail) = match &entry.actor {
        ActorLabel::Account {
            first_name,
            last_name,
            email,
        } => {
            let name = format!("{first_name} {last_name}").trim().to_owned();
            if name.is_empty() {
                (email.clone(), String::new())
            } else {
                (name, email.clone())
            }
        }
        ActorLabel::DeletedAccount => (t.get("audit-deleted-account"), String::new()),
        ActorLabel::ApiKey { name } => (t.arg("audit-api-key", "name", name), String::new()),
        ActorLabel::System => (t.get("audit-system"), String::new()),
    };
    let target = match event.target.as_ref() {
        None => String::new(),
        Some(target) => match targets.get(target) {
            Some(TargetLabel::Person { name, email }) if name.is_empty() => email.clone(),
            Some(TargetLabel::Person { name, email }) => format!("{name} ({email})"),
            Some(TargetLabel::DeletedAccount) => t.get("audit-deleted-account"),
            None => target.clone(),
        },
    };
    EventRow {
        id: event.id.to_string(),
        action: event.action.clone(),
        when: local_time(t, event.occurred_at),
        when_iso: crate::api::invitations::rfc3339(event.occurred_at),
        who,
        who_detail,
        what: action_label(t, &event.action),
        target,
        changes: change_lines(event.before.as_ref(), event.after.as_ref()),
        ip: event.ip.clone().unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    page: PageContext,
    org_id: String,
    org_name: String,
    query: AuditPageQuery,
    /// `(account id, label)`
    actors: Vec<(String, String)>,
    /// `(membership id, label)`
    members: Vec<(String, String)>,
    /// `(value, label)`
    actions: Vec<(String, String)>,
    events: Vec<EventRow>,
    errors: HashMap<String, String>,
    next_href: Option<String>,
    first_href: Option<String>,
    export_query: String,
    can_review: bool,
}

impl AuditPage {
    fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }
    fn has_error(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }
}

fn org_name(current: &gardien_service::CurrentSession) -> String {
    current
        .organization
        .as_ref()
        .map(|c| c.organization.name.clone())
        .unwrap_or_default()
}

fn person(first: &str, last: &str, email: &str) -> String {
    let name = format!("{first} {last}").trim().to_owned();
    if name.is_empty() {
        email.to_owned()
    } else {
        format!("{name} ({email})")
    }
}

pub(super) async fn show_audit(
    State(state): State<AppState>,
    page: PageContext,
    MaybeSignedIn(current): MaybeSignedIn,
    Path(org): Path<Uuid>,
    Query(query): Query<AuditPageQuery>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let organization = OrganizationId::from_uuid(org);
    let some = |v: &str| Some(v.to_owned()).filter(|v| !v.trim().is_empty());
    let input = AuditFilterInput {
        from: some(&query.from),
        to: some(&query.to),
        actor: some(&query.actor),
        action: some(&query.action),
        member: some(&query.member),
        cursor: some(&query.cursor),
        limit: None,
    };
    let mut errors = HashMap::new();
    let mut events = Vec::new();
    let mut next_href = None;
    let view = match input.parse() {
        Ok(parsed) => match state
            .services
            .audit_events(&current, organization, &parsed)
            .await
        {
            Ok(view) => Some(view),
            Err(ServiceError::Invalid(list)) => {
                errors.extend(list);
                None
            }
            Err(other) => return Err(other.into()),
        },
        Err(ServiceError::Invalid(list)) => {
            errors.extend(list);
            None
        }
        Err(other) => return Err(other.into()),
    };
    let errors: HashMap<String, String> = errors
        .into_iter()
        .map(|(field, error)| (field.to_owned(), validation_message(&page.t, &error)))
        .collect();
    if let Some(view) = &view {
        events = view
            .page
            .items
            .iter()
            .map(|e| event_row(&page.t, e, &view.targets))
            .collect();
        next_href = view.page.next.map(|cursor| {
            let mut params = query.params();
            params.push(format!("cursor={cursor}"));
            format!("/o/{org}/audit?{}", params.join("&"))
        });
    } else {
        // Bad filters: the page still needs the right to read the trail.
        state
            .services
            .audit_events(
                &current,
                organization,
                &AuditFilterInput::default().parse()?,
            )
            .await?;
    }
    // Who can be chosen: the organization's members (removed ones aside).
    let review = state
        .services
        .access_review(&current, organization, REVIEW_DEFAULT_DAYS)
        .await?;
    let mut actors = Vec::new();
    let mut members = Vec::new();
    for m in &review.members {
        let label = person(
            &m.member.first_name,
            &m.member.last_name,
            m.member.email.as_str(),
        );
        if m.member.membership.status != MembershipStatus::Invited {
            actors.push((m.member.membership.account_id.to_string(), label.clone()));
        }
        members.push((m.member.membership.id.to_string(), label));
    }
    actors.sort_by_key(|a| a.1.to_lowercase());
    members.sort_by_key(|a| a.1.to_lowercase());
    let mut actions: Vec<(String, String)> = ACTION_GROUPS
        .iter()
        .map(|g| {
            let group = page.t.get(&format!("audit-group-{g}"));
            (format!("{g}."), page.t.arg("audit-group", "group", group))
        })
        .collect();
    actions.extend(
        KNOWN_ACTIONS
            .iter()
            .map(|a| ((*a).to_owned(), action_label(&page.t, a))),
    );
    let params = query.params();
    let export_query = params.join("&");
    let first_href = (!query.cursor.is_empty()).then(|| {
        if params.is_empty() {
            format!("/o/{org}/audit")
        } else {
            format!("/o/{org}/audit?{}", params.join("&"))
        }
    });
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let html = render(&AuditPage {
        page,
        org_id: org.to_string(),
        org_name: org_name(&current),
        query,
        actors,
        members,
        actions,
        events,
        errors,
        next_href,
        first_href,
        export_query,
        can_review: true,
    })?;
    Ok((status, html).into_response())
}

// The access review.

#[derive(Debug, Default, Deserialize)]
pub(super) struct ReviewPageQuery {
    #[serde(default)]
    days: String,
}

struct ReviewRow {
    id: String,
    name: String,
    email: String,
    role: String,
    administrator: bool,
    scoped: bool,
    status: &'static str,
    status_label: String,
    last_login: String,
    inactive: bool,
    overrides: Vec<(String, bool)>,
    assignments: Vec<String>,
    is_self: bool,
}

struct InvitationRow {
    email: String,
    sent: String,
    expired: bool,
}

#[derive(Template)]
#[template(path = "access_review.html")]
struct ReviewPage {
    page: PageContext,
    org_id: String,
    org_name: String,
    days: String,
    days_error: String,
    days_value: u32,
    members: Vec<ReviewRow>,
    inactive: Vec<ReviewRow>,
    invitations: Vec<InvitationRow>,
    can_suspend: bool,
}

fn review_rows(
    t: &Translator,
    review: &AccessReview,
    me: gardien_core::AccountId,
) -> Vec<ReviewRow> {
    review
        .members
        .iter()
        .map(|m| {
            let member = &m.member;
            let status = member.membership.status.as_str();
            ReviewRow {
                id: member.membership.id.to_string(),
                name: format!("{} {}", member.first_name, member.last_name)
                    .trim()
                    .to_owned(),
                email: member.email.as_str().to_owned(),
                role: m.role.as_ref().map(|r| r.name.clone()).unwrap_or_default(),
                administrator: m.administrator,
                scoped: m.role.as_ref().is_some_and(|r| r.scoped),
                status,
                status_label: t.get(&format!("status-{}", status.replace('_', "-"))),
                last_login: member
                    .last_login_at
                    .map(|at| local_time(t, at))
                    .unwrap_or_default(),
                inactive: m.inactive,
                overrides: member
                    .overrides
                    .iter()
                    .map(|(p, effect)| (p.clone(), effect == "grant"))
                    .collect(),
                assignments: member
                    .assignments
                    .iter()
                    .map(|a| match &a.label {
                        Some(label) => format!("{label} ({}:{})", a.resource_type, a.resource_id),
                        None => format!("{}:{}", a.resource_type, a.resource_id),
                    })
                    .collect(),
                is_self: member.membership.account_id == me,
            }
        })
        .collect()
}

pub(super) async fn show_review(
    State(state): State<AppState>,
    page: PageContext,
    MaybeSignedIn(current): MaybeSignedIn,
    Path(org): Path<Uuid>,
    Query(query): Query<ReviewPageQuery>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let (days, days_error) = match review_days(Some(&query.days)) {
        Ok(days) => (days, String::new()),
        Err(ServiceError::Invalid(errors)) => (
            REVIEW_DEFAULT_DAYS,
            errors
                .first()
                .map(|(_, e)| validation_message(&page.t, e))
                .unwrap_or_default(),
        ),
        Err(other) => return Err(other.into()),
    };
    let review = state
        .services
        .access_review(&current, OrganizationId::from_uuid(org), days)
        .await?;
    let members = review_rows(&page.t, &review, current.account.id);
    let inactive = review_rows(&page.t, &review, current.account.id)
        .into_iter()
        .filter(|r| r.inactive)
        .collect();
    let now = OffsetDateTime::now_utc();
    let invitations = review
        .stale_invitations
        .iter()
        .map(|i| InvitationRow {
            email: i.email.as_str().to_owned(),
            sent: local_time(&page.t, i.created_at),
            expired: now >= i.expires_at,
        })
        .collect();
    let status = if days_error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let html = render(&ReviewPage {
        days: if query.days.trim().is_empty() {
            days.to_string()
        } else {
            query.days.clone()
        },
        page,
        org_id: org.to_string(),
        org_name: org_name(&current),
        days_error,
        days_value: days,
        members,
        inactive,
        invitations,
        can_suspend: review.can_suspend,
    })?;
    Ok((status, html).into_response())
}

#[derive(Template)]
#[template(path = "access_review_confirm.html")]
struct ConfirmPage {
    page: PageContext,
    csrf: CsrfToken,
    org_id: String,
    member_id: String,
    name: String,
    email: String,
    days: String,
}

pub(super) async fn confirm_suspend(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    MaybeSignedIn(current): MaybeSignedIn,
    Path((org, member)): Path<(Uuid, Uuid)>,
    Query(query): Query<ReviewPageQuery>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let summary = state
        .services
        .member(
            &current,
            OrganizationId::from_uuid(org),
            MembershipId::from_uuid(member),
        )
        .await?;
    Ok(render(&ConfirmPage {
        page,
        csrf,
        org_id: org.to_string(),
        member_id: member.to_string(),
        name: format!("{} {}", summary.first_name, summary.last_name)
            .trim()
            .to_owned(),
        email: summary.email.as_str().to_owned(),
        days: review_days(Some(&query.days))
            .unwrap_or(REVIEW_DEFAULT_DAYS)
            .to_string(),
    })?
    .into_response())
}

pub(super) async fn suspend(
    State(state): State<AppState>,
    MaybeSignedIn(current): MaybeSignedIn,
    Origin(context): Origin,
    jar: CookieJar,
    Path((org, member)): Path<(Uuid, Uuid)>,
    Query(query): Query<ReviewPageQuery>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    state
        .services
        .change_member_status(
            &current,
            OrganizationId::from_uuid(org),
            MembershipId::from_uuid(member),
            StatusChange::Suspend,
            &context,
        )
        .await?;
    let days = review_days(Some(&query.days)).unwrap_or(REVIEW_DEFAULT_DAYS);
    let jar = jar.add(Flash::MemberUpdated.cookie(state.settings.is_https()));
    Ok((
        jar,
        Redirect::to(&format!("/o/{org}/access-review?days={days}")),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn keys(source: &str) -> BTreeSet<&str> {
        source
            .lines()
            .filter(|line| line.starts_with(|c: char| c.is_ascii_alphabetic()))
            .filter_map(|line| line.split_once('=').map(|(key, _)| key.trim()))
            .collect()
    }

    #[test]
    fn audit_catalogues_have_the_same_keys_and_every_known_action_has_words() {
        let en = keys(include_str!("../../locales/en/audit.ftl"));
        let fr = keys(include_str!("../../locales/fr/audit.ftl"));
        assert_eq!(en, fr);
        for language in [gardien_core::Language::En, gardien_core::Language::Fr] {
            let t = Translator::new(language);
            for action in KNOWN_ACTIONS {
                assert_ne!(action_label(&t, action), action, "{action} in {language:?}");
            }
            assert_eq!(action_label(&t, "thing.done_later"), "thing.done_later");
        }
    }

    #[test]
    fn changes_are_listed_field_by_field() {
        let before = serde_json::json!({ "status": "active" });
        let after = serde_json::json!({ "status": "suspended", "role": { "name": "x" } });
        let lines = change_lines(Some(&before), Some(&after));
        let text: Vec<_> = lines
            .iter()
            .map(|l| format!("{}:{}→{}", l.field, l.before, l.after))
            .collect();
        assert_eq!(text, ["role:→{\"name\":\"x\"}", "status:active→suspended"]);
    }

    #[test]
    fn times_read_in_the_page_language() {
        let at = time::macros::datetime!(2026-11-23 14:05 UTC);
        assert_eq!(
            local_time(&Translator::new(gardien_core::Language::Fr), at),
            "23 nov. 2026 14:05"
        );
        assert_eq!(
            local_time(&Translator::new(gardien_core::Language::En), at),
            "23 Nov 2026 14:05"
        );
    }
}
