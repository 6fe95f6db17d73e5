-- The authorization index's change log (flow 11) and the host back ends' API
-- keys. Every write that changes access bumps `authz_state.version` under its
-- row lock and records the change with that version, in the same
-- transaction: versions commit in order, and an instance that missed one
-- reads it back from `authz_changes`.

CREATE TABLE authz_state (
    id      INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL CHECK (version >= 0)
) STRICT;

INSERT INTO authz_state (id, version) VALUES (1, 0);

CREATE TABLE authz_changes (
    version      INTEGER NOT NULL PRIMARY KEY,
    change       TEXT    NOT NULL,
    committed_at INTEGER NOT NULL
) STRICT;

-- An API key: only the SHA-256 of its secret is kept. `organization_id` NULL
-- means the key may check every organization of the deployment.
CREATE TABLE api_keys (
    id              BLOB    NOT NULL PRIMARY KEY,
    organization_id BLOB    REFERENCES organizations (id),
    name            TEXT    NOT NULL,
    token_hash      TEXT    NOT NULL,
    created_by      BLOB    REFERENCES accounts (id),
    created_at      INTEGER NOT NULL,
    revoked_at      INTEGER,
    last_used_at    INTEGER,
    CONSTRAINT api_keys_token UNIQUE (token_hash)
) STRICT;

CREATE INDEX api_keys_organization ON api_keys (organization_id, id);
