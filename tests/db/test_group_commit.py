"""Group commit (db/connection.py): mutations that queue while one COMMIT runs share the next;
each still commits whole or not at all, and none is acknowledged before its COMMIT."""

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db.connection import Database
from db.content import ContentStore

CREATE = "CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT NOT NULL)"
INSERT = "INSERT INTO t (k, v) VALUES (:k, :v)"


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'group.db'}")
    await db.connect()
    async with db.write() as conn:
        await conn.execute(CREATE)
    yield db
    await db.disconnect()


def committed(db: Database) -> dict[str, str]:
    with sqlite3.connect(db.path) as raw:
        return dict(raw.execute("SELECT k, v FROM t ORDER BY k").fetchall())


async def test_concurrent_writes_share_commits_and_all_land(database: Database) -> None:
    async def put(key: str) -> None:
        async with database.write() as conn:
            await conn.execute(INSERT, {"k": key, "v": "x"})
        assert key in committed(database)  # durable once acknowledged

    before = database.counter.count
    await asyncio.gather(*(put(f"k{n:02d}") for n in range(20)))
    assert committed(database) == {f"k{n:02d}": "x" for n in range(20)}
    statements = database.counter.count - before
    # per write: SAVEPOINT, INSERT, RELEASE; per batch: BEGIN IMMEDIATE and COMMIT
    batches = (statements - 3 * 20) // 2
    assert 1 <= batches < 20


async def test_failed_write_in_a_batch_leaves_the_others(database: Database) -> None:
    async def put(key: str, fail: bool) -> None:
        async with database.write() as conn:
            await conn.execute(INSERT, {"k": key, "v": "x"})
            if fail:
                await conn.execute(INSERT, {"k": key, "v": "duplicate"})

    results = await asyncio.gather(
        put("a", False), put("b", True), put("c", False), return_exceptions=True
    )
    assert [type(result).__name__ for result in results] == [
        "NoneType",
        "IntegrityError",
        "NoneType",
    ]
    assert committed(database) == {"a": "x", "c": "x"}


async def test_callbacks_run_once_per_outcome(database: Database) -> None:
    events: list[str] = []

    async def put(key: str, fail: bool) -> None:
        async with database.write() as conn:
            conn.after_commit(lambda: events.append(f"committed {key}"))
            conn.on_rollback(lambda: events.append(f"rolled back {key}"))
            await conn.execute(INSERT, {"k": key, "v": "x"})
            if fail:
                raise RuntimeError("refused")

    await asyncio.gather(put("a", False), put("b", True), put("c", False), return_exceptions=True)
    assert events == ["rolled back b", "committed a", "committed c"]


async def test_content_dropped_then_named_again_in_one_batch_stays(
    database: Database, tmp_path: Path
) -> None:
    store = ContentStore(tmp_path / "data")
    store.prepare()
    writer = store.new_writer()
    writer.write(b"same bytes")
    staged = writer.finish()
    async with database.write() as conn:
        await store.add(conn, staged)
    target = store.path(staged.sha256)

    async def drop() -> None:
        async with database.write() as conn:
            await store.drop(conn, [staged.sha256])

    async def add_again() -> None:
        async with database.write() as conn:
            await store.add(conn, staged)

    await asyncio.gather(drop(), add_again())
    assert target.read_bytes() == b"same bytes"
