-- Which content does a delete leave unnamed? Checked in SQL per distinct hash through this
-- index, which also holds file_id (issue 15: no list of hashes, whatever the number of versions).
CREATE INDEX idx_bot_file_versions_sha256_file ON bot_file_versions (sha256, file_id);
DROP INDEX idx_bot_file_versions_sha256;
