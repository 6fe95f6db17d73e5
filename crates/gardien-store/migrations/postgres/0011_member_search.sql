-- Team-page search (flow 8) at 100 000 members: a substring of the email or
-- of the shown name ("first last" or "last first") found through a trigram
-- index (pg_trgm, GIN) instead of a scan of every membership with its
-- account.
--
-- `memberships.search_text` is the lower-case email, name and reversed name
-- separated by line feeds, which no search contains, so a match never spans
-- two of them. Triggers keep it exact on every write of a membership or of
-- its account; the store never writes it.

-- The shown name, as the team page shows it: the names typed at invitation
-- while the membership is `invited`, else what an administrator recorded
-- for this organization, else the account's own.
CREATE FUNCTION member_search_text(
    email TEXT, account_first TEXT, account_last TEXT, status TEXT,
    invited_first TEXT, invited_last TEXT, member_first TEXT, member_last TEXT
) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT email || E'\n' || lower(f || ' ' || l) || E'\n' || lower(l || ' ' || f)
    FROM (SELECT
        CASE WHEN status = 'invited' AND invited_first IS NOT NULL THEN invited_first
            ELSE COALESCE(member_first, account_first) END AS f,
        CASE WHEN status = 'invited' AND invited_last IS NOT NULL THEN invited_last
            ELSE COALESCE(member_last, account_last) END AS l) AS names
$$;

ALTER TABLE memberships ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
UPDATE memberships m SET search_text = member_search_text(a.email_normalized,
    a.first_name, a.last_name, m.status, m.invited_first_name, m.invited_last_name,
    m.member_first_name, m.member_last_name)
FROM accounts a WHERE a.id = m.account_id;

CREATE FUNCTION memberships_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT member_search_text(a.email_normalized, a.first_name, a.last_name,
        NEW.status, NEW.invited_first_name, NEW.invited_last_name,
        NEW.member_first_name, NEW.member_last_name)
    INTO NEW.search_text FROM accounts a WHERE a.id = NEW.account_id;
    RETURN NEW;
END;
$$;
CREATE TRIGGER memberships_search_text
BEFORE INSERT OR UPDATE OF account_id, status, invited_first_name, invited_last_name,
    member_first_name, member_last_name ON memberships
FOR EACH ROW EXECUTE FUNCTION memberships_search_text();

CREATE FUNCTION accounts_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE memberships m SET search_text = member_search_text(NEW.email_normalized,
        NEW.first_name, NEW.last_name, m.status, m.invited_first_name,
        m.invited_last_name, m.member_first_name, m.member_last_name)
    WHERE m.account_id = NEW.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER accounts_search_text
AFTER UPDATE OF email_normalized, first_name, last_name ON accounts
FOR EACH ROW EXECUTE FUNCTION accounts_search_text();

-- The trigram index needs the pg_trgm extension (shipped with PostgreSQL,
-- "trusted": a database owner may create it). Where it cannot be created
-- (no contrib package, no right to create it), searching still works, by a
-- scan of the organization's memberships.
DO $$
DECLARE trgm_schema TEXT;
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
    EXCEPTION WHEN OTHERS THEN
        -- Another migration created it at the same time, or it is not
        -- available here: decided below.
        NULL;
    END;
    SELECT n.nspname INTO trgm_schema
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'pg_trgm';
    IF trgm_schema IS NOT NULL THEN
        EXECUTE format('CREATE INDEX memberships_search ON memberships '
            'USING gin (search_text %I.gin_trgm_ops)', trgm_schema);
    END IF;
END $$;
