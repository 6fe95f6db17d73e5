//! A member's overrides, assignments and effective access under
//! `/api/v1/organizations/{org}` (flows 10 and 11), for a session (state
//! changes need the CSRF token and `team.manage`), and the explained
//! effective permissions for host back ends (API key).

use axum::extract::{Path, State};
use axum::Json;
use gardien_core::access::{AccessLine, AccessSource, Assignment};
use gardien_core::evaluator::OverrideEffect;
use gardien_core::{AccountId, MembershipId, OrganizationId};
use gardien_service::{
    AssignmentChanges, AssignmentItem, AssignmentOutcome, KeyScope, MemberAccess,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::checks::Bearer;
use super::invitations::rfc3339;
use crate::context::Origin;
use crate::error::{ApiError, Problem};
use crate::session::SignedIn;
use crate::state::AppState;

type JsonBody<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

/// `grant` or `deny`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EffectBody {
    Grant,
    Deny,
}

impl From<EffectBody> for OverrideEffect {
    fn from(value: EffectBody) -> Self {
        match value {
            EffectBody::Grant => OverrideEffect::Grant,
            EffectBody::Deny => OverrideEffect::Deny,
        }
    }
}

impl From<OverrideEffect> for EffectBody {
    fn from(value: OverrideEffect) -> Self {
        match value {
            OverrideEffect::Grant => EffectBody::Grant,
            OverrideEffect::Deny => EffectBody::Deny,
        }
    }
}

/// The override to set.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OverrideInput {
    pub effect: EffectBody,
}

/// One override of a member: `effect` `null` means the role decides.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OverrideBody {
    pub permission: String,
    pub effect: Option<EffectBody>,
}

/// A resource assigned to a member.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AssignmentBody {
    pub member_id: Uuid,
    #[serde(rename = "type")]
    pub resource_type: String,
    pub id: String,
    pub label: String,
    pub created_at: String,
}

fn assignment_body(a: &Assignment) -> AssignmentBody {
    AssignmentBody {
        member_id: a.membership_id.as_uuid(),
        resource_type: a.resource.resource_type.clone(),
        id: a.resource.resource_id.clone(),
        label: a.label.clone(),
        created_at: rfc3339(a.created_at),
    }
}

/// A member's assignments, by type then id.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AssignmentList {
    pub items: Vec<AssignmentBody>,
}

/// One resource to assign to the member of the path. `type`: a lowercase
/// letter, then lowercase letters, digits, `_`, `-` or `.` (at most 64);
/// `id`: printable text (at most 200); `label`: what people read (at most
/// 200; default: the id).
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewAssignmentBody {
    #[serde(rename = "type")]
    pub resource_type: String,
    pub id: String,
    #[serde(default)]
    pub label: Option<String>,
}

/// One item of a bulk call: the member (membership id) and the resource.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignmentItemBody {
    pub member: String,
    #[serde(rename = "type")]
    pub resource_type: String,
    pub id: String,
    /// Ignored when removing.
    #[serde(default)]
    pub label: Option<String>,
}

impl From<&AssignmentItemBody> for AssignmentItem {
    fn from(b: &AssignmentItemBody) -> Self {
        AssignmentItem {
            member: b.member.clone(),
            resource_type: b.resource_type.clone(),
            resource_id: b.id.clone(),
            label: b.label.clone(),
        }
    }
}

/// Up to 1 000 items in all: every item is checked first, and one refused
/// item (named `add[3].type`, …) changes nothing.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BulkAssignmentsBody {
    #[serde(default)]
    pub add: Vec<AssignmentItemBody>,
    #[serde(default)]
    pub remove: Vec<AssignmentItemBody>,
}

/// What a call changed: what was already assigned (or not assigned, when
/// removing) counts as `unchanged`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AssignmentResult {
    pub added: Vec<AssignmentBody>,
    pub removed: Vec<AssignmentBody>,
    pub unchanged: usize,
}

fn result_body(outcome: &AssignmentOutcome) -> AssignmentResult {
    AssignmentResult {
        added: outcome.added.iter().map(assignment_body).collect(),
        removed: outcome.removed.iter().map(assignment_body).collect(),
        unchanged: outcome.unchanged,
    }
}

/// One permission of a member's effective access.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AccessLineBody {
    pub permission: String,
    /// Whether the member holds it.
    pub allowed: bool,
    /// What decided: `role`, `override_grant` or `override_deny`.
    pub source: String,
    /// Held only on the resources assigned to the member (scoped role).
    pub only_assigned: bool,
}

fn line_body(line: &AccessLine) -> AccessLineBody {
    AccessLineBody {
        permission: line.permission.as_str().to_owned(),
        allowed: line.allowed,
        source: match line.source {
            AccessSource::Role => "role",
            AccessSource::OverrideGrant => "override_grant",
            AccessSource::OverrideDeny => "override_deny",
        }
        .to_owned(),
        only_assigned: line.only_assigned,
    }
}

/// The member's role.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AccessRoleBody {
    pub id: Uuid,
    pub name: String,
    /// Its permissions apply only to assigned resources.
    pub scoped: bool,
}

/// A member's role, overrides, assignments and effective permissions.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AccessBody {
    pub member_id: Uuid,
    pub account_id: Uuid,
    pub status: String,
    pub role: AccessRoleBody,
    pub overrides: Vec<OverrideBody>,
    pub assignments: Vec<AssignmentBody>,
    /// Every permission the role or an override mentions, with what decided it.
    pub permissions: Vec<AccessLineBody>,
}

pub(crate) fn access_body(access: &MemberAccess) -> AccessBody {
    let m = &access.member.membership;
    AccessBody {
        member_id: m.id.as_uuid(),
        account_id: m.account_id.as_uuid(),
        status: m.status.as_str().to_owned(),
        role: AccessRoleBody {
            id: access.role.id.as_uuid(),
            name: access.role.name.clone(),
            scoped: access.role.scoped,
        },
        overrides: access
            .overrides
            .iter()
            .map(|(p, e)| OverrideBody {
                permission: p.as_str().to_owned(),
                effect: Some((*e).into()),
            })
            .collect(),
        assignments: access.assignments.iter().map(assignment_body).collect(),
        permissions: access.lines.iter().map(line_body).collect(),
    }
}

/// Grants or denies one permission to a member, on top of their role
/// (`team.manage`). The member is not emailed. Denying `team.manage` to the
/// last active administrator is refused.
#[utoipa::path(put, path = "/api/v1/organizations/{org}/members/{member}/overrides/{permission}", tag = "team",
    request_body = OverrideInput,
    params(("org" = Uuid, Path, description = "The organization"),
        ("member" = Uuid, Path, description = "The membership"),
        ("permission" = String, Path, description = "A key of the permission catalog, such as `invoices.read`")),
    responses(
        (status = 200, description = "The override in force", body = OverrideBody),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your role may not manage members, or missing CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It would leave the organization without an active administrator", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown permission (the detail lists the valid ones) or unknown effect", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn set_override(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Origin(context): Origin,
    Path((org, member, permission)): Path<(Uuid, Uuid, String)>,
    body: JsonBody<OverrideInput>,
) -> Result<Json<OverrideBody>, ApiError> {
    let Json(body) = body?;
    let effect = state
        .services
        .set_member_override(
            &current,
            OrganizationId::from_uuid(org),
            MembershipId::from_uuid(member),
            &permission,
            Some(body.effect.into()),
            &context,
        )
        .await?;
    Ok(Json(OverrideBody {
        permission,
        effect: effect.map(Into::into),
    }))
}

/// Removes a member's override: the role decides again (`team.manage`).
#[utoipa::path(delete, path = "/api/v1/organizations/{org}/members/{member}/overrides/{permission}", tag = "team",
    params(("org" = Uuid, Path, description = "The organization"),
        ("member" = Uuid, Path, description = "The membership"),
        ("permission" = String, Path, description = "A key of the permission catalog")),
    responses(
        (status = 200, description = "No override any more (`effect` is null)", body = OverrideBody),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your role may not manage members, or missing CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It would leave the organization without an active administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown permission (the detail lists the valid ones)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn clear_override(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Origin(context): Origin,
    Path((org, member, permission)): Path<(Uuid, Uuid, String)>,
) -> Result<Json<OverrideBody>, ApiError> {
    state
        .services
        .set_member_override(
            &current,
            OrganizationId::from_uuid(org),
            MembershipId::from_uuid(member),
            &permission,
            None,
            &context,
        )
        .await?;
    Ok(Json(OverrideBody {
        permission,
        effect: None,
    }))
}

/// A member's assignments (`team.read` or `team.manage`).
#[utoipa::path(get, path = "/api/v1/organizations/{org}/members/{member}/assignments", tag = "team",
    params(("org" = Uuid, Path, description = "The organization"),
        ("member" = Uuid, Path, description = "The membership")),
    responses(
        (status = 200, description = "The assignments", body = AssignmentList),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your role may not see the team", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member in this organization", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_assignments(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Path((org, member)): Path<(Uuid, Uuid)>,
) -> Result<Json<AssignmentList>, ApiError> {
    let items = state
        .services
        .member_assignments(
            &current,
            OrganizationId::from_uuid(org),
            MembershipId::from_uuid(member),
        )
        .await?;
    Ok(Json(AssignmentList {
        items: items.iter().map(assignment_body).collect(),
    }))
}

/// Assigns one resource to a member (`team.manage`); the member is emailed
/// unless its type is silent. Assigning it again changes nothing.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/members/{member}/assignments", tag = "team",
    request_body = NewAssignmentBody,
    params(("org" = Uuid, Path, description = "The organization"),
        ("member" = Uuid, Path, description = "The membership")),
    responses(
        (status = 200, description = "Assigned (or already assigned: `unchanged` is 1)", body = AssignmentResult),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your role may not manage members, or missing CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Malformed type, id or label (the field is named)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn assign(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Origin(context): Origin,
    Path((org, member)): Path<(Uuid, Uuid)>,
    body: JsonBody<NewAssignmentBody>,
) -> Result<Json<AssignmentResult>, ApiError> {
    let Json(body) = body?;
    let changes = AssignmentChanges {
        add: vec![AssignmentItem {
            member: member.to_string(),
            resource_type: body.resource_type,
            resource_id: body.id,
            label: body.label,
        }],
        remove: Vec::new(),
    };
    let outcome = state
        .services
        .change_assignments(
            &current,
            OrganizationId::from_uuid(org),
            &changes,
            false,
            &context,
        )
        .await?;
    Ok(Json(result_body(&outcome)))
}

/// Unassigns one resource from a member (`team.manage`); access through it
/// ends at once. Unassigning what is not assigned changes nothing.
#[utoipa::path(delete, path = "/api/v1/organizations/{org}/members/{member}/assignments/{type}/{id}", tag = "team",
    params(("org" = Uuid, Path, description = "The organization"),
        ("member" = Uuid, Path, description = "The membership"),
        ("type" = String, Path, description = "The resource type"),
        ("id" = String, Path, description = "The resource id (percent-encoded)")),
    responses(
        (status = 200, description = "Unassigned (or was not: `unchanged` is 1)", body = AssignmentResult),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your role may not manage members, or missing CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Malformed type or id", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn unassign(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Origin(context): Origin,
    Path((org, member, resource_type, id)): Path<(Uuid, Uuid, String, String)>,
) -> Result<Json<AssignmentResult>, ApiError> {
    let changes = AssignmentChanges {
        add: Vec::new(),
        remove: vec![AssignmentItem {
            member: member.to_string(),
            resource_type,
            resource_id: id,
            label: None,
        }],
    };
    let outcome = state
        .services
        .change_assignments(
            &current,
            OrganizationId::from_uuid(org),
            &changes,
            false,
            &context,
        )
        .await?;
    Ok(Json(result_body(&outcome)))
}

/// Assigns and unassigns up to 1 000 resources to members in one call
/// (`team.manage`): all or nothing. Each member who received something
/// gets one email listing it (unless its types are silent).
#[utoipa::path(post, path = "/api/v1/organizations/{org}/assignments", tag = "team",
    request_body = BulkAssignmentsBody,
    params(("org" = Uuid, Path, description = "The organization")),
    responses(
        (status = 200, description = "Done", body = AssignmentResult),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your role may not manage members, or missing CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not your session's organization", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "More than 1 000 items, or refused items, each named (`add[3].type`, `remove[0].member`): nothing was changed", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn bulk(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Origin(context): Origin,
    Path(org): Path<Uuid>,
    body: JsonBody<BulkAssignmentsBody>,
) -> Result<Json<AssignmentResult>, ApiError> {
    let Json(body) = body?;
    let changes = AssignmentChanges {
        add: body.add.iter().map(Into::into).collect(),
        remove: body.remove.iter().map(Into::into).collect(),
    };
    let outcome = state
        .services
        .change_assignments(
            &current,
            OrganizationId::from_uuid(org),
            &changes,
            true,
            &context,
        )
        .await?;
    Ok(Json(result_body(&outcome)))
}

/// A member's role, overrides, assignments and effective permissions with
/// what decided each (`team.read` or `team.manage`).
#[utoipa::path(get, path = "/api/v1/organizations/{org}/members/{member}/access", tag = "team",
    params(("org" = Uuid, Path, description = "The organization"),
        ("member" = Uuid, Path, description = "The membership")),
    responses(
        (status = 200, description = "The member's access", body = AccessBody),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your role may not see the team", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member in this organization", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn access(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Path((org, member)): Path<(Uuid, Uuid)>,
) -> Result<Json<AccessBody>, ApiError> {
    let access = state
        .services
        .member_access(
            &current,
            OrganizationId::from_uuid(org),
            MembershipId::from_uuid(member),
        )
        .await?;
    Ok(Json(access_body(&access)))
}

/// Whose permissions to explain.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PermissionsQueryBody {
    pub account_id: Uuid,
    pub organization_id: Uuid,
}

/// A member's effective permissions, each with what decided it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExplainedPermissionsBody {
    /// The membership's status; `null` when the account is not a member.
    pub status: Option<String>,
    /// Held permissions, and those a deny override removes (`allowed` false).
    /// Nothing is held unless the status is `active`.
    pub permissions: Vec<AccessLineBody>,
}

/// A member's effective permissions with their reasons (role, override
/// grant or deny, only on assigned resources), from the index.
#[utoipa::path(post, path = "/api/v1/check/permissions", tag = "checks",
    request_body = PermissionsQueryBody,
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The permissions, sorted", body = ExplainedPermissionsBody),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing, unknown or revoked API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key is scoped to another organization", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing or malformed ids", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn explain_permissions(
    State(state): State<AppState>,
    Bearer(key): Bearer,
    body: JsonBody<PermissionsQueryBody>,
) -> Result<Json<ExplainedPermissionsBody>, ApiError> {
    let Json(body) = body?;
    let explained = state.services.explain_permissions(
        KeyScope::from(&key),
        AccountId::from_uuid(body.account_id),
        OrganizationId::from_uuid(body.organization_id),
    )?;
    Ok(Json(ExplainedPermissionsBody {
        status: explained.status.map(|s| s.as_str().to_owned()),
        permissions: explained.lines.iter().map(line_body).collect(),
    }))
}

/// The routes of this module.
pub(crate) fn routes() -> axum::Router<AppState> {
    use axum::routing::{delete, get, post, put};
    axum::Router::new()
        .route(
            "/api/v1/organizations/{org}/members/{member}/overrides/{permission}",
            put(set_override).delete(clear_override),
        )
        .route(
            "/api/v1/organizations/{org}/members/{member}/assignments",
            get(list_assignments).post(assign),
        )
        .route(
            "/api/v1/organizations/{org}/members/{member}/assignments/{type}/{id}",
            delete(unassign),
        )
        .route("/api/v1/organizations/{org}/assignments", post(bulk))
        .route(
            "/api/v1/organizations/{org}/members/{member}/access",
            get(access),
        )
        .route("/api/v1/check/permissions", post(explain_permissions))
}
