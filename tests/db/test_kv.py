"""SQL details of the KV store: prefix ranges, byte order, stored JSON text, upserts keeping
created_at, batched pages, the cascade from bots, and what the query planner uses."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db import bots as db_bots
from db import kv as db_kv
from db.codec import new_id
from db.connection import Database
from db.kv import KeyRange, key_range, prefix_end
from db.migrate import migrate
from tests.conftest import FakeClock

T1 = "2026-02-12T22:04:12.123456+00:00"
T2 = "2026-02-12T22:04:13.000000+00:00"


@pytest.fixture
async def database(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'test.db'}")
    await db.connect()
    await migrate(db, clock)
    yield db
    await db.disconnect()


async def make_bot(db: Database, slug: str = "bot") -> str:
    bot_id = new_id()
    async with db.write() as conn:
        await db_bots.create_bot(
            conn,
            id=bot_id,
            slug=slug,
            name=slug,
            description="",
            status="active",
            category="assistant",
            tags=[],
            user_id=None,
            now=T1,
        )
    return bot_id


async def set_keys(db: Database, bot_id: str, keys: list[str], now: str = T1) -> None:
    async with db.write() as conn:
        await db_kv.set_entries(
            conn, bot_id=bot_id, entries=[(key, "null") for key in keys], now=now
        )


@pytest.mark.parametrize(
    ("prefix", "end"),
    [
        ("", None),
        ("a", "b"),
        ("user:", "user;"),
        ("a%", "a&"),
        ("é", "ê"),
        ("\ud7ff", "\ue000"),  # the surrogates are skipped
        ("\U0010ffff", None),
        ("\U0010ffff\U0010ffff", None),
        ("a\U0010ffff", "b"),
        ("ab\U0010ffff\U0010ffff", "ac"),
    ],
)
def test_prefix_end_is_the_least_string_above_the_prefix_range(
    prefix: str, end: str | None
) -> None:
    assert prefix_end(prefix) == end


def test_key_range_starts_past_a_cursor_only_inside_the_prefix() -> None:
    assert key_range("a") == KeyRange("a", False, "b")
    assert key_range("a", "a1") == KeyRange("a1", True, "b")
    assert key_range("b", "a1") == KeyRange("b", False, "c")
    assert key_range("", "x") == KeyRange("x", True, None)


async def test_list_keys_is_utf8_byte_order_like_python(database: Database) -> None:
    bot_id = await make_bot(database)
    keys = ["b", "B", "_", "a", "é", "\uffff", "\U0001f600", "z", "Z", "0", " ", "~", "ab"]
    await set_keys(database, bot_id, keys)
    found = await db_kv.list_keys(database.read(), bot_id=bot_id, prefix="", limit=100)
    assert found == sorted(keys)
    assert found == sorted(keys, key=lambda key: key.encode("utf-8"))


async def test_values_are_stored_as_compact_json_text(database: Database) -> None:
    bot_id = await make_bot(database)
    async with database.write() as conn:
        for key, value in (("null", "null"), ("obj", '{"a":[1,2],"b":"é"}'), ("big", "1" * 30)):
            await db_kv.set_entry(conn, bot_id=bot_id, key=key, value_json=value, now=T1)
    rows = await database.read().fetch_all(
        "SELECT key, value FROM kv_entries WHERE bot_id = :bot_id ORDER BY key",
        {"bot_id": bot_id},
    )
    assert [(row["key"], row["value"]) for row in rows] == [
        ("big", "1" * 30),
        ("null", "null"),
        ("obj", '{"a":[1,2],"b":"é"}'),
    ]
    entry = await db_kv.get_entry(database.read(), bot_id=bot_id, key="big")
    assert entry is not None
    assert entry.value_json == "1" * 30


async def test_set_entry_upsert_keeps_created_at(database: Database) -> None:
    bot_id = await make_bot(database)
    async with database.write() as conn:
        await db_kv.set_entry(conn, bot_id=bot_id, key="k", value_json="1", now=T1)
        row = await db_kv.set_entry(conn, bot_id=bot_id, key="k", value_json="2", now=T2)
    assert row == db_kv.KvEntryRow(bot_id, "k", "2", T1, T2)


async def test_set_entry_and_set_entries_for_unknown_bot_write_nothing(
    database: Database,
) -> None:
    unknown = new_id()
    async with database.write() as conn:
        assert await db_kv.set_entry(conn, bot_id=unknown, key="k", value_json="1", now=T1) is None
        assert await db_kv.set_entries(conn, bot_id=unknown, entries=[("k", "1")], now=T1) == []
    assert await database.read().fetch_val("SELECT count(*) FROM kv_entries") == 0


async def test_deleting_a_bot_cascades_to_its_entries(database: Database) -> None:
    doomed = await make_bot(database, "doomed")
    kept = await make_bot(database, "kept")
    await set_keys(database, doomed, ["a", "b"])
    await set_keys(database, kept, ["a"])
    async with database.write() as conn:
        assert await db_bots.delete_bot(conn, id=doomed)
    rows = await database.read().fetch_all("SELECT bot_id, key FROM kv_entries")
    assert [(row["bot_id"], row["key"]) for row in rows] == [(kept, "a")]


async def test_list_entry_pages_pages_each_request_on_its_own(database: Database) -> None:
    first = await make_bot(database, "first")
    second = await make_bot(database, "second")
    await set_keys(database, first, ["a1", "a2", "a3", "b1"])
    await set_keys(database, second, ["a1", "c1"])
    pages = await db_kv.list_entry_pages(
        database.read(),
        pages=[
            (first, key_range("a"), 2),
            (first, key_range("a", "a1"), 5),
            (second, key_range(""), 5),
            (first, key_range("", "b1"), 5),
            (new_id(), key_range(""), 5),
        ],
    )
    assert [[(row.bot_id, row.key) for row in page] for page in pages] == [
        [(first, "a1"), (first, "a2")],
        [(first, "a2"), (first, "a3")],
        [(second, "a1"), (second, "c1")],
        [],
        [],
    ]


async def test_count_entry_scopes_counts_each_prefix(database: Database) -> None:
    bot_id = await make_bot(database)
    await set_keys(database, bot_id, ["a", "a%", "ab", "b"])
    counts = await db_kv.count_entry_scopes(
        database.read(), scopes=[(bot_id, ""), (bot_id, "a"), (bot_id, "a%"), (new_id(), "")]
    )
    assert counts == [4, 3, 1, 0]


async def test_get_entries_returns_only_present_keys(database: Database) -> None:
    bot_id = await make_bot(database)
    await set_keys(database, bot_id, ["a", "b"])
    found = await db_kv.get_entries(
        database.read(), keys=[(bot_id, "a"), (bot_id, "missing"), (new_id(), "a")]
    )
    assert list(found) == [(bot_id, "a")]


@pytest.mark.parametrize(("strict", "bounded"), [(False, False), (True, True)])
async def test_list_entries_walks_the_primary_key(
    database: Database, strict: bool, bounded: bool
) -> None:
    plan = await database.read().fetch_all(
        "EXPLAIN QUERY PLAN " + db_kv.LIST_ENTRIES[(strict, bounded)],
        {"bot_id": "b", "lo": "a", "hi": "b", "limit": 10},
    )
    details = " ".join(row["detail"] for row in plan)
    assert "USING PRIMARY KEY" in details or "sqlite_autoindex_kv_entries_1" in details
    assert "key>" in details.replace(" ", "")
    assert "TEMP B-TREE" not in details
