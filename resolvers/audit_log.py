"""The memory audit log: what each audit operation does. Thin: validate, call db, map to types.
The log is append-only: no operation edits or deletes an entry."""

from typing import Annotated

import strawberry

from db import audit_log as db_audit
from db.audit_log import AuditFilter
from db.codec import new_id, parse_uuid
from db.errors import NotFoundError, ValidationError
from resolvers import events
from schema.audit_log import (
    AuditLogFilter,
    LogMemoryAuditInput,
    MemoryAuditEntry,
    MemoryAuditEntryConnection,
    entry_connection,
    page_args,
    to_filter,
)
from schema.context import Info
from schema.inputs import MAX_LONG_TEXT_BYTES, check_json, check_text
from schema.pagination import AFTER, FIRST


def _check_actor(actor: str) -> str:
    if not actor:
        raise ValidationError("actor must not be empty")
    return check_text(actor, "actor")


@strawberry.type
class AuditLogQuery:
    @strawberry.field(
        description="A bot's memory audit trail, newest first; a deleted bot's trail is kept."
    )
    async def audit_log(
        self,
        info: Info,
        bot_id: Annotated[strawberry.ID, strawberry.argument(description="The bot's id.")],
        filter: Annotated[
            AuditLogFilter | None,
            strawberry.argument(description="Which entries to list (default: all)."),
        ] = None,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> MemoryAuditEntryConnection:
        checked_bot = parse_uuid(bot_id, "botId")
        audit_filter = to_filter(filter)
        cursor, limit = page_args(info, first, after)
        conn = info.context.db.read()
        rows = await db_audit.list_entries(
            conn, bot_id=checked_bot, filter=audit_filter, after=cursor, limit=limit + 1
        )

        return entry_connection(
            rows,
            limit=limit,
            after=cursor,
            count=lambda: db_audit.count_entries(conn, bot_id=checked_bot, filter=audit_filter),
        )

    @strawberry.field(description="One memory's audit trail across bots, newest first.")
    async def memory_audit_trail(
        self,
        info: Info,
        memory_id: Annotated[strawberry.ID, strawberry.argument(description="The memory's id.")],
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    ) -> MemoryAuditEntryConnection:
        checked_memory = parse_uuid(memory_id, "memoryId")
        cursor, limit = page_args(info, first, after)
        conn = info.context.db.read()
        rows = await db_audit.list_entries(
            conn, memory_id=checked_memory, filter=AuditFilter(), after=cursor, limit=limit + 1
        )

        return entry_connection(
            rows,
            limit=limit,
            after=cursor,
            count=lambda: db_audit.count_entries(
                conn, memory_id=checked_memory, filter=AuditFilter()
            ),
        )


@strawberry.type
class AuditLogMutation:
    @strawberry.mutation(
        description="Append an entry to the memory audit log (id and createdAt are the "
        "server's); NOT_FOUND for an unknown bot."
    )
    async def log_memory_audit(
        self,
        info: Info,
        input: Annotated[
            LogMemoryAuditInput, strawberry.argument(description="What happened to a memory.")
        ],
    ) -> MemoryAuditEntry:
        bot_id = parse_uuid(input.bot_id, "botId")
        memory_id = parse_uuid(input.memory_id, "memoryId")
        actor = _check_actor(input.actor)
        details = (
            None
            if input.details is None
            else check_json(input.details, "details", max_bytes=MAX_LONG_TEXT_BYTES)
        )
        async with info.context.db.write() as conn:
            row = await db_audit.create_entry(
                conn,
                id=new_id(),
                bot_id=bot_id,
                memory_id=memory_id,
                action=input.action.value,
                actor=actor,
                details_json=details,
                now=info.context.now(),
            )
            events.audit_logged(conn, info.context, row)
        if row is None:
            raise NotFoundError(f"no bot with id {bot_id}")
        return MemoryAuditEntry.from_row(row)
