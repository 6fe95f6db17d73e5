-- The authorization index's change log (flow 11) and the host back ends' API
-- keys. Every write that changes access bumps `authz_state.version` under its
-- row lock and records the change with that version, in the same
-- transaction: versions commit in order, and an instance that missed one
-- reads it back from `authz_changes` (NOTIFY `gardien_authz` wakes it).

CREATE TABLE authz_state (
    id      SMALLINT NOT NULL PRIMARY KEY CHECK (id = 1),
    version BIGINT   NOT NULL CHECK (version >= 0)
);

INSERT INTO authz_state (id, version) VALUES (1, 0);

CREATE TABLE authz_changes (
    version      BIGINT      NOT NULL PRIMARY KEY,
    change       JSONB       NOT NULL,
    committed_at TIMESTAMPTZ NOT NULL
);

-- An API key: only the SHA-256 of its secret is kept. `organization_id` NULL
-- means the key may check every organization of the deployment.
CREATE TABLE api_keys (
    id              UUID        NOT NULL PRIMARY KEY,
    organization_id UUID        REFERENCES organizations (id),
    name            TEXT        NOT NULL,
    token_hash      TEXT        NOT NULL,
    created_by      UUID        REFERENCES accounts (id),
    created_at      TIMESTAMPTZ NOT NULL,
    revoked_at      TIMESTAMPTZ,
    last_used_at    TIMESTAMPTZ,
    CONSTRAINT api_keys_token UNIQUE (token_hash)
);

CREATE INDEX api_keys_organization ON api_keys (organization_id, id);
