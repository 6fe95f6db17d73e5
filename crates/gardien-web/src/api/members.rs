//! The team (flow 8) under `/api/v1`: the member list with search, filters
//! and cursor pagination, lifecycle actions and role changes.

use axum::extract::{Path, Query, State};
use axum::Json;
use gardien_core::{MembershipId, OrganizationId, StatusChange};
use gardien_service::{member_filter, MemberInfo, MemberInfoPatch, MemberQuery};
use gardien_store::{MemberSummary, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::invitations::rfc3339;
use crate::context::Origin;
use crate::error::{ApiError, Problem};
use crate::session::SignedIn;
use crate::state::AppState;

/// The member list's query.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct MembersQuery {
    /// Part of the email or of the name, case-insensitive.
    pub search: Option<String>,
    /// `invited`, `pending_activation`, `active`, `suspended` or `removed`.
    pub status: Option<String>,
    /// A role id.
    pub role: Option<String>,
    /// `staff` or `client`.
    pub kind: Option<String>,
    pub cursor: Option<Uuid>,
    pub limit: Option<u32>,
}

impl MembersQuery {
    pub(crate) fn to_query(&self) -> Result<MemberQuery, ApiError> {
        Ok(MemberQuery {
            filter: member_filter(
                self.status.as_deref(),
                self.role.as_deref(),
                self.kind.as_deref(),
            )?,
            search: self.search.clone(),
            page: Some(PageRequest {
                after: self.cursor,
                limit: self.limit.unwrap_or(50).clamp(1, PageRequest::MAX_LIMIT),
            }),
        })
    }
}

/// One member.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MemberBody {
    pub id: Uuid,
    pub account_id: Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// `staff` or `client`.
    pub kind: String,
    pub role_id: Uuid,
    pub role_name: String,
    pub status: String,
    /// RFC 3339, `null` when never.
    pub last_login_at: Option<String>,
}

/// A page of members.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MemberList {
    pub items: Vec<MemberBody>,
    pub next_cursor: Option<Uuid>,
    /// The membership that owns the organization.
    pub owner_membership_id: Option<Uuid>,
}

pub(crate) fn member_body(member: &MemberSummary, role_name: String) -> MemberBody {
    let m = &member.membership;
    MemberBody {
        id: m.id.as_uuid(),
        account_id: m.account_id.as_uuid(),
        email: member.email.as_str().to_owned(),
        first_name: member.first_name.clone(),
        last_name: member.last_name.clone(),
        kind: m.kind.as_str().to_owned(),
        role_id: m.role_id.as_uuid(),
        role_name,
        status: m.status.as_str().to_owned(),
        last_login_at: member.last_login_at.map(rfc3339),
    }
}

/// The organization's members, oldest first.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/members", tag = "team",
    params(("org" = Uuid, Path, description = "The organization"), MembersQuery),
    responses(
        (status = 200, description = "A page of members", body = MemberList),
        (status = 403, description = "Your role may not see the team", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not your session's organization", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Path(org): Path<Uuid>,
    Query(query): Query<MembersQuery>,
) -> Result<Json<MemberList>, ApiError> {
    let list = state
        .services
        .members(&current, OrganizationId::from_uuid(org), &query.to_query()?)
        .await?;
    let items = list
        .page
        .items
        .iter()
        .map(|m| {
            let role = list
                .roles
                .iter()
                .find(|r| r.id == m.membership.role_id)
                .map(|r| r.name.clone())
                .unwrap_or_default();
            member_body(m, role)
        })
        .collect();
    Ok(Json(MemberList {
        items,
        next_cursor: list.page.next_cursor,
        owner_membership_id: list.owner.map(|m| m.as_uuid()),
    }))
}

/// The lifecycle action of a path segment.
pub(crate) fn status_change(action: &str) -> Option<StatusChange> {
    Some(match action {
        "suspend" => StatusChange::Suspend,
        "reactivate" => StatusChange::Reactivate,
        "activate" => StatusChange::Activate,
        "remove" => StatusChange::Remove,
        "restore" => StatusChange::Restore,
        _ => return None,
    })
}

/// A member after a change.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MembershipBody {
    pub id: Uuid,
    pub kind: String,
    pub role_id: Uuid,
    pub status: String,
}

/// Suspends, reactivates, activates, removes (soft) or restores a member.
/// The last active administrator cannot be suspended or removed.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/members/{member}/{action}", tag = "team",
    params(("org" = Uuid, Path, description = "The organization"),
        ("member" = Uuid, Path, description = "The membership"),
        ("action" = String, Path, description = "`suspend`, `reactivate`, `activate`, `remove` or `restore`")),
    responses(
        (status = 200, description = "Changed", body = MembershipBody),
        (status = 403, description = "Your role may not manage members", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not possible from the member's status, or the last administrator", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn change_status(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Origin(context): Origin,
    Path((org, member, action)): Path<(Uuid, Uuid, String)>,
) -> Result<Json<MembershipBody>, ApiError> {
    let change = status_change(&action).ok_or_else(ApiError::not_found)?;
    let membership = state
        .services
        .change_member_status(
            &current,
            OrganizationId::from_uuid(org),
            MembershipId::from_uuid(member),
            change,
            &context,
        )
        .await?;
    Ok(Json(MembershipBody {
        id: membership.id.as_uuid(),
        kind: membership.kind.as_str().to_owned(),
        role_id: membership.role_id.as_uuid(),
        status: membership.status.as_str().to_owned(),
    }))
}

/// Changes to a member: a new role and/or their information. Absent fields
/// stay as they are; an empty `title` or `phone` clears it. Every field is
/// checked before anything changes.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct MemberPatch {
    /// One of the organization's roles.
    #[serde(default)]
    pub role_id: Option<String>,
    /// 1–100 characters.
    #[serde(default)]
    pub first_name: Option<String>,
    /// 1–100 characters.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Up to 100 characters.
    #[serde(default)]
    pub title: Option<String>,
    /// 6 to 20 digits with `+`, spaces, dots, dashes or parentheses.
    #[serde(default)]
    pub phone: Option<String>,
}

/// A member's information as the organization shows it, with its membership.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MemberInfoBody {
    pub id: Uuid,
    pub email: String,
    /// `staff` or `client`.
    pub kind: String,
    pub role_id: Uuid,
    pub status: String,
    pub first_name: String,
    pub last_name: String,
    pub title: Option<String>,
    pub phone: Option<String>,
}

fn info_body(membership: &gardien_core::Membership, info: &MemberInfo) -> MemberInfoBody {
    MemberInfoBody {
        id: membership.id.as_uuid(),
        email: info.email.as_str().to_owned(),
        kind: membership.kind.as_str().to_owned(),
        role_id: membership.role_id.as_uuid(),
        status: info.status.as_str().to_owned(),
        first_name: info.first_name.clone(),
        last_name: info.last_name.clone(),
        title: info.title.clone(),
        phone: info.phone.clone(),
    }
}

/// Changes a member's role and/or information (`team.manage`). The last
/// active administrator cannot be demoted. Information of an account that
/// is also another organization's is recorded for this organization only.
/// Audited (`membership.role_changed`, `membership.info_updated`).
#[utoipa::path(patch, path = "/api/v1/organizations/{org}/members/{member}", tag = "team",
    request_body = MemberPatch,
    params(("org" = Uuid, Path, description = "The organization"),
        ("member" = Uuid, Path, description = "The membership")),
    responses(
        (status = 200, description = "Changed", body = MemberInfoBody),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your role may not manage members", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown role or invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn patch(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Origin(context): Origin,
    Path((org, member)): Path<(Uuid, Uuid)>,
    body: Result<Json<MemberPatch>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<MemberInfoBody>, ApiError> {
    let Json(body) = body?;
    let organization = OrganizationId::from_uuid(org);
    let member = MembershipId::from_uuid(member);
    let info = MemberInfoPatch {
        first_name: body.first_name,
        last_name: body.last_name,
        title: body.title,
        phone: body.phone,
    };
    // Bad fields are refused before the role changes: all or nothing.
    info.check()?;
    // Read first: a member who just demoted themselves may no longer read.
    let before = state
        .services
        .member_info(&current, organization, member)
        .await?;
    let mut membership = state
        .services
        .member(&current, organization, member)
        .await?
        .membership;
    if let Some(role_id) = &body.role_id {
        membership = state
            .services
            .change_member_role(&current, organization, member, role_id, &context)
            .await?;
    }
    let info = if info.is_empty() {
        before
    } else {
        state
            .services
            .update_member_info(&current, organization, member, &info, &context)
            .await?
    };
    Ok(Json(info_body(&membership, &info)))
}

/// A member's information (`team.manage`), for an edit form.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/members/{member}/info", tag = "team",
    params(("org" = Uuid, Path, description = "The organization"),
        ("member" = Uuid, Path, description = "The membership")),
    responses(
        (status = 200, description = "The member's information", body = MemberInfoBody),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your role may not manage members", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member in this organization", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn info(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Path((org, member)): Path<(Uuid, Uuid)>,
) -> Result<Json<MemberInfoBody>, ApiError> {
    let organization = OrganizationId::from_uuid(org);
    let member = MembershipId::from_uuid(member);
    let info = state
        .services
        .member_info(&current, organization, member)
        .await?;
    let membership = state
        .services
        .member(&current, organization, member)
        .await?
        .membership;
    Ok(Json(info_body(&membership, &info)))
}

/// Emails an active member a single-use, 30-minute password-reset link, the
/// same as "forgot password" (`team.manage`). Audited
/// (`membership.password_reset_sent`).
#[utoipa::path(post, path = "/api/v1/organizations/{org}/members/{member}/password-reset", tag = "team",
    params(("org" = Uuid, Path, description = "The organization"),
        ("member" = Uuid, Path, description = "The membership")),
    responses(
        (status = 202, description = "The link is on its way"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your role may not manage members", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The member is not active", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn password_reset(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Origin(context): Origin,
    Path((org, member)): Path<(Uuid, Uuid)>,
) -> Result<axum::http::StatusCode, ApiError> {
    state
        .services
        .send_member_password_reset(
            &current,
            OrganizationId::from_uuid(org),
            MembershipId::from_uuid(member),
            &context,
        )
        .await?;
    Ok(axum::http::StatusCode::ACCEPTED)
}
