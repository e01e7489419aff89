"""Compiling a query operation into a plan (app/engine/plans.py), or declining it with the
reason: the reference path (graphql-core running Strawberry's resolvers) then answers it.

A plan covers queries only, without directives (so what is collected never depends on
variables), abstract types, introspection, or fields whose Strawberry definition carries
extensions or permissions (they run once, in Strawberry's wrapper, on the reference path).
"""

from operator import attrgetter
from typing import Any

import strawberry
from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    Node,
    OperationDefinitionNode,
    OperationType,
    Undefined,
    VariableNode,
    is_required_argument,
)
from graphql.execution import VariableValues, get_argument_values

from app.engine.executor import argument_converters, direct_call, plain_attribute
from app.engine.graphql_core_adapter import (
    FieldDetails,
    FragmentDetails,
    coerce_argument,
    collect_fields,
    collect_subfields,
)
from app.engine.plans import (
    Argument,
    LeafCompletion,
    ListCompletion,
    ObjectCompletion,
    QueryPlan,
    Step,
)
from app.engine.strawberry_adapter import field_definition, graphql_schema
from schema.context import LEVEL_RESOLVER

_NO_VARIABLES = VariableValues({}, {})


class Declined(Exception):  # noqa: N818 (an answer, not an error)
    """Why an operation has no plan (compile_query returns it). Mutations are not a fallback:
    plans are for queries, and a mutation's cost is its write."""

    def __init__(self, reason: str, fallback: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fallback = fallback


def compile_query(
    schema: strawberry.Schema, document: DocumentNode, operation_name: str | None
) -> QueryPlan | Declined:
    """The plan of a query operation, or why graphql-core must execute it."""
    try:
        return _compile(schema, graphql_schema(schema), document, operation_name)
    except Declined as declined:
        return declined


def _compile(
    strawberry_schema: strawberry.Schema,
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
) -> QueryPlan:
    operation = None
    fragments: dict[str, FragmentDetails] = {}
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            fragments[definition.name.value] = FragmentDetails(definition)
        elif isinstance(definition, OperationDefinitionNode) and (
            operation_name is None
            or (definition.name is not None and definition.name.value == operation_name)
        ):
            if operation is not None:
                raise Declined("no single operation")
            operation = definition
    if operation is None:
        raise Declined("no single operation")
    if operation.operation is not OperationType.QUERY:
        raise Declined(f"a {operation.operation.value}", fallback=False)
    # directives make what is collected depend on variables (and @defer/@stream on
    # incremental delivery)
    if _contains(operation, DirectiveNode) or any(
        _contains(fragment.definition, DirectiveNode) for fragment in fragments.values()
    ):
        raise Declined("directives")
    query_type = schema.query_type
    assert query_type is not None  # a query operation validated against this schema
    compiler = _Compiler(schema, operation, fragments)
    collected = collect_fields(schema, fragments, _NO_VARIABLES, query_type, operation)
    steps = compiler.steps(query_type, collected.grouped_field_set, root=True)
    root = ObjectCompletion(query_type, steps, True, root=True)
    return QueryPlan(strawberry_schema, schema, operation, fragments, root)


def _contains(node: Node, kind: type[Node], selections: bool = True) -> bool:
    """Whether a node of `kind` appears below `node` (below its selection set too, unless
    `selections` is false)."""
    for key in node.keys:
        if key == "selection_set" and not selections:
            continue
        value = getattr(node, key, None)
        for child in value if isinstance(value, tuple | list) else (value,):
            if isinstance(child, kind):
                return True
            if isinstance(child, Node) and _contains(child, kind, selections):
                return True
    return False


class _Compiler:
    def __init__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDetails],
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.fragments = fragments

    def steps(
        self, parent: GraphQLObjectType, grouped: dict[str, list[FieldDetails]], root: bool
    ) -> list[Step]:
        return [
            self._step(parent, response_name, details, root)
            for response_name, details in grouped.items()
        ]

    def _step(
        self,
        parent: GraphQLObjectType,
        response_name: str,
        details: list[FieldDetails],
        root: bool,
    ) -> Step:
        node = details[0].node
        name = node.name.value
        nodes = [detail.node for detail in details]
        if name == "__typename":
            return Step(response_name, name, nodes, None, None)
        field = parent.fields.get(name)
        if field is None:  # __schema, __type
            raise Declined("introspection")
        step = Step(response_name, name, nodes, field, self._completion(field.type, details))
        if not _uses_variables(node):
            try:
                step.static_args = get_argument_values(field, node, _NO_VARIABLES)
            except GraphQLError:
                raise Declined("arguments that do not coerce") from None
        else:
            _plan_variable_arguments(step, field, node)
        attribute = plain_attribute(field)
        if attribute is not None:
            step.read = attrgetter(attribute)
            return step
        self._resolver(step, field, root)
        return step

    def _resolver(self, step: Step, field: GraphQLField, root: bool) -> None:
        """How a field with a resolver is called: its level resolver, directly, or through
        Strawberry's wrapper."""
        definition = field_definition(field)
        if definition is None or definition.base_resolver is None:
            raise Declined("a field without a Strawberry resolver")
        if definition.extensions or definition.permission_classes:
            # they run in Strawberry's wrapper, once: a compiled run that met their error
            # would run them again on the reference path
            raise Declined("field extensions or permissions")
        level = definition.metadata.get(LEVEL_RESOLVER)
        if level is not None and not root:
            step.converters = argument_converters(field)
            if step.converters is None:
                raise Declined("input-object arguments of a level_resolver field")
            step.level = level
            return
        if definition.base_resolver.is_async and not root:
            raise Declined("an asynchronous resolver below the root without a level resolver")
        step.call = direct_call(field)
        if step.call is None:
            step.resolve = field.resolve
        else:
            step.definition = definition
            step.converters = argument_converters(field)

    def _completion(self, kind: GraphQLOutputType, details: list[FieldDetails]) -> Any:
        non_null = isinstance(kind, GraphQLNonNull)
        if isinstance(kind, GraphQLNonNull):
            kind = kind.of_type
        if isinstance(kind, GraphQLScalarType | GraphQLEnumType):
            return LeafCompletion(kind, non_null)
        if isinstance(kind, GraphQLList):
            return ListCompletion(self._completion(kind.of_type, details), non_null)
        if isinstance(kind, GraphQLObjectType):
            grouped = collect_subfields(
                self.schema, self.fragments, _NO_VARIABLES, self.operation, kind, details
            ).grouped_field_set
            return ObjectCompletion(
                kind, self.steps(kind, grouped, root=False), non_null, root=False
            )
        raise Declined("an interface or union")  # graphql-core resolves the runtime type


def _plan_variable_arguments(step: Step, field: GraphQLField, node: FieldNode) -> None:
    """Where every argument is either free of variables or a bare variable (the common case),
    the first kind is coerced once and the second taken from the variables per request."""
    given = {argument.name.value: argument for argument in node.arguments or ()}
    static: dict[str, Any] = {}
    variables = []
    for name, definition in field.args.items():
        argument = given.get(name)
        out_name = definition.out_name or name
        if argument is not None and isinstance(argument.value, VariableNode):
            default: dict[str, Any] = {}
            if not is_required_argument(definition):
                try:
                    coerce_argument(default, node, name, definition, None, _NO_VARIABLES, None)
                except (GraphQLError, TypeError):
                    return
            non_null = isinstance(definition.type, GraphQLNonNull)
            variable = argument.value.name.value
            variables.append(
                Argument(out_name, variable, non_null, default.get(out_name, Undefined))
            )
        elif argument is not None and _uses_variables(argument):
            return  # a variable inside a list or object: graphql-core coerces it per request
        else:
            try:
                coerce_argument(static, node, name, definition, argument, _NO_VARIABLES, None)
            except (GraphQLError, TypeError):
                return
    step.static_args = static
    step.variable_args = variables


def _uses_variables(node: Node) -> bool:
    """Whether the arguments of a field node refer to variables."""
    return _contains(node, VariableNode, selections=False)
