"""Parsed and validated documents, cached by query text, with the request limits applied once.

Parsing and validation cost about 20 times a small query's execution (DESIGN.md section 3), so
each distinct query text is parsed, validated and checked against the depth, token and alias
limits once; the result (a document, or the errors) is kept in an LRU cache.
"""

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import NoSchemaIntrospectionCustomRule

from app.compiled import QueryPlan
from db.settings import Settings
from schema.errors import PARSE_FAILED, VALIDATION_FAILED, coded_error, format_error

QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"


@dataclass(frozen=True)
class Prepared:
    """A query text ready to execute, or the errors that stop it (already formatted)."""

    document: DocumentNode | None
    errors: list[dict[str, Any]]
    operations: dict[str | None, OperationType]
    # compiled query plans by operation name (app/compiled.py), made on first use
    plans: dict[str | None, QueryPlan | None] = field(default_factory=dict)


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
        return Prepared(document, [], operations)

    def _limits(self, document: DocumentNode) -> str | None:
        fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        aliases = sum(
            _count_aliases(definition.selection_set)
            for definition in document.definitions
            if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode)
        )
        if aliases > self._settings.max_aliases:
            limit = self._settings.max_aliases
            return f"the query uses {aliases} aliases; at most {limit} are allowed"
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                depth = _depth(definition.selection_set, fragments, set())
                if depth > self._settings.max_depth:
                    return (
                        f"the query is {depth} levels deep; "
                        f"at most {self._settings.max_depth} are allowed"
                    )
        return None


def _refused(message: str, code: str) -> Prepared:
    return Prepared(None, [coded_error(message, code)], {})


def _count_aliases(selection_set: SelectionSetNode | None) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode) and selection.alias is not None:
            total += 1
        if isinstance(selection, FieldNode | InlineFragmentNode):
            total += _count_aliases(selection.selection_set)
    return total


def _depth(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    visiting: set[str],
) -> int:
    """Levels of fields below this selection set, fragments followed (cycles were refused by
    validation; `visiting` guards anyway)."""
    if selection_set is None:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            deepest = max(deepest, 1 + _depth(selection.selection_set, fragments, visiting))
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, fragments, visiting))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in visiting:
                visiting.add(name)
                deepest = max(deepest, _depth(fragment.selection_set, fragments, visiting))
                visiting.discard(name)
    return deepest
