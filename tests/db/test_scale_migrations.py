"""Migrations 0011 and 0013 on a database with data (issue 15): the kept counts start exact and
the drafts saved before 0013 get their summaries from their states."""

import shutil
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path

import pytest

from db import builder as db_builder
from db import counts as db_counts
from db.connection import Database
from db.migrate import migrate
from tests.conftest import FakeClock

T = {"t": "2026-02-12T22:04:12.123456+00:00"}
SEED = [
    "INSERT INTO bots (id, slug, name, status, category, created_at, updated_at) VALUES "
    "('b1', 'one', 'One', 'active', 'creative', :t, :t), "
    "('b2', 'two', 'Two', 'archived', 'creative', :t, :t)",
    "INSERT INTO kv_entries VALUES ('b1', 'a', '1', :t, :t), ('b1', 'b', '1', :t, :t)",
    "INSERT INTO memory_audit_entries (id, bot_id, memory_id, action, actor, created_at) VALUES "
    "('e1', 'b2', 'm1', 'add', 'user', :t), ('e2', 'b2', 'm1', 'merge', 'user', :t)",
    "INSERT INTO bot_files VALUES ('f1', 'b1', 'x.txt', 'text/plain', 1, 2, 'h2', FALSE, :t, :t)",
    "INSERT INTO bot_file_versions VALUES "
    "('v1', 'f1', 1, 1, 'h1', :t), ('v2', 'f1', 2, 1, 'h2', :t)",
    "INSERT INTO builder_drafts (session_id, state, schema_version, revision, created_at, "
    """updated_at) VALUES ('s1', '{"initial_description":"hi","phase":"model"}', 1, 1, :t, :t), """
    "('s2', '{not json', 1, 1, :t, :t), "
    """('s3', '{"initial_description":3,"phase":"basics"}', 1, 1, :t, :t)""",
]


@pytest.fixture
def earlier(tmp_path: Path) -> Path:
    """The packaged migrations before 0010."""
    folder = tmp_path / "earlier"
    folder.mkdir()
    for path in Path(str(resources.files("migrations"))).glob("*.sql"):
        if int(path.name[:4]) < 10:
            shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture
async def seeded(tmp_path: Path, earlier: Path, clock: FakeClock) -> AsyncIterator[Database]:
    """A database at the migrations before 0010, with rows of every kind."""
    db = Database(f"sqlite:///{tmp_path / 'test.db'}")
    await db.connect()
    await migrate(db, clock, earlier)
    async with db.write() as conn:
        for statement in SEED:
            await conn.execute(statement, T)
    await migrate(db, clock)
    yield db
    await db.disconnect()


async def test_kept_counts_start_exact(seeded: Database) -> None:
    conn = seeded.read()
    assert await db_counts.totals(conn, kind="kv", parent_ids=["b1", "b2"]) == {"b1": 2, "b2": 0}
    assert await db_counts.total(conn, kind="files", parent_id="b1") == 1
    assert await db_counts.total(conn, kind="versions", parent_id="f1") == 2
    assert await db_counts.total(conn, kind="audit", parent_id="b2") == 2
    assert await db_counts.total(conn, kind="memory_audit", parent_id="m1") == 2
    assert await db_counts.total(conn, kind="drafts", parent_id="") == 3
    assert await db_counts.bot_total(conn, status=None, category="creative") == 2
    assert await db_counts.bot_total(conn, status="archived", category=None) == 1


async def test_drafts_saved_before_get_their_summaries(seeded: Database) -> None:
    rows = await seeded.read().fetch_all(
        "SELECT session_id, initial_description, phase FROM builder_drafts ORDER BY session_id"
    )
    assert [tuple(row) for row in rows] == [
        ("s1", "hi", "model"),
        ("s2", "", None),
        ("s3", "", "basics"),
    ]
    drafts = await db_builder.list_drafts(seeded.read(), after=None, limit=10)
    assert {(d.session_id, d.initial_description, d.phase) for d in drafts} == {
        ("s1", "hi", "model"),
        ("s2", "", None),
        ("s3", "", "basics"),
    }
