"""The memory audit log: the only place a memory_audit_entries record becomes a row.

Append-only: entries are inserted, never updated or deleted, and they outlive their bot. Lists
are newest first, (created_at, id) descending; ids are UUIDv7, so entries sharing a timestamp
keep their insertion order and keyset pages never skip or repeat one.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

from db.batch import fetch_batched
from db.codec import load_json
from db.connection import Conn, Row
from db.counts import AUDIT, MEMORY_AUDIT, total, totals

ACTIONS = ("add", "delete", "share", "revoke", "merge")

_COLUMNS = "id, bot_id, memory_id, action, actor, details, created_at"

CREATE_ENTRY = f"""
INSERT INTO memory_audit_entries (id, bot_id, memory_id, action, actor, details, created_at)
SELECT :id, id, :memory_id, :action, :actor, :details, :now FROM bots WHERE id = :bot_id
RETURNING {_COLUMNS}
"""  # noqa: S608 (constant columns)
GET_ENTRY = f"SELECT {_COLUMNS} FROM memory_audit_entries WHERE id = :id"  # noqa: S608
_NEWEST_FIRST = "ORDER BY created_at DESC, id DESC"
# UNION ALL terms per statement: SQLite allows 500 (SQLITE_MAX_COMPOUND_SELECT)
TERMS_PER_STATEMENT = 250


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which entries a list keeps (None keeps all); hashable, so it can key a DataLoader."""

    actions: tuple[str, ...] | None = None
    actor: str | None = None
    since: str | None = None
    until: str | None = None

    @property
    def empty(self) -> bool:
        return self.chosen_actions() is None and self.actor is self.since is self.until is None

    def chosen_actions(self) -> tuple[str, ...] | None:
        """The actions kept, in order without repeats; None when every action is kept."""
        if self.actions is None:
            return None
        chosen = tuple(action for action in ACTIONS if action in self.actions)
        return None if chosen == ACTIONS else chosen

    def arms(self) -> tuple[str, ...]:
        """SQL conditions whose union is the filter, each an index range in newest-first
        order: one per action (index bot_id, action, created_at) unless an actor is given
        (index bot_id, actor, created_at), with since/until as created_at bounds."""
        shared = [
            condition
            for condition, value in (
                ("actor = :actor", self.actor),
                ("created_at >= :since", self.since),
                ("created_at < :until", self.until),
            )
            if value is not None
        ]
        chosen = self.chosen_actions()
        if chosen is None:
            return (" AND ".join(shared),)
        if self.actor is not None or not chosen:
            listed = ", ".join(f":action{index}" for index in range(len(chosen)))
            return (" AND ".join([*shared, f"action IN ({listed or 'NULL'})"]),)
        return tuple(
            " AND ".join([*shared, f"action = :action{index}"]) for index in range(len(chosen))
        )

    def binds(self) -> dict[str, Any]:
        chosen = self.chosen_actions() or ()
        given = (("actor", self.actor), ("since", self.since), ("until", self.until))
        return {
            **{f"action{index}": action for index, action in enumerate(chosen)},
            **{name: value for name, value in given if value is not None},
        }


def _term(scope: str, arm: str, after: bool, n: str) -> str:
    """One index range of one scope's entries, newest first, stopping at its limit."""
    conditions = [f"{scope} = :scope{n}"]
    if arm:
        conditions.append(arm)
    if after:
        conditions.append(f"(created_at, id) < (:after_created{n}, :after_id{n})")
    return f"""SELECT * FROM (
    SELECT {_COLUMNS}, {n or 0} AS page FROM memory_audit_entries
    WHERE {" AND ".join(conditions)} {_NEWEST_FIRST} LIMIT :limit{n}
) AS t{n}"""  # noqa: S608 (scope is one of two column names; arms are constant texts of binds)


@lru_cache(maxsize=256)
def _list_sql(scope: str, arms: tuple[str, ...], after: bool) -> str:
    """A page of one bot's or one memory's entries, past the (created_at, id) cursor: the
    newest of each arm's own page."""
    if len(arms) == 1:
        return _term(scope, arms[0], after, "")
    union = "\nUNION ALL\n".join(_term(scope, arm, after, "") for arm in arms)
    return f"SELECT * FROM ({union}) AS arms {_NEWEST_FIRST} LIMIT :limit"  # noqa: S608 (constant)


@lru_cache(maxsize=256)
def _pages_sql(arms: tuple[str, ...], after: bool, count: int) -> str:
    """One page per bot in one statement: per bot and arm an index range stopping at its
    limit (the caller keeps each bot's newest `limit`)."""
    return "\nUNION ALL\n".join(
        _term("bot_id", arm, after, str(n)) for n in range(count) for arm in arms
    )


@lru_cache(maxsize=256)
def _count_sql(scope: str, arms: tuple[str, ...], count: int) -> str:
    """Per scope and arm, the entries it keeps counted through the arm's index."""
    return "\nUNION ALL\n".join(
        f"SELECT {n} AS page, count(*) AS total FROM memory_audit_entries "  # noqa: S608 (constant)
        f"WHERE {scope} = :scope{n}{' AND ' + arm if arm else ''}"
        for n in range(count)
        for arm in arms
    )


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
    params = {"scope": bot_id if bot_id is not None else memory_id, "limit": limit}
    if after is not None:
        params |= {"after_created": after[0], "after_id": after[1]}
    sql = _list_sql(scope, filter.arms(), after is not None)
    return [_entry(row) for row in await conn.fetch_all(sql, params | filter.binds())]


async def count_entries(
    conn: Conn, *, bot_id: str | None = None, memory_id: str | None = None, filter: AuditFilter
) -> int:
    if bot_id is not None:
        return (await count_bot_entries(conn, filter=filter, bot_ids=[bot_id]))[bot_id]
    assert memory_id is not None
    if filter.empty:
        return await total(conn, kind=MEMORY_AUDIT, parent_id=memory_id)
    return (await _count(conn, "memory_id", filter, [memory_id]))[memory_id]


async def _count(conn: Conn, scope: str, filter: AuditFilter, ids: list[str]) -> dict[str, int]:
    arms = filter.arms()
    found = dict.fromkeys(ids, 0)
    rows = await fetch_batched(
        conn,
        lambda count: _count_sql(scope, arms, count),
        [{"scope": scope_id} for scope_id in ids],
        filter.binds(),
        rows=max(1, TERMS_PER_STATEMENT // len(arms)),
        slow=True,  # a filtered count costs its matches
    )
    for offset, row in rows:
        found[ids[offset + row["page"]]] += int(row["total"])
    return found


async def list_bot_pages(
    conn: Conn, *, filter: AuditFilter, pages: Sequence[tuple[str, tuple[str, str] | None, int]]
) -> list[list[MemoryAuditEntryRow]]:
    """A page per (bot_id, cursor, limit), newest first: one statement per batch of pages with
    and one without a cursor (the DataLoader's batch for Bot.auditLog)."""
    arms = filter.arms()
    found: list[list[MemoryAuditEntryRow]] = [[] for _ in pages]
    for has_cursor in (False, True):
        indexes = [index for index, page in enumerate(pages) if (page[1] is not None) == has_cursor]
        items: list[dict[str, Any]] = []
        for index in indexes:
            bot_id, after, limit = pages[index]
            items.append({"scope": bot_id, "limit": limit})
            if after is not None:
                items[-1] |= {"after_created": after[0], "after_id": after[1]}
        rows = await fetch_batched(
            conn,
            partial(_pages_sql, arms, has_cursor),
            items,
            filter.binds(),
            rows=max(1, TERMS_PER_STATEMENT // len(arms)),
        )
        for offset, row in rows:
            found[indexes[offset + row["page"]]].append(_entry(row))
    for page, (_, _, limit) in zip(found, pages, strict=True):
        page.sort(key=_newest_first, reverse=True)
        del page[limit:]
    return found


def _newest_first(entry: MemoryAuditEntryRow) -> tuple[str, str]:
    return entry.created_at, entry.id


async def count_bot_entries(
    conn: Conn, *, filter: AuditFilter, bot_ids: Sequence[str]
) -> dict[str, int]:
    """How many entries each bot has under the filter: the kept count when unfiltered, else
    counted through the filter's indexes."""
    if filter.empty:
        return await totals(conn, kind=AUDIT, parent_ids=bot_ids)
    return await _count(conn, "bot_id", filter, list(dict.fromkeys(bot_ids)))
