-- A key's name is unique among keys that are not revoked, so a revoked key's name can be used
-- again (api-key list tells the old key and the new one apart by their dates).
ALTER TABLE api_keys DROP CONSTRAINT api_keys_name_key;
CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;
