"""The KV store: what each KV operation does. Thin: validate, call db, map to types."""

from typing import Annotated

import strawberry

from db import kv as db_kv
from db.bots import bot_exists
from db.codec import parse_uuid
from db.errors import NotFoundError, ValidationError
from resolvers import events
from schema.context import Info
from schema.inputs import check_json
from schema.kv import (
    KvEntry,
    KvEntryConnection,
    KvSetInput,
    check_key,
    check_prefix,
    entries_by_key,
    entry_connection,
    page_args,
)
from schema.pagination import AFTER, FIRST
from schema.scalars import JSON

MAX_VALUE_BYTES = 1024 * 1024
MAX_KEYS = 10_000
MAX_SET_MANY = 1000

_BOT_ID = "The bot's id."
_KEY = "The key: 1 to 512 bytes, no NUL."
_PREFIX = "Only keys starting with exactly these bytes (case-sensitive, no wildcards)."


def _value_json(value: JSON | None, what: str) -> str:
    return check_json(value, what, max_bytes=MAX_VALUE_BYTES)


def _check_entries(entries: list[KvSetInput]) -> list[tuple[str, str]]:
    """(key, value JSON) pairs; BAD_USER_INPUT for too many, a bad one, or a key twice."""
    if len(entries) > MAX_SET_MANY:
        raise ValidationError(f"setKvMany takes at most {MAX_SET_MANY} entries, not {len(entries)}")
    checked: dict[str, str] = {}
    positions: dict[str, int] = {}
    for index, entry in enumerate(entries):
        key = check_key(entry.key)
        if key in positions:
            raise ValidationError(
                f"key '{key[:80]}' is given twice (entries {positions[key]} and {index})"
            )
        positions[key] = index
        checked[key] = _value_json(entry.value, f"the value of entries[{index}]")
    return list(checked.items())


@strawberry.type
class KvQuery:
    @strawberry.field(description="One KV entry, or null when the key (or the bot) is absent.")
    async def kv_entry(
        self,
        info: Info,
        bot_id: Annotated[strawberry.ID, strawberry.argument(description=_BOT_ID)],
        key: Annotated[str, strawberry.argument(description=_KEY)],
    ) -> KvEntry | None:
        (entry,) = await entries_by_key(info.context, [parse_uuid(bot_id, "botId")], key)
        return entry

    @strawberry.field(description="A bot's KV entries in key order (byte order).")
    async def kv_entries(
        self,
        info: Info,
        bot_id: Annotated[strawberry.ID, strawberry.argument(description=_BOT_ID)],
        prefix: Annotated[str | None, strawberry.argument(description=_PREFIX)] = None,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> KvEntryConnection:
        checked_bot = parse_uuid(bot_id, "botId")
        checked, keys, limit = page_args(info.context, prefix, first, after)
        rows = await db_kv.list_entries(
            info.context.db.read(), bot_id=checked_bot, keys=keys, limit=limit + 1
        )
        return entry_connection(
            info.context, rows, limit=limit, after=after, bot_id=checked_bot, prefix=checked
        )

    @strawberry.field(
        description="All of a bot's keys in byte order; over 10,000 is BAD_USER_INPUT (page "
        "with kvEntries)."
    )
    async def kv_keys(
        self,
        info: Info,
        bot_id: Annotated[strawberry.ID, strawberry.argument(description=_BOT_ID)],
        prefix: Annotated[str | None, strawberry.argument(description=_PREFIX)] = None,
    ) -> list[str]:
        keys = await db_kv.list_keys(
            info.context.db.read(),
            bot_id=parse_uuid(bot_id, "botId"),
            prefix=check_prefix(prefix),
            limit=MAX_KEYS + 1,
        )
        if len(keys) > MAX_KEYS:
            raise ValidationError(
                f"more than {MAX_KEYS} keys match; page through them with kvEntries"
            )
        return keys


@strawberry.type
class KvMutation:
    @strawberry.mutation(
        description="Set a key (upsert: createdAt kept, updatedAt advanced); NOT_FOUND for an "
        "unknown bot."
    )
    async def set_kv(
        self,
        info: Info,
        bot_id: Annotated[strawberry.ID, strawberry.argument(description=_BOT_ID)],
        key: Annotated[str, strawberry.argument(description=_KEY)],
        value: Annotated[
            JSON | None,
            strawberry.argument(
                description="Any JSON value, at most 1 MiB of JSON text; omitted or null "
                "stores JSON null."
            ),
        ] = None,
    ) -> KvEntry:
        checked_bot = parse_uuid(bot_id, "botId")
        checked_key = check_key(key)
        value_json = _value_json(value, "value")
        async with info.context.db.write() as conn:
            row = await db_kv.set_entry(
                conn,
                bot_id=checked_bot,
                key=checked_key,
                value_json=value_json,
                now=info.context.now(),
            )
            events.kv_set(conn, info.context, row)
        if row is None:
            raise NotFoundError(f"no bot with id {checked_bot}")
        return KvEntry.from_row(row)

    @strawberry.mutation(
        description="Set many keys in one transaction: all or nothing (at most 1,000, no key "
        "twice)."
    )
    async def set_kv_many(
        self,
        info: Info,
        bot_id: Annotated[strawberry.ID, strawberry.argument(description=_BOT_ID)],
        entries: Annotated[
            list[KvSetInput], strawberry.argument(description="The keys and values to set.")
        ],
    ) -> list[KvEntry]:
        checked_bot = parse_uuid(bot_id, "botId")
        checked = _check_entries(entries)
        async with info.context.db.write() as conn:
            rows = await db_kv.set_entries(
                conn, bot_id=checked_bot, entries=checked, now=info.context.now()
            )
            events.kv_set(conn, info.context, *rows)
            if not rows and not await bot_exists(conn, id=checked_bot):
                raise NotFoundError(f"no bot with id {checked_bot}")
        return [KvEntry.from_row(row) for row in rows]

    @strawberry.mutation(description="Delete a key; false when it is absent (no error).")
    async def delete_kv(
        self,
        info: Info,
        bot_id: Annotated[strawberry.ID, strawberry.argument(description=_BOT_ID)],
        key: Annotated[str, strawberry.argument(description=_KEY)],
    ) -> bool:
        checked_bot = parse_uuid(bot_id, "botId")
        checked_key = check_key(key)
        async with info.context.db.write() as conn:
            deleted = await db_kv.delete_entry(conn, bot_id=checked_bot, key=checked_key)
            return events.kv_deleted(conn, info.context, checked_bot, checked_key, deleted)
