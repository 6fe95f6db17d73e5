-- Gardien as an OpenID Connect provider (issue: host integration).
--
-- Registered clients. The client secret (public clients have none) is kept
-- only as its SHA-256; redirect URIs are JSON arrays matched exactly.
CREATE TABLE oidc_clients (
    id                        UUID    NOT NULL PRIMARY KEY,
    name                      TEXT    NOT NULL,
    kind                      TEXT    NOT NULL CHECK (kind IN ('confidential', 'public')),
    secret_hash               TEXT,
    first_party               BOOLEAN NOT NULL,
    redirect_uris             TEXT    NOT NULL,
    post_logout_redirect_uris TEXT    NOT NULL,
    created_at                TIMESTAMPTZ NOT NULL,
    revoked_at                TIMESTAMPTZ,
    CHECK ((kind = 'public') = (secret_hash IS NULL))
);

-- Signing keys: the private half is derived from the deployment's secret
-- key and `kid`, never stored. One key is active (not retired); retired keys
-- are still published for a while.
CREATE TABLE oidc_signing_keys (
    kid        TEXT    NOT NULL PRIMARY KEY,
    public_key TEXT    NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    retired_at TIMESTAMPTZ
);

CREATE UNIQUE INDEX oidc_signing_keys_one_active ON oidc_signing_keys ((1)) WHERE retired_at IS NULL;

-- A grant: one person's authorization of one client, for one organization
-- (the one chosen at login), from one Gardien session. Its id is the tokens'
-- `sid`. Revoking it ends every token it issued.
CREATE TABLE oidc_grants (
    id              UUID    NOT NULL PRIMARY KEY,
    client_id       UUID    NOT NULL REFERENCES oidc_clients (id),
    account_id      UUID    NOT NULL REFERENCES accounts (id),
    organization_id UUID    REFERENCES organizations (id),
    session_id      TEXT,
    scope           TEXT    NOT NULL,
    nonce           TEXT,
    auth_time       TIMESTAMPTZ NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    revoked_at      TIMESTAMPTZ,
    revoked_reason  TEXT
);

CREATE INDEX oidc_grants_session ON oidc_grants (session_id) WHERE revoked_at IS NULL;
CREATE INDEX oidc_grants_account ON oidc_grants (account_id) WHERE revoked_at IS NULL;

-- Authorization codes (SHA-256 of the code), single use.
CREATE TABLE oidc_codes (
    code_hash      TEXT    NOT NULL PRIMARY KEY,
    grant_id       UUID    NOT NULL REFERENCES oidc_grants (id),
    redirect_uri   TEXT    NOT NULL,
    code_challenge TEXT,
    expires_at     TIMESTAMPTZ NOT NULL,
    used_at        TIMESTAMPTZ
);

-- Refresh tokens (SHA-256), rotated at each use: a used one shown again
-- means it leaked, and revokes its grant.
CREATE TABLE oidc_refresh_tokens (
    token_hash TEXT    NOT NULL PRIMARY KEY,
    grant_id   UUID    NOT NULL REFERENCES oidc_grants (id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);

CREATE INDEX oidc_refresh_tokens_grant ON oidc_refresh_tokens (grant_id);
