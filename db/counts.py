"""Exact totals from row_counts, which triggers keep in the transaction of every write
(migrations/0011_row_counts.*): an unfiltered total costs one row whatever the table's size."""

from collections.abc import Sequence

from db.batch import fetch_batched, values_rows
from db.connection import Conn

KV, FILES, VERSIONS, AUDIT, MEMORY_AUDIT = "kv", "files", "versions", "audit", "memory_audit"
DRAFTS, PROVIDERS = "drafts", "providers"  # all builder drafts, all providers: parent_id ""
BOT_COUNTS = "SELECT parent_id, total FROM row_counts WHERE kind = 'bots'"


def _totals_sql(count: int) -> str:
    return f"""
SELECT parent_id, total FROM row_counts
WHERE kind = :kind AND parent_id IN ({values_rows(count, ":parent{n}")})
"""  # noqa: S608 (binds only)


async def totals(conn: Conn, *, kind: str, parent_ids: Sequence[str]) -> dict[str, int]:
    """How many rows of `kind` each parent has (0 when it has none), in one statement."""
    items = [{"parent": parent_id} for parent_id in dict.fromkeys(parent_ids)]
    rows = await fetch_batched(conn, _totals_sql, items, {"kind": kind})
    found = {row["parent_id"]: int(row["total"]) for _, row in rows}
    return {parent_id: found.get(parent_id, 0) for parent_id in parent_ids}


async def total(conn: Conn, *, kind: str, parent_id: str) -> int:
    return (await totals(conn, kind=kind, parent_ids=[parent_id]))[parent_id]


async def bot_total(conn: Conn, *, status: str | None, category: str | None) -> int:
    """How many bots have this status and category (None: any); one row per pair is kept, at
    most 12 rows are read."""
    found = 0
    for row in await conn.fetch_all(BOT_COUNTS):
        row_status, row_category = str(row["parent_id"]).split("/")
        if status in (None, row_status) and category in (None, row_category):
            found += int(row["total"])
    return found
