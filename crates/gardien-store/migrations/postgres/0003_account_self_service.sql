-- A person's own account: privacy policy consents (flow 7). One row per
-- account and accepted version, with when and from where.

CREATE TABLE consents (
    account_id     UUID        NOT NULL REFERENCES accounts (id),
    policy_version TEXT        NOT NULL CHECK (length(policy_version) BETWEEN 1 AND 64),
    accepted_at    TIMESTAMPTZ NOT NULL,
    ip             TEXT,
    user_agent     TEXT,
    CONSTRAINT consents_pkey PRIMARY KEY (account_id, policy_version)
);

-- "Download my data" (flow 15) lists the events a person is the actor of.
CREATE INDEX audit_events_actor ON audit_events (actor_id, id);
