"""Compiled queries: common query shapes executed level by level, without graphql-core's
per-field machinery.

graphql-core completes a response field by field and item by item: a resolve info, argument
coercion, awaitable checks and a completion call for every field of every item, and a task per
item when a list's items resolve asynchronously. For a one-row query that is half of the
server's time; for a page of bots with their KV pages, most of it. A query whose shape is known
to be plain is compiled once per document (and operation) into a plan that runs *columnar*:
each field of the selection is resolved for all the items of its level at once, so the work per
request grows with the number of fields in the query, not with the number of items:

- a plain attribute is read from every item; a leaf is serialized by its type;
- a field with a resolver is called per item when the resolver is synchronous; asynchronous
  resolvers run only at the root (one item; root fields run one after another) or through
  the field's level resolver (`schema.context.level_resolver`): one call for all the items of the
  level, with the request's DataLoader behind it, so a page of 50 bots' KV pages is one
  awaited statement.

app/engine/compiler.py says which queries get a plan. Anything unusual while running (an
error from a resolver, a null in a non-null field, a value of an unexpected shape) abandons the
compiled run:
graphql-core then executes the whole operation with a fresh context, so errors, partial data
and null propagation are exactly graphql-core's. Reads have no side effects, so running them
again is safe; only the error path pays for it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    Undefined,
    coerce_input_value,
)
from graphql.execution import (
    VariableValues,
    get_argument_values,
    get_variable_values,
)
from graphql.pyutils import Path

from app.engine.executor import DirectCall, is_awaitable, python_arguments
from app.engine.graphql_core_adapter import (
    FragmentDetails,
    GraphQLVariableSignature,
    VariableValueSource,
    get_variable_signature,
)
from app.engine.strawberry_adapter import make_info
from schema.context import LevelResolver

_MAX_COERCION_ERRORS = 50


class Fallback(Exception):  # noqa: N818 (a signal, not an error)
    """The compiled run cannot answer this request the way graphql-core would."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


NULL = "a null in a non-null field"
COERCION = "arguments or variables that do not coerce"


@dataclass
class _Run:
    """One request's state: what every resolver call needs."""

    schema: GraphQLSchema
    plan: "QueryPlan"
    context: Any
    variables: VariableValues

    def info(self, step: "Step", parent: GraphQLObjectType) -> GraphQLResolveInfo[Any]:
        """The resolve info of a step (its path without list indices: one info per level)."""
        assert step.field is not None  # __typename steps resolve nothing
        return GraphQLResolveInfo(
            step.field_name,
            step.nodes,
            step.field.type,
            parent,
            Path(None, step.response_name, parent.name),
            self.schema,
            self.plan.fragment_definitions,
            None,
            self.plan.operation,
            self.variables,
            self.context,
            is_awaitable,
            None,
            None,  # type: ignore[arg-type]  # no resolver here uses async_helpers
        )


class Completion:
    """Turns the values of one position in the response (across all items) into JSON values:
    `complete` returns the list, or an awaitable of it when `sync` is false."""

    non_null: bool
    sync: bool

    def complete(self, run: _Run, values: list[Any]) -> Any:
        raise NotImplementedError


class LeafCompletion(Completion):
    sync = True

    def __init__(self, kind: GraphQLScalarType | GraphQLEnumType, non_null: bool) -> None:
        self.serialize = kind.serialize
        self.non_null = non_null

    def complete(self, run: _Run, values: list[Any]) -> list[Any]:
        serialize = self.serialize
        completed: list[Any] = []
        for value in values:
            if value is None:
                if self.non_null:
                    raise Fallback(NULL)
                completed.append(None)
                continue
            serialized = serialize(value)
            if serialized is None or serialized is Undefined:
                raise Fallback("a leaf value that does not serialize")
            completed.append(serialized)
        return completed


class ListCompletion(Completion):
    def __init__(self, item: Completion, non_null: bool) -> None:
        self.item = item
        self.non_null = non_null
        self.sync = item.sync

    def complete(self, run: _Run, values: list[Any]) -> Any:
        lengths: list[int] = []
        flat: list[Any] = []
        for value in values:
            if value is None:
                if self.non_null:
                    raise Fallback(NULL)
                lengths.append(-1)
            elif isinstance(value, list):
                lengths.append(len(value))
                flat.extend(value)
            else:
                raise Fallback("a list field answered something else")
        if self.sync:
            return _split(lengths, self.item.complete(run, flat))
        return self._complete_async(run, lengths, flat)

    async def _complete_async(self, run: _Run, lengths: list[int], flat: list[Any]) -> list[Any]:
        return _split(lengths, await self.item.complete(run, flat))


def _split(lengths: list[int], items: list[Any]) -> list[Any]:
    """The completed items of a flattened list of lists, regrouped (-1: a null list)."""
    completed: list[Any] = []
    start = 0
    for length in lengths:
        if length < 0:
            completed.append(None)
        else:
            completed.append(items[start : start + length])
            start += length
    return completed


@dataclass
class Argument:
    """An argument given by a variable: its value is the variable's coerced value."""

    name: str
    variable: str
    non_null: bool
    default: Any  # the argument's coerced default (Undefined: none) when the variable is absent


@dataclass
class Step:
    """One field of an object's selection."""

    response_name: str
    field_name: str
    nodes: list[Any]
    field: GraphQLField | None  # None: __typename
    completion: Completion | None  # None: __typename
    read: Callable[[Any], Any] | None = None  # a plain attribute
    # the resolver called directly with a strawberry.Info (sync, or async at the root) ...
    call: DirectCall | None = None
    definition: Any = None  # ... of this Strawberry field
    # ... or through Strawberry's own wrapper (extensions, permissions, input objects)
    resolve: Any = None
    level: LevelResolver | None = None
    converters: Any = None
    static_args: dict[str, Any] | None = None  # arguments without variables, coerced once
    # arguments that are variables; the rest are in static_args (None: no fast path)
    variable_args: list[Argument] | None = None

    @property
    def sync(self) -> bool:
        """Whether the step completes without awaiting (no level resolver or asynchronous child)."""
        return self.level is None and (self.completion is None or self.completion.sync)

    def arguments(self, run: _Run) -> dict[str, Any]:
        if self.variable_args is None:
            if self.static_args is not None:
                return self.static_args
            assert self.field is not None  # __typename steps have no arguments
            try:
                return get_argument_values(self.field, self.nodes[0], run.variables)
            except GraphQLError:
                raise Fallback(COERCION) from None
        args = dict(self.static_args or {})
        coerced = run.variables.coerced
        for argument in self.variable_args:  # as graphql-core's coerce_argument
            value = coerced.get(argument.variable, Undefined)
            if value is Undefined:
                if argument.default is Undefined:
                    if argument.non_null:
                        raise Fallback(COERCION)
                    continue
                value = argument.default
            elif value is None and argument.non_null:
                raise Fallback(COERCION)
            args[argument.name] = value
        return args


class ObjectCompletion(Completion):
    def __init__(
        self, kind: GraphQLObjectType, steps: list[Step], non_null: bool, root: bool
    ) -> None:
        self.kind = kind
        self.steps = steps
        self.names = [step.response_name for step in steps]
        self.non_null = non_null
        self.root = root
        self.sync = not root and all(step.sync for step in steps)

    def complete(self, run: _Run, values: list[Any]) -> Any:
        present = values if self.root else [value for value in values if value is not None]
        if len(present) != len(values) and self.non_null:
            raise Fallback(NULL)
        is_type_of = self.kind.is_type_of
        if is_type_of is not None:
            for value in present:
                if is_type_of(value, None) is not True:  # type: ignore[arg-type]  # info unused
                    raise Fallback("a value of another type")
        if not self.sync:
            return self._complete_async(run, values, present)
        columns = []
        for step in self.steps:
            raw = self._values(run, step, present)
            columns.append(raw if step.completion is None else step.completion.complete(run, raw))
        return self._rows(values, present, columns)

    async def _complete_async(self, run: _Run, values: list[Any], present: list[Any]) -> list[Any]:
        columns = []
        for step in self.steps:
            if step.level is not None:
                kwargs = python_arguments(step.converters, step.arguments(run))
                raw = list(await step.level(run.context, present, **kwargs))
                if len(raw) != len(present):
                    raise Fallback("a level resolver answered a value per source wrongly")
            else:
                raw = self._values(run, step, present)
                if self.root:
                    raw = [await value if is_awaitable(value) else value for value in raw]
            if step.completion is None:
                columns.append(raw)
                continue
            completed = step.completion.complete(run, raw)
            columns.append(completed if step.completion.sync else await completed)
        return self._rows(values, present, columns)

    def _values(self, run: _Run, step: Step, items: list[Any]) -> list[Any]:
        """The raw values of a field without a level resolver: an attribute, the type name, or a
        resolver's answers (awaitables only at the root)."""
        if step.completion is None:
            return [self.kind.name] * len(items)
        if step.read is not None:
            return list(map(step.read, items))
        raw_info = run.info(step, self.kind)
        args = step.arguments(run)
        if step.call is not None:
            info = make_info(run.plan.strawberry_schema, raw_info, step.definition)
            kwargs = python_arguments(step.converters, args)
            call = step.call
            values = [call(item, info, kwargs) for item in items]
        else:
            values = [step.resolve(item, raw_info, **args) for item in items]
        if not self.root and any(map(is_awaitable, values)):
            for value in values:  # never awaited: close them
                if is_awaitable(value) and hasattr(value, "close"):
                    value.close()
            raise Fallback("an asynchronous value below the root")
        return values

    def _rows(self, values: list[Any], present: list[Any], columns: list[list[Any]]) -> list[Any]:
        rows = [dict(zip(self.names, row, strict=True)) for row in zip(*columns, strict=True)]
        if len(present) == len(values):
            return rows
        found = iter(rows)
        return [None if value is None else next(found) for value in values]


@dataclass
class QueryPlan:
    """A compiled query operation; `run` answers the data or raises Fallback."""

    strawberry_schema: strawberry.Schema
    schema: GraphQLSchema
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDetails]
    root: ObjectCompletion

    def __post_init__(self) -> None:
        self.fragment_definitions = {
            name: fragment.definition for name, fragment in self.fragments.items()
        }
        self.leaf_variables: list[GraphQLVariableSignature] | None = []
        for definition in self.operation.variable_definitions or ():
            signature = get_variable_signature(self.schema, definition)
            if isinstance(signature, GraphQLError) or signature.default is not None:
                self.leaf_variables = None
                break
            named = signature.type
            if isinstance(named, GraphQLNonNull):
                named = named.of_type
            if not isinstance(named, GraphQLScalarType | GraphQLEnumType):
                self.leaf_variables = None
                break
            self.leaf_variables.append(signature)

    def _variables(self, schema: GraphQLSchema, inputs: dict[str, Any]) -> VariableValues:
        """The coerced variables, as graphql-core's get_variable_values makes them. When every
        variable is a scalar or enum without a default (the common case), the signatures made
        at compile time are used; a value that does not coerce abandons the run (graphql-core
        then reports it)."""
        if self.leaf_variables is None:
            variables = get_variable_values(
                schema, self.operation.variable_definitions or (), inputs, _MAX_COERCION_ERRORS
            )
            if isinstance(variables, list):
                raise Fallback(COERCION)
            return variables
        sources: dict[str, VariableValueSource] = {}
        coerced: dict[str, Any] = {}
        for signature in self.leaf_variables:
            name = signature.name
            value = inputs.get(name, Undefined)
            if value is Undefined:
                if isinstance(signature.type, GraphQLNonNull):
                    raise Fallback(COERCION)
                sources[name] = VariableValueSource(signature)
                continue
            sources[name] = VariableValueSource(signature, value)
            result = coerce_input_value(value, signature.type)
            if result is Undefined:
                raise Fallback(COERCION)
            coerced[name] = result
        return VariableValues(sources, coerced)

    async def run(self, context: Any, inputs: dict[str, Any] | None) -> dict[str, Any]:
        variables = self._variables(self.schema, inputs or {})
        run = _Run(self.schema, self, context, variables)
        (data,) = await self.root.complete(run, [None])
        return data  # type: ignore[no-any-return]
