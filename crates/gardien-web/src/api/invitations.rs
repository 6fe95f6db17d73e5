//! Invitations (flows 2, 3 and 4) under `/api/v1`: the organization's side
//! (invite, list, resend, revoke) and the invitee's (view, accept).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use axum_extra::extract::CookieJar;
use gardien_core::invitation::Invitation;
use gardien_core::{InvitationId, OrganizationId};
use gardien_service::{AcceptForm, Audience, InviteAssignment, InviteForm, RoleInput};
use gardien_store::PageRequest;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::context::Origin;
use crate::error::{ApiError, Problem};
use crate::session::{session_cookie, MaybeSignedIn, SignedIn};
use crate::state::AppState;

/// A person to invite.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct InviteBody {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    #[serde(default)]
    pub phone: Option<String>,
    /// `staff` or `client`.
    pub kind: String,
    /// One of the organization's roles; leave it out to give `new_role`.
    #[serde(default)]
    pub role_id: Option<String>,
    /// A custom role to create on the spot and give to the invitee (needs
    /// `roles.manage`; created only if the invitation is).
    #[serde(default)]
    pub new_role: Option<NewRoleBody>,
    /// Resources of the host to assign to the invitee (needs `team.manage`;
    /// at most 100); the invitation email lists them.
    #[serde(default)]
    pub assignments: Vec<InviteAssignmentBody>,
    /// Added to the email.
    #[serde(default)]
    pub personal_message: Option<String>,
    /// The invitee's language, `en` or `fr`; default: the inviter's.
    #[serde(default)]
    pub language: Option<String>,
}

/// A role created with an invitation.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct NewRoleBody {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Keys of the deployment's permission catalog.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Its permissions apply only to resources assigned to the member.
    #[serde(default)]
    pub scoped: bool,
}

/// A resource given with an invitation.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct InviteAssignmentBody {
    /// The resource type, such as `order`.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// The host's id of the resource.
    pub id: String,
    /// What the member sees; default: the id.
    #[serde(default)]
    pub label: Option<String>,
}

impl From<InviteBody> for InviteForm {
    fn from(body: InviteBody) -> Self {
        InviteForm {
            email: body.email,
            first_name: body.first_name,
            last_name: body.last_name,
            phone: body.phone.unwrap_or_default(),
            kind: body.kind,
            role_id: body.role_id.unwrap_or_default(),
            personal_message: body.personal_message.unwrap_or_default(),
            language: body.language.unwrap_or_default(),
            new_role: body.new_role.map(|r| RoleInput {
                name: r.name,
                description: r.description.unwrap_or_default(),
                permissions: r.permissions,
                scoped: r.scoped,
            }),
            assignments: body
                .assignments
                .into_iter()
                .map(|a| InviteAssignment {
                    resource_type: a.resource_type,
                    resource_id: a.id,
                    label: a.label,
                })
                .collect(),
        }
    }
}

/// An invitation, as its organization sees it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InvitationBody {
    pub id: Uuid,
    pub membership_id: Uuid,
    pub email: String,
    /// `en` or `fr`.
    pub language: String,
    /// `pending`, `accepted`, `revoked` or `expired`.
    pub state: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub expires_at: String,
}

pub(crate) fn invitation_body(invitation: &Invitation, now: OffsetDateTime) -> InvitationBody {
    let state = serde_json::to_value(invitation.state(now))
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    InvitationBody {
        id: invitation.id.as_uuid(),
        membership_id: invitation.membership_id.as_uuid(),
        email: invitation.email.as_str().to_owned(),
        language: invitation.language.code().to_owned(),
        state,
        created_at: rfc3339(invitation.created_at),
        expires_at: rfc3339(invitation.expires_at),
    }
}

pub(crate) fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A page of invitations.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InvitationList {
    pub items: Vec<InvitationBody>,
    pub next_cursor: Option<Uuid>,
}

/// Cursor pagination.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct PageQuery {
    pub cursor: Option<Uuid>,
    pub limit: Option<u32>,
}

impl PageQuery {
    pub(crate) fn page(&self) -> PageRequest {
        PageRequest {
            after: self.cursor,
            limit: self.limit.unwrap_or(50).clamp(1, PageRequest::MAX_LIMIT),
        }
    }
}

/// Invites a person: creates (or attaches) the account, an `invited`
/// membership and a single-use link emailed in the invitee's language. The
/// answer is the same whether or not the address has an account elsewhere.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/invitations", tag = "team",
    request_body = InviteBody,
    params(("org" = Uuid, Path, description = "The organization")),
    responses(
        (status = 201, description = "Invited; the email is on its way", body = InvitationBody),
        (status = 403, description = "Your role may not invite (or create the role, or assign the resources)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not your session's organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already a member of, or invited to, this organization; or the new role's name is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (`assignments[2].type`, `new_role.name`…)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn invite(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Origin(context): Origin,
    Path(org): Path<Uuid>,
    body: Result<Json<InviteBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<InvitationBody>), ApiError> {
    let Json(body) = body?;
    let invitation = state
        .services
        .invite(
            &current,
            OrganizationId::from_uuid(org),
            &body.into(),
            &context,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(invitation_body(&invitation, OffsetDateTime::now_utc())),
    ))
}

/// The organization's invitations, newest first, with their state.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/invitations", tag = "team",
    params(("org" = Uuid, Path, description = "The organization"), PageQuery),
    responses(
        (status = 200, description = "A page of invitations", body = InvitationList),
        (status = 403, description = "Your role may not invite", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not your session's organization", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Path(org): Path<Uuid>,
    Query(query): Query<PageQuery>,
) -> Result<Json<InvitationList>, ApiError> {
    let page = state
        .services
        .invitations(&current, OrganizationId::from_uuid(org), query.page())
        .await?;
    let now = OffsetDateTime::now_utc();
    Ok(Json(InvitationList {
        items: page.items.iter().map(|i| invitation_body(i, now)).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Sends a new link; the previous one stops working at once.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/invitations/{id}/resend", tag = "team",
    params(("org" = Uuid, Path, description = "The organization"), ("id" = Uuid, Path, description = "The invitation")),
    responses(
        (status = 201, description = "The new invitation", body = InvitationBody),
        (status = 404, description = "No such invitation in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already accepted", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn resend(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Origin(context): Origin,
    Path((org, id)): Path<(Uuid, Uuid)>,
) -> Result<(StatusCode, Json<InvitationBody>), ApiError> {
    let invitation = state
        .services
        .resend_invitation(
            &current,
            OrganizationId::from_uuid(org),
            InvitationId::from_uuid(id),
            &context,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(invitation_body(&invitation, OffsetDateTime::now_utc())),
    ))
}

/// Revokes an invitation: its link stops working.
#[utoipa::path(delete, path = "/api/v1/organizations/{org}/invitations/{id}", tag = "team",
    params(("org" = Uuid, Path, description = "The organization"), ("id" = Uuid, Path, description = "The invitation")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such invitation in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Already accepted", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Origin(context): Origin,
    Path((org, id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .revoke_invitation(
            &current,
            OrganizationId::from_uuid(org),
            InvitationId::from_uuid(id),
            &context,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What an invitation link shows its holder.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InvitationPreview {
    pub organization: String,
    pub email: String,
    /// `new_account` (send names and a password), `signed_in_as_invitee`
    /// (accept), `signed_in_as_other` (log out first) or `signed_out` (log in first).
    pub audience: String,
}

fn audience_code(audience: Audience) -> &'static str {
    match audience {
        Audience::NewAccount => "new_account",
        Audience::SignedInAsInvitee => "signed_in_as_invitee",
        Audience::SignedInAsOther => "signed_in_as_other",
        Audience::SignedOut => "signed_out",
    }
}

/// Opens an invitation link.
#[utoipa::path(get, path = "/api/v1/invitations/{token}", tag = "self",
    params(("token" = String, Path, description = "The emailed token")),
    responses(
        (status = 200, description = "A pending invitation", body = InvitationPreview),
        (status = 410, description = "Unknown, used, revoked or expired", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn view(
    State(state): State<AppState>,
    MaybeSignedIn(current): MaybeSignedIn,
    Path(token): Path<String>,
) -> Result<Json<InvitationPreview>, ApiError> {
    let view = state
        .services
        .open_invitation(&token, current.as_ref())
        .await?;
    Ok(Json(InvitationPreview {
        organization: view.organization.name,
        email: view.email.as_str().to_owned(),
        audience: audience_code(view.audience).to_owned(),
    }))
}

/// Accepting an invitation. A new account sends its details and password;
/// an existing account (logged in as itself) only `accept_privacy`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct AcceptBody {
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub password: String,
    /// Must be `true`: the privacy policy is accepted.
    #[serde(default)]
    pub accept_privacy: bool,
}

/// An accepted invitation.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AcceptedBody {
    pub organization_id: Uuid,
    pub organization: String,
    /// `staff` or `client`.
    pub kind: String,
    /// `active`, or `pending_activation` where an administrator activates new members.
    pub status: String,
}

/// Accepts an invitation; a new account gets its session cookie.
#[utoipa::path(post, path = "/api/v1/invitations/{token}", tag = "self", request_body = AcceptBody,
    params(("token" = String, Path, description = "The emailed token")),
    responses(
        (status = 200, description = "Accepted", body = AcceptedBody),
        (status = 401, description = "Log in as the invited address first", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Logged in as another account", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "Unknown, used, revoked or expired", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn accept(
    State(state): State<AppState>,
    MaybeSignedIn(current): MaybeSignedIn,
    Origin(context): Origin,
    jar: CookieJar,
    Path(token): Path<String>,
    body: Result<Json<AcceptBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(CookieJar, Json<AcceptedBody>), ApiError> {
    let Json(body) = body?;
    let form = AcceptForm {
        first_name: body.first_name,
        last_name: body.last_name,
        title: body.title,
        phone: body.phone,
        password: body.password,
        accept_privacy: body.accept_privacy,
    };
    let accepted = state
        .services
        .accept_invitation(&token, &form, current.as_ref(), &context)
        .await?;
    let jar = match &accepted.session_token {
        Some(token) => jar.add(session_cookie(&state.settings, token)),
        None => jar,
    };
    Ok((
        jar,
        Json(AcceptedBody {
            organization_id: accepted.organization.id.as_uuid(),
            organization: accepted.organization.name,
            kind: accepted.kind.as_str().to_owned(),
            status: accepted.status.as_str().to_owned(),
        }),
    ))
}
