-- Team-page search (flow 8) at 100 000 members: a substring of the email or
-- of the shown name ("first last" or "last first") found through an FTS5
-- trigram index instead of a scan of every membership with its account.
--
-- `member_search` holds one row per membership: its rowid is the
-- membership's `search_id` (memberships' own rowid would not do: VACUUM may
-- renumber a table without an INTEGER PRIMARY KEY), its text the lower-case
-- email, name and reversed name separated by line feeds, which no search
-- contains, so a match never spans two of them. Triggers keep it exact on
-- every write of a membership or of its account; the store never writes it.
ALTER TABLE memberships ADD COLUMN search_id INTEGER;
CREATE UNIQUE INDEX memberships_search_id ON memberships (search_id);
-- Covering for the search: the matches' organization and id come from this
-- index alone, so choosing a page reads no membership row.
CREATE INDEX memberships_search_page ON memberships (search_id, organization_id, id);

-- The shown name, as the team page shows it: the names typed at invitation
-- while the membership is `invited`, else what an administrator recorded
-- for this organization, else the account's own.
CREATE VIEW member_search_source AS
SELECT id, search_id,
    email || char(10) || lower(first_name || ' ' || last_name) || char(10)
        || lower(last_name || ' ' || first_name) AS search_text
FROM (SELECT m.id, m.search_id, a.email_normalized AS email,
        CASE WHEN m.status = 'invited' AND m.invited_first_name IS NOT NULL
            THEN m.invited_first_name
            ELSE COALESCE(m.member_first_name, a.first_name) END AS first_name,
        CASE WHEN m.status = 'invited' AND m.invited_last_name IS NOT NULL
            THEN m.invited_last_name
            ELSE COALESCE(m.member_last_name, a.last_name) END AS last_name
    FROM memberships m JOIN accounts a ON a.id = m.account_id);

CREATE VIRTUAL TABLE member_search USING fts5(search_text, tokenize = 'trigram');

WITH numbered AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM memberships)
UPDATE memberships SET search_id = numbered.n FROM numbered WHERE numbered.id = memberships.id;
INSERT INTO member_search (rowid, search_text)
    SELECT search_id, search_text FROM member_search_source;

CREATE TRIGGER memberships_search_insert AFTER INSERT ON memberships
BEGIN
    UPDATE memberships
        SET search_id = (SELECT COALESCE(MAX(search_id), 0) + 1 FROM memberships)
        WHERE id = NEW.id;
    INSERT INTO member_search (rowid, search_text)
        SELECT search_id, search_text FROM member_search_source WHERE id = NEW.id;
END;

CREATE TRIGGER memberships_search_update
AFTER UPDATE OF account_id, status, invited_first_name, invited_last_name,
    member_first_name, member_last_name ON memberships
BEGIN
    UPDATE member_search
        SET search_text = (SELECT search_text FROM member_search_source WHERE id = NEW.id)
        WHERE rowid = NEW.search_id;
END;

CREATE TRIGGER accounts_search_update
AFTER UPDATE OF email_normalized, first_name, last_name ON accounts
BEGIN
    UPDATE member_search
        SET search_text = (SELECT s.search_text FROM member_search_source s
            WHERE s.search_id = member_search.rowid)
        WHERE rowid IN (SELECT search_id FROM memberships WHERE account_id = NEW.id);
END;

CREATE TRIGGER memberships_search_delete AFTER DELETE ON memberships
BEGIN
    DELETE FROM member_search WHERE rowid = OLD.search_id;
END;
