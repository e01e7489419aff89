-- Bot files: the current version per (bot, filename) plus one row per upload (the current one included); content lives in the store under its sha256 and goes once no version names it.
CREATE TABLE bot_files (
    id TEXT PRIMARY KEY,
    bot_id TEXT NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    filename TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL CHECK (size_bytes >= 0),
    version BIGINT NOT NULL CHECK (version >= 1),
    sha256 TEXT NOT NULL,
    is_indexed BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (bot_id, filename)
);

CREATE TABLE bot_file_versions (
    id TEXT PRIMARY KEY,
    file_id TEXT NOT NULL REFERENCES bot_files (id) ON DELETE CASCADE,
    version BIGINT NOT NULL CHECK (version >= 1),
    size_bytes BIGINT NOT NULL CHECK (size_bytes >= 0),
    sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (file_id, version)
);

-- Is any version still using this content? (content clean-up after deletes)
CREATE INDEX idx_bot_file_versions_sha256 ON bot_file_versions (sha256);
