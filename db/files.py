"""The bot_files and bot_file_versions tables: the only place their records become
BotFileRow and FileVersionRow, and the rule that content goes once no version names it.

Concurrent writers (PostgreSQL) take row locks in one order, bot, then file, then content, so
they never deadlock and content never goes while a version still names it: an upload shares
its bot's lock, upserts the file row, then adds (or share-locks) its content; a delete locks the
bot (deleteBot) or the file row, then the content its versions name, and checks in SQL which of
it no other version names before the rows go.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

from db.batch import fetch_batched
from db.connection import Conn, Row, WriteConn
from db.content import ContentScope, ContentStore, StagedFile
from db.counts import FILES, VERSIONS, totals
from db.dialect import locking_variants

_FILE_COLUMNS = (
    "id, bot_id, filename, mime_type, size_bytes, version, sha256, is_indexed, created_at, "
    "updated_at"
)
_VERSION_COLUMNS = "id, file_id, version, size_bytes, sha256, created_at"

GET_FILE = f"SELECT {_FILE_COLUMNS} FROM bot_files WHERE id = :id"  # noqa: S608 (constant columns)
GET_VERSION = f"SELECT {_VERSION_COLUMNS} FROM bot_file_versions WHERE id = :id"  # noqa: S608
GET_DOWNLOAD = """
SELECT f.filename, f.mime_type, v.sha256 FROM bot_files f
JOIN bot_file_versions v ON v.file_id = f.id AND v.version = COALESCE(:version, f.version)
WHERE f.id = :file_id
"""
SAVE_FILE = f"""
INSERT INTO bot_files (id, bot_id, filename, mime_type, size_bytes, version, sha256, is_indexed,
                       created_at, updated_at)
VALUES (:id, :bot_id, :filename, :mime_type, :size_bytes, 1, :sha256, FALSE, :now, :now)
ON CONFLICT (bot_id, filename) DO UPDATE SET
    mime_type = excluded.mime_type,
    size_bytes = excluded.size_bytes,
    version = bot_files.version + 1,
    sha256 = excluded.sha256,
    is_indexed = FALSE,
    updated_at = excluded.updated_at
RETURNING {_FILE_COLUMNS}
"""  # noqa: S608 (constant columns)
INSERT_VERSION = """
INSERT INTO bot_file_versions (id, file_id, version, size_bytes, sha256, created_at)
VALUES (:id, :file_id, :version, :size_bytes, :sha256, :now)
"""
UPDATE_FILE = f"""
UPDATE bot_files SET
    mime_type = CASE WHEN :set_mime_type THEN :mime_type ELSE mime_type END,
    is_indexed = CASE WHEN :set_is_indexed THEN :is_indexed ELSE is_indexed END,
    updated_at = :now
WHERE id = :id
RETURNING {_FILE_COLUMNS}
"""  # noqa: S608 (constant columns)
LOCK_FILE = locking_variants(
    "SELECT id FROM bot_files WHERE bot_id = :bot_id AND filename = :filename"
)
DELETE_FILE = "DELETE FROM bot_files WHERE id = :id"
# The content hashes a delete's versions name (`named`) and those no version outside the delete
# names (`unnamed`): checked in SQL through the (sha256, file_id) index, so a delete of any size
# sends no list of hashes (migrations/0012_content_check.sql).
_SCOPE = {
    "file": "SELECT sha256 FROM bot_file_versions WHERE file_id = :file_id",
    "bot": """SELECT v.sha256 FROM bot_files AS f
JOIN bot_file_versions AS v ON v.file_id = f.id WHERE f.bot_id = :bot_id""",
}
_OUTSIDE = {
    "file": "o.file_id <> :file_id",
    "bot": "o.file_id NOT IN (SELECT id FROM bot_files WHERE bot_id = :bot_id)",
}
CONTENT_SCOPES = {
    kind: ContentScope(
        named=_SCOPE[kind],
        unnamed=f"""SELECT named.sha256
FROM (SELECT DISTINCT sha256 FROM ({_SCOPE[kind]}) AS s) AS named
WHERE NOT EXISTS (
    SELECT 1 FROM bot_file_versions AS o WHERE o.sha256 = named.sha256 AND {_OUTSIDE[kind]}
)""",  # noqa: S608 (constant texts)
    )
    for kind in ("file", "bot")
}


# UNION ALL terms per statement: SQLite allows 500 (SQLITE_MAX_COMPOUND_SELECT)
PAGES_PER_STATEMENT = 250
# (columns, table, parent column, order, cursor condition): filenames are unique per bot and
# versions per file, so the unique indexes (bot_id, filename) and (file_id, version) serve each
# page as one seek and a scan that stops at its limit.
_FILE_PAGE = (_FILE_COLUMNS, "bot_files", "bot_id", "filename", "filename > :after{n}")
_VERSION_PAGE = (
    _VERSION_COLUMNS,
    "bot_file_versions",
    "file_id",
    "version DESC",
    "version < :after{n}",
)


@lru_cache(maxsize=64)
def _pages_sql(page: tuple[str, str, str, str, str], after: bool, count: int) -> str:
    """A keyset page per parent in one statement: a UNION ALL of per-parent subqueries, each
    an index range scan that stops at its LIMIT (a ROW_NUMBER() window would number every
    child of every parent first)."""
    columns, table, parent, order, cursor = page
    terms = []
    for n in range(count):
        past = f"AND {cursor.format(n=n)}" if after else ""
        terms.append(f"""SELECT * FROM (
    SELECT {columns} FROM {table} WHERE {parent} = :parent{n} {past} ORDER BY {order} LIMIT :limit
) AS p{n}""")  # noqa: S608 (identifiers are constants of this module; values are binds)
    return "\nUNION ALL\n".join(terms)


@dataclass(frozen=True, slots=True)
class BotFileRow:
    id: str
    bot_id: str
    filename: str
    mime_type: str
    size_bytes: int
    version: int
    sha256: str
    is_indexed: bool
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class FileVersionRow:
    id: str
    file_id: str
    version: int
    size_bytes: int
    sha256: str
    created_at: str


@dataclass(frozen=True, slots=True)
class DownloadRow:
    filename: str
    mime_type: str
    sha256: str


def _file(row: Row) -> BotFileRow:
    return BotFileRow(
        id=row["id"],
        bot_id=row["bot_id"],
        filename=row["filename"],
        mime_type=row["mime_type"],
        size_bytes=row["size_bytes"],
        version=row["version"],
        sha256=row["sha256"],
        is_indexed=bool(row["is_indexed"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _version(row: Row) -> FileVersionRow:
    return FileVersionRow(
        id=row["id"],
        file_id=row["file_id"],
        version=row["version"],
        size_bytes=row["size_bytes"],
        sha256=row["sha256"],
        created_at=row["created_at"],
    )


async def get_file(conn: Conn, *, id: str) -> BotFileRow | None:
    row = await conn.fetch_one(GET_FILE, {"id": id})
    return None if row is None else _file(row)


async def get_version(conn: Conn, *, id: str) -> FileVersionRow | None:
    row = await conn.fetch_one(GET_VERSION, {"id": id})
    return None if row is None else _version(row)


async def get_download(conn: Conn, *, file_id: str, version: int | None) -> DownloadRow | None:
    """What a download serves: a version's content (the current one when version is None)."""
    row = await conn.fetch_one(GET_DOWNLOAD, {"file_id": file_id, "version": version})
    if row is None:
        return None
    return DownloadRow(filename=row["filename"], mime_type=row["mime_type"], sha256=row["sha256"])


async def get_files_by_name(
    conn: Conn, *, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], BotFileRow]:
    """Files by (bot_id, filename), in one statement (the DataLoader's batch)."""
    binds: dict[str, str] = {}
    terms = []
    for index, (bot_id, filename) in enumerate(keys):
        binds[f"b{index}"], binds[f"f{index}"] = bot_id, filename
        terms.append(f"(bot_id = :b{index} AND filename = :f{index})")
    rows = await conn.fetch_all(
        f"SELECT {_FILE_COLUMNS} FROM bot_files WHERE {' OR '.join(terms)}",  # noqa: S608 (binds only)
        binds,
    )
    return {(row["bot_id"], row["filename"]): _file(row) for row in rows}


async def create_version(
    conn: WriteConn,
    *,
    file_id: str,
    version_id: str,
    bot_id: str,
    filename: str,
    mime_type: str,
    content: StagedFile,
    store: ContentStore,
    now: str,
) -> BotFileRow:
    """A new file at version 1, or the next version of the file with this name (id and
    created_at kept, is_indexed reset), with its content stored; file_id is used only for a new
    file. The caller holds the bot (db.bots.lock_bot)."""
    row = await conn.fetch_one(
        SAVE_FILE,
        {
            "id": file_id,
            "bot_id": bot_id,
            "filename": filename,
            "mime_type": mime_type,
            "size_bytes": content.size_bytes,
            "sha256": content.sha256,
            "now": now,
        },
    )
    assert row is not None  # an upsert always returns its row
    saved = _file(row)
    await store.add(conn, content)
    await conn.execute(
        INSERT_VERSION,
        {
            "id": version_id,
            "file_id": saved.id,
            "version": saved.version,
            "size_bytes": content.size_bytes,
            "sha256": content.sha256,
            "now": now,
        },
    )
    return saved


async def update_file(
    conn: Conn, *, id: str, changes: dict[str, Any], now: str
) -> BotFileRow | None:
    """Set the given columns (mime_type, is_indexed); None when the file is absent."""
    params: dict[str, Any] = {"id": id, "now": now}
    for column in ("mime_type", "is_indexed"):
        params[f"set_{column}"] = column in changes
        params[column] = changes.get(column)
    row = await conn.fetch_one(UPDATE_FILE, params)
    return None if row is None else _file(row)


async def delete_file(
    conn: WriteConn, *, bot_id: str, filename: str, store: ContentStore
) -> str | None:
    """Delete a file with its versions and the content no other version names. Returns the
    deleted file's id (deleteFile returns it), None when there was no such file. The file row
    is locked first (PostgreSQL), then its content; the cascade runs off the event loop."""
    row = await conn.fetch_one(LOCK_FILE[conn.dialect], {"bot_id": bot_id, "filename": filename})
    if row is None:
        return None
    file_id: str = row["id"]
    await store.release(conn, CONTENT_SCOPES["file"], {"file_id": file_id})
    await conn.execute(DELETE_FILE, {"id": file_id}, slow=True)
    return file_id


async def release_bot_content(conn: WriteConn, *, bot_id: str, store: ContentStore) -> None:
    """Before deleting a bot (held by db.bots.lock_bot): the content only its files' versions
    name goes with it."""
    await store.release(conn, CONTENT_SCOPES["bot"], {"bot_id": bot_id})


async def _pages(
    conn: Conn,
    page: tuple[str, str, str, str, str],
    parent_ids: Sequence[str],
    after: Any,
    limit: int,
) -> list[Row]:
    items = [{"parent": parent_id, "after": after} for parent_id in parent_ids]
    rows = await fetch_batched(
        conn,
        partial(_pages_sql, page, after is not None),
        items,
        {"limit": limit},
        rows=PAGES_PER_STATEMENT,
    )
    return [row for _, row in rows]


async def list_files(
    conn: Conn, *, bot_ids: Sequence[str], after: tuple[str, str] | None, limit: int
) -> dict[str, list[BotFileRow]]:
    """Per bot, up to limit files after the (filename, id) cursor in filename (byte) order."""
    pages: dict[str, list[BotFileRow]] = {bot_id: [] for bot_id in bot_ids}
    for row in await _pages(conn, _FILE_PAGE, bot_ids, None if after is None else after[0], limit):
        pages[row["bot_id"]].append(_file(row))
    for files in pages.values():  # UNION ALL promises no order; str order is UTF-8 byte order
        files.sort(key=_by_filename)
    return pages


def _by_filename(file: BotFileRow) -> str:
    return file.filename


def _newest_version(version: FileVersionRow) -> int:
    return -version.version


async def list_versions(
    conn: Conn, *, file_ids: Sequence[str], after: tuple[int, str] | None, limit: int
) -> dict[str, list[FileVersionRow]]:
    """Per file, up to limit versions after the (version, id) cursor, newest first."""
    pages: dict[str, list[FileVersionRow]] = {file_id: [] for file_id in file_ids}
    cursor = None if after is None else after[0]
    for row in await _pages(conn, _VERSION_PAGE, file_ids, cursor, limit):
        pages[row["file_id"]].append(_version(row))
    for versions in pages.values():
        versions.sort(key=_newest_version)
    return pages


async def count_files(conn: Conn, *, bot_ids: Sequence[str]) -> dict[str, int]:
    return await totals(conn, kind=FILES, parent_ids=bot_ids)


async def count_versions(conn: Conn, *, file_ids: Sequence[str]) -> dict[str, int]:
    return await totals(conn, kind=VERSIONS, parent_ids=file_ids)
