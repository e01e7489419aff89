"""Bots as clients see them: the Bot type, its enums, inputs and connection."""

from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from db import bots as db_bots
from db.bots import BotRow
from db.errors import NotFoundError
from schema.context import Context, Info, level_resolver
from schema.node import Node
from schema.pagination import AFTER, FIRST, Connection
from schema.scalars import DateTime, Long

if TYPE_CHECKING:
    from schema.audit_log import AuditLogFilter, MemoryAuditEntry
    from schema.files import StorageFile
    from schema.kv import KvEntry


@strawberry.enum(description="Whether a bot is in use.")
class BotStatus(Enum):
    ACTIVE = "active"
    DISABLED = "disabled"
    ARCHIVED = "archived"


@strawberry.enum(description="What kind of bot it is.")
class BotCategory(Enum):
    ASSISTANT = "assistant"
    CREATIVE = "creative"
    RESEARCH = "research"
    UTILITY = "utility"


_STATUSES = {status.value: status for status in BotStatus}  # faster than BotStatus(value)
_CATEGORIES = {category.value: category for category in BotCategory}


@strawberry.enum(description="What bots can be ordered by; nulls come last in both directions.")
class BotOrderField(Enum):
    NAME = "name"
    SLUG = "slug"
    STATUS = "status"
    CATEGORY = "category"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    LAST_ACTIVE_AT = "last_active_at"


@strawberry.enum(description="Sort direction.")
class SortDirection(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.input(description="The order of a bots list; ties are broken by id.")
class BotOrder:
    field: BotOrderField = strawberry.field(
        default=BotOrderField.CREATED_AT, description="The sort key."
    )
    direction: SortDirection = strawberry.field(
        default=SortDirection.DESC, description="The direction."
    )


async def _kv_entry_level(context: Context, bots: Sequence["Bot"], key: str) -> list[Any]:
    from schema.kv import entries_by_key

    return await entries_by_key(context, [bot.id for bot in bots], key)


async def _kv_entries_level(context: Context, bots: Sequence["Bot"], **arguments: Any) -> list[Any]:
    from schema.kv import entry_pages

    return await entry_pages(context, [bot.id for bot in bots], **arguments)


async def _files_level(context: Context, bots: Sequence["Bot"], **arguments: Any) -> list[Any]:
    from schema.files import file_pages

    return await file_pages(context, [bot.id for bot in bots], **arguments)


async def _file_level(context: Context, bots: Sequence["Bot"], filename: str) -> list[Any]:
    from schema.files import files_by_name

    return await files_by_name(context, [bot.id for bot in bots], filename)


@strawberry.type(description="A bot: the parent of its KV store, files and memory audit trail.")
class Bot(Node):
    id: str = strawberry.field(graphql_type=strawberry.ID, description="The bot's UUID (v7).")
    slug: str = strawberry.field(
        description="URL-safe name made from the name at creation; unique; kept on rename."
    )
    name: str = strawberry.field(description="Display name, trimmed.")
    description: str = strawberry.field(description="Free text, at most 64 KiB.")
    status: BotStatus = strawberry.field(description="Whether the bot is in use.")
    category: BotCategory = strawberry.field(description="What kind of bot it is.")
    tags: list[str] = strawberry.field(description="At most 50 tags of at most 64 bytes.")
    user_id: str | None = strawberry.field(
        description="Informational owner id (the deployment is single-tenant)."
    )
    conversation_count: int = strawberry.field(
        graphql_type=Long, description="Conversations started."
    )
    total_tokens_used: int = strawberry.field(graphql_type=Long, description="LLM tokens used.")
    version_count: int = strawberry.field(description="Soul versions created.")
    created_at: str = strawberry.field(
        graphql_type=DateTime, description="When the bot was created."
    )
    updated_at: str = strawberry.field(
        graphql_type=DateTime,
        description="When the bot's settings last changed (createBot, updateBot).",
    )
    last_active_at: str | None = strawberry.field(
        graphql_type=DateTime | None,
        description="When recordBotActivity last ran; null before any activity.",
    )

    @strawberry.field(
        description="One KV entry of this bot, or null when the key is absent.",
        metadata=level_resolver(_kv_entry_level),
    )
    async def kv_entry(
        self,
        info: Info,
        key: Annotated[str, strawberry.argument(description="The key (1 to 512 bytes).")],
    ) -> Annotated["KvEntry", strawberry.lazy("schema.kv")] | None:
        (entry,) = await _kv_entry_level(info.context, [self], key)
        return entry  # type: ignore[no-any-return]

    @strawberry.field(
        description="This bot's KV entries in key order (byte order).",
        metadata=level_resolver(_kv_entries_level),
    )
    async def kv_entries(
        self,
        info: Info,
        prefix: Annotated[
            str | None,
            strawberry.argument(description="Only keys starting with exactly these bytes."),
        ] = None,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> Connection[Annotated["KvEntry", strawberry.lazy("schema.kv")]]:
        (page,) = await _kv_entries_level(
            info.context, [self], prefix=prefix, first=first, after=after
        )
        return page  # type: ignore[no-any-return]

    @strawberry.field(description="This bot's memory audit trail, newest first.")
    async def audit_log(
        self,
        info: Info,
        filter: Annotated[
            Annotated["AuditLogFilter", strawberry.lazy("schema.audit_log")] | None,
            strawberry.argument(description="Which entries to list (default: all)."),
        ] = None,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> Connection[Annotated["MemoryAuditEntry", strawberry.lazy("schema.audit_log")]]:
        from schema.audit_log import bot_audit_log

        return await bot_audit_log(info, self.id, filter, first, after)

    @strawberry.field(
        description="This bot's files in filename order (byte order).",
        metadata=level_resolver(_files_level),
    )
    async def files(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> Connection[Annotated["StorageFile", strawberry.lazy("schema.files")]]:
        (page,) = await _files_level(info.context, [self], first=first, after=after)
        return page  # type: ignore[no-any-return]

    @strawberry.field(
        description="One file of this bot by filename, or null when absent.",
        metadata=level_resolver(_file_level),
    )
    async def file(
        self,
        info: Info,
        filename: Annotated[str, strawberry.argument(description="The file's name.")],
    ) -> Annotated["StorageFile", strawberry.lazy("schema.files")] | None:
        (file,) = await _file_level(info.context, [self], filename)
        return file  # type: ignore[no-any-return]

    @classmethod
    def from_row(cls, row: BotRow) -> "Bot":
        return cls(
            id=row.id,
            slug=row.slug,
            name=row.name,
            description=row.description,
            status=_STATUSES[row.status],
            category=_CATEGORIES[row.category],
            tags=row.tags,
            user_id=row.user_id,
            conversation_count=row.conversation_count,
            total_tokens_used=row.total_tokens_used,
            version_count=row.version_count,
            created_at=row.created_at,
            updated_at=row.updated_at,
            last_active_at=row.last_active_at,
        )


BotConnection = Connection[Bot]


async def load_bots(context: Context, ids: Sequence[str]) -> list[Bot | None]:
    """Bots by id for the per-request DataLoader (KvEntry.bot, MemoryAuditEntry.bot, ...)."""
    found = await db_bots.get_bots(context.db.read(), ids=ids)
    return [None if (row := found.get(bot_id)) is None else Bot.from_row(row) for bot_id in ids]


async def load_bots_of(context: Context, children: Sequence[Any]) -> list[Bot | None]:
    """The bots of rows with a `bot_id`, through the request's DataLoader (a parent link: many
    rows, one statement); None where the bot is gone (audit entries outlive their bot)."""
    found: list[Bot | None] = await context.loader(load_bots).load_many(
        [child.bot_id for child in children]
    )
    return found


async def parent_bots(context: Context, children: Sequence[Any]) -> list[Bot]:
    """The bots of rows with a `bot_id`; NOT_FOUND when one was deleted meanwhile (KV entries,
    files)."""
    found = await load_bots_of(context, children)
    for bot, child in zip(found, children, strict=True):
        if bot is None:
            raise NotFoundError(f"bot {child.bot_id} was deleted")
    return [bot for bot in found if bot is not None]


@strawberry.input(description="A new bot.")
class CreateBotInput:
    name: str = strawberry.field(description="Trimmed; must contain a letter or digit.")
    description: str | None = strawberry.field(
        default=None, description='Default "A bot named {name}"; at most 64 KiB.'
    )
    category: BotCategory | None = strawberry.field(
        default=BotCategory.ASSISTANT, description="Default ASSISTANT (also when null)."
    )
    status: BotStatus | None = strawberry.field(
        default=BotStatus.ACTIVE, description="Default ACTIVE (also when null)."
    )
    tags: list[str] | None = strawberry.field(
        default_factory=list, description="At most 50 tags of at most 64 bytes each."
    )
    user_id: str | None = strawberry.field(default=None, description="Informational owner id.")


@strawberry.input(
    description="Changes to a bot: omitted fields are left as they are; null clears only userId."
)
class UpdateBotInput:
    name: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="New name; the slug does not change. Must contain a letter or digit.",
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 64 KiB."
    )
    category: BotCategory | None = strawberry.field(
        default=strawberry.UNSET, description="New category."
    )
    status: BotStatus | None = strawberry.field(default=strawberry.UNSET, description="New status.")
    tags: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the tags (at most 50 of 64 bytes)."
    )
    user_id: str | None = strawberry.field(default=strawberry.UNSET, description="Null clears it.")


@strawberry.input(description="What a chat turn adds to a bot's counters (each >= 0).")
class BotActivityInput:
    tokens_used: Long = strawberry.field(default=Long(0), description="LLM tokens used.")
    conversations: int = strawberry.field(default=0, description="New conversations started.")
    versions: int = strawberry.field(default=0, description="New soul versions.")
