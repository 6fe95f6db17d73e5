//! Ownership hand-over under `/api/v1` (DESIGN: "Ownership can be handed
//! over").

use axum::extract::{Path, State};
use axum::Json;
use gardien_core::OrganizationId;
use gardien_service::HandOver;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::context::Origin;
use crate::error::{ApiError, Problem};
use crate::session::SignedIn;
use crate::state::AppState;

/// Who receives the ownership, and what becomes of the previous owner.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct HandOverBody {
    /// The membership of the new owner: an active staff member.
    pub membership_id: String,
    /// The role the previous owner takes; leave it out to keep theirs.
    #[serde(default)]
    pub previous_owner_role_id: Option<String>,
}

/// The ownership after a hand-over.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OwnershipBody {
    pub owner_membership_id: Uuid,
    /// The new owner received the Administrator role with the ownership.
    pub promoted: bool,
    /// The previous owner's new role, when they stepped down.
    pub previous_owner_role_id: Option<Uuid>,
}

/// Hands the organization's ownership over to another member, in one
/// action: a new owner whose role does not administer becomes
/// Administrator, and the previous owner may step down to another role.
/// Only the owner may; the new owner is emailed.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/ownership", tag = "team",
    request_body = HandOverBody,
    params(("org" = Uuid, Path, description = "The organization")),
    responses(
        (status = 200, description = "Handed over", body = OwnershipBody),
        (status = 403, description = "You are not the owner (`/problems/not-owner`), or your role may not manage the team", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not your session's organization", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an active staff member of this organization, or not a role of it", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn hand_over(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Origin(context): Origin,
    Path(org): Path<Uuid>,
    body: Result<Json<HandOverBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<OwnershipBody>, ApiError> {
    let Json(body) = body?;
    let done = state
        .services
        .hand_over_ownership(
            &current,
            OrganizationId::from_uuid(org),
            &HandOver {
                to: body.membership_id,
                previous_owner_role_id: body.previous_owner_role_id.unwrap_or_default(),
            },
            &context,
        )
        .await?;
    Ok(Json(OwnershipBody {
        owner_membership_id: done.owner.as_uuid(),
        promoted: done.promoted,
        previous_owner_role_id: done.previous_owner_role.map(|r| r.as_uuid()),
    }))
}
