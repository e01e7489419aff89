"""The engine: how a GraphQL operation runs on POST and GET /graphql.

A query with a plan (app/engine/compiler.py) runs compiled; anything else, and a compiled run
that meets something it does not handle (app/engine/plans.py), runs on the reference path:
graphql-core executing the unmodified Strawberry schema (its resolvers through Strawberry's
own wrappers, which receive strawberry.Info and run field extensions and permissions), with
the leaf shortcut of app/engine/executor.py. Each query the reference path answers is counted
by reason (`fallbacks`) and logged at debug level; mutations always take that path.

What the HTTP endpoint does not run through Strawberry's execute, it must reproduce or refuse:
the schema extensions it reproduces are listed in REPRODUCED; any other schema extension, a
custom directive or an exception handler makes the Engine refuse the schema at start-up
(UnsupportedSchemaError), rather than let it run on WebSocket and silently not over HTTP.
"""

import logging
from collections import Counter
from collections.abc import Callable
from inspect import isawaitable
from typing import Any

import strawberry
from graphql import DocumentNode, ExecutionResult, execute
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache
from strawberry.extensions.directives import DirectivesExtension, DirectivesExtensionSync

from app.engine.compiler import Declined, compile_query
from app.engine.executor import FastExecutor, is_awaitable
from app.engine.plans import Fallback, QueryPlan
from app.engine.strawberry_adapter import graphql_schema
from schema.coded_errors import CodedErrors

logger = logging.getLogger("boternity.engine")

# schema extensions the HTTP endpoint does itself, and where
REPRODUCED: dict[type[SchemaExtension], str] = {
    ParserCache: "app/documents.py parses each query text once",
    ValidationCache: "app/documents.py validates each query text once",
    CodedErrors: "the endpoint formats its errors with schema/errors.py",
}
RESOLVER_ERROR = "a resolver raised (graphql-core reports it)"


class UnsupportedSchemaError(Exception):
    """The schema uses a Strawberry feature the engine would bypass."""


def check_supported(schema: strawberry.Schema) -> None:
    """Refuse a schema with schema extensions, custom directives or exception handlers that
    the HTTP endpoint would not run."""
    problems = [
        f"schema extension {type(extension).__name__}"
        for extension in schema.get_extensions()
        if type(extension) not in REPRODUCED
        and not isinstance(extension, DirectivesExtension | DirectivesExtensionSync)
    ]
    problems += [
        f"custom directive @{directive.graphql_name or directive.python_name}"
        for directive in schema.directives
    ]
    if schema.exception_handlers:
        problems.append("exception handlers")
    if problems:
        raise UnsupportedSchemaError(
            "the execution engine (app/engine) does not support "
            + ", ".join(problems)
            + ": it would not run on POST /graphql; remove it or run it in the engine"
        )


class Engine:
    def __init__(self, schema: strawberry.Schema) -> None:
        check_supported(schema)
        self.strawberry_schema = schema
        self.schema = graphql_schema(schema)
        self.fallbacks: Counter[str] = Counter()  # reference-path runs by reason

    def plan(self, document: DocumentNode, operation_name: str | None) -> QueryPlan | Declined:
        """The operation's plan (made once per cached document), or why it has none."""
        return compile_query(self.strawberry_schema, document, operation_name)

    async def execute(
        self,
        document: DocumentNode,
        plan: QueryPlan | Declined,
        make_context: Callable[[], Any],
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> ExecutionResult:
        reason: str | None
        if isinstance(plan, QueryPlan):
            try:
                return ExecutionResult(await plan.run(make_context(), variables))
            except Fallback as fallback:
                reason = fallback.reason
            except Exception:  # graphql-core runs it again and reports the error properly
                reason = RESOLVER_ERROR
        else:
            reason = plan.reason if plan.fallback else None
        if reason is not None:
            self.fallbacks[reason] += 1
            logger.debug("reference path for operation %s: %s", operation_name or "-", reason)
        result = execute(
            self.schema,
            document,
            context_value=make_context(),
            variable_values=variables,
            operation_name=operation_name,
            executor_class=FastExecutor,
            is_awaitable=is_awaitable,
        )
        if isawaitable(result):
            result = await result
        assert isinstance(result, ExecutionResult)
        return result
