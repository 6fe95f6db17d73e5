-- Gardien's schema on PostgreSQL.
--
-- Ids are UUID v7 (they sort by creation time, so lists order and page by id),
-- times TIMESTAMPTZ, JSON JSONB. Constraint names match those of the SQLite
-- schema; the store maps violations to them (see src/sql.rs).

CREATE TABLE accounts (
    id                 UUID        NOT NULL PRIMARY KEY,
    email              TEXT        NOT NULL,
    email_normalized   TEXT        NOT NULL,
    first_name         TEXT        NOT NULL,
    last_name          TEXT        NOT NULL,
    language           TEXT        NOT NULL CHECK (language IN ('en', 'fr')),
    password_hash      TEXT,
    email_verified_at  TIMESTAMPTZ,
    notification_email TEXT,
    phone              TEXT,
    title              TEXT,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    CONSTRAINT accounts_email UNIQUE (email_normalized)
);

CREATE TABLE organizations (
    id                  UUID        NOT NULL PRIMARY KEY,
    name                TEXT        NOT NULL,
    requires_activation BOOLEAN     NOT NULL,
    legal_name          TEXT,
    address             TEXT,
    phone               TEXT,
    vat_number          TEXT,
    created_at          TIMESTAMPTZ NOT NULL
);

CREATE TABLE roles (
    id              UUID        NOT NULL PRIMARY KEY,
    organization_id UUID        NOT NULL REFERENCES organizations (id),
    template        TEXT,
    name            TEXT        NOT NULL,
    description     TEXT        NOT NULL,
    scoped          BOOLEAN     NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT roles_name UNIQUE (organization_id, name),
    -- Lets memberships reference a role together with its organization.
    CONSTRAINT roles_organization UNIQUE (id, organization_id)
);

CREATE TABLE role_permissions (
    role_id    UUID NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    PRIMARY KEY (role_id, permission)
);

CREATE TABLE memberships (
    id              UUID        NOT NULL PRIMARY KEY,
    organization_id UUID        NOT NULL REFERENCES organizations (id),
    account_id      UUID        NOT NULL REFERENCES accounts (id),
    kind            TEXT        NOT NULL CHECK (kind IN ('staff', 'client')),
    role_id         UUID        NOT NULL,
    status          TEXT        NOT NULL
        CHECK (status IN ('invited', 'pending_activation', 'active', 'suspended', 'removed')),
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    last_login_at   TIMESTAMPTZ,
    CONSTRAINT memberships_account UNIQUE (organization_id, account_id),
    -- A membership can never hold another organization's role.
    CONSTRAINT memberships_role FOREIGN KEY (role_id, organization_id)
        REFERENCES roles (id, organization_id)
);

CREATE INDEX memberships_organization ON memberships (organization_id, id);
CREATE INDEX memberships_of_account ON memberships (account_id);
CREATE INDEX memberships_role_id ON memberships (role_id);

CREATE TABLE overrides (
    membership_id UUID NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    permission    TEXT NOT NULL,
    effect        TEXT NOT NULL CHECK (effect IN ('grant', 'deny')),
    PRIMARY KEY (membership_id, permission)
);

CREATE TABLE assignments (
    id              UUID        NOT NULL PRIMARY KEY,
    organization_id UUID        NOT NULL REFERENCES organizations (id),
    membership_id   UUID        NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    resource_type   TEXT        NOT NULL,
    resource_id     TEXT        NOT NULL,
    label           TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT assignments_resource UNIQUE (membership_id, resource_type, resource_id)
);

CREATE INDEX assignments_by_resource ON assignments (organization_id, resource_type, resource_id);

CREATE TABLE invitations (
    id               UUID        NOT NULL PRIMARY KEY,
    organization_id  UUID        NOT NULL REFERENCES organizations (id),
    membership_id    UUID        NOT NULL REFERENCES memberships (id),
    email            TEXT        NOT NULL,
    email_normalized TEXT        NOT NULL,
    language         TEXT        NOT NULL CHECK (language IN ('en', 'fr')),
    token_hash       TEXT        NOT NULL,
    invited_by       UUID        REFERENCES accounts (id),
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    accepted_at      TIMESTAMPTZ,
    revoked_at       TIMESTAMPTZ,
    CONSTRAINT invitations_token UNIQUE (token_hash)
);

-- One pending invitation per membership.
CREATE UNIQUE INDEX invitations_pending ON invitations (membership_id)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;
CREATE INDEX invitations_organization ON invitations (organization_id, id);

CREATE TABLE audit_events (
    id              UUID        NOT NULL PRIMARY KEY,
    occurred_at     TIMESTAMPTZ NOT NULL,
    organization_id UUID,
    actor_type      TEXT        NOT NULL CHECK (actor_type IN ('account', 'api_key', 'system')),
    actor_id        UUID,
    action          TEXT        NOT NULL,
    target          TEXT,
    before          JSONB,
    after           JSONB,
    ip              TEXT,
    user_agent      TEXT,
    request_id      TEXT,
    CHECK ((actor_type = 'system') = (actor_id IS NULL))
);

CREATE INDEX audit_events_organization ON audit_events (organization_id, id);
CREATE INDEX audit_events_action ON audit_events (organization_id, action, id);

-- The trail is append-only.
CREATE FUNCTION audit_events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();

CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();

CREATE TABLE outbox (
    id              UUID        NOT NULL PRIMARY KEY,
    created_at      TIMESTAMPTZ NOT NULL,
    recipient       TEXT        NOT NULL,
    subject         TEXT        NOT NULL,
    text_body       TEXT        NOT NULL,
    html_body       TEXT        NOT NULL,
    attempts        INTEGER     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TIMESTAMPTZ NOT NULL,
    locked_until    TIMESTAMPTZ,
    sent_at         TIMESTAMPTZ,
    failed_at       TIMESTAMPTZ,
    last_error      TEXT
);

-- The worker's claim: undelivered messages by due time.
CREATE INDEX outbox_due ON outbox (next_attempt_at, id)
    WHERE sent_at IS NULL AND failed_at IS NULL;
