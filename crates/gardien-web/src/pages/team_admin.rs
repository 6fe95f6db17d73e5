//! Team administration pages besides the list: company details
//! (`/o/{org}/company`, seed 003), editing a member's information
//! (`/o/{org}/team/{member}/edit`), sending a member a password-reset link
//! (with a confirmation step), and bulk invitations from a CSV file
//! (`/o/{org}/team/import`: file → preview → confirm).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::CookieJar;
use gardien_core::{CompanyInput, MembershipId, MembershipStatus, OrganizationId};
use gardien_service::{
    CompanyPatch, CurrentSession, ImportFileError, MemberInfoPatch, ServiceError, IMPORT_MAX_BYTES,
    IMPORT_MAX_ROWS,
};
use serde::Deserialize;
use uuid::Uuid;

use super::flash::Flash;
use super::{render, PageContext};
use crate::api::import::{result_body, ImportResult};
use crate::context::Origin;
use crate::csrf::CsrfToken;
use crate::error::{validation_message, ApiError};
use crate::i18n::Translator;
use crate::session::MaybeSignedIn;
use crate::state::AppState;

const IMPORT_SCRIPT: &str = include_str!("../../static/import.js");

fn to_login() -> Response {
    Redirect::to("/login").into_response()
}

fn org_name(current: &CurrentSession) -> String {
    current
        .organization
        .as_ref()
        .map(|c| c.organization.name.clone())
        .unwrap_or_default()
}

fn field_errors(
    t: &Translator,
    errors: Vec<(&'static str, gardien_core::ValidationError)>,
) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for (field, error) in errors {
        map.entry(field.to_owned())
            .or_insert_with(|| validation_message(t, &error));
    }
    map
}

// Company details.

#[derive(Debug, Default, Deserialize)]
pub(super) struct CompanyValues {
    #[serde(default)]
    name: String,
    #[serde(default)]
    legal_name: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    vat_number: String,
    #[serde(default)]
    registration_number: String,
}

#[derive(Template)]
#[template(path = "company.html")]
struct CompanyPage {
    page: PageContext,
    csrf: CsrfToken,
    org_id: String,
    values: CompanyInput,
    errors: HashMap<String, String>,
    saved: bool,
}

impl CompanyPage {
    fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }
    fn has_error(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }
}

#[derive(Deserialize)]
pub(super) struct SavedQuery {
    saved: Option<String>,
}

pub(super) async fn company(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    MaybeSignedIn(current): MaybeSignedIn,
    Path(org): Path<Uuid>,
    Query(query): Query<SavedQuery>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let details = state
        .services
        .company(&current, OrganizationId::from_uuid(org))
        .await?;
    Ok(render(&CompanyPage {
        page,
        csrf,
        org_id: org.to_string(),
        values: CompanyInput::from(&details),
        errors: HashMap::new(),
        saved: query.saved.is_some(),
    })?
    .into_response())
}

pub(super) async fn save_company(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    MaybeSignedIn(current): MaybeSignedIn,
    Origin(context): Origin,
    Path(org): Path<Uuid>,
    form: Result<Form<CompanyValues>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let Form(values) = form?;
    let patch = CompanyPatch {
        name: Some(values.name.clone()),
        legal_name: Some(values.legal_name.clone()),
        address: Some(values.address.clone()),
        phone: Some(values.phone.clone()),
        vat_number: Some(values.vat_number.clone()),
        registration_number: Some(values.registration_number.clone()),
    };
    match state
        .services
        .update_company(&current, OrganizationId::from_uuid(org), &patch, &context)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/o/{org}/company?saved=1")).into_response()),
        Err(ServiceError::Invalid(errors)) => {
            let errors = field_errors(&page.t, errors);
            let html = render(&CompanyPage {
                page,
                csrf,
                org_id: org.to_string(),
                values: CompanyInput {
                    name: values.name,
                    legal_name: values.legal_name,
                    address: values.address,
                    phone: values.phone,
                    vat_number: values.vat_number,
                    registration_number: values.registration_number,
                },
                errors,
                saved: false,
            })?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

// A member's information.

#[derive(Debug, Default, Deserialize)]
pub(super) struct MemberValues {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    phone: String,
}

#[derive(Template)]
#[template(path = "team_member_edit.html")]
struct MemberEditPage {
    page: PageContext,
    csrf: CsrfToken,
    org_id: String,
    org_name: String,
    member_id: String,
    email: String,
    invited: bool,
    values: MemberValues,
    errors: HashMap<String, String>,
}

impl MemberEditPage {
    fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }
    fn has_error(&self, field: &str) -> bool {
        self.errors.contains_key(field)
    }
}

pub(super) async fn edit_member(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    MaybeSignedIn(current): MaybeSignedIn,
    Path((org, member)): Path<(Uuid, Uuid)>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let info = state
        .services
        .member_info(
            &current,
            OrganizationId::from_uuid(org),
            MembershipId::from_uuid(member),
        )
        .await?;
    Ok(render(&MemberEditPage {
        org_name: org_name(&current),
        page,
        csrf,
        org_id: org.to_string(),
        member_id: member.to_string(),
        email: info.email.as_str().to_owned(),
        invited: info.status == MembershipStatus::Invited,
        values: MemberValues {
            first_name: info.first_name,
            last_name: info.last_name,
            title: info.title.unwrap_or_default(),
            phone: info.phone.unwrap_or_default(),
        },
        errors: HashMap::new(),
    })?
    .into_response())
}

// Axum extractors, one per argument.
#[allow(clippy::too_many_arguments)]
pub(super) async fn save_member(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    MaybeSignedIn(current): MaybeSignedIn,
    Origin(context): Origin,
    jar: CookieJar,
    Path((org, member)): Path<(Uuid, Uuid)>,
    form: Result<Form<MemberValues>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let Form(values) = form?;
    let organization = OrganizationId::from_uuid(org);
    let membership = MembershipId::from_uuid(member);
    let patch = MemberInfoPatch {
        first_name: Some(values.first_name.clone()),
        last_name: Some(values.last_name.clone()),
        title: Some(values.title.clone()),
        phone: Some(values.phone.clone()),
    };
    match state
        .services
        .update_member_info(&current, organization, membership, &patch, &context)
        .await
    {
        Ok(_) => {
            let jar = jar.add(Flash::MemberUpdated.cookie(state.settings.is_https()));
            Ok((jar, Redirect::to(&format!("/o/{org}/team"))).into_response())
        }
        Err(ServiceError::Invalid(errors)) => {
            let info = state
                .services
                .member_info(&current, organization, membership)
                .await?;
            let errors = field_errors(&page.t, errors);
            let html = render(&MemberEditPage {
                org_name: org_name(&current),
                page,
                csrf,
                org_id: org.to_string(),
                member_id: member.to_string(),
                email: info.email.as_str().to_owned(),
                invited: info.status == MembershipStatus::Invited,
                values,
                errors,
            })?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

// Sending a password-reset link, after a confirmation.

#[derive(Template)]
#[template(path = "team_confirm.html")]
struct ResetConfirmPage {
    page: PageContext,
    csrf: CsrfToken,
    org_id: String,
    member_id: String,
    action: String,
    name: String,
    email: String,
    danger: bool,
}

impl ResetConfirmPage {
    fn message(&self, part: &str) -> String {
        self.page.t.get(&format!("confirm-{}-{part}", self.action))
    }
}

pub(super) async fn confirm_password_reset(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    MaybeSignedIn(current): MaybeSignedIn,
    Path((org, member)): Path<(Uuid, Uuid)>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let info = state
        .services
        .member_info(
            &current,
            OrganizationId::from_uuid(org),
            MembershipId::from_uuid(member),
        )
        .await?;
    if info.status != MembershipStatus::Active {
        return Err(ServiceError::MemberNotActive.into());
    }
    Ok(render(&ResetConfirmPage {
        page,
        csrf,
        org_id: org.to_string(),
        member_id: member.to_string(),
        action: "password-reset".into(),
        name: format!("{} {}", info.first_name, info.last_name),
        email: info.email.as_str().to_owned(),
        danger: false,
    })?
    .into_response())
}

pub(super) async fn send_password_reset(
    State(state): State<AppState>,
    MaybeSignedIn(current): MaybeSignedIn,
    Origin(context): Origin,
    jar: CookieJar,
    Path((org, member)): Path<(Uuid, Uuid)>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    state
        .services
        .send_member_password_reset(
            &current,
            OrganizationId::from_uuid(org),
            MembershipId::from_uuid(member),
            &context,
        )
        .await?;
    let jar = jar.add(Flash::PasswordResetSent.cookie(state.settings.is_https()));
    Ok((jar, Redirect::to(&format!("/o/{org}/team"))).into_response())
}

// Bulk invitations.

#[derive(Template)]
#[template(path = "team_import.html")]
struct ImportPage {
    page: PageContext,
    csrf: CsrfToken,
    org_id: String,
    org_name: String,
    /// Why the file was refused as a whole.
    file_error: Option<String>,
    report: Option<ImportResult>,
    /// The file's text, carried from the preview to the confirmation.
    csv: String,
}

impl ImportPage {
    fn count(&self, key: &str, n: usize) -> String {
        self.page.t.get_with(key, &[("count", n.to_string())])
    }
    fn summary(&self) -> String {
        let (valid, refused) = self
            .report
            .as_ref()
            .map(|r| (r.valid, r.refused))
            .unwrap_or_default();
        format!(
            "{} {}",
            self.count("import-summary-valid", valid),
            self.count("import-summary-refused", refused)
        )
    }
    fn done(&self) -> String {
        let invited = self.report.as_ref().map(|r| r.invited).unwrap_or_default();
        self.count("import-done", invited)
    }
    fn confirm_label(&self) -> String {
        let valid = self.report.as_ref().map(|r| r.valid).unwrap_or_default();
        self.count("import-confirm", valid)
    }
    fn progress_text(&self) -> String {
        let valid = self.report.as_ref().map(|r| r.valid).unwrap_or_default();
        self.count("import-progress", valid)
    }
    fn status_label(&self, status: &str) -> String {
        self.page.t.get(&format!("import-status-{status}"))
    }
    fn field_label(&self, field: &str) -> String {
        self.page
            .t
            .get(&format!("import-field-{}", field.replace('_', "-")))
    }
}

fn file_error_message(t: &Translator, error: &ImportFileError) -> String {
    match error {
        ImportFileError::TooLarge { .. } => t.get_with(
            "import-error-too-large",
            &[("max", (IMPORT_MAX_BYTES / 1024).to_string())],
        ),
        ImportFileError::TooManyRows { .. } => t.get_with(
            "import-error-too-many-rows",
            &[("max", IMPORT_MAX_ROWS.to_string())],
        ),
        ImportFileError::NotText => t.get("import-error-not-text"),
        ImportFileError::Malformed { line } => {
            t.get_with("import-error-malformed", &[("line", line.to_string())])
        }
        ImportFileError::Empty => t.get("import-error-empty"),
        ImportFileError::MissingColumns(columns) => t.get_with(
            "import-error-missing-columns",
            &[(
                "columns",
                columns
                    .iter()
                    .map(|c| t.get(&format!("import-field-{}", c.replace('_', "-"))))
                    .collect::<Vec<_>>()
                    .join(", "),
            )],
        ),
        ImportFileError::UnknownColumn(name) => {
            t.get_with("import-error-unknown-column", &[("name", name.clone())])
        }
        ImportFileError::DuplicateColumn(name) => {
            t.get_with("import-error-duplicate-column", &[("name", name.clone())])
        }
    }
}

async fn may_invite(
    state: &AppState,
    current: &CurrentSession,
    organization: OrganizationId,
) -> Result<(), ApiError> {
    let list = state
        .services
        .members(
            current,
            organization,
            &gardien_service::MemberQuery {
                page: Some(gardien_store::PageRequest::first(1)),
                ..Default::default()
            },
        )
        .await?;
    if list.can_invite {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

pub(super) async fn import_form(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    MaybeSignedIn(current): MaybeSignedIn,
    Path(org): Path<Uuid>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    may_invite(&state, &current, OrganizationId::from_uuid(org)).await?;
    Ok(render(&ImportPage {
        org_name: org_name(&current),
        page,
        csrf,
        org_id: org.to_string(),
        file_error: None,
        report: None,
        csv: String::new(),
    })?
    .into_response())
}

/// The preview (a file was chosen) or the confirmation (`confirm` and the
/// previewed text).
pub(super) async fn import_submit(
    State(state): State<AppState>,
    page: PageContext,
    csrf: CsrfToken,
    MaybeSignedIn(current): MaybeSignedIn,
    Origin(context): Origin,
    Path(org): Path<Uuid>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, ApiError> {
    let Some(current) = current else {
        return Ok(to_login());
    };
    let organization = OrganizationId::from_uuid(org);
    may_invite(&state, &current, organization).await?;
    let mut multipart = multipart.map_err(|e| ApiError::malformed(e.status(), e.body_text()))?;
    let mut file: Option<Vec<u8>> = None;
    let mut confirm = false;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::malformed(e.status(), e.body_text()))?
    {
        match field.name() {
            Some("csv_file") | Some("csv") => {
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| ApiError::malformed(e.status(), e.body_text()))?;
                file = Some(bytes.to_vec());
            }
            Some("confirm") => confirm = true,
            _ => {}
        }
    }
    let file = file.unwrap_or_default();
    let result = state
        .services
        .import_invitations(&current, organization, &file, !confirm, &context)
        .await;
    let (status, file_error, report) = match result {
        Ok(report) => (StatusCode::OK, None, Some(result_body(&page.t, &report))),
        Err(ServiceError::ImportFile(error)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(file_error_message(&page.t, &error)),
            None,
        ),
        Err(other) => return Err(other.into()),
    };
    let csv = if report.is_some() {
        let text = file.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&file);
        String::from_utf8_lossy(text).into_owned()
    } else {
        String::new()
    };
    let html: Html<String> = render(&ImportPage {
        org_name: org_name(&current),
        page,
        csrf,
        org_id: org.to_string(),
        file_error,
        report,
        csv,
    })?;
    Ok((status, html).into_response())
}

/// The import page's progress script (no inline script: the CSP forbids it).
pub(super) async fn import_script() -> Response {
    super::script(IMPORT_SCRIPT)
}
