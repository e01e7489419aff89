"""The provider_health table: the only place a provider_health record becomes a
ProviderHealthRow."""

from dataclasses import dataclass

from db.connection import Conn, Row
from db.counts import PROVIDERS, total
from db.dialect import SQLITE, locking_variants

_COLUMNS = (
    "name, priority, circuit_state, consecutive_failures, last_error, last_latency_ms, "
    "total_calls, total_failures, uptime_since, opened_at, rate_limited_until, updated_at"
)

GET_PROVIDER_HEALTH = f"SELECT {_COLUMNS} FROM provider_health WHERE name = :name"  # noqa: S608 (constant columns)
LIST_PROVIDER_HEALTH = f"SELECT {_COLUMNS} FROM provider_health ORDER BY priority, name"  # noqa: S608 (constant columns)
SET_PROVIDER_HEALTH = f"""
INSERT INTO provider_health (name, priority, circuit_state, consecutive_failures, last_error,
                             last_latency_ms, total_calls, total_failures, uptime_since,
                             opened_at, rate_limited_until, updated_at)
VALUES (:name, :priority, :circuit_state, :consecutive_failures, :last_error, :last_latency_ms,
        :total_calls, :total_failures, :uptime_since, :opened_at, :rate_limited_until, :now)
ON CONFLICT (name) DO UPDATE SET
    priority = excluded.priority,
    circuit_state = excluded.circuit_state,
    consecutive_failures = excluded.consecutive_failures,
    last_error = excluded.last_error,
    last_latency_ms = excluded.last_latency_ms,
    total_calls = excluded.total_calls,
    total_failures = excluded.total_failures,
    uptime_since = excluded.uptime_since,
    opened_at = excluded.opened_at,
    rate_limited_until = excluded.rate_limited_until,
    updated_at = excluded.updated_at
RETURNING {_COLUMNS}
"""  # noqa: S608 (constant columns)
DELETE_PROVIDER_HEALTH = "DELETE FROM provider_health WHERE name = :name RETURNING name"
LOCK_PROVIDER_HEALTH = locking_variants(GET_PROVIDER_HEALTH)
# A placeholder row that only its own transaction sees: concurrent first calls for a new name
# queue on its lock instead of both inserting (the caller's upsert replaces every column).
CLAIM_PROVIDER_HEALTH = """
INSERT INTO provider_health (name, updated_at) VALUES (:name, '')
ON CONFLICT (name) DO NOTHING
RETURNING name
"""


@dataclass(frozen=True, slots=True)
class ProviderHealthRow:
    name: str
    priority: int
    circuit_state: str
    consecutive_failures: int
    last_error: str | None
    last_latency_ms: int | None
    total_calls: int
    total_failures: int
    uptime_since: str | None
    opened_at: str | None
    rate_limited_until: str | None
    updated_at: str


def _provider_health(row: Row) -> ProviderHealthRow:
    return ProviderHealthRow(
        name=row["name"],
        priority=row["priority"],
        circuit_state=row["circuit_state"],
        consecutive_failures=row["consecutive_failures"],
        last_error=row["last_error"],
        last_latency_ms=row["last_latency_ms"],
        total_calls=row["total_calls"],
        total_failures=row["total_failures"],
        uptime_since=row["uptime_since"],
        opened_at=row["opened_at"],
        rate_limited_until=row["rate_limited_until"],
        updated_at=row["updated_at"],
    )


async def get_provider_health(conn: Conn, *, name: str) -> ProviderHealthRow | None:
    row = await conn.fetch_one(GET_PROVIDER_HEALTH, {"name": name})
    return None if row is None else _provider_health(row)


async def lock_provider_health(conn: Conn, *, name: str) -> ProviderHealthRow | None:
    """The row a read-modify-write inside a write transaction starts from (None: no such
    provider yet), locked until the transaction ends. SQLite's single writer (BEGIN IMMEDIATE)
    already serialises it. On PostgreSQL a new name is claimed with a placeholder row the
    caller's write replaces, and an existing row is read FOR UPDATE, so concurrent calls from
    every process apply one after another."""
    if conn.dialect != SQLITE and await conn.fetch_one(CLAIM_PROVIDER_HEALTH, {"name": name}):
        return None
    row = await conn.fetch_one(LOCK_PROVIDER_HEALTH[conn.dialect], {"name": name})
    return None if row is None else _provider_health(row)


async def list_provider_health(conn: Conn) -> list[ProviderHealthRow]:
    """Every provider, by priority then name (byte order)."""
    return [_provider_health(row) for row in await conn.fetch_all(LIST_PROVIDER_HEALTH)]


async def set_provider_health(
    conn: Conn,
    *,
    name: str,
    priority: int,
    circuit_state: str,
    consecutive_failures: int,
    last_error: str | None,
    last_latency_ms: int | None,
    total_calls: int,
    total_failures: int,
    uptime_since: str | None,
    opened_at: str | None,
    rate_limited_until: str | None,
    now: str,
) -> ProviderHealthRow:
    """Upsert by name, replacing every column; updated_at = now."""
    row = await conn.fetch_one(
        SET_PROVIDER_HEALTH,
        {
            "name": name,
            "priority": priority,
            "circuit_state": circuit_state,
            "consecutive_failures": consecutive_failures,
            "last_error": last_error,
            "last_latency_ms": last_latency_ms,
            "total_calls": total_calls,
            "total_failures": total_failures,
            "uptime_since": uptime_since,
            "opened_at": opened_at,
            "rate_limited_until": rate_limited_until,
            "now": now,
        },
    )
    assert row is not None  # an upsert with RETURNING always returns its row
    return _provider_health(row)


async def count_providers(conn: Conn) -> int:
    """How many providers exist (kept in row_counts; exact within this transaction)."""
    return await total(conn, kind=PROVIDERS, parent_id="")


async def delete_provider_health(conn: Conn, *, name: str) -> bool:
    return await conn.fetch_one(DELETE_PROVIDER_HEALTH, {"name": name}) is not None
