-- Team administration (flows 4, 8 and 12): company details, what an
-- administrator records about a member, personal messages kept for resent
-- invitations, and the indexes the team page needs at 100 000 members.

-- Company details (seed 003). `legal_name`, `address`, `phone` and
-- `vat_number` exist since 0001.
ALTER TABLE organizations ADD COLUMN registration_number TEXT;

-- The administrator's personal message, sent again with a resent link.
ALTER TABLE invitations ADD COLUMN personal_message TEXT;

-- What an administrator recorded about a member (seed 002, "modifier les
-- informations") when the account is also another organization's: an
-- organization never writes an account others see. Shown in preference to
-- the account's own values, in this organization only.
ALTER TABLE memberships ADD COLUMN member_first_name TEXT;
ALTER TABLE memberships ADD COLUMN member_last_name TEXT;
ALTER TABLE memberships ADD COLUMN member_title TEXT;
ALTER TABLE memberships ADD COLUMN member_phone TEXT;
