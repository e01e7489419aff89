"""What each operation does: per-feature Query/Mutation classes merged into one schema."""

import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from resolvers.audit_log import AuditLogMutation, AuditLogQuery
from resolvers.bots import BotMutation, BotQuery
from resolvers.builder import BuilderMutation, BuilderQuery
from resolvers.files import FileMutation, FileQuery
from resolvers.kv import KvMutation, KvQuery
from resolvers.node import NodeQuery
from resolvers.provider_health import ProviderHealthMutation, ProviderHealthQuery
from resolvers.subscriptions import SubscriptionRoot
from schema.coded_errors import CodedErrors
from schema.scalars import SCALARS

Query = merge_types(
    "Query",
    (NodeQuery, BotQuery, BuilderQuery, ProviderHealthQuery, KvQuery, AuditLogQuery, FileQuery),
)
Mutation = merge_types(
    "Mutation",
    (
        BotMutation,
        BuilderMutation,
        ProviderHealthMutation,
        KvMutation,
        AuditLogMutation,
        FileMutation,
    ),
)


def build_schema() -> strawberry.Schema:
    """The Strawberry schema. The HTTP endpoint executes it with its own document cache;
    Strawberry's own execution (WebSocket) keeps the parser and validation caches."""
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=SubscriptionRoot,
        extensions=[
            lambda: ParserCache(maxsize=1024),
            lambda: ValidationCache(maxsize=1024),
            CodedErrors,
        ],
        config=StrawberryConfig(scalar_map=SCALARS),
    )
