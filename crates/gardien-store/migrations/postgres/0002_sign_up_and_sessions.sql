-- Sign-up, sessions and passwords: email verification links (flow 1),
-- browser sessions (flow 6) and password reset links (flow 13). Only the
-- SHA-256 hashes of emailed or cookie tokens are stored.

CREATE TABLE email_verifications (
    token_hash  TEXT        NOT NULL,
    account_id  UUID        NOT NULL REFERENCES accounts (id),
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    CONSTRAINT email_verifications_pkey PRIMARY KEY (token_hash),
    CHECK (expires_at > created_at)
);

CREATE INDEX email_verifications_account ON email_verifications (account_id);

-- Browser sessions (flow 6). The id is the SHA-256 of the cookie's token.
-- A session is bound to at most one organization, with the kind of the
-- membership it was bound through.
CREATE TABLE sessions (
    id                   TEXT        NOT NULL,
    account_id           UUID        NOT NULL REFERENCES accounts (id),
    organization_id      UUID        REFERENCES organizations (id),
    kind                 TEXT        CHECK (kind IN ('staff', 'client')),
    created_at           TIMESTAMPTZ NOT NULL,
    last_seen_at         TIMESTAMPTZ NOT NULL,
    expires_at           TIMESTAMPTZ NOT NULL,
    idle_timeout_seconds BIGINT      NOT NULL CHECK (idle_timeout_seconds > 0),
    ip                   TEXT,
    user_agent           TEXT,
    revoked_at           TIMESTAMPTZ,
    CONSTRAINT sessions_pkey PRIMARY KEY (id),
    CHECK ((organization_id IS NULL) = (kind IS NULL)),
    CHECK (expires_at > created_at)
);

CREATE INDEX sessions_account ON sessions (account_id);

-- Password reset links (flow 13): single-use, 30 minutes.
CREATE TABLE password_resets (
    token_hash  TEXT        NOT NULL,
    account_id  UUID        NOT NULL REFERENCES accounts (id),
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    CONSTRAINT password_resets_pkey PRIMARY KEY (token_hash),
    CHECK (expires_at > created_at)
);

CREATE INDEX password_resets_account ON password_resets (account_id);
