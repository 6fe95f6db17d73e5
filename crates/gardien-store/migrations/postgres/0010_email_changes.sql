-- Login email changes (flow 12): the new address must be confirmed by a
-- single-use link sent to it. Only the SHA-256 of the link's token is kept.
CREATE TABLE email_changes (
    token_hash           TEXT        NOT NULL,
    account_id           UUID        NOT NULL REFERENCES accounts (id),
    new_email            TEXT        NOT NULL,
    created_at           TIMESTAMPTZ NOT NULL,
    expires_at           TIMESTAMPTZ NOT NULL,
    used_at              TIMESTAMPTZ,
    CONSTRAINT email_changes_pkey PRIMARY KEY (token_hash),
    CHECK (expires_at > created_at)
);

CREATE INDEX email_changes_account ON email_changes (account_id);
