-- Reading the audit trail (flow 14): every page is one organization's events,
-- newest first, paged by the keyset (occurred_at, id). Each filter that can
-- be selective gets an index that starts with the organization, then the
-- filtered column, then the order, so a filtered page reads only its rows:
--   no filter / time range     → audit_events_org_time
--   actor (account)            → audit_events_org_actor_time
--   action (exact or prefix)   → audit_events_org_action_time
--   target member              → audit_events_org_target_time
-- The time range is a range on occurred_at inside each of them.
CREATE INDEX audit_events_org_time ON audit_events (organization_id, occurred_at, id);
CREATE INDEX audit_events_org_actor_time
    ON audit_events (organization_id, actor_id, occurred_at, id);
-- Byte order ("C") for actions, whatever the database's collation, so that
-- an action prefix (`membership.`) is a plain range of this index.
CREATE INDEX audit_events_org_action_time
    ON audit_events (organization_id, action COLLATE "C", occurred_at, id);
CREATE INDEX audit_events_org_target_time
    ON audit_events (organization_id, target, occurred_at, id);
-- Superseded by audit_events_org_action_time.
DROP INDEX audit_events_action;

-- The retention purge is the only deletion: the trigger lets a DELETE through
-- only inside a transaction that set `gardien.audit_purge` to 'on' with
-- set_config(…, true), which lasts until that transaction ends. UPDATE and
-- TRUNCATE stay refused, and so does every other DELETE.
CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('gardien.audit_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit events are append-only'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
