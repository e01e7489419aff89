"""The contract's scalars: DateTime, JSON and Long (Upload comes from Strawberry).

DateTime values travel through the app in their stored form (fixed-width UTC text), so a
DateTime output is the stored text and an input is normalised to it on the way in.
"""

from typing import Any, NewType

import strawberry
from graphql import (
    FloatValueNode,
    ListValueNode,
    ObjectValueNode,
    ValueNode,
    value_from_ast_untyped,
)
from strawberry.types.scalar import ScalarDefinition

from db.codec import MAX_INT64, MIN_INT64, json_float, parse_timestamp_input
from db.errors import ValidationError


def _parse_long(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"Long must be an integer, not {value!r}"[:200])
    if not MIN_INT64 <= value <= MAX_INT64:
        raise ValidationError("Long must fit in 64 bits (-2^63 to 2^63-1)")
    return value


def _serialize_long(value: int) -> int:
    return value


def _parse_datetime(value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationError("DateTime must be an RFC 3339 string")
    return parse_timestamp_input(value)


def _serialize_datetime(value: str) -> str:
    return value


def _identity(value: Any) -> Any:
    return value


def _parse_json_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> Any:
    """A JSON value written inline in the query. A number that does not survive the trip to a
    double (1e999 reads as infinity, 1e-400 as 0.0) would be stored as something else: refuse
    it, as the JSON body parser refuses it in variables."""
    _check_numbers(node)
    return value_from_ast_untyped(node, variables)


def _check_numbers(node: ValueNode) -> None:
    stack = [node]
    while stack:
        each = stack.pop()
        if isinstance(each, FloatValueNode):
            try:
                json_float(each.value)
            except ValueError as error:
                raise ValidationError(str(error)) from None
        elif isinstance(each, ListValueNode):
            stack.extend(each.values)
        elif isinstance(each, ObjectValueNode):
            stack.extend(field.value for field in each.fields)


DateTime = NewType("DateTime", str)
Long = NewType("Long", int)
JSON = NewType("JSON", object)

SCALARS: dict[object, ScalarDefinition] = {
    DateTime: strawberry.scalar(
        name="DateTime",
        description=(
            "RFC 3339 date-time in UTC with microseconds, e.g. 2026-02-12T22:04:12.123456+00:00."
            " Inputs need an offset (any RFC 3339 offset)."
        ),
        serialize=_serialize_datetime,
        parse_value=_parse_datetime,
    ),
    Long: strawberry.scalar(
        name="Long",
        description="A 64-bit signed integer, serialised as a JSON number.",
        serialize=_serialize_long,
        parse_value=_parse_long,
    ),
    JSON: strawberry.scalar(
        name="JSON",
        description="Any JSON value, including null.",
        serialize=_identity,
        parse_value=_identity,
        parse_literal=_parse_json_literal,
    ),
}
