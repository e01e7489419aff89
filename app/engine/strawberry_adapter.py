"""Every use of Strawberry's internals, in one place.

The engine runs Strawberry's resolvers itself, so it needs what Strawberry keeps to itself:
the graphql-core schema inside a `strawberry.Schema` (`Schema._schema`), the back-reference
from each graphql-core type, field and argument to its Strawberry definition (an extensions
key of `GraphQLCoreConverter`), and the `strawberry.Info` a resolver receives, built the way
Strawberry builds it (`info_class(_raw_info=..., _field=...)`), and the kind of result a
subscription answers when it never ran (`PreExecutionError`, not exported).
tests/engine/test_adapters.py
checks each, so an upgrade that changes one fails there, naming the version.
"""

from importlib.metadata import version
from typing import Any

import strawberry
from graphql import GraphQLArgument, GraphQLEnumType, GraphQLField, GraphQLSchema
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.execution import PreExecutionError
from strawberry.types.field import StrawberryField

STRAWBERRY_VERSION = version("strawberry-graphql")
_DEFINITION = GraphQLCoreConverter.DEFINITION_BACKREF


def graphql_schema(schema: strawberry.Schema) -> GraphQLSchema:
    """The graphql-core schema Strawberry built and executes."""
    built: GraphQLSchema = schema._schema
    return built


def field_definition(field: GraphQLField) -> StrawberryField | None:
    """The Strawberry field behind a graphql-core field (None for introspection's)."""
    definition: StrawberryField | None = (field.extensions or {}).get(_DEFINITION)
    return definition


def argument_python_name(argument: GraphQLArgument) -> str | None:
    """The resolver's parameter name for a graphql-core argument of a Strawberry field."""
    definition = (argument.extensions or {}).get(_DEFINITION)
    return None if definition is None else str(definition.python_name)


def enum_class(kind: GraphQLEnumType) -> Any:
    """The Python enum Strawberry converts a graphql-core enum's values to (None: not one)."""
    definition = (kind.extensions or {}).get(_DEFINITION)
    return None if definition is None else definition.wrapped_cls


def make_info(
    schema: strawberry.Schema, raw_info: Any, definition: StrawberryField
) -> strawberry.Info[Any, Any]:
    """The strawberry.Info a resolver of `definition` receives, as Strawberry makes it."""
    info: strawberry.Info[Any, Any] = schema.config.info_class(
        _raw_info=raw_info, _field=definition
    )
    return info


def never_ran(result: Any) -> bool:
    """Whether a result of Strawberry's subscribe is the errors of an operation that never
    ran (parse, validation, variables): the protocol answers those with an `error` message."""
    return isinstance(result, PreExecutionError)
