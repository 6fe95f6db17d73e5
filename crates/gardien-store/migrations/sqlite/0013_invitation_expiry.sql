-- Expired invitations leave a trace (issue: audit trail): a sweep records
-- each pending invitation past its expiry once, as an `invitation.expired`
-- audit event, and stamps it here so that it is never recorded twice.
ALTER TABLE invitations ADD COLUMN expiry_recorded_at INTEGER;

-- The sweep reads only pending invitations not yet recorded.
CREATE INDEX invitations_expiry_sweep ON invitations (expires_at)
    WHERE accepted_at IS NULL AND revoked_at IS NULL AND expiry_recorded_at IS NULL;
