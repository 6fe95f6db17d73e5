-- Gardien's schema on SQLite.
--
-- Ids are UUID v7 stored as 16-byte BLOBs (they sort by creation time, so
-- lists order and page by id). Times are INTEGER microseconds since the Unix
-- epoch, UTC: they compare and sort correctly, which RFC 3339 text with a
-- variable number of fractional digits would not. Booleans are INTEGER 0/1,
-- JSON is TEXT. Constraint names match those of the PostgreSQL schema; the
-- store maps violations to them (see src/sql.rs).

CREATE TABLE accounts (
    id                 BLOB    NOT NULL PRIMARY KEY,
    email              TEXT    NOT NULL,
    email_normalized   TEXT    NOT NULL,
    first_name         TEXT    NOT NULL,
    last_name          TEXT    NOT NULL,
    language           TEXT    NOT NULL CHECK (language IN ('en', 'fr')),
    password_hash      TEXT,
    email_verified_at  INTEGER,
    notification_email TEXT,
    phone              TEXT,
    title              TEXT,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    CONSTRAINT accounts_email UNIQUE (email_normalized)
) STRICT;

CREATE TABLE organizations (
    id                  BLOB    NOT NULL PRIMARY KEY,
    name                TEXT    NOT NULL,
    requires_activation INTEGER NOT NULL CHECK (requires_activation IN (0, 1)),
    legal_name          TEXT,
    address             TEXT,
    phone               TEXT,
    vat_number          TEXT,
    created_at          INTEGER NOT NULL
) STRICT;

CREATE TABLE roles (
    id              BLOB    NOT NULL PRIMARY KEY,
    organization_id BLOB    NOT NULL REFERENCES organizations (id),
    template        TEXT,
    name            TEXT    NOT NULL,
    description     TEXT    NOT NULL,
    scoped          INTEGER NOT NULL CHECK (scoped IN (0, 1)),
    created_at      INTEGER NOT NULL,
    CONSTRAINT roles_name UNIQUE (organization_id, name),
    -- Lets memberships reference a role together with its organization.
    CONSTRAINT roles_organization UNIQUE (id, organization_id)
) STRICT;

CREATE TABLE role_permissions (
    role_id    BLOB NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    PRIMARY KEY (role_id, permission)
) STRICT;

CREATE TABLE memberships (
    id              BLOB    NOT NULL PRIMARY KEY,
    organization_id BLOB    NOT NULL REFERENCES organizations (id),
    account_id      BLOB    NOT NULL REFERENCES accounts (id),
    kind            TEXT    NOT NULL CHECK (kind IN ('staff', 'client')),
    role_id         BLOB    NOT NULL,
    status          TEXT    NOT NULL
        CHECK (status IN ('invited', 'pending_activation', 'active', 'suspended', 'removed')),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    last_login_at   INTEGER,
    CONSTRAINT memberships_account UNIQUE (organization_id, account_id),
    -- A membership can never hold another organization's role.
    CONSTRAINT memberships_role FOREIGN KEY (role_id, organization_id)
        REFERENCES roles (id, organization_id)
) STRICT;

CREATE INDEX memberships_organization ON memberships (organization_id, id);
CREATE INDEX memberships_of_account ON memberships (account_id);
CREATE INDEX memberships_role_id ON memberships (role_id);

CREATE TABLE overrides (
    membership_id BLOB NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    permission    TEXT NOT NULL,
    effect        TEXT NOT NULL CHECK (effect IN ('grant', 'deny')),
    PRIMARY KEY (membership_id, permission)
) STRICT;

CREATE TABLE assignments (
    id              BLOB    NOT NULL PRIMARY KEY,
    organization_id BLOB    NOT NULL REFERENCES organizations (id),
    membership_id   BLOB    NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    resource_type   TEXT    NOT NULL,
    resource_id     TEXT    NOT NULL,
    label           TEXT,
    created_at      INTEGER NOT NULL,
    CONSTRAINT assignments_resource UNIQUE (membership_id, resource_type, resource_id)
) STRICT;

CREATE INDEX assignments_by_resource ON assignments (organization_id, resource_type, resource_id);

CREATE TABLE invitations (
    id               BLOB    NOT NULL PRIMARY KEY,
    organization_id  BLOB    NOT NULL REFERENCES organizations (id),
    membership_id    BLOB    NOT NULL REFERENCES memberships (id),
    email            TEXT    NOT NULL,
    email_normalized TEXT    NOT NULL,
    language         TEXT    NOT NULL CHECK (language IN ('en', 'fr')),
    token_hash       TEXT    NOT NULL,
    invited_by       BLOB    REFERENCES accounts (id),
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    accepted_at      INTEGER,
    revoked_at       INTEGER,
    CONSTRAINT invitations_token UNIQUE (token_hash)
) STRICT;

-- One pending invitation per membership.
CREATE UNIQUE INDEX invitations_pending ON invitations (membership_id)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;
CREATE INDEX invitations_organization ON invitations (organization_id, id);

CREATE TABLE audit_events (
    id              BLOB    NOT NULL PRIMARY KEY,
    occurred_at     INTEGER NOT NULL,
    organization_id BLOB,
    actor_type      TEXT    NOT NULL CHECK (actor_type IN ('account', 'api_key', 'system')),
    actor_id        BLOB,
    action          TEXT    NOT NULL,
    target          TEXT,
    before          TEXT    CHECK (before IS NULL OR json_valid(before)),
    after           TEXT    CHECK (after IS NULL OR json_valid(after)),
    ip              TEXT,
    user_agent      TEXT,
    request_id      TEXT,
    CHECK ((actor_type = 'system') = (actor_id IS NULL))
) STRICT;

CREATE INDEX audit_events_organization ON audit_events (organization_id, id);
CREATE INDEX audit_events_action ON audit_events (organization_id, action, id);

-- The trail is append-only.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;

CREATE TABLE outbox (
    id              BLOB    NOT NULL PRIMARY KEY,
    created_at      INTEGER NOT NULL,
    recipient       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    text_body       TEXT    NOT NULL,
    html_body       TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at INTEGER NOT NULL,
    locked_until    INTEGER,
    sent_at         INTEGER,
    failed_at       INTEGER,
    last_error      TEXT
) STRICT;

-- The worker's claim: undelivered messages by due time.
CREATE INDEX outbox_due ON outbox (next_attempt_at, id)
    WHERE sent_at IS NULL AND failed_at IS NULL;
