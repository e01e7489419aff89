"""The memory audit log: the only place a memory_audit_entries record becomes a row.

Append-only: entries are inserted, never updated or deleted, and they outlive their bot. Lists
are newest first, (created_at, id) descending; ids are UUIDv7, so entries sharing a timestamp
keep their insertion order and keyset pages never skip or repeat one.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from db.batch import fetch_batched, values_rows
from db.codec import load_json
from db.connection import Conn, Row

ACTIONS = ("add", "delete", "share", "revoke", "merge")

_COLUMNS = "id, bot_id, memory_id, action, actor, details, created_at"
_ACTION_BINDS = tuple(f"action{index}" for index in range(len(ACTIONS)))

CREATE_ENTRY = f"""
INSERT INTO memory_audit_entries (id, bot_id, memory_id, action, actor, details, created_at)
SELECT :id, id, :memory_id, :action, :actor, :details, :now FROM bots WHERE id = :bot_id
RETURNING {_COLUMNS}
"""  # noqa: S608 (constant columns)
GET_ENTRY = f"SELECT {_COLUMNS} FROM memory_audit_entries WHERE id = :id"  # noqa: S608
_FILTER = f"""
    AND action IN ({", ".join(f":{name}" for name in _ACTION_BINDS)})
    AND (:actor IS NULL OR actor = :actor)
    AND (:since IS NULL OR created_at >= :since)
    AND (:until IS NULL OR created_at < :until)
"""
_NEWEST_FIRST = "ORDER BY created_at DESC, id DESC"


def _list_sql(scope: str, after: bool) -> str:
    """A page of one bot's or one memory's entries, past the (created_at, id) cursor."""
    past = (
        "AND created_at <= :after_created AND (created_at < :after_created OR id < :after_id)"
        if after
        else ""
    )
    return f"""
SELECT {_COLUMNS} FROM memory_audit_entries
WHERE {scope} = :scope {_FILTER} {past}
{_NEWEST_FIRST} LIMIT :limit
"""  # noqa: S608 (scope is one of two column names; constant text otherwise)


_SCOPES = ("bot_id", "memory_id")
LIST_ENTRIES = {
    (scope, after): _list_sql(scope, after) for scope in _SCOPES for after in (False, True)
}
COUNT_ENTRIES = {
    scope: f"SELECT count(*) FROM memory_audit_entries WHERE {scope} = :scope {_FILTER}"  # noqa: S608
    for scope in _SCOPES
}
_PAGE_ROW = "({n}, :bot{n}, :created{n}, :after{n}, CAST(:limit{n} AS INTEGER))"


def _pages_sql(count: int) -> str:
    """One page per VALUES row (its bot, cursor and limit), the same filter for all."""
    return f"""
WITH pages (page, bot_id, after_created, after_id, row_limit) AS (
    VALUES {values_rows(count, _PAGE_ROW)}
)
SELECT page, {_COLUMNS} FROM (
    SELECT p.page, p.row_limit, e.id, e.bot_id, e.memory_id, e.action, e.actor, e.details,
           e.created_at,
           ROW_NUMBER() OVER (PARTITION BY p.page ORDER BY e.created_at DESC, e.id DESC)
               AS page_row
    FROM pages AS p JOIN memory_audit_entries AS e ON e.bot_id = p.bot_id
    WHERE (p.after_id IS NULL OR e.created_at < p.after_created
           OR (e.created_at = p.after_created AND e.id < p.after_id)) {_FILTER}
) AS ranked
WHERE page_row <= row_limit
ORDER BY page, created_at DESC, id DESC
"""  # noqa: S608 (row numbers and binds only)


def _counts_sql(count: int) -> str:
    return f"""
SELECT bot_id, count(*) AS total FROM memory_audit_entries
WHERE bot_id IN ({values_rows(count, ":bot{n}")}) {_FILTER}
GROUP BY bot_id
"""  # noqa: S608 (binds only)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which entries a list keeps (None keeps all); hashable, so it can key a DataLoader."""

    actions: tuple[str, ...] | None = None
    actor: str | None = None
    since: str | None = None
    until: str | None = None

    def binds(self) -> dict[str, Any]:
        actions = ACTIONS if self.actions is None else tuple(dict.fromkeys(self.actions))
        slots = [*actions, *[None] * (len(_ACTION_BINDS) - len(actions))]  # NULL matches none
        return {
            **dict(zip(_ACTION_BINDS, slots, strict=True)),
            "actor": self.actor,
            "since": self.since,
            "until": self.until,
        }


@dataclass(frozen=True, slots=True)
class MemoryAuditEntryRow:
    id: str
    bot_id: str
    memory_id: str
    action: str
    actor: str
    details: Any
    created_at: str


def _entry(row: Row) -> MemoryAuditEntryRow:
    details = row["details"]
    return MemoryAuditEntryRow(
        id=row["id"],
        bot_id=row["bot_id"],
        memory_id=row["memory_id"],
        action=row["action"],
        actor=row["actor"],
        details=None if details is None else load_json(details),
        created_at=row["created_at"],
    )


async def create_entry(
    conn: Conn,
    *,
    id: str,
    bot_id: str,
    memory_id: str,
    action: str,
    actor: str,
    details_json: str | None,
    now: str,
) -> MemoryAuditEntryRow | None:
    """Append an entry; None (nothing written) when the bot does not exist."""
    row = await conn.fetch_one(
        CREATE_ENTRY,
        {
            "id": id,
            "bot_id": bot_id,
            "memory_id": memory_id,
            "action": action,
            "actor": actor,
            "details": details_json,
            "now": now,
        },
    )
    return None if row is None else _entry(row)


async def get_entry(conn: Conn, *, id: str) -> MemoryAuditEntryRow | None:
    row = await conn.fetch_one(GET_ENTRY, {"id": id})
    return None if row is None else _entry(row)


async def list_entries(
    conn: Conn,
    *,
    bot_id: str | None = None,
    memory_id: str | None = None,
    filter: AuditFilter,
    after: tuple[str, str] | None,
    limit: int,
) -> list[MemoryAuditEntryRow]:
    """Newest first: one bot's entries (bot_id) or one memory's across bots (memory_id)."""
    scope = "bot_id" if bot_id is not None else "memory_id"
    params = {
        "scope": bot_id if bot_id is not None else memory_id,
        "limit": limit,
        **filter.binds(),
    }
    if after is not None:
        params |= {"after_created": after[0], "after_id": after[1]}
    rows = await conn.fetch_all(LIST_ENTRIES[(scope, after is not None)], params)
    return [_entry(row) for row in rows]


async def count_entries(
    conn: Conn, *, bot_id: str | None = None, memory_id: str | None = None, filter: AuditFilter
) -> int:
    scope = "bot_id" if bot_id is not None else "memory_id"
    params = {"scope": bot_id if bot_id is not None else memory_id, **filter.binds()}
    count: int = await conn.fetch_val(COUNT_ENTRIES[scope], params)
    return count


async def list_bot_pages(
    conn: Conn, *, filter: AuditFilter, pages: Sequence[tuple[str, tuple[str, str] | None, int]]
) -> list[list[MemoryAuditEntryRow]]:
    """A page per (bot_id, cursor, limit), newest first, in one statement (the DataLoader's
    batch for Bot.auditLog)."""
    items = [
        {
            "bot": bot_id,
            "created": None if after is None else after[0],
            "after": None if after is None else after[1],
            "limit": limit,
        }
        for bot_id, after, limit in pages
    ]
    found: list[list[MemoryAuditEntryRow]] = [[] for _ in pages]
    for offset, row in await fetch_batched(conn, _pages_sql, items, filter.binds()):
        found[offset + row["page"]].append(_entry(row))
    return found


async def count_bot_entries(
    conn: Conn, *, filter: AuditFilter, bot_ids: Sequence[str]
) -> dict[str, int]:
    """How many entries each bot has under the filter, in one statement."""
    items = [{"bot": bot_id} for bot_id in bot_ids]
    rows = await fetch_batched(conn, _counts_sql, items, filter.binds())
    return {row["bot_id"]: row["total"] for _, row in rows}
