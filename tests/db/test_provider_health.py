"""SQL details of provider_health: the CHECKs that keep a row consistent, the full-replace
upsert, and the list order served by its index (no sort step)."""

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from db import provider_health as db_provider_health
from db.connection import Database
from db.migrate import migrate
from db.provider_health import ProviderHealthRow
from tests.conftest import FakeClock

NOW = "2026-02-12T22:04:12.123456+00:00"
ROW = {
    "name": "anthropic",
    "priority": 0,
    "circuit_state": "closed",
    "consecutive_failures": 0,
    "last_error": None,
    "last_latency_ms": None,
    "total_calls": 0,
    "total_failures": 0,
    "uptime_since": None,
    "opened_at": None,
    "rate_limited_until": None,
}


@pytest.fixture
async def database(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'test.db'}")
    await db.connect()
    await migrate(db, clock)
    yield db
    await db.disconnect()


async def _set(db: Database, **changes: Any) -> ProviderHealthRow:
    async with db.write() as conn:
        return await db_provider_health.set_provider_health(conn, **{**ROW, **changes}, now=NOW)


@pytest.mark.parametrize(
    "changes",
    [
        {"circuit_state": "broken"},
        {"circuit_state": "OPEN", "opened_at": NOW},
        {"circuit_state": "open"},
        {"circuit_state": "half_open"},
        {"opened_at": NOW},
        {"priority": -1},
        {"consecutive_failures": -1},
        {"total_calls": -1},
        {"total_failures": -1},
        {"last_latency_ms": -1},
    ],
)
async def test_provider_health_check_refuses_inconsistent_rows(
    database: Database, changes: dict[str, Any]
) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        await _set(database, **changes)
    assert await database.read().fetch_val("SELECT count(*) FROM provider_health") == 0


async def test_set_provider_health_replaces_every_column(database: Database) -> None:
    await _set(
        database,
        priority=3,
        circuit_state="open",
        consecutive_failures=3,
        last_error="timeout",
        last_latency_ms=2**40,
        total_calls=2**40,
        total_failures=5,
        opened_at=NOW,
        rate_limited_until=NOW,
    )
    later = "2026-02-12T22:05:00.000000+00:00"
    async with database.write() as conn:
        row = await db_provider_health.set_provider_health(conn, **ROW, now=later)
    assert row == ProviderHealthRow(**ROW, updated_at=later)
    assert await db_provider_health.list_provider_health(database.read()) == [row]


async def test_provider_list_order_uses_its_index_without_sorting(database: Database) -> None:
    rows = await database.read().fetch_all(
        f"EXPLAIN QUERY PLAN {db_provider_health.LIST_PROVIDER_HEALTH}"
    )
    plan = " | ".join(row["detail"] for row in rows)
    assert "idx_provider_health_priority" in plan
    assert "TEMP B-TREE" not in plan
