"""The bots table: the only place a bots record becomes a BotRow."""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from db.codec import MAX_INT32, MAX_INT64, dump_json, load_json
from db.connection import Conn, Row
from db.counts import bot_total
from db.dialect import locking_variants

_COLUMNS = (
    "id, slug, name, description, status, category, tags, user_id, conversation_count, "
    "total_tokens_used, version_count, created_at, updated_at, last_active_at"
)

# Sortable columns; identifiers below come only from this fixed set.
ORDER_COLUMNS = ("name", "slug", "status", "category", "created_at", "updated_at", "last_active_at")

GET_BOT = f"SELECT {_COLUMNS} FROM bots WHERE id = :id"  # noqa: S608 (constant columns)
GET_BOT_BY_SLUG = f"SELECT {_COLUMNS} FROM bots WHERE slug = :slug"  # noqa: S608
BOT_EXISTS = "SELECT 1 FROM bots WHERE id = :id"
# PostgreSQL row locks: writes that add files under a bot share it, its delete takes it alone.
SHARE_BOT = locking_variants(BOT_EXISTS, "KEY SHARE")
LOCK_BOT = locking_variants(BOT_EXISTS, "UPDATE")
INSERT_BOT = f"""
INSERT INTO bots (id, slug, name, description, status, category, tags, user_id,
                  created_at, updated_at)
VALUES (:id, :slug, :name, :description, :status, :category, :tags, :user_id, :now, :now)
ON CONFLICT (slug) DO NOTHING
RETURNING {_COLUMNS}
"""  # noqa: S608 (constant columns)
UPDATE_BOT = f"""
UPDATE bots SET
    name = CASE WHEN :set_name THEN :name ELSE name END,
    description = CASE WHEN :set_description THEN :description ELSE description END,
    status = CASE WHEN :set_status THEN :status ELSE status END,
    category = CASE WHEN :set_category THEN :category ELSE category END,
    tags = CASE WHEN :set_tags THEN :tags ELSE tags END,
    user_id = CASE WHEN :set_user_id THEN :user_id ELSE user_id END,
    updated_at = :now
WHERE id = :id
RETURNING {_COLUMNS}
"""  # noqa: S608 (constant columns)
RECORD_ACTIVITY = f"""
UPDATE bots SET
    total_tokens_used = total_tokens_used + :tokens,
    conversation_count = conversation_count + :conversations,
    version_count = version_count + :versions,
    last_active_at = :now
WHERE id = :id
  AND total_tokens_used <= {MAX_INT64} - :tokens
  AND conversation_count <= {MAX_INT64} - :conversations
  AND version_count <= {MAX_INT32} - :versions
RETURNING {_COLUMNS}
"""  # noqa: S608 (constant columns)
DELETE_BOT = "DELETE FROM bots WHERE id = :id RETURNING id"
NULLABLE_ORDER = "last_active_at"  # sorts nulls last in both directions


@lru_cache(maxsize=256)
def _list_sql(column: str, descending: bool, filters: tuple[str, ...], part: str) -> str:
    """One keyset page in (column, id) order with an equality per filter column, so an index
    (filter, column, id) walks it. `part`: "first" or "after" (past the cursor) for a non-null
    column; for the nullable column "values", "values_after" (the non-null rows) and "nulls",
    "nulls_after" (the null rows, by id), two index scans instead of a sort."""
    cmp, direction = ("<", "DESC") if descending else (">", "ASC")
    where = [f"{name} = :{name}" for name in filters]
    if part == "after" and column in filters:  # one value of column: id alone orders the page
        where.append(f"id {cmp} :after_id")
    elif part in ("after", "values_after"):
        where.append(f"({column}, id) {cmp} (:after_value, :after_id)")
    if part in ("values", "values_after"):
        where.append(f"{column} IS NOT NULL")
    order = f"{column} {direction}, id {direction}"
    if part in ("nulls", "nulls_after"):
        where.append(f"{column} IS NULL")
        order = f"id {direction}"
        if part == "nulls_after":
            where.append(f"id {cmp} :after_id")
    return f"""
SELECT {_COLUMNS} FROM bots {"WHERE " + " AND ".join(where) if where else ""}
ORDER BY {order} LIMIT :limit
"""  # noqa: S608 (column, filters and direction come from ORDER_COLUMNS, two names, two literals)


@dataclass(slots=True)  # not frozen: a frozen dataclass costs 4 times as much to build
class BotRow:
    id: str
    slug: str
    name: str
    description: str
    status: str
    category: str
    tags: list[str]
    user_id: str | None
    conversation_count: int
    total_tokens_used: int
    version_count: int
    created_at: str
    updated_at: str
    last_active_at: str | None

    def sort_value(self, column: str) -> Any:
        return getattr(self, column)


def _bot(row: Row) -> BotRow:
    return BotRow(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        description=row["description"],
        status=row["status"],
        category=row["category"],
        tags=load_json(row["tags"]),
        user_id=row["user_id"],
        conversation_count=row["conversation_count"],
        total_tokens_used=row["total_tokens_used"],
        version_count=row["version_count"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        last_active_at=row["last_active_at"],
    )


async def get_bot(conn: Conn, *, id: str) -> BotRow | None:
    row = await conn.fetch_one(GET_BOT, {"id": id})
    return None if row is None else _bot(row)


async def get_bot_by_slug(conn: Conn, *, slug: str) -> BotRow | None:
    row = await conn.fetch_one(GET_BOT_BY_SLUG, {"slug": slug})
    return None if row is None else _bot(row)


async def get_bots(conn: Conn, *, ids: Sequence[str]) -> dict[str, BotRow]:
    """Bots by id, in one statement (the DataLoader's batch)."""
    binds = {f"id{index}": bot_id for index, bot_id in enumerate(ids)}
    placeholders = ", ".join(f":{name}" for name in binds)
    rows = await conn.fetch_all(
        f"SELECT {_COLUMNS} FROM bots WHERE id IN ({placeholders})",  # noqa: S608 (binds only)
        binds,
    )
    return {row["id"]: _bot(row) for row in rows}


async def bot_exists(conn: Conn, *, id: str) -> bool:
    return await conn.fetch_one(BOT_EXISTS, {"id": id}) is not None


async def lock_bot(conn: Conn, *, id: str, exclusive: bool = False) -> bool:
    """Whether the bot exists; on PostgreSQL its row stays locked until the transaction ends
    (shared: a concurrent delete of the bot waits; exclusive: before deleting it)."""
    sql = (LOCK_BOT if exclusive else SHARE_BOT)[conn.dialect]
    return await conn.fetch_one(sql, {"id": id}) is not None


async def taken_slugs(conn: Conn, *, candidates: Sequence[str]) -> set[str]:
    binds = {f"s{index}": slug for index, slug in enumerate(candidates)}
    placeholders = ", ".join(f":{name}" for name in binds)
    rows = await conn.fetch_all(
        f"SELECT slug FROM bots WHERE slug IN ({placeholders})",  # noqa: S608 (binds only)
        binds,
    )
    return {row["slug"] for row in rows}


async def create_bot(
    conn: Conn,
    *,
    id: str,
    slug: str,
    name: str,
    description: str,
    status: str,
    category: str,
    tags: list[str],
    user_id: str | None,
    now: str,
) -> BotRow | None:
    """Insert a bot; None when the slug is taken (nothing is written then)."""
    row = await conn.fetch_one(
        INSERT_BOT,
        {
            "id": id,
            "slug": slug,
            "name": name,
            "description": description,
            "status": status,
            "category": category,
            "tags": dump_json(tags),
            "user_id": user_id,
            "now": now,
        },
    )
    return None if row is None else _bot(row)


async def update_bot(conn: Conn, *, id: str, changes: dict[str, Any], now: str) -> BotRow | None:
    """Set the given columns (name, description, status, category, tags, user_id); None when
    the bot is absent."""
    params: dict[str, Any] = {"id": id, "now": now}
    for column in ("name", "description", "status", "category", "tags", "user_id"):
        params[f"set_{column}"] = column in changes
        value = changes.get(column)
        params[column] = dump_json(value) if column == "tags" and value is not None else value
    row = await conn.fetch_one(UPDATE_BOT, params)
    return None if row is None else _bot(row)


async def record_activity(
    conn: Conn, *, id: str, tokens: int, conversations: int, versions: int, now: str
) -> BotRow | None:
    """Atomic increments; None when the bot is absent or a counter would overflow."""
    row = await conn.fetch_one(
        RECORD_ACTIVITY,
        {
            "id": id,
            "tokens": tokens,
            "conversations": conversations,
            "versions": versions,
            "now": now,
        },
    )
    return None if row is None else _bot(row)


async def delete_bot(conn: Conn, *, id: str) -> bool:
    """Delete the bot; its KV entries and files cascade, off the event loop."""
    return await conn.fetch_one(DELETE_BOT, {"id": id}, slow=True) is not None


async def list_bots(
    conn: Conn,
    *,
    status: str | None,
    category: str | None,
    column: str,
    descending: bool,
    after: tuple[Any, str] | None,
    limit: int,
) -> list[BotRow]:
    if column not in ORDER_COLUMNS:
        raise ValueError(f"not a sortable column: {column}")
    params = {"status": status, "category": category, "limit": limit}
    filters = tuple(name for name in ("status", "category") if params[name] is not None)
    if after is not None:
        params |= {"after_value": after[0], "after_id": after[1]}

    async def page(part: str) -> list[BotRow]:
        sql = _list_sql(column, descending, filters, part)
        return [_bot(row) for row in await conn.fetch_all(sql, params)]

    if column != NULLABLE_ORDER:
        return await page("first" if after is None else "after")
    if after is not None and after[0] is None:
        return await page("nulls_after")
    rows = await page("values" if after is None else "values_after")
    if len(rows) < limit:
        params["limit"] = limit - len(rows)
        rows += await page("nulls")
    return rows


async def count_bots(conn: Conn, *, status: str | None, category: str | None) -> int:
    return await bot_total(conn, status=status, category=category)
