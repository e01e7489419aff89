"""Bots as clients see them: the Bot type, its enums, inputs and connection."""

from enum import Enum

import strawberry

from db.bots import BotRow
from schema.node import Node
from schema.pagination import Connection
from schema.scalars import DateTime, Long


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


@strawberry.type(description="A bot: the parent of its KV store, files and memory audit trail.")
class Bot(Node):
    id: strawberry.ID = strawberry.field(description="The bot's UUID (v7).")
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
    conversation_count: Long = strawberry.field(description="Conversations started.")
    total_tokens_used: Long = strawberry.field(description="LLM tokens used.")
    version_count: int = strawberry.field(description="Soul versions created.")
    created_at: DateTime = strawberry.field(description="When the bot was created.")
    updated_at: DateTime = strawberry.field(
        description="When the bot's settings last changed (createBot, updateBot)."
    )
    last_active_at: DateTime | None = strawberry.field(
        description="When recordBotActivity last ran; null before any activity."
    )

    @classmethod
    def from_row(cls, row: BotRow) -> "Bot":
        return cls(
            id=strawberry.ID(row.id),
            slug=row.slug,
            name=row.name,
            description=row.description,
            status=BotStatus(row.status),
            category=BotCategory(row.category),
            tags=row.tags,
            user_id=row.user_id,
            conversation_count=Long(row.conversation_count),
            total_tokens_used=Long(row.total_tokens_used),
            version_count=row.version_count,
            created_at=DateTime(row.created_at),
            updated_at=DateTime(row.updated_at),
            last_active_at=None if row.last_active_at is None else DateTime(row.last_active_at),
        )


BotConnection = Connection[Bot]


@strawberry.input(description="A new bot.")
class CreateBotInput:
    name: str = strawberry.field(description="Trimmed; must contain a letter or digit.")
    description: str | None = strawberry.field(
        default=None, description='Default "A bot named {name}"; at most 64 KiB.'
    )
    category: BotCategory = strawberry.field(
        default=BotCategory.ASSISTANT, description="Default ASSISTANT."
    )
    status: BotStatus = strawberry.field(default=BotStatus.ACTIVE, description="Default ACTIVE.")
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
    category: BotCategory | None = strawberry.field(default=strawberry.UNSET, description="")
    status: BotStatus | None = strawberry.field(default=strawberry.UNSET, description="")
    tags: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the tags (at most 50 of 64 bytes)."
    )
    user_id: str | None = strawberry.field(default=strawberry.UNSET, description="Null clears it.")


@strawberry.input(description="What a chat turn adds to a bot's counters (each >= 0).")
class BotActivityInput:
    tokens_used: Long = strawberry.field(default=Long(0), description="LLM tokens used.")
    conversations: int = strawberry.field(default=0, description="New conversations started.")
    versions: int = strawberry.field(default=0, description="New soul versions.")
