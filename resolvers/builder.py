"""Builder drafts and builder memory: what each operation does. Thin: validate, call db, map."""

from typing import Annotated, Any

import strawberry

from db import builder as db_builder
from db.builder import BuilderDraftRow, draft_summary
from db.codec import new_id, parse_uuid
from db.connection import Conn
from db.errors import PreconditionFailedError, ValidationError
from resolvers import events
from resolvers.purpose import classify_purpose
from schema.builder import (
    MAX_CUSTOM_CATEGORY_BYTES,
    MAX_MEMORY_LIMIT,
    MAX_SKILL_BYTES,
    MAX_SKILLS,
    MAX_STATE_BYTES,
    MAX_STATE_DEPTH,
    BuilderDraft,
    BuilderDraftConnection,
    BuilderMemoryEntry,
    PurposeCategory,
    RecordBuilderMemoryInput,
    SaveBuilderDraftInput,
)
from schema.context import Info
from schema.inputs import MAX_LONG_TEXT_BYTES, check_json, check_optional_text, check_text
from schema.pagination import build_connection, decode_cursor, encode_cursor, page_size

_CURSOR_KIND = "builder_draft"


def _state_text(state: Any) -> str:
    """The state as the compact JSON text to store; BAD_USER_INPUT unless it is a JSON object
    of at most MAX_STATE_BYTES, nested at most MAX_STATE_DEPTH levels, with valid strings."""
    if not isinstance(state, dict):
        kind = "null" if state is None else type(state).__name__
        raise ValidationError(f"state must be a JSON object, not {kind}")
    if _depth_over(state, MAX_STATE_DEPTH):
        raise ValidationError(f"state is nested more than {MAX_STATE_DEPTH} levels deep")
    return check_json(state, "state", max_bytes=MAX_STATE_BYTES)


def _depth_over(value: Any, limit: int) -> bool:
    """Whether objects and arrays nest more than limit levels (walked level by level, without
    recursion)."""
    level = [value]
    for _ in range(limit):
        level = [
            child
            for container in level
            for child in (container.values() if isinstance(container, dict) else container)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True


def _check_custom(category: PurposeCategory, custom_category: str | None) -> str | None:
    """The custom label: required for CUSTOM, refused for every other category."""
    if category is not PurposeCategory.CUSTOM:
        if custom_category is not None:
            raise ValidationError("customCategory is only allowed when the category is CUSTOM")
        return None
    if custom_category is None or not custom_category.strip():
        raise ValidationError("customCategory is required when the category is CUSTOM")
    return check_text(custom_category, "customCategory", max_bytes=MAX_CUSTOM_CATEGORY_BYTES)


def _check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_MEMORY_LIMIT:
        raise ValidationError(f"limit must be between 1 and {MAX_MEMORY_LIMIT}, not {limit}")
    return limit


def _check_skills(skills: list[str]) -> list[str]:
    if len(skills) > MAX_SKILLS:
        raise ValidationError(f"at most {MAX_SKILLS} chosenSkills are allowed, not {len(skills)}")
    return [check_text(skill, "a skill name", max_bytes=MAX_SKILL_BYTES) for skill in skills]


def _stale(session_id: str, current: BuilderDraftRow | None) -> PreconditionFailedError:
    if current is None:
        return PreconditionFailedError(
            f"no draft {session_id} is stored; save without expectedRevision and "
            "expectedUpdatedAt to create it"
        )
    return PreconditionFailedError(
        f"draft {session_id} has changed: it is at revision {current.revision}, updated at "
        f"{current.updated_at}; reload it and save again"
    )


async def _save(
    conn: Conn, input: SaveBuilderDraftInput, session_id: str, state_json: str, now: str
) -> BuilderDraftRow:
    """Upsert, or with an expected revision/updatedAt, update only the current draft (the check
    is part of the UPDATE, so it cannot race)."""
    if input.expected_revision is None and input.expected_updated_at is None:
        return await db_builder.set_draft(
            conn,
            session_id=session_id,
            state_json=state_json,
            summary=draft_summary(input.state),
            schema_version=input.schema_version,
            now=now,
        )
    row = await db_builder.update_draft_if_current(
        conn,
        session_id=session_id,
        state_json=state_json,
        summary=draft_summary(input.state),
        schema_version=input.schema_version,
        expected_revision=input.expected_revision,
        expected_updated_at=input.expected_updated_at,
        now=now,
    )
    if row is None:
        raise _stale(session_id, await db_builder.get_draft(conn, session_id=session_id))
    return row


@strawberry.type
class BuilderQuery:
    @strawberry.field(description="One builder draft by session id; null if absent.")
    async def builder_draft(
        self,
        info: Info,
        session_id: Annotated[strawberry.ID, strawberry.argument(description="The session.")],
    ) -> BuilderDraft | None:
        row = await db_builder.get_draft(
            info.context.db.read(), session_id=parse_uuid(session_id, "sessionId")
        )
        return None if row is None else BuilderDraft.from_row(row)

    @strawberry.field(
        description="Builder drafts, most recently saved first (ties by sessionId, descending)."
    )
    async def builder_drafts(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description="Page size.")] = None,
        after: Annotated[
            str | None, strawberry.argument(description="Cursor of the previous page's end.")
        ] = None,
    ) -> BuilderDraftConnection:
        limit = page_size(first, info.context.settings)
        cursor = decode_cursor(after, _CURSOR_KIND, 2)
        if cursor is not None and not all(isinstance(value, str) for value in cursor):
            raise ValidationError(f"malformed cursor '{after}'")
        conn = info.context.db.read()
        rows = await db_builder.list_drafts(
            conn,
            after=None if cursor is None else (cursor[0], cursor[1]),
            limit=limit + 1,
        )

        return build_connection(
            rows,
            limit=limit,
            after_given=cursor is not None,
            cursor=lambda row: encode_cursor(_CURSOR_KIND, row.updated_at, row.session_id),
            node=BuilderDraft.from_row,
            count=lambda: db_builder.count_drafts(conn),
        )

    @strawberry.field(
        description="Past builder sessions of one category, newest first (custom: exact label "
        "match). limit 1 to 100."
    )
    async def recall_builder_memory(
        self,
        info: Info,
        category: Annotated[
            PurposeCategory, strawberry.argument(description="The category to recall.")
        ],
        custom_category: Annotated[
            str | None,
            strawberry.argument(
                description="The label: required when category is CUSTOM, refused otherwise."
            ),
        ] = None,
        limit: Annotated[int, strawberry.argument(description="1 to 100.")] = 3,
    ) -> list[BuilderMemoryEntry]:
        custom = _check_custom(category, custom_category)
        rows = await db_builder.list_memory_for_category(
            info.context.db.read(),
            purpose_category=category.value,
            custom_category=custom,
            limit=_check_limit(limit),
        )
        return [BuilderMemoryEntry.from_row(row) for row in rows]

    @strawberry.field(description="Past builder sessions of every category, newest first.")
    async def recent_builder_memory(
        self, info: Info, limit: Annotated[int, strawberry.argument(description="1 to 100.")] = 10
    ) -> list[BuilderMemoryEntry]:
        rows = await db_builder.list_recent_memory(
            info.context.db.read(), limit=_check_limit(limit)
        )
        return [BuilderMemoryEntry.from_row(row) for row in rows]

    @strawberry.field(
        description="The purpose category the server infers from a free-text description."
    )
    def classify_purpose(
        self,
        description: Annotated[str, strawberry.argument(description="Free text; at most 64 KiB.")],
    ) -> PurposeCategory:
        text = check_text(description, "description", max_bytes=MAX_LONG_TEXT_BYTES)
        return PurposeCategory(classify_purpose(text))


@strawberry.type
class BuilderMutation:
    @strawberry.mutation(
        description="Store a draft (upsert by sessionId): createdAt is kept, revision advances. "
        "With expectedRevision or expectedUpdatedAt, a stale or absent draft is "
        "PRECONDITION_FAILED and nothing changes."
    )
    async def save_builder_draft(
        self,
        info: Info,
        input: Annotated[SaveBuilderDraftInput, strawberry.argument(description="The draft.")],
    ) -> BuilderDraft:
        session_id = parse_uuid(input.session_id, "sessionId")
        state_json = _state_text(input.state)
        if input.schema_version < 1:
            raise ValidationError(f"schemaVersion must be at least 1, not {input.schema_version}")
        if input.expected_revision is not None and input.expected_revision < 1:
            raise ValidationError(
                f"expectedRevision must be at least 1, not {input.expected_revision}"
            )
        async with info.context.db.write() as conn:
            row = await _save(conn, input, session_id, state_json, info.context.now())
            events.draft_saved(conn, info.context, row)
        return BuilderDraft.from_row(row)

    @strawberry.mutation(description="Delete a draft; false when it was absent.")
    async def delete_builder_draft(
        self,
        info: Info,
        session_id: Annotated[strawberry.ID, strawberry.argument(description="The session.")],
    ) -> bool:
        normalised = parse_uuid(session_id, "sessionId")
        async with info.context.db.write() as conn:
            deleted = await db_builder.delete_draft(conn, session_id=normalised)
            return events.draft_deleted(conn, info.context, normalised, deleted)

    @strawberry.mutation(description="Remember a finished builder session.")
    async def record_builder_memory(
        self,
        info: Info,
        input: Annotated[
            RecordBuilderMemoryInput, strawberry.argument(description="The session to remember.")
        ],
    ) -> BuilderMemoryEntry:
        custom = _check_custom(input.purpose_category, input.custom_category)
        description = check_text(
            input.initial_description, "initialDescription", max_bytes=MAX_LONG_TEXT_BYTES
        )
        tone = check_optional_text(input.chosen_tone, "chosenTone")
        model = check_optional_text(input.chosen_model, "chosenModel")
        skills = _check_skills(input.chosen_skills)
        bot_slug = check_optional_text(input.bot_slug, "botSlug")
        async with info.context.db.write() as conn:
            row = await db_builder.create_memory_entry(
                conn,
                id=new_id(),
                purpose_category=input.purpose_category.value,
                custom_category=custom,
                initial_description=description,
                chosen_tone=tone,
                chosen_model=model,
                chosen_skills=skills,
                bot_slug=bot_slug,
                now=info.context.now(),
            )
        return BuilderMemoryEntry.from_row(row)
