-- How many providers exist, kept exact in the transaction of every insert and delete (issue 15):
-- saving a new provider past the max_providers setting is refused. Concurrent inserts queue on
-- the count's row, so each sees the others' committed rows.
INSERT INTO row_counts (kind, parent_id, total) SELECT 'providers', '', count(*) FROM provider_health;

CREATE FUNCTION count_providers_insert() RETURNS trigger LANGUAGE plpgsql AS '
BEGIN
INSERT INTO row_counts (kind, parent_id, total)
SELECT ''providers'', '''', count(*) FROM added HAVING count(*) > 0
ON CONFLICT (kind, parent_id) DO UPDATE SET total = row_counts.total + excluded.total;
    RETURN NULL;
END
';

CREATE OR REPLACE TRIGGER count_providers_insert AFTER INSERT ON provider_health
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION count_providers_insert();

CREATE FUNCTION count_providers_delete() RETURNS trigger LANGUAGE plpgsql AS '
BEGIN
UPDATE row_counts SET total = total - (SELECT count(*) FROM removed)
WHERE kind = ''providers'' AND parent_id = '''';
    RETURN NULL;
END
';

CREATE OR REPLACE TRIGGER count_providers_delete AFTER DELETE ON provider_health
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION count_providers_delete();
