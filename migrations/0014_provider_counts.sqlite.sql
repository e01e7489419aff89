-- How many providers exist, kept exact in the transaction of every insert and delete (issue 15):
-- saving a new provider past the max_providers setting is refused.
INSERT INTO row_counts (kind, parent_id, total) SELECT 'providers', '', count(*) FROM provider_health;

CREATE TRIGGER count_providers_insert AFTER INSERT ON provider_health BEGIN
    INSERT INTO row_counts (kind, parent_id, total) VALUES ('providers', '', 1)
    ON CONFLICT (kind, parent_id) DO UPDATE SET total = row_counts.total + 1;
END;

CREATE TRIGGER count_providers_delete AFTER DELETE ON provider_health BEGIN
    UPDATE row_counts SET total = total - 1 WHERE kind = 'providers' AND parent_id = '';
END;
