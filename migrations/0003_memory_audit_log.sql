-- Memory audit log: append-only; entries outlive their bot and memory (neither is a foreign key).
CREATE TABLE memory_audit_entries (
    id TEXT PRIMARY KEY,
    bot_id TEXT NOT NULL,
    memory_id TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('add', 'delete', 'share', 'revoke', 'merge')),
    actor TEXT NOT NULL,
    details TEXT,
    created_at TEXT NOT NULL
);

CREATE INDEX idx_memory_audit_entries_bot ON memory_audit_entries (bot_id, created_at, id);
CREATE INDEX idx_memory_audit_entries_memory ON memory_audit_entries (memory_id, created_at, id);
