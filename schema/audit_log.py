"""The memory audit log as clients see it: MemoryAuditEntry, AuditAction, the filter and log
inputs, and the per-request loaders behind Bot.auditLog and its totalCount."""

from collections.abc import Awaitable, Callable, Sequence
from enum import Enum

import strawberry

from db import audit_log as db_audit
from db.audit_log import AuditFilter, MemoryAuditEntryRow
from db.errors import ValidationError
from schema.bots import Bot, load_bots_of
from schema.context import Context, Info, level_resolver
from schema.inputs import check_optional_text
from schema.node import Node
from schema.pagination import (
    Connection,
    build_connection,
    decode_cursor,
    encode_cursor,
    page_size,
)
from schema.scalars import JSON, DateTime

_CURSOR_KIND = "audit"

# (bot_id, filter, cursor, limit) and (bot_id, filter): the loaders' keys
PageKey = tuple[str, AuditFilter, tuple[str, str] | None, int]
CountKey = tuple[str, AuditFilter]


@strawberry.enum(description="What happened to a memory.")
class AuditAction(Enum):
    ADD = "add"
    DELETE = "delete"
    SHARE = "share"
    REVOKE = "revoke"
    MERGE = "merge"


@strawberry.type(
    description="One entry of the memory audit log: append-only, and kept after its bot and "
    "its memory are gone."
)
class MemoryAuditEntry(Node):
    id: strawberry.ID = strawberry.field(description="The entry's UUID (v7), made by the server.")
    bot_id: strawberry.ID = strawberry.field(description="The id of the bot whose memory it is.")
    memory_id: strawberry.ID = strawberry.field(
        description="The memory's UUID; not a reference: the memory may be gone."
    )
    action: AuditAction = strawberry.field(description="What happened.")
    actor: str = strawberry.field(description='Who did it: "system", "user" or a bot slug.')
    details: JSON | None = strawberry.field(description="Optional structured context (any JSON).")
    created_at: DateTime = strawberry.field(description="When it was logged (server time).")

    @strawberry.field(
        description="The bot; null once the bot is deleted (the trail stays).",
        metadata=level_resolver(load_bots_of),
    )
    async def bot(self, info: Info) -> Bot | None:
        (bot,) = await load_bots_of(info.context, [self])
        return bot

    @classmethod
    def from_row(cls, row: MemoryAuditEntryRow) -> "MemoryAuditEntry":
        return cls(
            id=strawberry.ID(row.id),
            bot_id=strawberry.ID(row.bot_id),
            memory_id=strawberry.ID(row.memory_id),
            action=AuditAction(row.action),
            actor=row.actor,
            details=None if row.details is None else JSON(row.details),
            created_at=DateTime(row.created_at),
        )


MemoryAuditEntryConnection = Connection[MemoryAuditEntry]


@strawberry.input(description="Which audit entries to list; every condition given must hold.")
class AuditLogFilter:
    actions: list[AuditAction] | None = strawberry.field(
        default=None, description="Only entries with one of these actions."
    )
    actor: str | None = strawberry.field(default=None, description="Only this actor (exact).")
    since: DateTime | None = strawberry.field(
        default=None, description="Only entries logged at or after this moment (inclusive)."
    )
    until: DateTime | None = strawberry.field(
        default=None, description="Only entries logged before this moment (exclusive)."
    )


@strawberry.input(description="A memory event to append to the audit log.")
class LogMemoryAuditInput:
    bot_id: strawberry.ID = strawberry.field(description="The bot; NOT_FOUND when absent.")
    memory_id: strawberry.ID = strawberry.field(description="The memory's UUID.")
    action: AuditAction = strawberry.field(description="What happened.")
    actor: str = strawberry.field(
        description='Who did it: "system", "user" or a bot slug (1 byte to 4 KiB, no NUL).'
    )
    details: JSON | None = strawberry.field(
        default=None, description="Optional structured context: any JSON, at most 64 KiB of text."
    )


def to_filter(given: AuditLogFilter | None) -> AuditFilter:
    """The checked filter as the db layer takes it."""
    if given is None:
        return AuditFilter()
    return AuditFilter(
        actions=None if given.actions is None else tuple(action.value for action in given.actions),
        actor=check_optional_text(given.actor, "filter.actor"),
        since=given.since,
        until=given.until,
    )


def page_args(
    info: Info, first: int | None, after: str | None
) -> tuple[tuple[str, str] | None, int]:
    """The (created_at, id) cursor to continue after, and the page size."""
    limit = page_size(first, info.context.settings)
    cursor = decode_cursor(after, _CURSOR_KIND, 2)
    if cursor is None:
        return None, limit
    if not all(isinstance(value, str) and "\x00" not in value for value in cursor):
        raise ValidationError(f"malformed cursor '{after}'")
    return (cursor[0], cursor[1]), limit


def entry_connection(
    rows: Sequence[MemoryAuditEntryRow],
    *,
    limit: int,
    after: tuple[str, str] | None,
    count: Callable[[], Awaitable[int]],
) -> MemoryAuditEntryConnection:
    return build_connection(
        rows,
        limit=limit,
        after_given=after is not None,
        cursor=lambda row: encode_cursor(_CURSOR_KIND, row.created_at, row.id),
        node=MemoryAuditEntry.from_row,
        count=count,
    )


async def load_bot_pages(
    context: Context, keys: Sequence[PageKey]
) -> list[list[MemoryAuditEntryRow]]:
    """Pages by (bot_id, filter, cursor, limit): one statement per distinct filter."""
    conn = context.db.read()
    found: dict[PageKey, list[MemoryAuditEntryRow]] = {}
    for audit_filter in dict.fromkeys(key[1] for key in keys):
        wanted = [key for key in keys if key[1] == audit_filter]
        pages = [(bot_id, after, limit) for bot_id, _, after, limit in wanted]
        rows = await db_audit.list_bot_pages(conn, filter=audit_filter, pages=pages)
        found.update(zip(wanted, rows, strict=True))
    return [found[key] for key in keys]


async def load_bot_counts(context: Context, keys: Sequence[CountKey]) -> list[int]:
    """Entry counts by (bot_id, filter): one statement per distinct filter."""
    conn = context.db.read()
    found: dict[CountKey, int] = {}
    for audit_filter in dict.fromkeys(key[1] for key in keys):
        bot_ids = [bot_id for bot_id, key_filter in keys if key_filter == audit_filter]
        counts = await db_audit.count_bot_entries(conn, filter=audit_filter, bot_ids=bot_ids)
        found.update({(bot_id, audit_filter): counts.get(bot_id, 0) for bot_id in bot_ids})
    return [found[key] for key in keys]


async def bot_audit_log(
    info: Info,
    bot_id: str,
    filter: AuditLogFilter | None,
    first: int | None,
    after: str | None,
) -> MemoryAuditEntryConnection:
    """Bot.auditLog: one level_resolver statement for the pages of all the bots of a page."""
    audit_filter = to_filter(filter)
    cursor, limit = page_args(info, first, after)
    rows = await info.context.loader(load_bot_pages).load((bot_id, audit_filter, cursor, limit + 1))
    return entry_connection(
        rows,
        limit=limit,
        after=cursor,
        count=lambda: info.context.loader(load_bot_counts).load((bot_id, audit_filter)),
    )
