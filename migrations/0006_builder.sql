-- Builder drafts (wizard autosave, upsert keeps created_at, revision counts saves) and builder memory (enum category plus a label only for custom).
CREATE TABLE builder_drafts (
    session_id TEXT NOT NULL PRIMARY KEY,
    state TEXT NOT NULL,
    schema_version BIGINT NOT NULL CHECK (schema_version >= 1),
    revision BIGINT NOT NULL CHECK (revision >= 1),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE INDEX idx_builder_drafts_updated_at ON builder_drafts (updated_at, session_id);

CREATE TABLE builder_memory_entries (
    id TEXT NOT NULL PRIMARY KEY,
    purpose_category TEXT NOT NULL CHECK (purpose_category IN (
        'simple_utility', 'complex_analyst', 'creative', 'coding', 'research',
        'customer_service', 'custom'
    )),
    custom_category TEXT,
    initial_description TEXT NOT NULL,
    chosen_tone TEXT,
    chosen_model TEXT,
    chosen_skills TEXT NOT NULL DEFAULT '[]',
    bot_slug TEXT,
    created_at TEXT NOT NULL,
    CHECK ((purpose_category = 'custom' AND custom_category IS NOT NULL)
        OR (purpose_category <> 'custom' AND custom_category IS NULL))
);

CREATE INDEX idx_builder_memory_category
    ON builder_memory_entries (purpose_category, custom_category, created_at, id);
CREATE INDEX idx_builder_memory_created_at ON builder_memory_entries (created_at, id);
