//! The team (flow 8) under `/api/v1`: the member list with search, filters
//! and cursor pagination, lifecycle actions and role changes.

use axum::extract::{Path, Query, State};
use axum::Json;
use gardien_core::{MembershipId, OrganizationId, StatusChange};
use gardien_service::{member_filter, MemberQuery};
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

/// A member's new role.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MemberPatch {
    pub role_id: String,
}

/// Changes a member's role. The last active administrator cannot be demoted.
#[utoipa::path(patch, path = "/api/v1/organizations/{org}/members/{member}", tag = "team",
    request_body = MemberPatch,
    params(("org" = Uuid, Path, description = "The organization"),
        ("member" = Uuid, Path, description = "The membership")),
    responses(
        (status = 200, description = "Changed", body = MembershipBody),
        (status = 404, description = "No such member in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown role", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn patch(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Origin(context): Origin,
    Path((org, member)): Path<(Uuid, Uuid)>,
    body: Result<Json<MemberPatch>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<MembershipBody>, ApiError> {
    let Json(body) = body?;
    let membership = state
        .services
        .change_member_role(
            &current,
            OrganizationId::from_uuid(org),
            MembershipId::from_uuid(member),
            &body.role_id,
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
