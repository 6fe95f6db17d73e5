-- Webhooks (Standard Webhooks): endpoints of one organization, or of the whole
-- deployment (`organization_id` NULL); the outbox of messages to deliver,
-- filled in the transaction of the change each one tells of; and the
-- delivery log, one row per attempt.

-- `secret` is the signing key (`whsec_` + base64), kept as given so that
-- every instance can sign; the API shows it once, at creation.
-- `event_types`: a JSON array of types (`member.assigned`) and prefixes
-- (`membership.*`); empty: every event.
CREATE TABLE webhook_endpoints (
    id              UUID        NOT NULL PRIMARY KEY,
    organization_id UUID        REFERENCES organizations (id),
    url             TEXT        NOT NULL,
    description     TEXT        NOT NULL,
    event_types     JSONB       NOT NULL CHECK (jsonb_typeof(event_types) = 'array'),
    secret          TEXT        NOT NULL,
    enabled         BOOLEAN     NOT NULL,
    created_by      UUID        REFERENCES accounts (id),
    created_at      TIMESTAMPTZ NOT NULL
);

-- Enqueueing reads the endpoints of one organization plus the deployment's.
CREATE INDEX webhook_endpoints_organization ON webhook_endpoints (organization_id, id);

-- One message to one endpoint. `id` is the `webhook-id` header (the same on
-- every attempt); `payload` the exact body signed (TEXT, not JSONB, so that
-- its bytes never change). `status`: pending (due at `next_attempt_at`),
-- delivered, or failed (attempts exhausted).
CREATE TABLE webhook_messages (
    id              UUID        NOT NULL PRIMARY KEY,
    endpoint_id     UUID        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_type      TEXT        NOT NULL,
    audit_event_id  UUID        NOT NULL,
    payload         TEXT        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    status          TEXT        NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TIMESTAMPTZ NOT NULL,
    locked_until    TIMESTAMPTZ
);

-- The worker's claim: pending messages by due time.
CREATE INDEX webhook_messages_due ON webhook_messages (next_attempt_at, id)
    WHERE status = 'pending';
-- The delivery log of one endpoint, newest first.
CREATE INDEX webhook_messages_endpoint ON webhook_messages (endpoint_id, id);

-- One delivery attempt: the HTTP status when the endpoint answered, else
-- the error (refused connection, time-out).
CREATE TABLE webhook_attempts (
    id           UUID        NOT NULL PRIMARY KEY,
    message_id   UUID        NOT NULL REFERENCES webhook_messages (id) ON DELETE CASCADE,
    attempted_at TIMESTAMPTZ NOT NULL,
    http_status  INTEGER,
    error        TEXT,
    duration_ms  BIGINT      NOT NULL CHECK (duration_ms >= 0),
    response     TEXT        NOT NULL
);

CREATE INDEX webhook_attempts_message ON webhook_attempts (message_id, attempted_at);
