"""node(id): refetch any Node by its UUID."""

from collections.abc import Awaitable, Callable
from typing import Annotated

import strawberry

from db import audit_log as db_audit
from db import bots as db_bots
from db import builder as db_builder
from db import files as db_files
from db.codec import parse_uuid
from schema.audit_log import MemoryAuditEntry
from schema.bots import Bot
from schema.builder import BuilderMemoryEntry
from schema.context import Context, Info
from schema.files import FileVersion, StorageFile
from schema.node import Node


async def _bot(context: Context, id: str) -> Node | None:
    row = await db_bots.get_bot(context.db.read(), id=id)
    return None if row is None else Bot.from_row(row)


async def _builder_memory_entry(context: Context, id: str) -> Node | None:
    row = await db_builder.get_memory_entry(context.db.read(), id=id)
    return None if row is None else BuilderMemoryEntry.from_row(row)


async def _memory_audit_entry(context: Context, id: str) -> Node | None:
    row = await db_audit.get_entry(context.db.read(), id=id)
    return None if row is None else MemoryAuditEntry.from_row(row)


async def _storage_file(context: Context, id: str) -> Node | None:
    row = await db_files.get_file(context.db.read(), id=id)
    return None if row is None else StorageFile.from_row(row)


async def _file_version(context: Context, id: str) -> Node | None:
    row = await db_files.get_version(context.db.read(), id=id)
    return None if row is None else FileVersion.from_row(row)


# Each feature whose type implements Node adds its finder here.
FINDERS: list[Callable[[Context, str], Awaitable[Node | None]]] = [
    _bot,
    _builder_memory_entry,
    _memory_audit_entry,
    _storage_file,
    _file_version,
]


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any object with an id (Bot, StorageFile, ...); null if absent.")
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Any object's UUID.")],
    ) -> Node | None:
        node_id = parse_uuid(id)
        for find in FINDERS:
            found = await find(info.context, node_id)
            if found is not None:
                return found
        return None
