"""node(id): refetch any Node by its UUID."""

from collections.abc import Awaitable, Callable

import strawberry

from db import bots as db_bots
from db.codec import parse_uuid
from schema.bots import Bot
from schema.context import Context, Info
from schema.node import Node


async def _bot(context: Context, id: str) -> Node | None:
    row = await db_bots.get_bot(context.db.read(), id=id)
    return None if row is None else Bot.from_row(row)


# Each feature whose type implements Node adds its finder here.
FINDERS: list[Callable[[Context, str], Awaitable[Node | None]]] = [_bot]


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any object with an id (Bot, StorageFile, ...); null if absent.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        node_id = parse_uuid(id)
        for find in FINDERS:
            found = await find(info.context, node_id)
            if found is not None:
                return found
        return None
