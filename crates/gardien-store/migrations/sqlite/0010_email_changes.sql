-- Login email changes (flow 12): the new address must be confirmed by a
-- single-use link sent to it. Only the SHA-256 of the link's token is kept.
CREATE TABLE email_changes (
    token_hash  TEXT    NOT NULL PRIMARY KEY,
    account_id  BLOB    NOT NULL REFERENCES accounts (id),
    new_email   TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    CHECK (expires_at > created_at)
) STRICT;

CREATE INDEX email_changes_account ON email_changes (account_id);
