"""graphql-core's executor with a fast path for plain leaf fields.

Most of a page's cost is graphql-core completing leaf fields one by one: a resolve info, the
Strawberry wrapper around getattr, awaitable checks, and leaf completion, for every key and
value of every entry. A selection whose fields are all plain attributes (Strawberry fields
without a resolver, no arguments) of scalar or enum type is completed here in one loop:
getattr, then the type's serialize. Anything unusual (a null in a non-null field, a serialize
error) falls back to graphql-core's own path, so errors look exactly as they would without it.
"""

import asyncio
import types
from collections.abc import Awaitable
from typing import Any, TypeGuard

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLScalarType,
)
from graphql.execution import Executor
from graphql.pyutils import AwaitableOrValue, Path

_AWAITABLE = (types.CoroutineType, asyncio.Future)
_STRAWBERRY = "strawberry-definition"

# (response name, attribute (None: the constant __typename), serialize or the typename, non-null)
LeafPlan = tuple[tuple[str, str | None, Any, bool], ...]


def is_awaitable(value: Any) -> TypeGuard[Awaitable[Any]]:
    """What resolvers here return when they are asynchronous: coroutines and futures (the
    DataLoader's). Cheaper than graphql-core's general check, which runs for every field."""
    return isinstance(value, _AWAITABLE)


def _plain_attribute(field: GraphQLField) -> str | None:
    """The Python attribute behind a field Strawberry resolves with plain getattr, or None."""
    definition = (field.extensions or {}).get(_STRAWBERRY)
    if definition is None or not getattr(field.resolve, "_is_default", False):
        return None
    if field.args or definition.extensions or definition.default_resolver is not getattr:
        return None
    name: str = definition.python_name
    return name


class FastExecutor(Executor[Any]):
    """Executor whose leaf-only selections skip the per-field machinery."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[int, tuple[Any, LeafPlan | None]] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        plan = self._plan(parent_type, grouped_field_set) if path is not None else None
        if plan is not None:
            results = _complete_leaves(plan, source_value)
            if results is not None:
                return results
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

    def complete_list_value(
        self,
        return_type: GraphQLList[Any],
        field_details_list: Any,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> AwaitableOrValue[list[Any]]:
        """A list of objects whose selection is all plain leaves, completed in one loop."""
        item_type = return_type.of_type
        if isinstance(item_type, GraphQLNonNull):
            item_type = item_type.of_type
        if isinstance(item_type, GraphQLObjectType) and isinstance(result, list):
            grouped_field_set = self.collect_subfields(item_type, field_details_list)[0]
            plan = self._plan(item_type, grouped_field_set)
            if plan is not None:
                completed = _complete_objects(item_type, plan, result, info)
                if completed is not None:
                    return completed
        return super().complete_list_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> LeafPlan | None:
        cached = self._plans.get(id(grouped_field_set))
        if cached is not None and cached[0] is grouped_field_set:
            return cached[1]
        plan = _leaf_plan(parent_type, grouped_field_set)
        self._plans[id(grouped_field_set)] = (grouped_field_set, plan)
        return plan


def _complete_leaves(plan: LeafPlan, source: Any) -> dict[str, Any] | None:
    """The object's fields by the plan; None when graphql-core must complete it (a null in a
    non-null field, a serialize error), so the error is reported the usual way."""
    results: dict[str, Any] = {}
    try:
        for response_name, attribute, serialize, non_null in plan:
            if attribute is None:
                results[response_name] = serialize
                continue
            value = getattr(source, attribute)
            if value is None:
                if non_null:
                    return None
                results[response_name] = None
            else:
                results[response_name] = serialize(value)
    except Exception:  # graphql-core's own path reports it properly
        return None
    return results


def _complete_objects(
    item_type: GraphQLObjectType, plan: LeafPlan, items: list[Any], info: GraphQLResolveInfo[Any]
) -> list[Any] | None:
    """Every item completed by the plan (after the type's is_type_of check, as graphql-core
    does); None when any item needs graphql-core's own path."""
    is_type_of = item_type.is_type_of
    completed = []
    for item in items:
        if item is None or (is_type_of is not None and is_type_of(item, info) is not True):
            return None
        fields = _complete_leaves(plan, item)
        if fields is None:
            return None
        completed.append(fields)
    return completed


def _leaf_plan(parent_type: GraphQLObjectType, grouped_field_set: Any) -> LeafPlan | None:
    steps: list[tuple[str, str | None, Any, bool]] = []
    for response_name, field_details_list in grouped_field_set.items():
        node = field_details_list[0].node
        if node.arguments or node.directives:
            return None
        if node.name.value == "__typename":
            steps.append((response_name, None, parent_type.name, True))
            continue
        field = parent_type.fields.get(node.name.value)
        if field is None:
            return None
        attribute = _plain_attribute(field)
        kind = field.type
        non_null = isinstance(kind, GraphQLNonNull)
        if non_null:
            kind = kind.of_type
        if attribute is None or not isinstance(kind, GraphQLScalarType | GraphQLEnumType):
            return None
        steps.append((response_name, attribute, kind.serialize, non_null))
    return tuple(steps)
