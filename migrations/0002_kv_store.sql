-- KV store: a JSON value per (bot, key); JSON null is a value ('null'); upserts keep created_at.
CREATE TABLE kv_entries (
    bot_id TEXT NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (bot_id, key)
);
