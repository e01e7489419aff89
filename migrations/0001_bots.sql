-- Bots: the parent of every bot-scoped row. The slug is unique and never changes on rename.
CREATE TABLE bots (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'archived')),
    category TEXT NOT NULL DEFAULT 'assistant'
        CHECK (category IN ('assistant', 'creative', 'research', 'utility')),
    tags TEXT NOT NULL DEFAULT '[]',
    user_id TEXT,
    conversation_count BIGINT NOT NULL DEFAULT 0,
    total_tokens_used BIGINT NOT NULL DEFAULT 0,
    version_count BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_active_at TEXT
);

CREATE INDEX idx_bots_name ON bots (name, id);
CREATE INDEX idx_bots_status ON bots (status, id);
CREATE INDEX idx_bots_category ON bots (category, id);
CREATE INDEX idx_bots_created_at ON bots (created_at, id);
CREATE INDEX idx_bots_updated_at ON bots (updated_at, id);
CREATE INDEX idx_bots_last_active_at ON bots (last_active_at, id);
