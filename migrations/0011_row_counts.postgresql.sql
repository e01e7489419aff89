-- Exact row counts kept by triggers in the transaction of every write (issue 15): a total
-- costs one row whatever the table's size. kind and parent_id: 'kv', 'files' and 'audit' per
-- bot id, 'versions' per file id, 'memory_audit' per memory id, 'bots' per '<status>/<category>',
-- 'drafts' (all builder drafts) under ''.
-- Rows of a deleted bot or file go with it; audit counts stay (the log outlives its bot).
-- PostgreSQL: statement-level triggers over transition tables, one upsert per statement (a
-- cascade of a million rows is one grouped update); rows are taken in (kind, parent_id) order.
-- Function bodies are quoted strings and triggers CREATE OR REPLACE: the migration runner splits
-- statements with SQLite's rules, which would look for BEGIN ... END after CREATE TRIGGER.
CREATE TABLE row_counts (
    kind TEXT NOT NULL,
    parent_id TEXT NOT NULL,
    total BIGINT NOT NULL,
    PRIMARY KEY (kind, parent_id)
);

INSERT INTO row_counts (kind, parent_id, total)
SELECT 'bots', status || '/' || category, count(*) FROM bots GROUP BY status, category;
INSERT INTO row_counts (kind, parent_id, total)
SELECT 'kv', bot_id, count(*) FROM kv_entries GROUP BY bot_id;
INSERT INTO row_counts (kind, parent_id, total)
SELECT 'files', bot_id, count(*) FROM bot_files GROUP BY bot_id;
INSERT INTO row_counts (kind, parent_id, total)
SELECT 'versions', file_id, count(*) FROM bot_file_versions GROUP BY file_id;
INSERT INTO row_counts (kind, parent_id, total)
SELECT 'audit', bot_id, count(*) FROM memory_audit_entries GROUP BY bot_id;
INSERT INTO row_counts (kind, parent_id, total)
SELECT 'memory_audit', memory_id, count(*) FROM memory_audit_entries GROUP BY memory_id;
INSERT INTO row_counts (kind, parent_id, total) SELECT 'drafts', '', count(*) FROM builder_drafts;

CREATE FUNCTION count_bots_insert() RETURNS trigger LANGUAGE plpgsql AS '
BEGIN
INSERT INTO row_counts (kind, parent_id, total)
SELECT k, p, sum(d) FROM (SELECT ''bots'', status || ''/'' || category, 1 FROM added) AS changes (k, p, d)
GROUP BY k, p HAVING sum(d) <> 0 ORDER BY k, p
ON CONFLICT (kind, parent_id) DO UPDATE SET total = row_counts.total + excluded.total;
    RETURN NULL;
END
';

CREATE OR REPLACE TRIGGER count_bots_insert AFTER INSERT ON bots
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION count_bots_insert();

CREATE FUNCTION count_bots_update() RETURNS trigger LANGUAGE plpgsql AS '
BEGIN
INSERT INTO row_counts (kind, parent_id, total)
SELECT k, p, sum(d) FROM (SELECT ''bots'', status || ''/'' || category, -1 FROM before_rows UNION ALL SELECT ''bots'', status || ''/'' || category, 1 FROM after_rows) AS changes (k, p, d)
GROUP BY k, p HAVING sum(d) <> 0 ORDER BY k, p
ON CONFLICT (kind, parent_id) DO UPDATE SET total = row_counts.total + excluded.total;
    RETURN NULL;
END
';

CREATE OR REPLACE TRIGGER count_bots_update AFTER UPDATE ON bots
    REFERENCING OLD TABLE AS before_rows NEW TABLE AS after_rows
    FOR EACH STATEMENT EXECUTE FUNCTION count_bots_update();

CREATE FUNCTION count_bots_delete() RETURNS trigger LANGUAGE plpgsql AS '
BEGIN
UPDATE row_counts AS c SET total = c.total - g.n
FROM (SELECT k, p, count(*) AS n FROM (SELECT ''bots'', status || ''/'' || category FROM removed) AS gone (k, p) GROUP BY k, p ORDER BY k, p) AS g
WHERE c.kind = g.k AND c.parent_id = g.p;
    DELETE FROM row_counts WHERE kind IN (''kv'', ''files'') AND parent_id IN (SELECT id FROM removed);
    RETURN NULL;
END
';

CREATE OR REPLACE TRIGGER count_bots_delete AFTER DELETE ON bots
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION count_bots_delete();

CREATE FUNCTION count_kv_insert() RETURNS trigger LANGUAGE plpgsql AS '
BEGIN
INSERT INTO row_counts (kind, parent_id, total)
SELECT k, p, sum(d) FROM (SELECT ''kv'', bot_id, 1 FROM added) AS changes (k, p, d)
GROUP BY k, p HAVING sum(d) <> 0 ORDER BY k, p
ON CONFLICT (kind, parent_id) DO UPDATE SET total = row_counts.total + excluded.total;
    RETURN NULL;
END
';

CREATE OR REPLACE TRIGGER count_kv_insert AFTER INSERT ON kv_entries
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION count_kv_insert();

CREATE FUNCTION count_kv_delete() RETURNS trigger LANGUAGE plpgsql AS '
BEGIN
UPDATE row_counts AS c SET total = c.total - g.n
FROM (SELECT k, p, count(*) AS n FROM (SELECT ''kv'', bot_id FROM removed) AS gone (k, p) GROUP BY k, p ORDER BY k, p) AS g
WHERE c.kind = g.k AND c.parent_id = g.p;
    RETURN NULL;
END
';

CREATE OR REPLACE TRIGGER count_kv_delete AFTER DELETE ON kv_entries
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION count_kv_delete();

CREATE FUNCTION count_files_insert() RETURNS trigger LANGUAGE plpgsql AS '
BEGIN
INSERT INTO row_counts (kind, parent_id, total)
SELECT k, p, sum(d) FROM (SELECT ''files'', bot_id, 1 FROM added) AS changes (k, p, d)
GROUP BY k, p HAVING sum(d) <> 0 ORDER BY k, p
ON CONFLICT (kind, parent_id) DO UPDATE SET total = row_counts.total + excluded.total;
    RETURN NULL;
END
';

CREATE OR REPLACE TRIGGER count_files_insert AFTER INSERT ON bot_files
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION count_files_insert();

CREATE FUNCTION count_files_delete() RETURNS trigger LANGUAGE plpgsql AS '
BEGIN
UPDATE row_counts AS c SET total = c.total - g.n
FROM (SELECT k, p, count(*) AS n FROM (SELECT ''files'', bot_id FROM removed) AS gone (k, p) GROUP BY k, p ORDER BY k, p) AS g
WHERE c.kind = g.k AND c.parent_id = g.p;
    DELETE FROM row_counts WHERE kind = ''versions'' AND parent_id IN (SELECT id FROM removed);
    RETURN NULL;
END
';

CREATE OR REPLACE TRIGGER count_files_delete AFTER DELETE ON bot_files
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION count_files_delete();

CREATE FUNCTION count_versions_insert() RETURNS trigger LANGUAGE plpgsql AS '
BEGIN
INSERT INTO row_counts (kind, parent_id, total)
SELECT k, p, sum(d) FROM (SELECT ''versions'', file_id, 1 FROM added) AS changes (k, p, d)
GROUP BY k, p HAVING sum(d) <> 0 ORDER BY k, p
ON CONFLICT (kind, parent_id) DO UPDATE SET total = row_counts.total + excluded.total;
    RETURN NULL;
END
';

CREATE OR REPLACE TRIGGER count_versions_insert AFTER INSERT ON bot_file_versions
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION count_versions_insert();

CREATE FUNCTION count_versions_delete() RETURNS trigger LANGUAGE plpgsql AS '
BEGIN
UPDATE row_counts AS c SET total = c.total - g.n
FROM (SELECT k, p, count(*) AS n FROM (SELECT ''versions'', file_id FROM removed) AS gone (k, p) GROUP BY k, p ORDER BY k, p) AS g
WHERE c.kind = g.k AND c.parent_id = g.p;
    RETURN NULL;
END
';

CREATE OR REPLACE TRIGGER count_versions_delete AFTER DELETE ON bot_file_versions
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION count_versions_delete();

CREATE FUNCTION count_audit_insert() RETURNS trigger LANGUAGE plpgsql AS '
BEGIN
INSERT INTO row_counts (kind, parent_id, total)
SELECT k, p, sum(d) FROM (SELECT ''audit'', bot_id, 1 FROM added UNION ALL SELECT ''memory_audit'', memory_id, 1 FROM added) AS changes (k, p, d)
GROUP BY k, p HAVING sum(d) <> 0 ORDER BY k, p
ON CONFLICT (kind, parent_id) DO UPDATE SET total = row_counts.total + excluded.total;
    RETURN NULL;
END
';

CREATE OR REPLACE TRIGGER count_audit_insert AFTER INSERT ON memory_audit_entries
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION count_audit_insert();

CREATE FUNCTION count_drafts_insert() RETURNS trigger LANGUAGE plpgsql AS '
BEGIN
INSERT INTO row_counts (kind, parent_id, total)
SELECT k, p, sum(d) FROM (SELECT ''drafts'', '''', 1 FROM added) AS changes (k, p, d)
GROUP BY k, p HAVING sum(d) <> 0 ORDER BY k, p
ON CONFLICT (kind, parent_id) DO UPDATE SET total = row_counts.total + excluded.total;
    RETURN NULL;
END
';

CREATE OR REPLACE TRIGGER count_drafts_insert AFTER INSERT ON builder_drafts
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION count_drafts_insert();

CREATE FUNCTION count_drafts_delete() RETURNS trigger LANGUAGE plpgsql AS '
BEGIN
UPDATE row_counts AS c SET total = c.total - g.n
FROM (SELECT k, p, count(*) AS n FROM (SELECT ''drafts'', '''' FROM removed) AS gone (k, p) GROUP BY k, p ORDER BY k, p) AS g
WHERE c.kind = g.k AND c.parent_id = g.p;
    RETURN NULL;
END
';

CREATE OR REPLACE TRIGGER count_drafts_delete AFTER DELETE ON builder_drafts
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION count_drafts_delete();
