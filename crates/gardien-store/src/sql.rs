//! The SQL text both back ends run, and the names of the schema's uniqueness
//! rules. The dialects agree on everything here (SQLite accepts `$n`
//! placeholders); what differs lives in each back end's `Dialect`.

use crate::Backend;

pub(crate) const INSERT_ACCOUNT: &str = "INSERT INTO accounts \
    (id, email, email_normalized, first_name, last_name, language, password_hash, \
     email_verified_at, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)";
const ACCOUNT_COLUMNS: &str =
    "id, email, first_name, last_name, language, email_verified_at, created_at";
pub(crate) fn account_where(condition: &str) -> String {
    format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE {condition}")
}
pub(crate) const PASSWORD_HASH: &str = "SELECT password_hash FROM accounts WHERE id = $1";

pub(crate) const MARK_EMAIL_VERIFIED: &str = "UPDATE accounts \
    SET email_verified_at = COALESCE(email_verified_at, $2), updated_at = $2 WHERE id = $1";

pub(crate) const INSERT_EMAIL_VERIFICATION: &str = "INSERT INTO email_verifications \
    (token_hash, account_id, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5)";
pub(crate) const EMAIL_VERIFICATION_BY_TOKEN: &str = "SELECT account_id, created_at, expires_at, \
    used_at FROM email_verifications WHERE token_hash = $1";
/// Single use: only the first of concurrent uses changes the row.
pub(crate) const USE_EMAIL_VERIFICATION: &str = "UPDATE email_verifications SET used_at = $2 \
    WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2";

pub(crate) const INSERT_EMAIL_CHANGE: &str = "INSERT INTO email_changes \
    (token_hash, account_id, new_email, created_at, expires_at, used_at) \
    VALUES ($1, $2, $3, $4, $5, $6)";
pub(crate) const EMAIL_CHANGE_BY_TOKEN: &str = "SELECT account_id, new_email, created_at, \
    expires_at, used_at FROM email_changes WHERE token_hash = $1";
/// Single use: only the first of concurrent uses changes the row.
pub(crate) const USE_EMAIL_CHANGE: &str = "UPDATE email_changes SET used_at = $2 \
    WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2";
/// Ends every other pending change of the account (the newest request wins).
pub(crate) const CANCEL_EMAIL_CHANGES: &str = "UPDATE email_changes SET used_at = $2 \
    WHERE account_id = $1 AND used_at IS NULL";
pub(crate) const SET_ACCOUNT_EMAIL: &str = "UPDATE accounts SET email = $2, \
    email_normalized = $3, email_verified_at = $4, updated_at = $4 WHERE id = $1";

pub(crate) const SET_PASSWORD_HASH: &str =
    "UPDATE accounts SET password_hash = $2, updated_at = $3 WHERE id = $1";
pub(crate) const INSERT_PASSWORD_RESET: &str = "INSERT INTO password_resets \
    (token_hash, account_id, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5)";
pub(crate) const PASSWORD_RESET_BY_TOKEN: &str = "SELECT account_id, created_at, expires_at, \
    used_at FROM password_resets WHERE token_hash = $1";
/// Single use: only the first of concurrent uses changes the row.
pub(crate) const USE_PASSWORD_RESET: &str = "UPDATE password_resets SET used_at = $2 \
    WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2";
pub(crate) const REVOKE_SESSIONS_OF_ACCOUNT: &str = "UPDATE sessions SET revoked_at = $2 \
    WHERE account_id = $1 AND revoked_at IS NULL";

pub(crate) const INSERT_SESSION: &str = "INSERT INTO sessions \
    (id, account_id, organization_id, kind, created_at, last_seen_at, expires_at, \
     idle_timeout_seconds, ip, user_agent, revoked_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
pub(crate) const SESSION: &str = "SELECT id, account_id, organization_id, kind, created_at, \
    last_seen_at, expires_at, idle_timeout_seconds, ip, user_agent, revoked_at \
    FROM sessions WHERE id = $1";
pub(crate) const TOUCH_SESSION: &str =
    "UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2";
pub(crate) const BIND_SESSION: &str = "UPDATE sessions SET organization_id = $2, kind = $3 \
    WHERE id = $1 AND revoked_at IS NULL";
/// Keeps the first revocation time.
pub(crate) const REVOKE_SESSION: &str =
    "UPDATE sessions SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1";

pub(crate) const INSERT_ORGANIZATION: &str = "INSERT INTO organizations \
    (id, name, requires_activation, created_at) VALUES ($1, $2, $3, $4)";
pub(crate) const ORGANIZATION: &str = "SELECT id, name, requires_activation, created_at \
    FROM organizations WHERE id = $1";

pub(crate) const INSERT_ROLE: &str = "INSERT INTO roles \
    (id, organization_id, template, name, description, scoped, created_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7)";
pub(crate) const INSERT_ROLE_PERMISSION: &str =
    "INSERT INTO role_permissions (role_id, permission) VALUES ($1, $2)";
pub(crate) const ROLE: &str = "SELECT id, organization_id, template, name, description, scoped \
    FROM roles WHERE organization_id = $1 AND id = $2";
pub(crate) const ROLE_PERMISSIONS: &str =
    "SELECT role_id, permission FROM role_permissions WHERE role_id = $1";
pub(crate) const ROLES: &str = "SELECT id, organization_id, template, name, description, scoped \
    FROM roles WHERE organization_id = $1 ORDER BY id";
pub(crate) const ROLES_PERMISSIONS: &str = "SELECT p.role_id, p.permission \
    FROM role_permissions p JOIN roles r ON r.id = p.role_id WHERE r.organization_id = $1";

pub(crate) const INSERT_MEMBERSHIP: &str = "INSERT INTO memberships \
    (id, organization_id, account_id, kind, role_id, status, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const MEMBERSHIP_COLUMNS: &str =
    "id, organization_id, account_id, kind, role_id, status, created_at, updated_at";
pub(crate) fn membership_where(condition: &str) -> String {
    format!("SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE {condition}")
}
/// One page of members: optional cursor and filters, oldest first.
pub(crate) const MEMBERSHIPS_PAGE: &str = "SELECT id, organization_id, account_id, kind, role_id, \
    status, created_at, updated_at FROM memberships \
    WHERE organization_id = $1 AND ($2 IS NULL OR id > $2) AND ($3 IS NULL OR status = $3) \
    AND ($4 IS NULL OR role_id = $4) AND ($5 IS NULL OR kind = $5) \
    ORDER BY id LIMIT $6";
pub(crate) const SET_MEMBERSHIP_STATUS: &str =
    "UPDATE memberships SET status = $3, updated_at = $4 \
    WHERE organization_id = $1 AND id = $2";
pub(crate) const SET_MEMBERSHIP_ROLE: &str =
    "UPDATE memberships SET role_id = $3, updated_at = $4 \
    WHERE organization_id = $1 AND id = $2";
/// An administrator holds `team.manage` after overrides: a deny override
/// takes it away, a grant override gives it even with a scoped role.
pub(crate) const COUNT_ACTIVE_ADMINISTRATORS: &str = "SELECT COUNT(*) AS n \
    FROM memberships m JOIN roles r ON r.id = m.role_id \
    WHERE m.organization_id = $1 AND m.status = 'active' \
    AND NOT EXISTS (SELECT 1 FROM overrides o WHERE o.membership_id = m.id \
        AND o.permission = $2 AND o.effect = 'deny') \
    AND (EXISTS (SELECT 1 FROM overrides o WHERE o.membership_id = m.id \
        AND o.permission = $2 AND o.effect = 'grant') \
      OR (NOT r.scoped AND EXISTS (SELECT 1 FROM role_permissions p \
        WHERE p.role_id = r.id AND p.permission = $2)))";

pub(crate) const INSERT_INVITATION: &str = "INSERT INTO invitations \
    (id, organization_id, membership_id, email, email_normalized, language, token_hash, \
     invited_by, created_at, expires_at, accepted_at, revoked_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
pub(crate) const INVITATION_BY_TOKEN: &str = "SELECT id, organization_id, membership_id, email, \
    language, invited_by, created_at, expires_at, accepted_at, revoked_at \
    FROM invitations WHERE token_hash = $1";
/// Keeps the first revocation time; an accepted invitation cannot be revoked.
/// Stamps at most `$2` pending invitations expired at `$1` and not yet
/// recorded, and returns them (the expiry sweep).
pub(crate) const RECORD_EXPIRED_INVITATIONS: &str = "UPDATE invitations \
    SET expiry_recorded_at = $1 \
    WHERE id IN (SELECT id FROM invitations \
        WHERE expires_at <= $1 AND accepted_at IS NULL AND revoked_at IS NULL \
        AND expiry_recorded_at IS NULL ORDER BY expires_at LIMIT $2) \
    RETURNING id, organization_id, membership_id, email, \
    language, invited_by, created_at, expires_at, accepted_at, revoked_at";
pub(crate) const REVOKE_INVITATION: &str = "UPDATE invitations \
    SET revoked_at = COALESCE(revoked_at, $3) \
    WHERE organization_id = $1 AND id = $2 AND accepted_at IS NULL";

/// Single use: only the first of concurrent acceptances changes the row.
pub(crate) const ACCEPT_INVITATION: &str = "UPDATE invitations SET accepted_at = $2 \
    WHERE token_hash = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2";
pub(crate) const INVITATION: &str = "SELECT id, organization_id, membership_id, email, \
    language, invited_by, created_at, expires_at, accepted_at, revoked_at \
    FROM invitations WHERE organization_id = $1 AND id = $2";
/// Newest first; the cursor is the last id of the previous page.
pub(crate) const INVITATIONS_PAGE: &str = "SELECT id, organization_id, membership_id, email, \
    language, invited_by, created_at, expires_at, accepted_at, revoked_at \
    FROM invitations WHERE organization_id = $1 AND ($2 IS NULL OR id < $2) \
    ORDER BY id DESC LIMIT $3";
/// How the team page's search finds its members (migration 0011).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MemberSearch {
    /// SQLite, three characters or more: the FTS5 trigram index, bound to an
    /// FTS5 phrase.
    Trigram,
    /// A `LIKE` pattern on the search text: PostgreSQL (its trigram index
    /// serves `LIKE`), or SQLite under three characters (a scan).
    Like,
}

/// The member list, with only the conditions asked for: a generic
/// `($n IS NULL OR column = $n)` would keep both back ends from seeking the
/// `(organization_id, id)` and `(organization_id, status, id)` indexes
/// (a deep cursor page or a rare status would scan from the start). The
/// placeholders follow in this order: organization, cursor, status, role,
/// kind, search (see [`MemberSearch`]: the search text holds the normalized
/// email and the shown name in both orders), limit.
pub(crate) fn members_page(
    after: bool,
    status: bool,
    role: bool,
    kind: bool,
    search: Option<(Backend, MemberSearch)>,
) -> String {
    let mut n = 1;
    let mut next = || {
        n += 1;
        n
    };
    let mut conditions = String::from("m.organization_id = $1");
    for (present, condition) in [
        (after, "m.id >"),
        (status, "m.status ="),
        (role, "m.role_id ="),
        (kind, "m.kind ="),
    ] {
        if present {
            conditions.push_str(&format!(" AND {condition} ${}", next()));
        }
    }
    if let Some((backend, how)) = search {
        let p = next();
        conditions.push_str(&match (backend, how) {
            (Backend::Postgres, _) => format!(" AND m.search_text LIKE ${p} ESCAPE '\\'"),
            (Backend::Sqlite, MemberSearch::Trigram) => format!(
                " AND m.search_id IN (SELECT rowid FROM member_search WHERE member_search MATCH ${p})"
            ),
            (Backend::Sqlite, MemberSearch::Like) => format!(
                " AND m.search_id IN (SELECT rowid FROM member_search \
                 WHERE search_text LIKE ${p} ESCAPE '\\')"
            ),
        });
    }
    let limit = next();
    // SQLite: the search finds a few thousand memberships; choose the page
    // among them with the covering index (search_id, organization_id, id)
    // alone, then read the 50 rows and their accounts (6 ms instead of 20
    // at 100 000 members, bench/README.md).
    let (from, page) = if matches!(search, Some((Backend::Sqlite, _))) {
        (
            format!(
                "m.id IN (SELECT m.id FROM memberships m WHERE {conditions} \
                 ORDER BY m.id LIMIT ${limit})"
            ),
            String::new(),
        )
    } else {
        (conditions, format!(" LIMIT ${limit}"))
    };
    format!(
        "SELECT m.id, m.organization_id, m.account_id, m.kind, m.role_id, m.status, \
            m.created_at, m.updated_at, m.last_login_at, a.email, \
            CASE WHEN m.status = 'invited' AND m.invited_first_name IS NOT NULL \
                THEN m.invited_first_name ELSE COALESCE(m.member_first_name, a.first_name) \
                END AS first_name, \
            CASE WHEN m.status = 'invited' AND m.invited_last_name IS NOT NULL \
                THEN m.invited_last_name ELSE COALESCE(m.member_last_name, a.last_name) \
                END AS last_name \
        FROM memberships m JOIN accounts a ON a.id = m.account_id \
        WHERE {from} ORDER BY m.id{page}"
    )
}
/// The names the administrator typed, shown while the membership is `invited`.
pub(crate) const SET_INVITED_NAMES: &str = "UPDATE memberships SET invited_first_name = $3, \
    invited_last_name = $4 WHERE organization_id = $1 AND id = $2";
pub(crate) const SET_ACCOUNT_DETAILS: &str = "UPDATE accounts SET first_name = $2, \
    last_name = $3, title = $4, phone = $5, updated_at = $6 WHERE id = $1";
pub(crate) const SET_REQUIRES_ACTIVATION: &str =
    "UPDATE organizations SET requires_activation = $2 WHERE id = $1";
pub(crate) const COMPANY_DETAILS: &str = "SELECT name, legal_name, address, phone, \
    vat_number, registration_number FROM organizations WHERE id = $1";
pub(crate) const SET_COMPANY_DETAILS: &str = "UPDATE organizations SET name = $2, \
    legal_name = $3, address = $4, phone = $5, vat_number = $6, registration_number = $7 \
    WHERE id = $1";
pub(crate) const SET_INVITATION_MESSAGE: &str = "UPDATE invitations SET personal_message = $3 \
    WHERE organization_id = $1 AND id = $2";
pub(crate) const ORGANIZATION_OWNER: &str =
    "SELECT owner_membership_id FROM organizations WHERE id = $1";
// Only a membership of the same organization can own it.
pub(crate) const SET_ORGANIZATION_OWNER: &str = "UPDATE organizations SET owner_membership_id = $2 \
    WHERE id = $1 AND EXISTS (SELECT 1 FROM memberships m WHERE m.id = $2 AND m.organization_id = $1)";
pub(crate) const INVITATION_MESSAGE: &str = "SELECT personal_message FROM invitations \
    WHERE organization_id = $1 AND id = $2";
pub(crate) const MEMBER_DETAILS: &str = "SELECT m.id, m.organization_id, m.account_id, m.kind, \
    m.role_id, m.status, m.created_at, m.updated_at, a.email, a.first_name, a.last_name, \
    a.title, a.phone, m.member_first_name, m.member_last_name, m.member_title, \
    m.member_phone, m.invited_first_name, m.invited_last_name, \
    EXISTS (SELECT 1 FROM memberships o WHERE o.account_id = m.account_id \
        AND o.organization_id <> m.organization_id) AS in_other_organizations \
    FROM memberships m JOIN accounts a ON a.id = m.account_id \
    WHERE m.organization_id = $1 AND m.id = $2";
pub(crate) const SET_MEMBER_RECORD: &str = "UPDATE memberships SET member_first_name = $3, \
    member_last_name = $4, member_title = $5, member_phone = $6, updated_at = $7 \
    WHERE organization_id = $1 AND id = $2";
pub(crate) const RECORD_LOGIN: &str = "UPDATE memberships SET last_login_at = $3 \
    WHERE organization_id = $1 AND account_id = $2";

pub(crate) const INSERT_AUDIT_EVENT: &str = "INSERT INTO audit_events \
    (id, occurred_at, organization_id, actor_type, actor_id, action, target, before, after, \
     ip, user_agent, request_id) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
/// Newest first; the cursor is the last id of the previous page.
pub(crate) const AUDIT_EVENTS_PAGE: &str = "SELECT id, occurred_at, organization_id, actor_type, \
    actor_id, action, target, before, after, ip, user_agent, request_id FROM audit_events \
    WHERE organization_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3";

pub(crate) const ACCOUNT_PROFILE: &str = "SELECT first_name, last_name, phone, title, \
    notification_email, language FROM accounts WHERE id = $1";
pub(crate) const SET_ACCOUNT_PROFILE: &str = "UPDATE accounts SET first_name = $2, \
    last_name = $3, phone = $4, title = $5, notification_email = $6, language = $7, \
    updated_at = $8 WHERE id = $1";
pub(crate) const REVOKE_OTHER_SESSIONS: &str = "UPDATE sessions SET revoked_at = $3 \
    WHERE account_id = $1 AND id <> $2 AND revoked_at IS NULL";

/// Uses the `sessions_account` index.
pub(crate) const SESSIONS_OF_ACCOUNT: &str = "SELECT id, account_id, organization_id, kind, \
    created_at, last_seen_at, expires_at, idle_timeout_seconds, ip, user_agent, revoked_at \
    FROM sessions WHERE account_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
    ORDER BY last_seen_at DESC, id";

/// Uses the `audit_events_actor` index.
pub(crate) const AUDIT_EVENTS_BY_ACTOR: &str = "SELECT id, occurred_at, organization_id, \
    actor_type, actor_id, action, target, before, after, ip, user_agent, request_id \
    FROM audit_events WHERE actor_id = $1 AND actor_type = 'account' ORDER BY id LIMIT $2";
pub(crate) const ANONYMIZE_ACCOUNT: &str = "UPDATE accounts SET email = $2, \
    email_normalized = $3, first_name = '', last_name = '', phone = NULL, title = NULL, \
    notification_email = NULL, password_hash = NULL, updated_at = $4 WHERE id = $1";
/// Unused links of the account stop working at `$2`.
pub(crate) const EXPIRE_PASSWORD_RESETS_OF_ACCOUNT: &str = "UPDATE password_resets \
    SET used_at = $2 WHERE account_id = $1 AND used_at IS NULL";
pub(crate) const EXPIRE_EMAIL_VERIFICATIONS_OF_ACCOUNT: &str = "UPDATE email_verifications \
    SET used_at = $2 WHERE account_id = $1 AND used_at IS NULL";

/// Accepting a version again keeps the first acceptance.
pub(crate) const INSERT_CONSENT: &str = "INSERT INTO consents \
    (account_id, policy_version, accepted_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5) \
    ON CONFLICT (account_id, policy_version) DO NOTHING";
pub(crate) const HAS_CONSENT: &str =
    "SELECT 1 AS one FROM consents WHERE account_id = $1 AND policy_version = $2";
pub(crate) const CONSENTS_OF_ACCOUNT: &str = "SELECT account_id, policy_version, accepted_at, \
    ip, user_agent FROM consents WHERE account_id = $1 ORDER BY accepted_at, policy_version";

pub(crate) const INSERT_MAIL: &str = "INSERT INTO outbox \
    (id, created_at, recipient, subject, text_body, html_body, attempts, next_attempt_at) \
    VALUES ($1, $2, $3, $4, $5, $6, 0, $2)";
/// The outbox columns an [`crate::OutboxMessage`] is read from.
pub(crate) const MAIL_COLUMNS: &str =
    "id, recipient, subject, text_body, html_body, attempts, created_at, sent_at, failed_at, last_error";
pub(crate) fn mail_where(condition: &str) -> String {
    format!("SELECT {MAIL_COLUMNS} FROM outbox WHERE {condition}")
}
/// Which messages a claim at `$1` may take: undelivered, due, not leased.
pub(crate) const MAIL_DUE: &str =
    "sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1 \
    AND (locked_until IS NULL OR locked_until <= $1)";
pub(crate) const MARK_MAIL_SENT: &str =
    "UPDATE outbox SET sent_at = $2, locked_until = NULL WHERE id = $1";
pub(crate) const MARK_MAIL_RETRY: &str = "UPDATE outbox \
    SET last_error = $2, next_attempt_at = $3, locked_until = NULL WHERE id = $1";
pub(crate) const MARK_MAIL_ABANDONED: &str = "UPDATE outbox \
    SET last_error = $2, failed_at = $3, locked_until = NULL WHERE id = $1";

/// The uniqueness rules of the schema: the stable name reported in
/// [`crate::StoreError::Conflict`] (also the PostgreSQL constraint or index
/// name) and the columns SQLite names in its "UNIQUE constraint failed" message.
pub(crate) const UNIQUE_CONSTRAINTS: &[(&str, &str)] = &[
    ("accounts_email", "accounts.email_normalized"),
    ("roles_name", "roles.organization_id, roles.name"),
    (
        "memberships_account",
        "memberships.organization_id, memberships.account_id",
    ),
    ("invitations_pending", "invitations.membership_id"),
    ("invitations_token", "invitations.token_hash"),
    (
        "assignments_resource",
        "assignments.membership_id, assignments.resource_type, assignments.resource_id",
    ),
    (
        "role_permissions_pkey",
        "role_permissions.role_id, role_permissions.permission",
    ),
    (
        "overrides_pkey",
        "overrides.membership_id, overrides.permission",
    ),
    ("accounts_pkey", "accounts.id"),
    ("organizations_pkey", "organizations.id"),
    ("roles_pkey", "roles.id"),
    ("memberships_pkey", "memberships.id"),
    ("assignments_pkey", "assignments.id"),
    ("invitations_pkey", "invitations.id"),
    ("audit_events_pkey", "audit_events.id"),
    ("outbox_pkey", "outbox.id"),
    ("email_verifications_pkey", "email_verifications.token_hash"),
];

/// The name reported for a uniqueness rule missing from [`UNIQUE_CONSTRAINTS`].
pub(crate) const UNKNOWN_CONSTRAINT: &str = "unique";
