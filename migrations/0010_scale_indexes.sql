-- Index-bounded pages (issue 15): every bots page filtered by status or category walks an index
-- in its order, and audit pages filtered by action or actor seek to their matches.
CREATE INDEX idx_bots_status_name ON bots (status, name, id);
CREATE INDEX idx_bots_status_slug ON bots (status, slug, id);
CREATE INDEX idx_bots_status_created_at ON bots (status, created_at, id);
CREATE INDEX idx_bots_status_updated_at ON bots (status, updated_at, id);
CREATE INDEX idx_bots_status_last_active_at ON bots (status, last_active_at, id);
CREATE INDEX idx_bots_status_category ON bots (status, category, id);
CREATE INDEX idx_bots_category_name ON bots (category, name, id);
CREATE INDEX idx_bots_category_slug ON bots (category, slug, id);
CREATE INDEX idx_bots_category_created_at ON bots (category, created_at, id);
CREATE INDEX idx_bots_category_updated_at ON bots (category, updated_at, id);
CREATE INDEX idx_bots_category_last_active_at ON bots (category, last_active_at, id);
CREATE INDEX idx_bots_category_status ON bots (category, status, id);

CREATE INDEX idx_memory_audit_entries_bot_action ON memory_audit_entries (bot_id, action, created_at, id);
CREATE INDEX idx_memory_audit_entries_bot_actor ON memory_audit_entries (bot_id, actor, created_at, id);
