"""The KV store: the only place a kv_entries record becomes a KvEntryRow.

Keys compare in byte order (SQLite BINARY; UTF-8 byte order is code point order, as in Python).
A prefix is the key range [prefix, prefix_end(prefix)), never LIKE: '%' and '_' stay literal and
the primary key (bot_id, key) serves every list. Values are compact JSON text ('null' is a value).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from db.batch import fetch_batched, values_rows
from db.connection import Conn, Row
from db.counts import KV, totals

_COLUMNS = "bot_id, key, value, created_at, updated_at"
_MAX_CODE_POINT = 0x10FFFF
_SURROGATES = (0xD800, 0xE000)  # never in a key (not encodable as UTF-8): skipped

GET_ENTRY = f"""
SELECT {_COLUMNS} FROM kv_entries WHERE bot_id = :bot_id AND key = :key
"""  # noqa: S608 (constant columns)
SET_ENTRY = f"""
INSERT INTO kv_entries (bot_id, key, value, created_at, updated_at)
SELECT id, :key, :value, :now, :now FROM bots WHERE id = :bot_id
ON CONFLICT (bot_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
RETURNING {_COLUMNS}
"""  # noqa: S608 (constant columns)
DELETE_ENTRY = "DELETE FROM kv_entries WHERE bot_id = :bot_id AND key = :key RETURNING key"


def _range_sql(select: str, strict: bool, bounded: bool, tail: str) -> str:
    """`select` over one bot's keys from :lo (exclusive when strict) below :hi (when bounded);
    separate texts so the primary key serves both bounds."""
    lower = ">" if strict else ">="
    upper = "AND key < :hi" if bounded else ""
    return f"""
SELECT {select} FROM kv_entries WHERE bot_id = :bot_id AND key {lower} :lo {upper} {tail}
"""  # noqa: S608 (constant columns and operators)


LIST_ENTRIES = {
    (strict, bounded): _range_sql(_COLUMNS, strict, bounded, "ORDER BY key LIMIT :limit")
    for strict in (False, True)
    for bounded in (False, True)
}
LIST_KEYS = {
    bounded: _range_sql("key", False, bounded, "ORDER BY key LIMIT :limit")
    for bounded in (False, True)
}


def _get_many_sql(count: int) -> str:
    return f"""
WITH wanted (bot_id, key) AS (VALUES {values_rows(count, "(:bot{n}, :key{n})")})
SELECT e.bot_id, e.key, e.value, e.created_at, e.updated_at
FROM wanted AS w JOIN kv_entries AS e ON e.bot_id = w.bot_id AND e.key = w.key
"""  # noqa: S608 (binds only)


# UNION ALL terms per statement: SQLite allows 500 (SQLITE_MAX_COMPOUND_SELECT)
PAGES_PER_STATEMENT = 250


def _pages_sql(strict: bool, bounded: bool) -> Callable[[int], str]:
    """One page per bot (its key range and limit) in one statement: a UNION ALL of per-bot
    subqueries, each an index range scan bounded by both ends of its range that stops at its
    LIMIT. (A ROW_NUMBER() window over a join numbers every row of every bot first.) Ranges
    differ in shape (strict, bounded): each shape is its own text, so each bound is an index
    bound."""
    lower = ">" if strict else ">="
    upper = "AND key < :hi{n}" if bounded else ""
    term = f"""SELECT * FROM (
    SELECT {{n}} AS page, bot_id, key, value, created_at, updated_at FROM kv_entries
    WHERE bot_id = :bot{{n}} AND key {lower} :lo{{n}} {upper}
    ORDER BY key LIMIT :limit{{n}}
) AS p{{n}}"""  # noqa: S608 (constant columns and operators)
    return lambda count: "\nUNION ALL\n".join(term.format(n=n) for n in range(count))


PAGES_SQL = {
    (strict, bounded): _pages_sql(strict, bounded)
    for strict in (False, True)
    for bounded in (False, True)
}


def _counts_sql(bounded: bool) -> Callable[[int], str]:
    """How many keys each bot has in its range: a count over the range's index bounds per
    scope (it costs the keys it counts)."""
    upper = "AND key < :hi{n}" if bounded else ""
    term = f"""SELECT {{n}} AS scope, (
    SELECT count(*) FROM kv_entries WHERE bot_id = :bot{{n}} AND key >= :lo{{n}} {upper}
) AS total"""  # noqa: S608 (constant text and binds)
    return lambda count: "\nUNION ALL\n".join(term.format(n=n) for n in range(count))


COUNTS_SQL = {bounded: _counts_sql(bounded) for bounded in (False, True)}


def _set_many_sql(count: int) -> str:
    """Upserts in key order, so concurrent batches lock rows in one order (PostgreSQL)."""
    return f"""
WITH incoming (key, value) AS (VALUES {values_rows(count, "(:key{n}, :value{n})")})
INSERT INTO kv_entries (bot_id, key, value, created_at, updated_at)
SELECT b.id, i.key, i.value, :now, :now FROM bots AS b, incoming AS i WHERE b.id = :bot_id
ORDER BY i.key
ON CONFLICT (bot_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
RETURNING {_COLUMNS}
"""  # noqa: S608 (constant columns and binds only)


@dataclass(slots=True)  # not frozen: a frozen dataclass costs 4 times as much to build
class KvEntryRow:
    bot_id: str
    key: str
    value_json: str  # the stored compact JSON text, passed to clients as it is
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class KeyRange:
    """Keys from lo (inclusive, or exclusive when strict) up to hi (exclusive; None: no end)."""

    lo: str
    strict: bool
    hi: str | None


def prefix_end(prefix: str) -> str | None:
    """The least string above every string that starts with prefix; None when there is none
    (empty prefix, or only the highest code point). The last code point is incremented; the
    highest one is dropped and the one before it incremented instead."""
    while prefix:
        last = ord(prefix[-1])
        if last < _MAX_CODE_POINT:
            following = _SURROGATES[1] if last + 1 == _SURROGATES[0] else last + 1
            return prefix[:-1] + chr(following)
        prefix = prefix[:-1]
    return None


def key_range(prefix: str, after: str | None = None) -> KeyRange:
    """The keys starting with prefix, past `after` when given."""
    end = prefix_end(prefix)
    if after is not None and after >= prefix:
        return KeyRange(after, True, end)
    return KeyRange(prefix, False, end)


def _entry(row: Row) -> KvEntryRow:
    return KvEntryRow(
        bot_id=row["bot_id"],
        key=row["key"],
        value_json=row["value"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def get_entry(conn: Conn, *, bot_id: str, key: str) -> KvEntryRow | None:
    row = await conn.fetch_one(GET_ENTRY, {"bot_id": bot_id, "key": key})
    return None if row is None else _entry(row)


async def get_entries(
    conn: Conn, *, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], KvEntryRow]:
    """Entries by (bot_id, key) in one statement (Bot.kvEntry's batch); absent ones left out."""
    items = [{"bot": bot_id, "key": key} for bot_id, key in keys]
    rows = await fetch_batched(conn, _get_many_sql, items)
    return {(row["bot_id"], row["key"]): _entry(row) for _, row in rows}


async def list_entries(conn: Conn, *, bot_id: str, keys: KeyRange, limit: int) -> list[KvEntryRow]:
    rows = await conn.fetch_all(
        LIST_ENTRIES[(keys.strict, keys.hi is not None)],
        {"bot_id": bot_id, "lo": keys.lo, "hi": keys.hi, "limit": limit},
    )
    return [_entry(row) for row in rows]


def _by_key(entry: KvEntryRow) -> str:
    return entry.key


async def list_entry_pages(
    conn: Conn, *, pages: Sequence[tuple[str, KeyRange, int]]
) -> list[list[KvEntryRow]]:
    """A page per (bot_id, key range, limit), in key order, one statement per shape of range
    (the DataLoader's batch for Bot.kvEntries)."""
    shapes: dict[tuple[bool, bool], list[int]] = {}
    for index, (_, keys, _) in enumerate(pages):
        shapes.setdefault((keys.strict, keys.hi is not None), []).append(index)
    found: list[list[KvEntryRow]] = [[] for _ in pages]
    for shape, indexes in shapes.items():
        items = []
        for index in indexes:
            bot_id, keys, limit = pages[index]
            items.append({"bot": bot_id, "lo": keys.lo, "limit": limit, **_upper(keys.hi)})
        sql = PAGES_SQL[shape]
        for offset, row in await fetch_batched(conn, sql, items, rows=PAGES_PER_STATEMENT):
            found[indexes[offset + row["page"]]].append(_entry(row))
    for page in found:  # UNION ALL promises no order; Python's str order is UTF-8 byte order
        page.sort(key=_by_key)
    return found


def _upper(hi: str | None) -> dict[str, str]:
    return {} if hi is None else {"hi": hi}


async def count_entries(conn: Conn, *, bot_id: str, prefix: str) -> int:
    (count,) = await count_entry_scopes(conn, scopes=[(bot_id, prefix)])
    return count


async def count_entry_scopes(conn: Conn, *, scopes: Sequence[tuple[str, str]]) -> list[int]:
    """How many keys each (bot_id, prefix) has: all of a bot's keys from its kept count, a
    prefix through the key index (one statement per shape)."""
    counts = [0 for _ in scopes]
    whole = [index for index, (_, prefix) in enumerate(scopes) if not prefix]
    if whole:
        kept = await totals(conn, kind=KV, parent_ids=[scopes[index][0] for index in whole])
        for index in whole:
            counts[index] = kept[scopes[index][0]]
    shapes: dict[bool, list[int]] = {}
    for index, (_, prefix) in enumerate(scopes):
        if prefix:
            shapes.setdefault(prefix_end(prefix) is not None, []).append(index)
    for bounded, indexes in shapes.items():
        items = []
        for index in indexes:
            bot_id, prefix = scopes[index]
            items.append({"bot": bot_id, "lo": prefix, **_upper(prefix_end(prefix))})
        sql = COUNTS_SQL[bounded]  # a prefix's count costs its matches: off the event loop
        for offset, row in await fetch_batched(
            conn, sql, items, rows=PAGES_PER_STATEMENT, slow=True
        ):
            counts[indexes[offset + row["scope"]]] = int(row["total"])
    return counts


async def list_keys(conn: Conn, *, bot_id: str, prefix: str, limit: int) -> list[str]:
    keys = key_range(prefix)
    rows = await conn.fetch_all(
        LIST_KEYS[keys.hi is not None],
        {"bot_id": bot_id, "lo": keys.lo, "hi": keys.hi, "limit": limit},
    )
    return [row["key"] for row in rows]


async def set_entry(
    conn: Conn, *, bot_id: str, key: str, value_json: str, now: str
) -> KvEntryRow | None:
    """Upsert (created_at kept, updated_at = now); None when the bot is absent."""
    row = await conn.fetch_one(
        SET_ENTRY, {"bot_id": bot_id, "key": key, "value": value_json, "now": now}
    )
    return None if row is None else _entry(row)


async def set_entries(
    conn: Conn, *, bot_id: str, entries: Sequence[tuple[str, str]], now: str
) -> list[KvEntryRow]:
    """Upsert (key, value_json) pairs with distinct keys; the rows in the order given, or []
    when the bot is absent."""
    items = [{"key": key, "value": value_json} for key, value_json in entries]
    rows = await fetch_batched(conn, _set_many_sql, items, {"bot_id": bot_id, "now": now})
    found = {row["key"]: _entry(row) for _, row in rows}
    return [found[key] for key, _ in entries] if found else []


async def delete_entry(conn: Conn, *, bot_id: str, key: str) -> bool:
    return await conn.fetch_one(DELETE_ENTRY, {"bot_id": bot_id, "key": key}) is not None
