"""SQL details of the builder tables: the category/label CHECK, and list orders served by their
indexes (no sort step)."""

import re
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db import builder as db_builder
from db.connection import Database
from db.migrate import migrate
from tests.conftest import FakeClock

NOW = "2026-02-12T22:04:12.123456+00:00"


@pytest.fixture
async def database(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'test.db'}")
    await db.connect()
    await migrate(db, clock)
    yield db
    await db.disconnect()


async def _insert(db: Database, category: str, custom: str | None) -> None:
    async with db.write() as conn:
        await db_builder.create_memory_entry(
            conn,
            id="01a20321-1ea8-77b0-98e8-acd5d6e5e1a1",
            purpose_category=category,
            custom_category=custom,
            initial_description="x",
            chosen_tone=None,
            chosen_model=None,
            chosen_skills=[],
            bot_slug=None,
            now=NOW,
        )


@pytest.mark.parametrize(
    ("category", "custom"),
    [("custom", None), ("coding", "label"), ("Coding", None), ('"coding"', None), ("", None)],
)
async def test_memory_category_check_refuses_off_rows(
    database: Database, category: str, custom: str | None
) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        await _insert(database, category, custom)
    assert await database.read().fetch_val("SELECT count(*) FROM builder_memory_entries") == 0


@pytest.mark.parametrize(
    ("sql", "index"),
    [
        (db_builder.LIST_DRAFTS, "idx_builder_drafts_updated_at"),
        (db_builder.LIST_DRAFTS_AFTER, "SEARCH builder_drafts USING INDEX idx_builder_drafts"),
        (db_builder.RECALL_MEMORY, "idx_builder_memory_category"),
        (db_builder.RECALL_CUSTOM_MEMORY, "idx_builder_memory_category"),
        (db_builder.RECENT_MEMORY, "idx_builder_memory_created_at"),
    ],
)
async def test_builder_list_orders_use_their_index_without_sorting(
    database: Database, sql: str, index: str
) -> None:
    params = {
        "after_updated_at": NOW,
        "after_session_id": "x",
        "purpose_category": "coding",
        "custom_category": "x",
        "limit": 10,
    }
    used = set(re.findall(r":(\w+)", sql))
    rows = await database.read().fetch_all(
        f"EXPLAIN QUERY PLAN {sql}", {name: params[name] for name in used}
    )
    plan = " | ".join(row["detail"] for row in rows)
    assert index in plan
    assert "TEMP B-TREE" not in plan
