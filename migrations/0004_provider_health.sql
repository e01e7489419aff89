-- Provider health: one circuit breaker per LLM provider, its transitions applied by the server; opened_at is set exactly when the circuit is not closed, so an open circuit survives restarts.
CREATE TABLE provider_health (
    name TEXT PRIMARY KEY,
    priority BIGINT NOT NULL DEFAULT 0 CHECK (priority >= 0),
    circuit_state TEXT NOT NULL DEFAULT 'closed'
        CHECK (circuit_state IN ('closed', 'open', 'half_open')),
    consecutive_failures BIGINT NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    last_error TEXT,
    last_latency_ms BIGINT CHECK (last_latency_ms >= 0),
    total_calls BIGINT NOT NULL DEFAULT 0 CHECK (total_calls >= 0),
    total_failures BIGINT NOT NULL DEFAULT 0 CHECK (total_failures >= 0),
    uptime_since TEXT,
    opened_at TEXT,
    rate_limited_until TEXT,
    updated_at TEXT NOT NULL,
    CHECK ((circuit_state = 'closed') = (opened_at IS NULL))
);

CREATE INDEX idx_provider_health_priority ON provider_health (priority, name);
