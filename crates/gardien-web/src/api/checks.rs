//! The check API (flow 11) under `/api/v1`, for host back ends authenticated
//! by an API key (`Authorization: Bearer gk_…`): single and batch checks,
//! the resources of a type a member may use, and a member's effective
//! permissions. Answers come from the in-memory index, which every write
//! that changes access updates before it answers: no cache, no TTL.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::Json;
use gardien_authz::Visible;
use gardien_core::evaluator::{Decision, Reason};
use gardien_core::{AccountId, MembershipId, OrganizationId};
use std::sync::Arc;

use gardien_service::{CheckQuery, KeyScope, Services};
use gardien_store::ApiKey;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// The live API key of the request (an extractor): a missing, unknown or
/// revoked key is 401.
#[derive(Debug, Clone)]
pub struct Bearer(pub ApiKey);

impl FromRequestParts<AppState> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .ok_or_else(ApiError::unauthorized)?;
        state
            .services
            .api_key_by_secret(presented)
            .await?
            .map(Bearer)
            .ok_or_else(ApiError::unauthorized)
    }
}

/// A host resource: `{"type": "order", "id": "42"}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResourceBody {
    #[serde(rename = "type")]
    pub resource_type: String,
    pub id: String,
}

/// May this account use this permission in this organization (on this resource)?
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CheckBody {
    pub account_id: Uuid,
    pub organization_id: Uuid,
    /// A key of the permission catalog, such as `invoices.read`.
    pub permission: String,
    #[serde(default)]
    pub resource: Option<ResourceBody>,
}

impl CheckBody {
    fn query(&self) -> CheckQuery {
        CheckQuery {
            account_id: AccountId::from_uuid(self.account_id),
            organization_id: OrganizationId::from_uuid(self.organization_id),
            permission: self.permission.clone(),
            resource: self
                .resource
                .as_ref()
                .map(|r| (r.resource_type.clone(), r.id.clone())),
        }
    }
}

/// Why a check was allowed or denied.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReasonBody {
    /// `granted_by_role`, `granted_by_override`, `granted_by_assignment`,
    /// `not_a_member`, `invited`, `pending_activation`, `suspended`,
    /// `removed`, `denied_by_override`, `no_permission` or `not_assigned`.
    pub code: String,
    /// The role that decided, for `granted_by_role` and `granted_by_assignment`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_id: Option<Uuid>,
}

impl From<&Reason> for ReasonBody {
    fn from(reason: &Reason) -> Self {
        let code = match reason {
            Reason::GrantedByRole { .. } => "granted_by_role",
            Reason::GrantedByOverride => "granted_by_override",
            Reason::GrantedByAssignment { .. } => "granted_by_assignment",
            Reason::NotAMember => "not_a_member",
            Reason::Invited => "invited",
            Reason::PendingActivation => "pending_activation",
            Reason::Suspended => "suspended",
            Reason::Removed => "removed",
            Reason::DeniedByOverride => "denied_by_override",
            Reason::NoPermission => "no_permission",
            Reason::NotAssigned => "not_assigned",
        };
        let role_id = match reason {
            Reason::GrantedByRole { role_id } | Reason::GrantedByAssignment { role_id } => {
                Some(role_id.as_uuid())
            }
            _ => None,
        };
        Self {
            code: code.to_owned(),
            role_id,
        }
    }
}

/// The answer to one check.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DecisionBody {
    pub allowed: bool,
    pub reason: ReasonBody,
}

impl From<&Decision> for DecisionBody {
    fn from(decision: &Decision) -> Self {
        Self {
            allowed: decision.allowed,
            reason: (&decision.reason).into(),
        }
    }
}

/// Up to 1 000 checks.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BatchBody {
    pub checks: Vec<CheckBody>,
}

/// The answers, in the order of the checks.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BatchResult {
    pub results: Vec<DecisionBody>,
}

/// Which resources of a type may this account use with this permission?
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResourcesBody {
    pub account_id: Uuid,
    pub organization_id: Uuid,
    pub permission: String,
    pub resource_type: String,
}

/// `{"all": true}`: every resource of the type; otherwise `ids` lists the
/// allowed ones (assigned to a scoped member), and `reason` says why none is
/// allowed when the permission itself is denied.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VisibleBody {
    pub all: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<ReasonBody>,
}

/// A member's permissions after overrides (empty unless the membership is active).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EffectivePermissions {
    pub permissions: Vec<String>,
}

/// Checks one permission.
#[utoipa::path(post, path = "/api/v1/check", tag = "checks",
    request_body = CheckBody,
    security(("api_key" = [])),
    responses(
        (status = 200, description = "Allowed or denied, with the reason", body = DecisionBody),
        (status = 401, description = "Missing, unknown or revoked API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key is scoped to another organization", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown permission (the detail lists the valid ones) or malformed resource", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn check(
    State(services): State<Arc<Services>>,
    Bearer(key): Bearer,
    Json(body): Json<CheckBody>,
) -> Result<Json<DecisionBody>, ApiError> {
    let decision = services.check(KeyScope::from(&key), &body.query())?;
    Ok(Json((&decision).into()))
}

/// Checks up to 1 000 permissions in one call, answered in order.
#[utoipa::path(post, path = "/api/v1/check/batch", tag = "checks",
    request_body = BatchBody,
    security(("api_key" = [])),
    responses(
        (status = 200, description = "One answer per check, in order", body = BatchResult),
        (status = 401, description = "Missing, unknown or revoked API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A check names an organization outside the key's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "More than 1 000 checks, an unknown permission or a malformed resource", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn check_batch(
    State(services): State<Arc<Services>>,
    Bearer(key): Bearer,
    Json(body): Json<BatchBody>,
) -> Result<Json<BatchResult>, ApiError> {
    let queries: Vec<CheckQuery> = body.checks.iter().map(CheckBody::query).collect();
    let decisions = services.check_batch(KeyScope::from(&key), &queries)?;
    Ok(Json(BatchResult {
        results: decisions.iter().map(DecisionBody::from).collect(),
    }))
}

/// The ids of the resources of one type the member may use with a permission.
#[utoipa::path(post, path = "/api/v1/check/resources", tag = "checks",
    request_body = ResourcesBody,
    security(("api_key" = [])),
    responses(
        (status = 200, description = "All, or the allowed ids", body = VisibleBody),
        (status = 401, description = "Missing, unknown or revoked API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key is scoped to another organization", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown permission or empty resource type", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn resources(
    State(services): State<Arc<Services>>,
    Bearer(key): Bearer,
    Json(body): Json<ResourcesBody>,
) -> Result<Json<VisibleBody>, ApiError> {
    let visible = services.visible_resources(
        KeyScope::from(&key),
        AccountId::from_uuid(body.account_id),
        OrganizationId::from_uuid(body.organization_id),
        &body.permission,
        &body.resource_type,
    )?;
    Ok(Json(match visible {
        Visible::All => VisibleBody {
            all: true,
            ids: None,
            reason: None,
        },
        Visible::Only(ids) => VisibleBody {
            all: false,
            ids: Some(ids),
            reason: None,
        },
        Visible::None { reason } => VisibleBody {
            all: false,
            ids: Some(Vec::new()),
            reason: Some((&reason).into()),
        },
    }))
}

/// A member's effective permissions (role, then overrides).
#[utoipa::path(get, path = "/api/v1/organizations/{org}/members/{member}/effective-permissions", tag = "checks",
    security(("api_key" = [])),
    params(("org" = Uuid, Path, description = "The organization"),
        ("member" = Uuid, Path, description = "The membership")),
    responses(
        (status = 200, description = "The permissions, sorted", body = EffectivePermissions),
        (status = 401, description = "Missing, unknown or revoked API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key is scoped to another organization", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such member in this organization", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn effective_permissions(
    State(services): State<Arc<Services>>,
    Bearer(key): Bearer,
    Path((org, member)): Path<(Uuid, Uuid)>,
) -> Result<Json<EffectivePermissions>, ApiError> {
    let permissions = services
        .effective_permissions(
            KeyScope::from(&key),
            OrganizationId::from_uuid(org),
            MembershipId::from_uuid(member),
        )
        .await?;
    Ok(Json(EffectivePermissions {
        permissions: permissions.iter().map(|p| p.as_str().to_owned()).collect(),
    }))
}

/// The check API and its keys.
/// The routes a host's back end calls with an API key, on every request of
/// its own: they get the lean layer stack (`middleware::apply_lean`).
pub(crate) fn key_routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/v1/check", post(check))
        .route("/api/v1/check/batch", post(check_batch))
        .route("/api/v1/check/resources", post(resources))
        .route(
            "/api/v1/organizations/{org}/members/{member}/effective-permissions",
            get(effective_permissions),
        )
}

/// The API key management routes (session-authenticated, full stack).
pub(crate) fn routes() -> axum::Router<AppState> {
    use axum::routing::{delete, get};
    axum::Router::new()
        .route(
            "/api/v1/organizations/{org}/api-keys",
            get(super::api_keys::list).post(super::api_keys::create),
        )
        .route(
            "/api/v1/organizations/{org}/api-keys/{id}",
            delete(super::api_keys::revoke),
        )
}

/// Declares the `api_key` scheme the check endpoints name.
pub(crate) fn document_security(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "api_key",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("gk_…")
                .build(),
        ),
    );
}
