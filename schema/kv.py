"""The KV store as clients see it: KvEntry, its connection and input, the key rules, and the
per-request loaders behind Bot.kvEntry, Bot.kvEntries and their totalCount."""

from collections.abc import Sequence

import orjson
import strawberry

from db import kv as db_kv
from db.errors import ValidationError
from db.kv import KeyRange, KvEntryRow
from schema.bots import Bot, parent_bots
from schema.context import Context, Info, level_resolver
from schema.inputs import check_text
from schema.pagination import (
    Connection,
    build_connection,
    decode_cursor,
    encode_cursor,
    page_size,
)
from schema.scalars import JSON, DateTime

MAX_KEY_BYTES = 512
_CURSOR_KIND = "kv"


@strawberry.type(description="One value of a bot's key-value store, identified by (botId, key).")
class KvEntry:
    bot_id: str = strawberry.field(
        graphql_type=strawberry.ID, description="The id of the bot the entry belongs to."
    )
    key: str = strawberry.field(description="1 to 512 bytes of UTF-8; keys sort in byte order.")
    value: orjson.Fragment = strawberry.field(
        graphql_type=JSON | None,
        description="Any JSON value, returned exactly as set; JSON null is a stored value.",
    )  # the stored JSON text, written out by orjson as it is
    created_at: str = strawberry.field(
        graphql_type=DateTime, description="When the key was first set; kept on every upsert."
    )
    updated_at: str = strawberry.field(
        graphql_type=DateTime, description="When the key was last set."
    )

    @strawberry.field(
        description="The bot the entry belongs to.", metadata=level_resolver(parent_bots)
    )
    async def bot(self, info: Info) -> Bot:
        (bot,) = await parent_bots(info.context, [self])
        return bot

    @classmethod
    def from_row(cls, row: KvEntryRow) -> "KvEntry":
        return cls(
            bot_id=row.bot_id,
            key=row.key,
            value=orjson.Fragment(row.value_json),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


KvEntryConnection = Connection[KvEntry]


@strawberry.input(description="One entry of setKvMany.")
class KvSetInput:
    key: str = strawberry.field(description="1 to 512 bytes, no NUL; no key twice in one call.")
    value: JSON | None = strawberry.field(
        default=None,
        description="Any JSON value, at most 1 MiB of JSON text; omitted or null stores JSON null.",
    )


def check_key(key: str) -> str:
    """A key: 1 to 512 bytes of UTF-8, no NUL; else BAD_USER_INPUT."""
    if not key:
        raise ValidationError(f"key must be 1 to {MAX_KEY_BYTES} bytes, not empty")
    return check_text(key, "key", max_bytes=MAX_KEY_BYTES)


def check_prefix(prefix: str | None) -> str:
    """A key prefix (empty or omitted: every key); matched byte for byte, no wildcards."""
    return "" if prefix is None else check_text(prefix, "prefix")


def page_args(
    context: Context, prefix: str | None, first: int | None, after: str | None
) -> tuple[str, KeyRange, int]:
    """The checked prefix, the key range of the page and the page size."""
    checked = check_prefix(prefix)
    limit = page_size(first, context.settings)
    cursor = decode_cursor(after, _CURSOR_KIND, 1)
    if cursor is not None and not (isinstance(cursor[0], str) and "\x00" not in cursor[0]):
        raise ValidationError(f"malformed cursor '{after}'")
    return checked, db_kv.key_range(checked, None if cursor is None else cursor[0]), limit


def entry_connection(
    context: Context,
    rows: Sequence[KvEntryRow],
    *,
    limit: int,
    after: str | None,
    bot_id: str,
    prefix: str,
) -> KvEntryConnection:
    """A page of entries; totalCount goes through the level_resolver count loader."""
    return build_connection(
        rows,
        limit=limit,
        after_given=after is not None,
        cursor=lambda row: encode_cursor(_CURSOR_KIND, row.key),
        node=KvEntry.from_row,
        count=lambda: context.loader(load_counts).load((bot_id, prefix)),
    )


async def load_entries(context: Context, keys: Sequence[tuple[str, str]]) -> list[KvEntry | None]:
    """Entries by (bot_id, key), one statement per load."""
    found = await db_kv.get_entries(context.db.read(), keys=keys)
    return [None if (row := found.get(key)) is None else KvEntry.from_row(row) for key in keys]


async def load_pages(
    context: Context, keys: Sequence[tuple[str, KeyRange, int]]
) -> list[list[KvEntryRow]]:
    """Pages by (bot_id, key range, limit), one statement per load."""
    return await db_kv.list_entry_pages(context.db.read(), pages=keys)


async def load_counts(context: Context, keys: Sequence[tuple[str, str]]) -> list[int]:
    """Key counts by (bot_id, prefix), one statement per load."""
    return await db_kv.count_entry_scopes(context.db.read(), scopes=keys)


async def entries_by_key(
    context: Context, bot_ids: Sequence[str], key: str
) -> list[KvEntry | None]:
    """One key's entry of each bot (kvEntry, Bot.kvEntry): one statement per request."""
    checked = check_key(key)
    found: list[KvEntry | None] = await context.loader(load_entries).load_many(
        [(bot_id, checked) for bot_id in bot_ids]
    )
    return found


async def entry_pages(
    context: Context,
    bot_ids: Sequence[str],
    prefix: str | None = None,
    first: int | None = None,
    after: str | None = None,
) -> list[KvEntryConnection]:
    """A page of each bot's entries (Bot.kvEntries): one statement per request."""
    checked, keys, limit = page_args(context, prefix, first, after)
    pages = await context.loader(load_pages).load_many(
        [(bot_id, keys, limit + 1) for bot_id in bot_ids]
    )
    return [
        entry_connection(context, rows, limit=limit, after=after, bot_id=bot_id, prefix=checked)
        for bot_id, rows in zip(bot_ids, pages, strict=True)
    ]
