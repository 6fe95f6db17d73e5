//! Bulk invitations from a CSV file under `/api/v1` (flow 2 in bulk): a
//! dry run previews each row's result, a real run invites the valid rows in
//! one transaction. See `gardien_service`'s `import` module for the format.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::Json;
use gardien_core::OrganizationId;
use gardien_service::{ImportIssue, ImportReport};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::context::Origin;
use crate::error::{validation_message, ApiError, Problem};
use crate::i18n::{Lang, Translator};
use crate::session::SignedIn;
use crate::state::AppState;

/// Preview or invite.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ImportQuery {
    /// `true` (the default): check every row and change nothing; `false`:
    /// invite the valid rows.
    #[serde(default = "yes")]
    pub dry_run: bool,
}

fn yes() -> bool {
    true
}

/// One problem of one row.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportRowError {
    /// `email`, `first_name`, `last_name`, `role`, `kind`, `phone`,
    /// `language`, or `row` (the whole row).
    pub field: String,
    /// A stable code: `unknown-role`, `unknown-kind`, `duplicate-in-file`,
    /// `already-member`, `already-invited`, `field-count`, or a validation
    /// code such as `email-missing-at`.
    pub code: String,
    /// A localized message.
    pub message: String,
}

/// One row of the file and its result.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportRowBody {
    /// The line of the file (the header is line 1).
    pub line: u64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: String,
    pub kind: String,
    /// `valid` (dry run), `invited`, or `error`.
    pub status: String,
    pub errors: Vec<ImportRowError>,
    /// The invitation, once invited.
    pub invitation_id: Option<Uuid>,
}

/// The result of a preview or an import.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportResult {
    pub dry_run: bool,
    /// Rows read (blank lines aside).
    pub total: usize,
    /// Rows without errors.
    pub valid: usize,
    /// Rows invited by this request (0 on a dry run).
    pub invited: usize,
    /// Rows with errors (never invited).
    pub refused: usize,
    pub rows: Vec<ImportRowBody>,
}

/// The localized message of a row problem.
pub(crate) fn issue_message(t: &Translator, issue: &ImportIssue) -> String {
    match issue {
        ImportIssue::Invalid(error) => validation_message(t, error),
        ImportIssue::UnknownRole(value) | ImportIssue::UnknownKind(value) => t.get_with(
            &format!("import-issue-{}", issue.code()),
            &[("value", value.clone())],
        ),
        ImportIssue::DuplicateInFile { first_line } => t.get_with(
            "import-issue-duplicate-in-file",
            &[("line", first_line.to_string())],
        ),
        ImportIssue::FieldCount { expected, found } => t.get_with(
            "import-issue-field-count",
            &[
                ("expected", expected.to_string()),
                ("found", found.to_string()),
            ],
        ),
        ImportIssue::AlreadyMember | ImportIssue::AlreadyInvited => {
            t.get(&format!("import-issue-{}", issue.code()))
        }
    }
}

pub(crate) fn result_body(t: &Translator, report: &ImportReport) -> ImportResult {
    let rows = report
        .rows
        .iter()
        .map(|row| ImportRowBody {
            line: row.line,
            email: row.email.clone(),
            first_name: row.first_name.clone(),
            last_name: row.last_name.clone(),
            role: row.role.clone(),
            kind: row.kind.clone(),
            status: if !row.is_valid() {
                "error"
            } else if row.invitation.is_some() {
                "invited"
            } else {
                "valid"
            }
            .into(),
            errors: row
                .errors
                .iter()
                .map(|(field, issue)| ImportRowError {
                    field: (*field).into(),
                    code: issue.code().into(),
                    message: issue_message(t, issue),
                })
                .collect(),
            invitation_id: row.invitation.map(|i| i.as_uuid()),
        })
        .collect();
    ImportResult {
        dry_run: report.dry_run,
        total: report.rows.len(),
        valid: report.valid(),
        invited: report.invited(),
        refused: report.refused(),
        rows,
    }
}

/// Invites people in bulk from a CSV file: a header row (`email`,
/// `first name`, `last name`, optional `role`, `kind`, `phone`, `language`;
/// French names accepted), `,` or `;` separated, UTF-8 with or without BOM,
/// at most 1 000 rows and 1 MiB. A dry run (the default) reports each row's
/// result or errors (line and field) and changes nothing; `dry_run=false`
/// invites every valid row in one transaction and leaves out the others. A
/// file that cannot be read as such a list changes nothing (413 or 422 with
/// the reason).
#[utoipa::path(post, path = "/api/v1/organizations/{org}/invitations/import", tag = "team",
    request_body(content = String, content_type = "text/csv", description = "The CSV file"),
    params(("org" = Uuid, Path, description = "The organization"), ImportQuery),
    responses(
        (status = 200, description = "Each row's result", body = ImportResult),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your role may not invite", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not your session's organization", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file is larger than 1 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a CSV member list (not text, no rows, too many rows, wrong columns)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn import(
    State(state): State<AppState>,
    SignedIn(current): SignedIn,
    Origin(context): Origin,
    lang: Lang,
    Path(org): Path<Uuid>,
    query: Result<Query<ImportQuery>, axum::extract::rejection::QueryRejection>,
    body: Bytes,
) -> Result<Json<ImportResult>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::malformed(e.status(), e.body_text()))?;
    let report = state
        .services
        .import_invitations(
            &current,
            OrganizationId::from_uuid(org),
            &body,
            query.dry_run,
            &context,
        )
        .await?;
    Ok(Json(result_body(&lang.translator(), &report)))
}
