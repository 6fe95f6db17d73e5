-- The team (flows 2, 3 and 8): the names the administrator typed when
-- inviting, shown while the membership is `invited` — so that inviting an
-- address that already has an account shows nothing of that account (seed
-- 000) — and indexes of the member list and the invitation lookups.

ALTER TABLE memberships ADD COLUMN invited_first_name TEXT;
ALTER TABLE memberships ADD COLUMN invited_last_name TEXT;

CREATE INDEX memberships_organization_status ON memberships (organization_id, status, id);
CREATE INDEX invitations_membership ON invitations (membership_id);
