"""Copy a SQLite deployment into an empty PostgreSQL database (`boternity-graphql copy-data`).

Both databases are at this version's schema (the source fully migrated, the target migrated
here). Every table is copied in foreign-key order, in batches, and the file content named by any
version is read from the source's content store (its sha256 checked) into the target's
file_contents, all in one target transaction: a copy that fails leaves the target empty. At the
end each table's rows, and the content (count and bytes), are counted on both sides.
"""

import asyncio
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from db.connection import Conn, Database, WriteConn
from db.content import ContentStore, StagedFile
from db.errors import MigrationError
from db.file_contents import DatabaseContentStore
from db.migrate import pending

# every table, parents before children (tests/db/test_copy_data.py keeps the list complete)
TABLES = (
    "bots",
    "kv_entries",
    "memory_audit_entries",
    "provider_health",
    "bot_files",
    "bot_file_versions",
    "builder_drafts",
    "builder_memory_entries",
    "api_keys",
)
# tables the target's triggers fill while the others are copied (migrations/0011_row_counts.*)
DERIVED = ("row_counts",)
CONTENT = "file content"
BATCH_ROWS = 500
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
SOURCE_CONTENT = """
SELECT sha256, max(size_bytes) AS size_bytes FROM bot_file_versions GROUP BY sha256 ORDER BY sha256
"""
TARGET_CONTENTS = "SELECT count(*) FROM file_contents"
TARGET_CONTENT_BYTES = "SELECT coalesce(sum(length(data)), 0) FROM file_content_chunks"
COLUMNS = """
SELECT column_name, data_type FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = :table ORDER BY ordinal_position
"""

Progress = Callable[[str, int, int], None]


class CopyError(Exception):
    """The copy cannot go on; nothing was written to the target."""


@dataclass(frozen=True, slots=True)
class Tally:
    """One table (or the content: rows are contents, plus bytes) counted on both sides."""

    what: str
    source: int
    target: int
    source_bytes: int | None = None
    target_bytes: int | None = None

    @property
    def matches(self) -> bool:
        return self.source == self.target and self.source_bytes == self.target_bytes


async def _count(conn: Conn, table: str) -> int:
    count: int = await conn.fetch_val(f"SELECT count(*) FROM {table}")  # noqa: S608 (TABLES)
    return count


async def check_ready(source: Database, target: Database) -> None:
    """The source fully migrated and the target (migrated) empty, or CopyError."""
    try:
        waiting = await pending(source.read())
    except MigrationError as error:
        raise CopyError(f"the source database cannot be copied: {error}") from None
    if waiting:
        raise CopyError(f"migrate the source first (pending: {', '.join(waiting)})")
    for table in TABLES:
        if rows := await _count(target.read(), table):
            raise CopyError(
                f"the target database is not empty ({table} has {rows} rows); "
                "copy-data fills an empty database"
            )


async def _copy_table(source: Conn, target: WriteConn, table: str, progress: Progress) -> None:
    """The table's rows in rowid order (the source is SQLite), a batch per statement."""
    described = await target.fetch_all(COLUMNS, {"table": table})
    columns = [row["column_name"] for row in described]
    flags = {row["column_name"] for row in described if row["data_type"] == "boolean"}
    if not all(_IDENTIFIER.match(column) for column in columns):
        raise CopyError(f"unexpected column names in {table}: {', '.join(columns)}")
    listed = ", ".join(columns)
    select = (
        f"SELECT rowid AS rowid_, {listed} FROM {table} "  # noqa: S608 (checked identifiers)
        "WHERE rowid > :after ORDER BY rowid LIMIT :limit"
    )
    binds = ", ".join(f":{column}" for column in columns)
    insert = f"INSERT INTO {table} ({listed}) VALUES ({binds})"  # noqa: S608 (checked identifiers)
    total, copied, after = await _count(source, table), 0, 0
    progress(table, 0, total)
    while rows := await source.fetch_all(select, {"after": after, "limit": BATCH_ROWS}):
        await target.execute_many(insert, [_values(row, columns, flags) for row in rows])
        after = rows[-1]["rowid_"]
        copied += len(rows)
        progress(table, copied, total)


def _values(row: Any, columns: Sequence[str], flags: set[str]) -> dict[str, Any]:
    """A source row for the target: SQLite's 0/1 become booleans where the target has them."""
    return {
        column: bool(row[column]) if column in flags and row[column] is not None else row[column]
        for column in columns
    }


async def _copy_content(
    source: Conn, target: WriteConn, files: ContentStore, progress: Progress
) -> None:
    wanted = [(row["sha256"], row["size_bytes"]) for row in await source.fetch_all(SOURCE_CONTENT)]
    total = sum(size for _, size in wanted)
    store = DatabaseContentStore(files.root.parent)
    done = 0
    progress(CONTENT, 0, total)
    for sha256, size in wanted:
        path = files.path(sha256)
        if not path.is_file():
            raise CopyError(f"the content {sha256} is missing from {files.root}")
        if await asyncio.to_thread(_digest, path) != sha256:
            raise CopyError(f"the content file {path} does not match its sha256")
        await store.add(target, StagedFile(path, size, sha256))
        done += size
        progress(CONTENT, done, total)


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


async def copy_data(
    source: Database, target: Database, files: ContentStore, progress: Progress
) -> list[Tally]:
    """Copy every row and the content the versions name; the tallies of both sides."""
    await check_ready(source, target)
    async with target.write() as conn:
        for table in TABLES:
            await _copy_table(source.read(), conn, table, progress)
        await _copy_content(source.read(), conn, files, progress)
    await target.read().execute("ANALYZE")
    return await tally(source, target)


async def tally(source: Database, target: Database) -> list[Tally]:
    tallies = [
        Tally(table, await _count(source.read(), table), await _count(target.read(), table))
        for table in TABLES
    ]
    wanted = await source.read().fetch_all(SOURCE_CONTENT)
    tallies.append(
        Tally(
            CONTENT,
            len(wanted),
            await target.read().fetch_val(TARGET_CONTENTS),
            sum(row["size_bytes"] for row in wanted),
            int(await target.read().fetch_val(TARGET_CONTENT_BYTES)),
        )
    )
    return tallies
