"""What each operation does: per-feature Query/Mutation classes merged into one schema."""

import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from resolvers.bots import BotMutation, BotQuery
from resolvers.node import NodeQuery
from schema.scalars import SCALARS

Query = merge_types("Query", (NodeQuery, BotQuery))
Mutation = merge_types("Mutation", (BotMutation,))


def build_schema() -> strawberry.Schema:
    """The Strawberry schema. The HTTP endpoint executes it with its own document cache;
    Strawberry's own execution (WebSocket) keeps the parser and validation caches."""
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        extensions=[lambda: ParserCache(maxsize=1024), lambda: ValidationCache(maxsize=1024)],
        config=StrawberryConfig(scalar_map=SCALARS),
    )
