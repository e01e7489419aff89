"""Hostile inputs for every mutation argument, generated from the schema (a new mutation or
input field is covered without editing this file): where a value can go (Target), a valid
baseline for everything else, the hostile values (hypothesis strategies), and the request
text, as JSON variables or as GraphQL literals in the query."""

import json
import re
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    is_required_argument,
    is_required_input_field,
)
from hypothesis import strategies as st

from resolvers import build_schema

SCHEMA = build_schema()._schema
MUTATIONS = sorted(SCHEMA.mutation_type.fields.items()) if SCHEMA.mutation_type else []
VALID_ID = "01a20321-1ea8-77b0-98e8-acd5d6e5e1a8"
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")


@dataclass(frozen=True)
class Deep:
    """A value nested `depth` levels ([[[...]]] or {"a":{"a":...}}), written without recursion."""

    depth: int
    brackets: bool


@dataclass(frozen=True)
class Hostile:
    """The hostile value, where the baseline value would be."""

    value: Any


@dataclass(frozen=True)
class Target:
    """One place a hostile value goes: a mutation's argument, or a field inside its input."""

    mutation: str
    field: GraphQLField
    path: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.mutation}.{'.'.join(self.path)}"


def _unwrap(kind: Any) -> Any:
    while isinstance(kind, GraphQLNonNull | GraphQLList):
        kind = kind.of_type
    return kind


def _paths(kind: GraphQLInputType, prefix: tuple[str, ...]) -> list[tuple[str, ...]]:
    found = [prefix]
    named = _unwrap(kind)
    if isinstance(named, GraphQLInputObjectType):
        for name, field in named.fields.items():
            found += _paths(field.type, (*prefix, name))
    return found


TARGETS = [
    Target(mutation, field, path)
    for mutation, field in MUTATIONS
    for name, argument in field.args.items()
    for path in _paths(argument.type, (name,))
]


def baseline(kind: GraphQLInputType, name: str, ids: dict[str, str]) -> Any:
    """A valid value: required input fields filled; ids (by argument name) of real rows."""
    if isinstance(kind, GraphQLNonNull):
        return baseline(kind.of_type, name, ids)
    if isinstance(kind, GraphQLList):
        return [baseline(kind.of_type, name, ids)]
    if isinstance(kind, GraphQLEnumType):
        return next(iter(kind.values))
    if isinstance(kind, GraphQLInputObjectType):
        return {
            field_name: baseline(field.type, field_name, ids)
            for field_name, field in kind.fields.items()
            if is_required_input_field(field)
        }
    assert isinstance(kind, GraphQLScalarType)
    samples = {"String": "sample", "Int": 1, "Long": 1, "Float": 1.0, "Boolean": True}
    samples.update({"ID": VALID_ID, "JSON": {"a": 1}, "DateTime": "2026-02-12T22:04:12Z"})
    return ids.get(name, samples.get(kind.name))


def arguments(target: Target, hostile: Any, ids: dict[str, str]) -> dict[str, Any]:
    """The required arguments (baselines) and the target's argument, with the hostile value at
    the target's path (optional input fields on the way filled with baselines)."""
    values = {
        name: baseline(argument.type, name, ids)
        for name, argument in target.field.args.items()
        if is_required_argument(argument) or name == target.path[0]
    }
    node: Any = values
    kind: Any = None
    for key in target.path[:-1]:
        kind = target.field.args[key].type if kind is None else _unwrap(kind).fields[key].type
        if key not in node:
            node[key] = baseline(kind, key, ids)
        node = node[key][0] if isinstance(node[key], list) else node[key]
    node[target.path[-1]] = Hostile(hostile)
    return values


def is_upload(target: Target, name: str) -> bool:
    return _unwrap(target.field.args[name].type).name == "Upload"


def operation(target: Target, values: dict[str, Any], literal: bool) -> str:
    """The mutation text: every argument a variable, or (literal) written inline except an
    Upload, which is always a variable."""
    inline = {name for name in values if literal and not is_upload(target, name)}
    declared = [name for name in values if name not in inline]
    head = ", ".join(f"${name}: {target.field.args[name].type}" for name in declared)
    args = ", ".join(
        f"{name}: {_literal(values[name], target.field.args[name].type)}"
        if name in inline
        else f"{name}: ${name}"
        for name in values
    )
    selection = (
        "" if isinstance(_unwrap(target.field.type), GraphQLScalarType) else "{ __typename }"
    )
    return f"mutation{f'({head})' if head else ''} {{ {target.mutation}({args}) {selection} }}"


def variables(target: Target, values: dict[str, Any], literal: bool) -> dict[str, Any]:
    return {name: value for name, value in values.items() if not literal or is_upload(target, name)}


def _literal(value: Any, kind: Any) -> str:
    """GraphQL literal text: the baseline typed (enums bare), the hostile value as it comes."""
    if isinstance(value, Hostile):
        return _untyped(value.value)
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    if isinstance(kind, GraphQLList):
        return "[" + ", ".join(_literal(item, kind.of_type) for item in value) + "]"
    if isinstance(kind, GraphQLEnumType):
        return str(value)
    if isinstance(kind, GraphQLInputObjectType):
        fields = (f"{key}: {_literal(item, kind.fields[key].type)}" for key, item in value.items())
        return "{" + ", ".join(fields) + "}"
    return _untyped(value)


def _untyped(value: Any) -> str:
    if isinstance(value, Deep):
        opener, closer = ("[", "]") if value.brackets else ("{a: ", "}")
        return opener * value.depth + "1" + closer * value.depth
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        return repr(value)  # nan and inf come out as names
    if isinstance(value, list):
        return "[" + ", ".join(_untyped(item) for item in value) + "]"
    if isinstance(value, dict):
        fields = (
            f"{key if _NAME.match(key) else f'k{index}'}: {_untyped(item)}"
            for index, (key, item) in enumerate(value.items())
        )
        return "{" + ", ".join(fields) + "}"
    return json.dumps(value)  # strings with \u escapes (lone surrogates too), integers


def to_json(value: Any, ascii_only: bool) -> str:
    """JSON text as a careless or hostile client writes it: NaN and Infinity, lone surrogates
    (escaped, or raw when not ascii_only) and nesting deeper than any parser's recursion."""
    if isinstance(value, Hostile):
        return to_json(value.value, ascii_only)
    if isinstance(value, Deep):
        opener, closer = ("[", "]") if value.brackets else ('{"a":', "}")
        return opener * value.depth + "1" + closer * value.depth
    if isinstance(value, list):
        return "[" + ",".join(to_json(item, ascii_only) for item in value) + "]"
    if isinstance(value, dict):
        fields = (
            json.dumps(key, ensure_ascii=ascii_only) + ":" + to_json(item, ascii_only)
            for key, item in value.items()
        )
        return "{" + ",".join(fields) + "}"
    return json.dumps(value, ensure_ascii=ascii_only)


SPECIAL_TEXT = [
    "",
    " ",
    "\x00",
    "key\x00tail",
    "\ud800",
    "a\udfffb",
    "..",
    "../../etc/passwd",
    "a/b\\c",
    "\u202eevil.txt",
    "'; DROP TABLE bots; --",
    "\r\n\t",
    "🤖" * 1100,
    "x" * 4097,
    "x" * 70_000,
    "y" * 1_100_000,
    "NaN",
    "-0",
    "1e309",
    "2026-02-30T25:61:61Z",
    "2026-02-12T22:04:12",
    "9999-12-31T23:59:59.999999-23:59",
]
BAD_IDS = [
    "not-a-uuid",
    VALID_ID[:-1],
    VALID_ID + "0",
    VALID_ID.replace("a", "g"),
    f" {VALID_ID} ",
    f"{VALID_ID}\x00",
    f"urn:uuid:{VALID_ID}x",
    "0" * 65,
]
HUGE_NUMBERS = [2**31, -(2**31) - 1, 2**53 + 1, 2**63, -(2**63) - 1, 2**64, 10**100, 10**400]
TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec=None, exclude_categories=()),
        st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=()),
        st.sampled_from("\x00\\\"'/.\n\u202e\ufeff"),
    ),
    max_size=40,
)
_LEAVES = st.one_of(
    TEXT,
    st.sampled_from(SPECIAL_TEXT + BAD_IDS),
    st.binary(max_size=40).map(lambda raw: raw.decode("latin-1")),
    st.integers(),
    st.sampled_from(HUGE_NUMBERS),
    st.floats(),
    st.booleans(),
    st.none(),
)
VALUES = st.one_of(
    _LEAVES,
    st.builds(Deep, st.integers(1, 3000), st.booleans()),
    st.recursive(
        _LEAVES,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=12,
    ),
)
