-- A key's name is unique among keys that are not revoked, so a revoked key's name can be used
-- again (api-key list tells the old key and the new one apart by their dates).
CREATE TABLE api_keys_reusable_names (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
    key_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
INSERT INTO api_keys_reusable_names (id, name, scope, key_hash, created_at, last_used_at, revoked_at)
SELECT id, name, scope, key_hash, created_at, last_used_at, revoked_at FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_reusable_names RENAME TO api_keys;
CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;
