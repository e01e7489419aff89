"""The bots table: the only place a bots record becomes a BotRow."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from db.codec import MAX_INT32, MAX_INT64, dump_json, load_json
from db.connection import Conn, Row
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
COUNT_BOTS = """
SELECT count(*) FROM bots
WHERE (:status IS NULL OR status = :status) AND (:category IS NULL OR category = :category)
"""


def _list_sql(column: str, descending: bool, after: bool) -> str:
    """A keyset page in (column, id) order; last_active_at (nullable) sorts nulls last in both
    directions. First pages and later pages are separate texts so each uses its index."""
    cmp, direction = ("<", "DESC") if descending else (">", "ASC")
    keyset, order = f"({column}, id) {cmp} (:after_value, :after_id)", f"{column} {direction}"
    if column == "last_active_at":
        keyset = f"""(:after_value IS NOT NULL AND ({column} IS NULL OR ({column}, id) {cmp}
            (:after_value, :after_id))) OR (:after_value IS NULL AND {column} IS NULL
            AND id {cmp} :after_id)"""
        order = f"({column} IS NULL), {column} {direction}"
    return f"""
SELECT {_COLUMNS} FROM bots
WHERE (:status IS NULL OR status = :status)
  AND (:category IS NULL OR category = :category)
  {f"AND ({keyset})" if after else ""}
ORDER BY {order}, id {direction}
LIMIT :limit
"""  # noqa: S608 (column and direction come from ORDER_COLUMNS and two literals)


LIST_BOTS = {
    (column, descending, after): _list_sql(column, descending, after)
    for column in ORDER_COLUMNS
    for descending in (False, True)
    for after in (False, True)
}


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
    return await conn.fetch_one(DELETE_BOT, {"id": id}) is not None


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
    rows = await conn.fetch_all(
        LIST_BOTS[(column, descending, after is not None)],
        {
            "status": status,
            "category": category,
            "after_value": None if after is None else after[0],
            "after_id": None if after is None else after[1],
            "limit": limit,
        },
    )
    return [_bot(row) for row in rows]


async def count_bots(conn: Conn, *, status: str | None, category: str | None) -> int:
    count: int = await conn.fetch_val(COUNT_BOTS, {"status": status, "category": category})
    return count
