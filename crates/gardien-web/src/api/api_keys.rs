//! API keys of host back ends under `/api/v1/organizations/{org}/api-keys`:
//! created, listed and revoked by members holding `team.manage`, through
//! their session (state-changing calls need the CSRF token). The secret is
//! in the creation answer only.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use gardien_core::{ApiKeyId, OrganizationId};
use gardien_store::ApiKey;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::invitations::rfc3339;
use crate::context::Origin;
use crate::error::{ApiError, Problem};
use crate::session::SignedIn;
use crate::state::AppState;

/// A new key's name (what it is for).
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewApiKeyBody {
    pub name: String,
}

/// An API key, without its secret.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyBody {
    pub id: Uuid,
    pub name: String,
    /// `null`: the key may check every organization of the deployment.
    pub organization_id: Option<Uuid>,
    pub created_at: String,
    pub revoked_at: Option<String>,
    /// When a check last used it (RFC 3339, recorded at most once a minute);
    /// `null` when never.
    pub last_used_at: Option<String>,
}

/// A key just created: `secret` is shown this once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedApiKeyBody {
    #[serde(flatten)]
    pub key: ApiKeyBody,
    /// `gk_…`, to send as `Authorization: Bearer gk_…`. Never shown again.
    pub secret: String,
}

/// The organization's keys.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyList {
    pub items: Vec<ApiKeyBody>,
}

fn body(key: &ApiKey) -> ApiKeyBody {
    ApiKeyBody {
        id: key.id.as_uuid(),
        name: key.name.clone(),
        organization_id: key.organization_id.map(|o| o.as_uuid()),
        created_at: rfc3339(key.created_at),
        revoked_at: key.revoked_at.map(rfc3339),
        last_used_at: key.last_used_at.map(rfc3339),
    }
}

/// Creates an API key of the organization.
#[utoipa::path(post, path = "/api/v1/organizations/{org}/api-keys", tag = "checks",
    request_body = NewApiKeyBody,
    params(("org" = Uuid, Path, description = "The organization")),
    responses(
        (status = 201, description = "Created; the secret is shown this once", body = CreatedApiKeyBody),
        (status = 403, description = "Your role may not manage the team", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not your session's organization", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty or too long name", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Origin(context): Origin,
    Path(org): Path<Uuid>,
    Json(new): Json<NewApiKeyBody>,
) -> Result<(StatusCode, Json<CreatedApiKeyBody>), ApiError> {
    let created = state
        .services
        .create_api_key(
            &current,
            OrganizationId::from_uuid(org),
            &new.name,
            &context,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiKeyBody {
            key: body(&created.key),
            secret: created.secret,
        }),
    ))
}

/// The organization's API keys, revoked ones included.
#[utoipa::path(get, path = "/api/v1/organizations/{org}/api-keys", tag = "checks",
    params(("org" = Uuid, Path, description = "The organization")),
    responses(
        (status = 200, description = "The keys, oldest first", body = ApiKeyList),
        (status = 403, description = "Your role may not manage the team", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not your session's organization", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Path(org): Path<Uuid>,
) -> Result<Json<ApiKeyList>, ApiError> {
    let keys = state
        .services
        .api_keys(&current, OrganizationId::from_uuid(org))
        .await?;
    Ok(Json(ApiKeyList {
        items: keys.iter().map(body).collect(),
    }))
}

/// Revokes an API key: refused from its next request on.
#[utoipa::path(delete, path = "/api/v1/organizations/{org}/api-keys/{id}", tag = "checks",
    params(("org" = Uuid, Path, description = "The organization"),
        ("id" = Uuid, Path, description = "The key")),
    responses(
        (status = 200, description = "Revoked", body = ApiKeyBody),
        (status = 403, description = "Your role may not manage the team", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such live key in this organization", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Origin(context): Origin,
    Path((org, id)): Path<(Uuid, Uuid)>,
) -> Result<Json<ApiKeyBody>, ApiError> {
    let key = state
        .services
        .revoke_api_key(
            &current,
            OrganizationId::from_uuid(org),
            ApiKeyId::from_uuid(id),
            &context,
        )
        .await?;
    Ok(Json(body(&key)))
}
