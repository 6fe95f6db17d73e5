//! Bulk invitations from a CSV file (flow 2 in bulk, seeds 001 and 002).
//!
//! The file has a header row naming its columns in English or French
//! (email, first name, last name, role, kind; optionally phone and
//! language), `,` or `;` separated, UTF-8 with or without a BOM. A preview
//! (dry run) reports each row's result or precise errors — line and field —
//! and changes nothing; confirming invites every valid row in ONE
//! transaction, rows with errors being left out. A file that is not such a
//! CSV (too large, not text, wrong columns) changes nothing and says why.

use std::collections::HashMap;

use gardien_core::audit::{Actor, RequestContext};
use gardien_core::role::BUILT_IN_ROLES;
use gardien_core::{
    text, Email, InvitationId, Kind, Language, MembershipStatus, OrganizationId, Role,
    ValidationError,
};
use serde_json::json;
use time::OffsetDateTime;

use crate::invitations::ValidInvite;
use crate::team::{TEAM_INVITE, TEAM_MANAGE};
use crate::{audit, CurrentSession, ServiceError, Services};

/// The largest file accepted.
pub const IMPORT_MAX_BYTES: usize = 1024 * 1024;
/// The most rows (after the header) of one file.
pub const IMPORT_MAX_ROWS: usize = 1000;
const NAME_MAX: usize = 100;

/// Why a whole file is refused (nothing is read further, nothing changes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportFileError {
    #[error("the file is larger than {max_bytes} bytes")]
    TooLarge { max_bytes: usize },
    #[error("the file has more than {max} rows")]
    TooManyRows { max: usize },
    #[error("the file is not UTF-8 text")]
    NotText,
    #[error("the file is not valid CSV near line {line}")]
    Malformed { line: u64 },
    #[error("the file has no header row or no member rows")]
    Empty,
    #[error("the header lacks the columns {0:?}")]
    MissingColumns(Vec<&'static str>),
    #[error("the header has an unknown column '{0}'")]
    UnknownColumn(String),
    #[error("the header has the column '{0}' twice")]
    DuplicateColumn(String),
}

impl ImportFileError {
    /// A stable code (problem type, message key).
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "import-too-large",
            Self::TooManyRows { .. } => "import-too-many-rows",
            Self::NotText => "import-not-text",
            Self::Malformed { .. } => "import-malformed",
            Self::Empty => "import-empty",
            Self::MissingColumns(_) => "import-missing-columns",
            Self::UnknownColumn(_) => "import-unknown-column",
            Self::DuplicateColumn(_) => "import-duplicate-column",
        }
    }
}

/// What is wrong with one field of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportIssue {
    Invalid(ValidationError),
    UnknownRole(String),
    UnknownKind(String),
    /// The same address appears on an earlier line of the file.
    DuplicateInFile {
        first_line: u64,
    },
    AlreadyMember,
    AlreadyInvited,
    /// The row has another number of fields than the header.
    FieldCount {
        expected: usize,
        found: usize,
    },
}

impl ImportIssue {
    /// A stable code (API `code`, message key `import-issue-<code>`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(e) => e.code(),
            Self::UnknownRole(_) => "unknown-role",
            Self::UnknownKind(_) => "unknown-kind",
            Self::DuplicateInFile { .. } => "duplicate-in-file",
            Self::AlreadyMember => "already-member",
            Self::AlreadyInvited => "already-invited",
            Self::FieldCount { .. } => "field-count",
        }
    }
}

/// One row of the file and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// The line of the file the row starts on (the header is line 1).
    pub line: u64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// The role's name when recognized, else as typed.
    pub role: String,
    /// `staff` or `client` when recognized, else as typed.
    pub kind: String,
    /// Each problem with the field it is about; empty: the row is valid.
    pub errors: Vec<(&'static str, ImportIssue)>,
    /// Set once the row is invited (not on a dry run).
    pub invitation: Option<InvitationId>,
}

impl ImportRow {
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
}

/// The result of a preview or of a confirmed import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub dry_run: bool,
    pub rows: Vec<ImportRow>,
}

impl ImportReport {
    pub fn valid(&self) -> usize {
        self.rows.iter().filter(|r| r.is_valid()).count()
    }
    pub fn invited(&self) -> usize {
        self.rows.iter().filter(|r| r.invitation.is_some()).count()
    }
    pub fn refused(&self) -> usize {
        self.rows.len() - self.valid()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Email,
    FirstName,
    LastName,
    Role,
    Kind,
    Phone,
    Language,
}

/// Header names, lower case, accents folded, `_`/`-` as spaces.
fn column(header: &str) -> Option<Column> {
    let folded: String = header
        .trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'ô' | 'ö' => 'o',
            'î' | 'ï' => 'i',
            'à' | 'â' => 'a',
            'û' | 'ù' => 'u',
            'ç' => 'c',
            '_' | '-' | '\'' | '’' => ' ',
            other => other,
        })
        .collect();
    let name = folded.split_whitespace().collect::<Vec<_>>().join(" ");
    Some(match name.as_str() {
        "email"
        | "e mail"
        | "courriel"
        | "mail"
        | "adresse email"
        | "adresse e mail"
        | "adresse electronique"
        | "email address" => Column::Email,
        "first name" | "firstname" | "given name" | "prenom" => Column::FirstName,
        "last name" | "lastname" | "surname" | "family name" | "nom" | "nom de famille" => {
            Column::LastName
        }
        "role" => Column::Role,
        "kind" | "type" | "type d utilisateur" | "genre" => Column::Kind,
        "phone" | "telephone" | "tel" | "phone number" => Column::Phone,
        "language" | "langue" | "lang" => Column::Language,
        _ => return None,
    })
}

/// One row as read, before any check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct RawRow {
    line: u64,
    fields: HashMap<&'static str, String>,
    field_count: Option<(usize, usize)>,
}

impl RawRow {
    fn get(&self, name: &str) -> &str {
        self.fields.get(name).map(String::as_str).unwrap_or("")
    }
}

fn column_key(column: Column) -> &'static str {
    match column {
        Column::Email => "email",
        Column::FirstName => "first_name",
        Column::LastName => "last_name",
        Column::Role => "role",
        Column::Kind => "kind",
        Column::Phone => "phone",
        Column::Language => "language",
    }
}

/// The line number of each member row a file holds, as an import reads it
/// before checking any value, or why the whole file is refused. Pure: for
/// tools and fuzzing (`fuzz/fuzz_targets/csv_import.rs`).
pub fn import_file_lines(bytes: &[u8]) -> Result<Vec<u64>, ImportFileError> {
    Ok(read_csv(bytes)?.iter().map(|row| row.line).collect())
}

/// Reads the file into rows; see the module documentation.
fn read_csv(bytes: &[u8]) -> Result<Vec<RawRow>, ImportFileError> {
    if bytes.len() > IMPORT_MAX_BYTES {
        return Err(ImportFileError::TooLarge {
            max_bytes: IMPORT_MAX_BYTES,
        });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| ImportFileError::NotText)?;
    if text.contains('\0') {
        return Err(ImportFileError::NotText);
    }
    let first_line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let delimiter = if first_line.matches(';').count() > first_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|_| ImportFileError::Malformed { line: 1 })?
        .clone();
    if headers.iter().all(|h| h.trim().is_empty()) {
        return Err(ImportFileError::Empty);
    }
    let mut columns = Vec::new();
    for header in headers.iter() {
        let column = column(header).ok_or_else(|| ImportFileError::UnknownColumn(header.into()))?;
        if columns.contains(&column) {
            return Err(ImportFileError::DuplicateColumn(header.into()));
        }
        columns.push(column);
    }
    let missing: Vec<&'static str> = [Column::Email, Column::FirstName, Column::LastName]
        .into_iter()
        .filter(|c| !columns.contains(c))
        .map(column_key)
        .collect();
    if !missing.is_empty() {
        return Err(ImportFileError::MissingColumns(missing));
    }
    let mut rows = Vec::new();
    // The reader reports where a record's reading began, blank lines
    // before it included: count lines up to its first character instead.
    let (mut counted_to, mut line) = (0usize, 1u64);
    let bytes = text.as_bytes();
    for record in reader.records() {
        let record = record.map_err(|e| ImportFileError::Malformed {
            line: e.position().map(|p| p.line()).unwrap_or(0),
        })?;
        if record.iter().all(|f| f.is_empty()) {
            continue;
        }
        if rows.len() == IMPORT_MAX_ROWS {
            return Err(ImportFileError::TooManyRows {
                max: IMPORT_MAX_ROWS,
            });
        }
        let mut start = record
            .position()
            .and_then(|p| usize::try_from(p.byte()).ok())
            .unwrap_or(counted_to)
            .clamp(counted_to, bytes.len());
        while bytes.get(start).is_some_and(|b| matches!(b, b'\n' | b'\r')) {
            start += 1;
        }
        line += line_breaks(&bytes[counted_to..start]);
        counted_to = start;
        let fields = columns
            .iter()
            .zip(record.iter())
            .map(|(c, v)| (column_key(*c), v.to_owned()))
            .collect();
        let field_count = (record.len() != columns.len()).then_some((columns.len(), record.len()));
        rows.push(RawRow {
            line,
            fields,
            field_count,
        });
    }
    if rows.is_empty() {
        return Err(ImportFileError::Empty);
    }
    Ok(rows)
}

/// The line breaks in `bytes`: `\r\n`, `\n` and a lone `\r` (old Mac
/// files) each end a line, as each ends a CSV record.
fn line_breaks(bytes: &[u8]) -> u64 {
    let mut count = 0;
    let mut rest = bytes;
    while let Some((&byte, tail)) = rest.split_first() {
        rest = match byte {
            b'\n' => {
                count += 1;
                tail
            }
            b'\r' => {
                count += 1;
                tail.strip_prefix(b"\n").unwrap_or(tail)
            }
            _ => tail,
        };
    }
    count
}

/// The organization's role a cell names: its id, its name (any case), or a
/// built-in template's key or English or French name. Empty: the
/// least-privileged built-in role, `User`.
fn resolve_role<'a>(roles: &'a [Role], cell: &str) -> Option<&'a Role> {
    let cell = cell.trim();
    let by_template = |key: &str| roles.iter().find(|r| r.template.as_deref() == Some(key));
    if cell.is_empty() {
        return by_template("user");
    }
    let lower = cell.to_lowercase();
    roles
        .iter()
        .find(|r| r.id.to_string() == lower || r.name.to_lowercase() == lower)
        .or_else(|| {
            BUILT_IN_ROLES
                .iter()
                .find(|t| {
                    t.key == lower
                        || t.name_en.to_lowercase() == lower
                        || t.name_fr.to_lowercase() == lower
                })
                .and_then(|t| by_template(t.key))
        })
}

/// `staff` or `client`, in English or French; empty: staff.
fn resolve_kind(cell: &str) -> Option<Kind> {
    match cell.trim().to_lowercase().as_str() {
        "" | "staff" | "collaborateur" | "collaboratrice" | "employee" | "employé" | "employe"
        | "salarié" | "salarie" => Some(Kind::Staff),
        "client" | "contact" | "contact client" | "customer" => Some(Kind::Client),
        _ => None,
    }
}

impl Services {
    /// Previews (`dry_run`) or performs a bulk invitation from a CSV file
    /// (needs `team.invite` or `team.manage`); see the module documentation.
    pub async fn import_invitations(
        &self,
        current: &CurrentSession,
        organization: OrganizationId,
        file: &[u8],
        dry_run: bool,
        context: &RequestContext,
    ) -> Result<ImportReport, ServiceError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        self.authorize(&mut *tx, current, organization, &[TEAM_INVITE, TEAM_MANAGE])
            .await?;
        Self::ensure_email_verified(current)?;
        let raw = read_csv(file).map_err(ServiceError::ImportFile)?;
        let org = tx
            .organization(organization)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let roles = tx.roles(organization).await?;
        let mut seen: HashMap<String, u64> = HashMap::new();
        let mut rows = Vec::with_capacity(raw.len());
        let mut valid = Vec::new();
        for raw in &raw {
            let mut errors: Vec<(&'static str, ImportIssue)> = Vec::new();
            if let Some((expected, found)) = raw.field_count {
                errors.push(("row", ImportIssue::FieldCount { expected, found }));
            }
            let mut invalid = |field: &'static str, e: ValidationError| {
                errors.push((field, ImportIssue::Invalid(e)));
            };
            let email = Email::parse(raw.get("email"))
                .map_err(|e| invalid("email", e))
                .ok();
            let first_name = text::bounded(raw.get("first_name"), "first_name", NAME_MAX)
                .map_err(|e| invalid("first_name", e))
                .ok();
            let last_name = text::bounded(raw.get("last_name"), "last_name", NAME_MAX)
                .map_err(|e| invalid("last_name", e))
                .ok();
            let phone = gardien_core::profile::parse_phone(raw.get("phone"))
                .map_err(|e| invalid("phone", e))
                .ok()
                .flatten();
            let language = match raw.get("language").trim() {
                "" => Some(current.account.language),
                code => code
                    .parse::<Language>()
                    .map_err(|e| invalid("language", e))
                    .ok(),
            };
            let role = resolve_role(&roles, raw.get("role"));
            if role.is_none() {
                errors.push(("role", ImportIssue::UnknownRole(raw.get("role").into())));
            }
            let kind = resolve_kind(raw.get("kind"));
            if kind.is_none() {
                errors.push(("kind", ImportIssue::UnknownKind(raw.get("kind").into())));
            }
            if let Some(email) = &email {
                let key = email.normalized().to_owned();
                if let Some(first_line) = seen.get(&key) {
                    errors.push((
                        "email",
                        ImportIssue::DuplicateInFile {
                            first_line: *first_line,
                        },
                    ));
                } else {
                    seen.insert(key, raw.line);
                    if let Some(account) = tx.account_by_email(email).await? {
                        if let Some(m) = tx.membership_of(organization, account.id).await? {
                            errors.push((
                                "email",
                                if m.status == MembershipStatus::Invited {
                                    ImportIssue::AlreadyInvited
                                } else {
                                    ImportIssue::AlreadyMember
                                },
                            ));
                        }
                    }
                }
            }
            rows.push(ImportRow {
                line: raw.line,
                email: raw.get("email").trim().to_owned(),
                first_name: raw.get("first_name").trim().to_owned(),
                last_name: raw.get("last_name").trim().to_owned(),
                role: role
                    .map(|r| r.name.clone())
                    .unwrap_or_else(|| raw.get("role").trim().to_owned()),
                kind: kind
                    .map(|k| k.as_str().to_owned())
                    .unwrap_or_else(|| raw.get("kind").trim().to_owned()),
                errors: errors.clone(),
                invitation: None,
            });
            if let (
                true,
                Some(email),
                Some(first_name),
                Some(last_name),
                Some(role),
                Some(kind),
                Some(language),
            ) = (
                errors.is_empty(),
                email,
                first_name,
                last_name,
                role,
                kind,
                language,
            ) {
                valid.push((
                    rows.len() - 1,
                    ValidInvite {
                        email,
                        first_name,
                        last_name,
                        phone,
                        kind,
                        role_id: Some(role.id),
                        personal_message: None,
                        language,
                        assignments: Vec::new(),
                    },
                    role.clone(),
                ));
            }
        }
        if dry_run || valid.is_empty() {
            return Ok(ImportReport { dry_run, rows });
        }
        let mut changes = Vec::with_capacity(valid.len());
        for (index, invite, role) in &valid {
            let line = rows[*index].line;
            let (invitation, invited) = self
                .invite_in(
                    &mut *tx,
                    current,
                    &org,
                    invite,
                    role,
                    context,
                    now,
                    Some(line),
                )
                .await?;
            rows[*index].invitation = Some(invitation.id);
            changes.extend(invited);
        }
        let mut event = audit(
            context,
            now,
            Some(organization),
            Actor::Account(current.account.id),
            "invitation.imported",
            Some(format!("organization:{organization}")),
        );
        event.after = Some(json!({
            "rows": rows.len(),
            "invited": valid.len(),
            "refused_lines": rows.iter().filter(|r| !r.is_valid()).map(|r| r.line).collect::<Vec<_>>(),
        }));
        tx.append_audit_event(&event).await?;
        self.commit_with_changes(tx, changes).await?;
        self.mail_committed();
        Ok(ImportReport {
            dry_run: false,
            rows,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_semicolon_files_with_a_bom_are_read() {
        let file = "\u{feff}Courriel;Prénom;Nom;Rôle;Type\n\
                    ana@example.fr;Ana;Lima;Administrateur;collaborateur\n\
                    \n\
                    \r\n\
                    bruno@example.fr;Bruno;\"Costa; fils\";;client\n";
        let rows = read_csv(file.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[1].line, 5);
        assert_eq!(rows[1].get("last_name"), "Costa; fils");
        assert_eq!(rows[1].get("kind"), "client");
    }

    /// Found by the `csv_import` fuzz target: a lone `\r` ends a record, so
    /// it must end a line too, or two rows would be reported on one line.
    #[test]
    fn a_lone_carriage_return_ends_a_line() {
        let file = "Email,First name,Last name\r\n\
                    ana@example.com,Ana,Lima\r\
                    bruno@example.com,Bruno,Costa\r\r\
                    chloe@example.com,\"Chlo\r\u{e9}\",Martin\n\
                    dan@example.com,Dan,Roy\n";
        let lines: Vec<u64> = read_csv(file.as_bytes())
            .unwrap()
            .iter()
            .map(|row| row.line)
            .collect();
        assert_eq!(lines, [2, 3, 5, 7]);
    }

    #[test]
    fn files_that_are_not_member_lists_are_refused() {
        assert_eq!(
            read_csv(b"email,first name\nana@example.fr,Ana\n"),
            Err(ImportFileError::MissingColumns(vec!["last_name"]))
        );
        assert_eq!(
            read_csv(b"email,first name,last name,salary\n"),
            Err(ImportFileError::UnknownColumn("salary".into()))
        );
        assert_eq!(
            read_csv(b"email,first name,last name\n"),
            Err(ImportFileError::Empty)
        );
        assert_eq!(read_csv(b"\xff\xfe\x00a"), Err(ImportFileError::NotText));
        let big = vec![b'a'; IMPORT_MAX_BYTES + 1];
        assert!(matches!(
            read_csv(&big),
            Err(ImportFileError::TooLarge { .. })
        ));
        let mut many = String::from("email,first name,last name\n");
        for i in 0..=IMPORT_MAX_ROWS {
            many.push_str(&format!("p{i}@example.fr,P,Q\n"));
        }
        assert_eq!(
            read_csv(many.as_bytes()),
            Err(ImportFileError::TooManyRows {
                max: IMPORT_MAX_ROWS
            })
        );
    }

    #[test]
    fn kinds_are_read_in_both_languages() {
        assert_eq!(resolve_kind(" Client "), Some(Kind::Client));
        assert_eq!(resolve_kind("collaborateur"), Some(Kind::Staff));
        assert_eq!(resolve_kind(""), Some(Kind::Staff));
        assert_eq!(resolve_kind("boss"), None);
    }
}
