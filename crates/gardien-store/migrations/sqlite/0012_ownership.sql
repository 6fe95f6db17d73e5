-- Ownership (DESIGN: "Ownership can be handed over"). Each organization has
-- one owner: the founder at sign-up, then whoever the owner hands it over
-- to. The owner stays an active administrator until they hand it over.
ALTER TABLE organizations ADD COLUMN owner_membership_id BLOB REFERENCES memberships (id);

-- Organizations created before this migration: their earliest active
-- administrator, else their earliest membership.
UPDATE organizations SET owner_membership_id = (
    SELECT m.id FROM memberships m
    JOIN roles r ON r.id = m.role_id
    WHERE m.organization_id = organizations.id
    ORDER BY CASE WHEN m.status = 'active' AND NOT r.scoped AND EXISTS (
            SELECT 1 FROM role_permissions p
            WHERE p.role_id = r.id AND p.permission = 'team.manage') THEN 0 ELSE 1 END,
        m.created_at, m.id
    LIMIT 1);
