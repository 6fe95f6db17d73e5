//! Company details under `/api/v1` (flow 12, seed 003): the organization's
//! name, legal name, address, phone, VAT and registration numbers, for
//! members holding `company.edit`.

use axum::extract::{Path, State};
use axum::Json;
use gardien_core::{CompanyDetails, OrganizationId};
use gardien_service::CompanyPatch;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::context::Origin;
use crate::error::{ApiError, Problem};
use crate::session::SignedIn;
use crate::state::AppState;

/// The organization's company details.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CompanyBody {
    /// The organization's name, as people see it everywhere (1–120 characters).
    pub name: String,
    /// The registered name, when it differs (up to 200 characters).
    pub legal_name: Option<String>,
    /// The postal address, up to 6 lines and 400 characters.
    pub address: Option<String>,
    /// 6 to 20 digits with `+`, spaces, dots, dashes or parentheses.
    pub phone: Option<String>,
    /// Country prefix then 2–13 letters or digits, stored compact in upper
    /// case (`FR40303265045`).
    pub vat_number: Option<String>,
    /// As registries print it (`732 829 320 00074`, `HRB 12345`).
    pub registration_number: Option<String>,
}

impl From<CompanyDetails> for CompanyBody {
    fn from(details: CompanyDetails) -> Self {
        Self {
            name: details.name,
            legal_name: details.legal_name,
            address: details.address,
            phone: details.phone,
            vat_number: details.vat_number,
            registration_number: details.registration_number,
        }
    }
}

/// The details to change; absent fields stay as they are, an empty text
/// clears an optional field.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CompanyPatchBody {
    pub name: Option<String>,
    pub legal_name: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub vat_number: Option<String>,
    pub registration_number: Option<String>,
}

impl From<CompanyPatchBody> for CompanyPatch {
    fn from(body: CompanyPatchBody) -> Self {
        Self {
            name: body.name,
            legal_name: body.legal_name,
            address: body.address,
            phone: body.phone,
            vat_number: body.vat_number,
            registration_number: body.registration_number,
        }
    }
}

/// The organization's company details (`company.edit`).
#[utoipa::path(get, path = "/api/v1/organizations/{org}/company", tag = "team",
    params(("org" = Uuid, Path, description = "The organization")),
    responses(
        (status = 200, description = "The company details", body = CompanyBody),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your role may not edit the company details", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not your session's organization", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn show(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Path(org): Path<Uuid>,
) -> Result<Json<CompanyBody>, ApiError> {
    let details = state
        .services
        .company(&current, OrganizationId::from_uuid(org))
        .await?;
    Ok(Json(details.into()))
}

/// Changes the company details (`company.edit`): every invalid field is
/// reported and nothing is saved; a change is audited
/// (`organization.company_updated`, before and after).
#[utoipa::path(patch, path = "/api/v1/organizations/{org}/company", tag = "team",
    request_body = CompanyPatchBody,
    params(("org" = Uuid, Path, description = "The organization")),
    responses(
        (status = 200, description = "The saved details", body = CompanyBody),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your role may not edit the company details", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not your session's organization", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn patch(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Origin(context): Origin,
    Path(org): Path<Uuid>,
    body: Result<Json<CompanyPatchBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<CompanyBody>, ApiError> {
    let Json(body) = body?;
    let details = state
        .services
        .update_company(
            &current,
            OrganizationId::from_uuid(org),
            &body.into(),
            &context,
        )
        .await?;
    Ok(Json(details.into()))
}
