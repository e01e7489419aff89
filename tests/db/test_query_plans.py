"""Every page and count reads through an index (issue 15): SQLite's plan for each statement the
list and count functions send, with each filter and cursor, seeks its rows (SEARCH), never scans
a table or sorts more than a page. Plans come from the heuristics without statistics, which
stay the same at any size."""

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from db import audit_log as db_audit
from db import bots as db_bots
from db import files as db_files
from db import kv as db_kv
from db.audit_log import AuditFilter
from db.connection import Database, Row
from db.kv import key_range
from db.migrate import migrate
from tests.conftest import FakeClock

TABLES = ("bots", "kv_entries", "memory_audit_entries", "bot_files", "bot_file_versions")


class Recorder:
    """A Conn that keeps each statement it runs."""

    dialect = "sqlite"

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw
        self.seen: list[tuple[str, dict[str, Any]]] = []

    async def fetch_all(
        self, sql: str, params: Mapping[str, Any] | None = None, *, slow: bool = False
    ) -> list[Row]:
        self.seen.append((sql, dict(params or {})))
        rows: list[Row] = self.raw.execute(sql, params or {}).fetchall()
        return rows

    async def fetch_one(
        self, sql: str, params: Mapping[str, Any] | None = None, *, slow: bool = False
    ) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_val(
        self, sql: str, params: Mapping[str, Any] | None = None, *, slow: bool = False
    ) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated database for every case of the module (plans read only the schema)."""
    path = tmp_path_factory.mktemp("plans") / "test.db"

    async def migrated() -> None:
        db = Database(f"sqlite:///{path}")
        await db.connect()
        await migrate(db, FakeClock())
        await db.disconnect()

    asyncio.run(migrated())
    return path


@pytest.fixture
def recorder(schema: Path) -> Iterator[Recorder]:
    raw = sqlite3.connect(schema)
    raw.row_factory = sqlite3.Row
    yield Recorder(raw)
    raw.close()


def problems(
    raw: sqlite3.Connection, sql: str, params: dict[str, Any], walk: bool = False
) -> list[str]:
    """Plan lines that read a table without an index bound, or sort a table's rows. With
    `walk` (an unfiltered first page), walking an index in the page's order is fine: it stops
    at the LIMIT."""
    plan = [row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + sql, params)]
    found = []
    for number, line in enumerate(plan):
        words = line.split()
        if words[:1] == ["SCAN"] and words[1] in TABLES and not (walk and "INDEX" in words):
            found.append(line)
        # a sort right after a table access sorts every row it matched (after a LIMIT
        # subquery, "SCAN t", it sorts at most a page)
        if "TEMP B-TREE" in line and number and plan[number - 1].startswith("SEARCH"):
            found.append(f"{plan[number - 1]} | {line}")
    return found


Call = Callable[[Recorder], Awaitable[object]]
FILTERS = (
    AuditFilter(),
    AuditFilter(actions=("merge",)),
    AuditFilter(actions=("merge", "add", "share")),
    AuditFilter(actor="rare"),
    AuditFilter(actor="rare", actions=("merge", "add")),
    AuditFilter(since="2026-01-01", until="2026-02-01"),
)
CURSORS = (None, ("2026-01-05T00:00:00.000000+00:00", "0190f2f4-0000-7000-8000-000000000000"))
CALLS: list[tuple[str, Call]] = [
    *[
        (
            f"bots {column} desc={descending} status={status} category={category} after={after}",
            partial(
                db_bots.list_bots,
                status=status,
                category=category,
                column=column,
                descending=descending,
                after=after,
                limit=51,
            ),
        )
        for column in db_bots.ORDER_COLUMNS
        for descending in (False, True)
        for status in (None, "archived")
        for category in (None, "creative")
        for after in (None, ("m", "id"), (None, "id"))
        if after is None or after[0] is not None or column == db_bots.NULLABLE_ORDER
    ],
    *[
        (
            f"kv pages prefix={prefix!r} after={after}",
            lambda c, prefix=prefix, after=after: db_kv.list_entry_pages(
                c,  # type: ignore[arg-type]
                pages=[("b1", key_range(prefix, after), 51), ("b2", key_range(prefix, after), 51)],
            ),
        )
        for prefix in ("", "a:", "\U0010ffff")
        for after in (None, "a:m")
    ],
    *[
        (
            f"kv counts prefix={prefix!r}",
            lambda c, prefix=prefix: db_kv.count_entry_scopes(
                c,  # type: ignore[arg-type]
                scopes=[("b1", prefix), ("b2", prefix)],
            ),
        )
        for prefix in ("", "a:", "\U0010ffff")
    ],
    *[
        (
            f"audit list {audit_filter} after={after}",
            lambda c, audit_filter=audit_filter, after=after: db_audit.list_entries(
                c,  # type: ignore[arg-type]
                bot_id="b1",
                filter=audit_filter,
                after=after,
                limit=51,
            ),
        )
        for audit_filter in FILTERS
        for after in CURSORS
    ],
    *[
        (
            f"audit pages {audit_filter}",
            lambda c, audit_filter=audit_filter: db_audit.list_bot_pages(
                c,  # type: ignore[arg-type]
                filter=audit_filter,
                pages=[("b1", None, 11), ("b2", CURSORS[1], 11)],
            ),
        )
        for audit_filter in FILTERS
    ],
    *[
        (
            f"audit counts {audit_filter}",
            lambda c, audit_filter=audit_filter: db_audit.count_bot_entries(
                c,  # type: ignore[arg-type]
                filter=audit_filter,
                bot_ids=["b1", "b2"],
            ),
        )
        for audit_filter in FILTERS
    ],
    *[
        (
            f"files after={after}",
            lambda c, after=after: db_files.list_files(
                c,  # type: ignore[arg-type]
                bot_ids=["b1", "b2"],
                after=after,
                limit=11,
            ),
        )
        for after in (None, ("notes.txt", "id"))
    ],
    *[
        (
            f"versions after={after}",
            lambda c, after=after: db_files.list_versions(
                c,  # type: ignore[arg-type]
                file_ids=["f1", "f2"],
                after=after,
                limit=6,
            ),
        )
        for after in (None, (7, "id"))
    ],
    ("file counts", lambda c: db_files.count_files(c, bot_ids=["b1", "b2"])),  # type: ignore[arg-type]
    ("version counts", lambda c: db_files.count_versions(c, file_ids=["f1"])),  # type: ignore[arg-type]
    (
        "bot counts",
        lambda c: db_bots.count_bots(c, status="archived", category=None),  # type: ignore[arg-type]
    ),
]


@pytest.mark.parametrize(("name", "call"), CALLS, ids=[name for name, _ in CALLS])
async def test_every_statement_seeks_through_an_index(
    recorder: Recorder, name: str, call: Call
) -> None:
    await call(recorder)
    assert recorder.seen
    for sql, params in recorder.seen:
        walk = name.startswith("bots") and "status=None category=None after=None" in name
        assert problems(recorder.raw, sql, params, walk) == [], sql
