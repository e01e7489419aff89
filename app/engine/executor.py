"""graphql-core's executor with a fast path for plain leaf fields, and how the engine calls
Strawberry resolvers.

Most of a page's cost is graphql-core completing leaf fields one by one: a resolve info, the
Strawberry wrapper around getattr, awaitable checks, and leaf completion, for every key and
value of every entry. A selection whose fields are all plain attributes (Strawberry fields
without a resolver, no arguments) of scalar or enum type is completed here in one loop:
getattr, then the type's serialize. Anything unusual (a null in a non-null field, a serialize
error) falls back to graphql-core's own path, so errors look exactly as they would without it.
"""

import asyncio
import types
from collections.abc import Awaitable, Callable
from typing import Any, TypeGuard

import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    Undefined,
)
from strawberry.resolvers import is_default_resolver

from app.engine.graphql_core_adapter import HookedExecutor
from app.engine.strawberry_adapter import argument_python_name, enum_class, field_definition

_AWAITABLE = (types.CoroutineType, asyncio.Future)

# (response name, attribute (None: the constant __typename), serialize or the typename, non-null)
LeafPlan = tuple[tuple[str, str | None, Any, bool], ...]
# GraphQL argument name -> (Python argument name, enum class to convert to or None)
Converters = dict[str, tuple[str, Any]]
# a resolver called directly: (source, strawberry.Info, Python keyword arguments)
DirectCall = Callable[[Any, "strawberry.Info[Any, Any]", dict[str, Any]], Any]


_SHARED_PLANS: dict[tuple[Any, ...], tuple[tuple[Any, ...], LeafPlan | None]] = {}
_SHARED_PLANS_MAX = 10_000


def is_awaitable(value: Any) -> TypeGuard[Awaitable[Any]]:
    """What resolvers here return when they are asynchronous: coroutines and futures (the
    DataLoader's). Cheaper than graphql-core's general check, which runs for every field."""
    return isinstance(value, _AWAITABLE)


def plain_attribute(field: GraphQLField) -> str | None:
    """The Python attribute behind a field Strawberry resolves with plain getattr, or None."""
    definition = field_definition(field)
    if definition is None or field.resolve is None or not is_default_resolver(field.resolve):
        return None
    if field.args or definition.extensions or definition.default_resolver is not getattr:
        return None
    name: str = definition.python_name
    return name


class FastExecutor(HookedExecutor):
    """Executor whose leaf-only selections skip the per-field machinery."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[int, tuple[Any, LeafPlan | None]] = {}

    def complete_object(
        self, parent_type: GraphQLObjectType, grouped_field_set: Any, source: Any
    ) -> dict[str, Any] | None:
        plan = self._plan(parent_type, grouped_field_set)
        return None if plan is None else _complete_leaves(plan, source)

    def complete_objects(
        self,
        item_type: GraphQLObjectType,
        grouped_field_set: Any,
        items: list[Any],
        info: GraphQLResolveInfo[Any],
    ) -> list[Any] | None:
        """A list of objects whose selection is all plain leaves, completed in one loop."""
        plan = self._plan(item_type, grouped_field_set)
        return None if plan is None else _complete_objects(item_type, plan, items, info)

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> LeafPlan | None:
        cached = self._plans.get(id(grouped_field_set))
        if cached is not None and cached[0] is grouped_field_set:
            return cached[1]
        # Across requests: the field nodes belong to the cached document, so their identity
        # names the selection (the nodes are kept in the entry, so no id is reused meanwhile).
        nodes = tuple(details[0].node for details in grouped_field_set.values())
        key = (parent_type.name, *map(id, nodes))
        shared = _SHARED_PLANS.get(key)
        if shared is None:
            if len(_SHARED_PLANS) > _SHARED_PLANS_MAX:
                _SHARED_PLANS.clear()
            shared = _SHARED_PLANS[key] = (nodes, _leaf_plan(parent_type, grouped_field_set))
        self._plans[id(grouped_field_set)] = (grouped_field_set, shared[1])
        return shared[1]


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
                serialized = serialize(value)
                if serialized is None or serialized is Undefined:
                    return None  # graphql-core reports it ("Expected `X.serialize` to ...")
                results[response_name] = serialized
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
        attribute = plain_attribute(field)
        kind = field.type
        non_null = isinstance(kind, GraphQLNonNull)
        if non_null:
            kind = kind.of_type
        if attribute is None or not isinstance(kind, GraphQLScalarType | GraphQLEnumType):
            return None
        steps.append((response_name, attribute, kind.serialize, non_null))
    return tuple(steps)


def argument_converters(field: GraphQLField) -> Converters | None:
    """How graphql-core's arguments of a Strawberry field become the Python function's keyword
    arguments: (Python name, enum class or None) by GraphQL name; None when an argument is an
    input object (Strawberry's wrapper must convert it)."""
    definition = field_definition(field)
    if definition is None:
        return None
    converters: Converters = {}
    for graphql_name, graphql_arg in field.args.items():
        python_name = argument_python_name(graphql_arg)
        if python_name is None:
            return None
        kind = graphql_arg.type
        kind = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
        if isinstance(kind, GraphQLEnumType):
            enum = enum_class(kind)
            if enum is None:
                return None
            converters[graphql_name] = (python_name, enum)
        elif isinstance(kind, GraphQLScalarType):
            converters[graphql_name] = (python_name, None)
        else:
            return None
    return converters


def python_arguments(converters: Converters, args: dict[str, Any]) -> dict[str, Any]:
    """graphql-core's coerced arguments as the resolver's keyword arguments."""
    kwargs = {}
    for name, value in args.items():
        python_name, enum = converters[name]
        kwargs[python_name] = enum(value) if enum is not None and value is not None else value
    return kwargs


def direct_call(field: GraphQLField) -> DirectCall | None:
    """The field's resolver as a plain call: `call(source, info, kwargs)` with a
    strawberry.Info and the Python keyword arguments (python_arguments), or None where
    Strawberry's wrapper must run (field extensions or permissions, input-object arguments,
    a resolver without `self`). Strawberry's wrapper costs more than a one-row query: it
    converts the arguments and builds its Info on every call; a plan calls the function with
    one Info per level instead."""
    definition = field_definition(field)
    if definition is None or definition.base_resolver is None:
        return None
    resolver = definition.base_resolver
    if definition.extensions or definition.permission_classes:
        return None
    if resolver.self_parameter is None or len(resolver.arguments) != len(field.args):
        return None
    if argument_converters(field) is None:
        return None
    function: Any = resolver.wrapped_func
    info_name = None if resolver.info_parameter is None else resolver.info_parameter.name

    def call(source: Any, info: strawberry.Info[Any, Any], kwargs: dict[str, Any]) -> Any:
        if info_name is not None:
            return function(source, **kwargs, **{info_name: info})
        return function(source, **kwargs)

    return call
