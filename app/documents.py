"""Parsed and validated documents, cached by query text, with the request limits applied once.

Parsing and validation cost about 20 times a small query's execution (DESIGN.md section 3), so
each distinct query text is parsed, validated and checked against the token, fragment, depth
and alias limits once, and its cost worked out (app/analysis.py); the result (a document and
its costs, or the errors) is kept in an LRU cache. The cost is checked against max_cost per
request (`refuse_costly`, or `cost` and `over_budget` for a batch), since page sizes can be
variables.
"""

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import NoSchemaIntrospectionCustomRule

from app.analysis import Analysis, OperationCost, operation_costs, shape
from app.engine.compiler import Declined
from app.engine.plans import QueryPlan
from app.responses import GraphQLRequestError
from app.variables import ListVariables
from db.settings import Settings
from schema.errors import PARSE_FAILED, VALIDATION_FAILED, coded_error, format_error

QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"


@dataclass(frozen=True)
class Prepared:
    """A query text ready to execute, or the errors that stop it (already formatted)."""

    document: DocumentNode | None
    errors: list[dict[str, Any]]
    operations: dict[str | None, OperationType]
    costs: dict[str | None, OperationCost] = field(default_factory=dict)
    lists: dict[str | None, ListVariables] = field(default_factory=dict)
    # compiled query plans by operation name (app/engine/compiler.py), or why there is
    # none; made on first use
    plans: dict[str | None, QueryPlan | Declined] = field(default_factory=dict)


class DocumentCache:
    def __init__(self, schema: GraphQLSchema, settings: Settings, size: int = 1024) -> None:
        self._schema = schema
        self._settings = settings
        self._rules = list(specified_rules)
        if not settings.introspection:
            self._rules.append(NoSchemaIntrospectionCustomRule)
        self.get = lru_cache(maxsize=size)(self._prepare)

    def _prepare(self, query: str) -> Prepared:
        try:
            limit = self._settings.max_tokens
            document = parse(query, max_lexical_tokens=limit, max_comments=limit)
        except GraphQLError as error:
            if "nested too deeply" in error.message:
                return _refused("the query is nested too deeply", QUERY_TOO_COMPLEX)
            if error.message.endswith("Parsing aborted."):
                return _refused(f"the query has more than {limit} tokens", QUERY_TOO_COMPLEX)
            return Prepared(None, [format_error(error, PARSE_FAILED)], {})
        found = shape(document)
        if found.fragments > self._settings.max_fragments:
            limit = self._settings.max_fragments
            return _refused(
                f"the query defines {found.fragments} fragments; at most {limit} are allowed",
                QUERY_TOO_COMPLEX,
            )
        if found.spreads > self._settings.max_spreads:
            limit = self._settings.max_spreads
            return _refused(
                f"the query has {found.spreads} fragment spreads; at most {limit} are allowed",
                QUERY_TOO_COMPLEX,
            )
        errors = validate(self._schema, document, self._rules)
        if errors:
            return Prepared(None, [format_error(error, VALIDATION_FAILED) for error in errors], {})
        too_complex = self._limits(document)
        if too_complex is not None:
            return _refused(too_complex, QUERY_TOO_COMPLEX)
        operations = {
            (definition.name.value if definition.name else None): definition.operation
            for definition in document.definitions
            if isinstance(definition, OperationDefinitionNode)
        }
        costs = operation_costs(self._schema, document, self._settings)
        lists = {
            (node.name.value if node.name else None): ListVariables(
                self._schema, node, self._settings
            )
            for node in document.definitions
            if isinstance(node, OperationDefinitionNode)
        }
        return Prepared(document, [], operations, costs, lists)

    def _limits(self, document: DocumentNode) -> str | None:
        """Why the document is over a limit of its size (fragments, spreads, depth, aliases),
        or None. Linear in the document: app/analysis.py."""
        settings = self._settings
        depth, aliases = Analysis(self._schema, document, settings).depth_and_aliases()
        if aliases > settings.max_aliases:
            return f"the query uses {aliases} aliases; at most {settings.max_aliases} are allowed"
        if depth > settings.max_depth:
            return f"the query is {depth} levels deep; at most {settings.max_depth} are allowed"
        return None

    def operation_cost(
        self, prepared: Prepared, name: str | None, variables: dict[str, Any] | None
    ) -> int:
        """The cost of the operation that runs (the costliest when the name picks none), once
        its list variables are within their bounds (BAD_USER_INPUT otherwise)."""
        if prepared.document is None:
            return 0
        if name is None and len(prepared.costs) == 1:
            name = next(iter(prepared.costs))
        lists = prepared.lists.get(name)
        if lists is not None:
            lists.check(variables)
        found = prepared.costs.get(name)
        if found is not None:
            return found.cost(variables)
        return max((each.cost(variables) for each in prepared.costs.values()), default=0)

    def check_budget(self, cost: int) -> None:
        """QUERY_TOO_COMPLEX (TooComplexError) when a cost is over max_cost."""
        if cost > self._settings.max_cost:
            raise TooComplexError(cost, self._settings.max_cost)

    def check_operation(
        self, prepared: Prepared, name: str | None, variables: dict[str, Any] | None
    ) -> None:
        """The checks of one operation before it runs: list variables, then the cost budget (a
        subscription's cost is what one event can hold)."""
        self.check_budget(self.operation_cost(prepared, name, variables))


class TooComplexError(GraphQLRequestError):
    """A request over the cost budget: extensions.cost and extensions.maxCost say by how much."""

    def __init__(self, cost: int, limit: int) -> None:
        message = (
            f"the query costs {cost} (the values its response can hold); at most {limit} are "
            "allowed: ask for smaller pages or fewer fields"
        )
        extensions = {"code": QUERY_TOO_COMPLEX, "cost": cost, "maxCost": limit}
        super().__init__(
            message, QUERY_TOO_COMPLEX, [{"message": message, "extensions": extensions}]
        )
        self.cost = cost
        self.limit = limit


def _refused(message: str, code: str) -> Prepared:
    return Prepared(None, [coded_error(message, code)], {})
