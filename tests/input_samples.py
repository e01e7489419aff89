"""Values for GraphQL input types, for tests generated from the schema: required input fields
filled and optional ones left out, the first value of an enum, one item in a list, and a fixed
value per scalar (a test overrides the ones it needs, such as ID)."""

from collections.abc import Mapping
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)

SCALARS: dict[str, Any] = {
    "ID": "01a20321-1ea8-77b0-98e8-acd5d6e5e1a8",
    "String": "sample",
    "Int": 1,
    "Long": 1,
    "Float": 1.0,
    "Boolean": True,
    "JSON": {"a": 1},
    "DateTime": "2026-02-12T22:04:12.123456+00:00",
    "Upload": None,
}


def sample(kind: GraphQLInputType, scalars: Mapping[str, Any] = SCALARS) -> Any:
    """A valid value of the input type."""
    if isinstance(kind, GraphQLNonNull):
        return sample(kind.of_type, scalars)
    if isinstance(kind, GraphQLList):
        return [sample(kind.of_type, scalars)]
    if isinstance(kind, GraphQLEnumType):
        return next(iter(kind.values))
    if isinstance(kind, GraphQLInputObjectType):
        return {
            name: sample(field.type, scalars)
            for name, field in kind.fields.items()
            if isinstance(field.type, GraphQLNonNull)
        }
    assert isinstance(kind, GraphQLScalarType)
    return scalars[kind.name]
