-- Exact row counts kept by triggers in the transaction of every write (issue 15): a total
-- costs one row whatever the table's size. kind and parent_id: 'kv', 'files' and 'audit' per
-- bot id, 'versions' per file id, 'memory_audit' per memory id, 'bots' per '<status>/<category>',
-- 'drafts' (all builder drafts) under ''.
-- Rows of a deleted bot or file go with it; audit counts stay (the log outlives its bot).
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

CREATE TRIGGER count_bots_insert AFTER INSERT ON bots BEGIN
    INSERT INTO row_counts (kind, parent_id, total)
    VALUES ('bots', new.status || '/' || new.category, 1)
    ON CONFLICT (kind, parent_id) DO UPDATE SET total = row_counts.total + 1;
END;

CREATE TRIGGER count_bots_update AFTER UPDATE OF status, category ON bots
WHEN old.status <> new.status OR old.category <> new.category BEGIN
    UPDATE row_counts SET total = total - 1
    WHERE kind = 'bots' AND parent_id = old.status || '/' || old.category;
    INSERT INTO row_counts (kind, parent_id, total)
    VALUES ('bots', new.status || '/' || new.category, 1)
    ON CONFLICT (kind, parent_id) DO UPDATE SET total = row_counts.total + 1;
END;

CREATE TRIGGER count_bots_delete AFTER DELETE ON bots BEGIN
    UPDATE row_counts SET total = total - 1
    WHERE kind = 'bots' AND parent_id = old.status || '/' || old.category;
    DELETE FROM row_counts WHERE kind IN ('kv', 'files') AND parent_id = old.id;
END;

CREATE TRIGGER count_kv_insert AFTER INSERT ON kv_entries BEGIN
    INSERT INTO row_counts (kind, parent_id, total) VALUES ('kv', new.bot_id, 1)
    ON CONFLICT (kind, parent_id) DO UPDATE SET total = row_counts.total + 1;
END;

CREATE TRIGGER count_kv_delete AFTER DELETE ON kv_entries BEGIN
    UPDATE row_counts SET total = total - 1 WHERE kind = 'kv' AND parent_id = old.bot_id;
END;

CREATE TRIGGER count_files_insert AFTER INSERT ON bot_files BEGIN
    INSERT INTO row_counts (kind, parent_id, total) VALUES ('files', new.bot_id, 1)
    ON CONFLICT (kind, parent_id) DO UPDATE SET total = row_counts.total + 1;
END;

CREATE TRIGGER count_files_delete AFTER DELETE ON bot_files BEGIN
    UPDATE row_counts SET total = total - 1 WHERE kind = 'files' AND parent_id = old.bot_id;
    DELETE FROM row_counts WHERE kind = 'versions' AND parent_id = old.id;
END;

CREATE TRIGGER count_versions_insert AFTER INSERT ON bot_file_versions BEGIN
    INSERT INTO row_counts (kind, parent_id, total) VALUES ('versions', new.file_id, 1)
    ON CONFLICT (kind, parent_id) DO UPDATE SET total = row_counts.total + 1;
END;

CREATE TRIGGER count_versions_delete AFTER DELETE ON bot_file_versions BEGIN
    UPDATE row_counts SET total = total - 1 WHERE kind = 'versions' AND parent_id = old.file_id;
END;

CREATE TRIGGER count_audit_insert AFTER INSERT ON memory_audit_entries BEGIN
    INSERT INTO row_counts (kind, parent_id, total) VALUES ('audit', new.bot_id, 1)
    ON CONFLICT (kind, parent_id) DO UPDATE SET total = row_counts.total + 1;
    INSERT INTO row_counts (kind, parent_id, total) VALUES ('memory_audit', new.memory_id, 1)
    ON CONFLICT (kind, parent_id) DO UPDATE SET total = row_counts.total + 1;
END;

CREATE TRIGGER count_drafts_insert AFTER INSERT ON builder_drafts BEGIN
    INSERT INTO row_counts (kind, parent_id, total) VALUES ('drafts', '', 1)
    ON CONFLICT (kind, parent_id) DO UPDATE SET total = row_counts.total + 1;
END;

CREATE TRIGGER count_drafts_delete AFTER DELETE ON builder_drafts BEGIN
    UPDATE row_counts SET total = total - 1 WHERE kind = 'drafts' AND parent_id = '';
END;
