-- Reading the audit trail (flow 14): every page is one organization's events,
-- newest first, paged by the keyset (occurred_at, id). Each filter that can
-- be selective gets an index that starts with the organization, then the
-- filtered column, then the order (see the PostgreSQL migration).
CREATE INDEX audit_events_org_time ON audit_events (organization_id, occurred_at, id);
CREATE INDEX audit_events_org_actor_time
    ON audit_events (organization_id, actor_id, occurred_at, id);
CREATE INDEX audit_events_org_action_time
    ON audit_events (organization_id, action, occurred_at, id);
CREATE INDEX audit_events_org_target_time
    ON audit_events (organization_id, target, occurred_at, id);
DROP INDEX audit_events_action;

-- The retention purge is the only deletion. SQLite has no session settings:
-- the purge's transaction inserts the one permit row, deletes, and removes
-- the permit before it commits, so no other connection ever sees it (every
-- write transaction is BEGIN IMMEDIATE: one writer at a time). UPDATE stays
-- refused, and so does every DELETE without the permit.
CREATE TABLE audit_purge_permit (
    one INTEGER NOT NULL PRIMARY KEY CHECK (one = 1)
) STRICT;

DROP TRIGGER audit_events_no_delete;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
WHEN NOT EXISTS (SELECT 1 FROM audit_purge_permit)
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
