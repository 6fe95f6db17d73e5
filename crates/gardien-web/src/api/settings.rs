//! An organization's settings under `/api/v1` (seed 001: new members need
//! an administrator's activation).

use axum::extract::{Path, State};
use axum::Json;
use gardien_core::{Organization, OrganizationId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::context::Origin;
use crate::error::{ApiError, Problem};
use crate::session::SignedIn;
use crate::state::AppState;

/// The organization's settings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SettingsBody {
    /// New members wait in `pending_activation` until an administrator activates them.
    pub requires_activation: bool,
}

/// The settings to change; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SettingsPatch {
    pub requires_activation: Option<bool>,
}

fn body(organization: &Organization) -> SettingsBody {
    SettingsBody {
        requires_activation: organization.requires_activation,
    }
}

/// The organization's settings (administrators).
#[utoipa::path(get, path = "/api/v1/organizations/{org}/settings", tag = "team",
    params(("org" = Uuid, Path, description = "The organization")),
    responses(
        (status = 200, description = "The settings", body = SettingsBody),
        (status = 403, description = "Your role may not manage members", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not your session's organization", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn show(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Path(org): Path<Uuid>,
) -> Result<Json<SettingsBody>, ApiError> {
    let organization = state
        .services
        .organization_settings(&current, OrganizationId::from_uuid(org))
        .await?;
    Ok(Json(body(&organization)))
}

/// Changes the organization's settings (administrators).
#[utoipa::path(patch, path = "/api/v1/organizations/{org}/settings", tag = "team",
    request_body = SettingsPatch,
    params(("org" = Uuid, Path, description = "The organization")),
    responses(
        (status = 200, description = "The saved settings", body = SettingsBody),
        (status = 403, description = "Your role may not manage members", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not your session's organization", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn patch(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Origin(context): Origin,
    Path(org): Path<Uuid>,
    patch: Result<Json<SettingsPatch>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<SettingsBody>, ApiError> {
    let Json(patch) = patch?;
    let organization = OrganizationId::from_uuid(org);
    let saved = match patch.requires_activation {
        Some(value) => {
            state
                .services
                .set_requires_activation(&current, organization, value, &context)
                .await?
        }
        None => {
            state
                .services
                .organization_settings(&current, organization)
                .await?
        }
    };
    Ok(Json(body(&saved)))
}
