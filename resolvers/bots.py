"""Bots: what each bot operation does. Thin: validate, call db, map to types."""

from typing import Annotated

import strawberry

from db import bots as db_bots
from db.codec import MAX_INT32, new_id, parse_uuid
from db.errors import ConflictError, NotFoundError, ValidationError
from resolvers import events
from resolvers.files import content_store, release_bot_content
from resolvers.slug import slug_candidates, slugify
from schema.bots import (
    Bot,
    BotActivityInput,
    BotCategory,
    BotConnection,
    BotOrder,
    BotStatus,
    CreateBotInput,
    UpdateBotInput,
)
from schema.context import Info
from schema.inputs import MAX_LONG_TEXT_BYTES, check_optional_text, check_text, given_fields
from schema.pagination import (
    AFTER,
    FIRST,
    build_connection,
    decode_cursor,
    encode_cursor,
    page_size,
)

MAX_TAGS = 50
MAX_TAG_BYTES = 64
_CURSOR_KIND = "bot"


def _check_name(name: str) -> str:
    trimmed = check_text(name, "name").strip()
    if not slugify(trimmed):
        raise ValidationError("name must contain at least one letter or digit")
    return trimmed


def _check_tags(tags: list[str]) -> list[str]:
    if len(tags) > MAX_TAGS:
        raise ValidationError(f"at most {MAX_TAGS} tags are allowed, not {len(tags)}")
    return [check_text(tag, "a tag", max_bytes=MAX_TAG_BYTES) for tag in tags]


def _check_description(description: str) -> str:
    return check_text(description, "description", max_bytes=MAX_LONG_TEXT_BYTES)


@strawberry.type
class BotQuery:
    @strawberry.field(description="One bot by id or by slug (exactly one of them); null if absent.")
    async def bot(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The bot's id.")
        ] = None,
        slug: Annotated[str | None, strawberry.argument(description="The bot's slug.")] = None,
    ) -> Bot | None:
        if (id is None) == (slug is None):
            raise ValidationError("give exactly one of id or slug")
        conn = info.context.db.read()
        if id is not None:
            row = await db_bots.get_bot(conn, id=parse_uuid(id))
        else:
            row = await db_bots.get_bot_by_slug(conn, slug=check_text(str(slug), "slug"))
        return None if row is None else Bot.from_row(row)

    @strawberry.field(description="Bots, filtered and ordered (default: newest first).")
    async def bots(
        self,
        info: Info,
        status: Annotated[
            BotStatus | None, strawberry.argument(description="Only bots with this status.")
        ] = None,
        category: Annotated[
            BotCategory | None, strawberry.argument(description="Only bots of this category.")
        ] = None,
        order_by: Annotated[
            BotOrder | None, strawberry.argument(description="Default: CREATED_AT, DESC.")
        ] = None,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> BotConnection:
        order = order_by or BotOrder()
        column = order.field.value
        descending = order.direction.value == "desc"
        limit = page_size(first, info.context.settings)
        cursor = decode_cursor(after, _CURSOR_KIND, 4)
        if cursor is not None and (cursor[0] != column or cursor[1] != descending):
            raise ValidationError("this cursor was made for another orderBy")
        if cursor is not None and not (
            isinstance(cursor[2], str | None) and isinstance(cursor[3], str)
        ):
            raise ValidationError(f"malformed cursor '{after}'")
        status_value = None if status is None else status.value
        category_value = None if category is None else category.value
        conn = info.context.db.read()
        rows = await db_bots.list_bots(
            conn,
            status=status_value,
            category=category_value,
            column=column,
            descending=descending,
            after=None if cursor is None else (cursor[2], str(cursor[3])),
            limit=limit + 1,
        )

        return build_connection(
            rows,
            limit=limit,
            after_given=cursor is not None,
            cursor=lambda row: encode_cursor(
                _CURSOR_KIND, column, descending, row.sort_value(column), row.id
            ),
            node=Bot.from_row,
            count=lambda: db_bots.count_bots(conn, status=status_value, category=category_value),
        )


@strawberry.type
class BotMutation:
    @strawberry.mutation(
        description="Create a bot. The slug comes from the name; on collision -2, -3 ... -100 "
        "are tried, then CONFLICT."
    )
    async def create_bot(
        self,
        info: Info,
        input: Annotated[CreateBotInput, strawberry.argument(description="The new bot.")],
    ) -> Bot:
        name = _check_name(input.name)
        description = _check_description(
            f"A bot named {name}" if input.description is None else input.description
        )
        tags = _check_tags(input.tags or [])
        user_id = check_optional_text(input.user_id, "userId")
        candidates = slug_candidates(slugify(name))
        async with info.context.db.write() as conn:
            taken = await db_bots.taken_slugs(conn, candidates=candidates)
            for slug in candidates:
                if slug in taken:
                    continue
                row = await db_bots.create_bot(
                    conn,
                    id=new_id(),
                    slug=slug,
                    name=name,
                    description=description,
                    status=(input.status or BotStatus.ACTIVE).value,
                    category=(input.category or BotCategory.ASSISTANT).value,
                    tags=tags,
                    user_id=user_id,
                    now=info.context.now(),
                )
                if row is not None:
                    return Bot.from_row(row)
        raise ConflictError(
            f"the slugs {candidates[0]} and {candidates[0]}-2 ... -100 are all taken"
        )

    @strawberry.mutation(description="Change a bot; NOT_FOUND when absent.")
    async def update_bot(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The bot's id.")],
        input: Annotated[UpdateBotInput, strawberry.argument(description="What to change.")],
    ) -> Bot:
        bot_id = parse_uuid(id)
        changes = given_fields(input, nullable=frozenset({"user_id"}))
        if "name" in changes:
            changes["name"] = _check_name(str(changes["name"]))
        if "description" in changes:
            changes["description"] = _check_description(str(changes["description"]))
        if "tags" in changes:
            changes["tags"] = _check_tags(input.tags or [])
        if "user_id" in changes:
            changes["user_id"] = check_optional_text(input.user_id, "userId")
        for field in ("category", "status"):
            if field in changes:
                changes[field] = getattr(input, field).value
        async with info.context.db.write() as conn:
            row = await db_bots.update_bot(conn, id=bot_id, changes=changes, now=info.context.now())
        if row is None:
            raise NotFoundError(f"no bot with id {bot_id}")
        return Bot.from_row(row)

    @strawberry.mutation(
        description="Delete a bot and its KV entries, files, versions and content (its audit "
        "trail stays); NOT_FOUND when absent. Returns the id."
    )
    async def delete_bot(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The bot's id.")],
    ) -> strawberry.ID:
        bot_id = parse_uuid(id)
        async with info.context.db.write() as conn:
            await release_bot_content(conn, info.context, bot_id)
            deleted = await db_bots.delete_bot(conn, id=bot_id)
            events.bot_deleted(conn, info.context, bot_id, deleted)
        await content_store(info.context).settle()
        if not deleted:
            raise NotFoundError(f"no bot with id {bot_id}")
        return strawberry.ID(bot_id)

    @strawberry.mutation(
        description="Add a chat turn's counts to a bot atomically and set lastActiveAt to now."
    )
    async def record_bot_activity(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The bot's id.")],
        input: Annotated[BotActivityInput, strawberry.argument(description="What to add.")],
    ) -> Bot:
        bot_id = parse_uuid(id)
        for what, value in (
            ("tokensUsed", input.tokens_used),
            ("conversations", input.conversations),
            ("versions", input.versions),
        ):
            if value < 0:
                raise ValidationError(f"{what} must be >= 0, not {value}")
        async with info.context.db.write() as conn:
            row = await db_bots.record_activity(
                conn,
                id=bot_id,
                tokens=input.tokens_used,
                conversations=input.conversations,
                versions=input.versions,
                now=info.context.now(),
            )
            if row is None:
                if await db_bots.bot_exists(conn, id=bot_id):
                    raise ValidationError(
                        f"a counter would pass its maximum (versions {MAX_INT32})"
                    )
                raise NotFoundError(f"no bot with id {bot_id}")
        return Bot.from_row(row)
