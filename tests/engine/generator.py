"""Random valid query documents over a GraphQL schema, for the differential test.

Each document selects one to three root fields and, below them, random fields of every type
the schema reaches (pages with nodes, edges, pageInfo and totalCount; parent links; nested
pages), with aliases, inline fragments, named fragments, __typename, variables (some null,
some omitted), literal nulls, and argument values that fail (malformed ids, page sizes out of
range, bad cursors) as well as ones that find seeded rows. Argument values come from pools by
argument name, so ids name rows that exist (or a well-formed id that does not).
"""

import json
import random
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_required_argument,
    is_required_input_field,
)

MISSING_ID = "01a20321-1ea8-77b0-98e8-acd5d6e5e1a8"
MAX_DEPTH = 4


@dataclass(frozen=True)
class EnumValue:
    name: str


def literal(value: Any) -> str:
    if isinstance(value, EnumValue):
        return value.name
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    return "{" + ", ".join(f"{key}: {literal(item)}" for key, item in value.items()) + "}"


def plain(value: Any) -> Any:
    """A value as JSON variables carry it."""
    if isinstance(value, EnumValue):
        return value.name
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


@dataclass
class _Document:
    variables: dict[str, Any] = field(default_factory=dict)
    declarations: list[str] = field(default_factory=list)
    fragments: list[str] = field(default_factory=list)
    names: int = 0

    def name(self, prefix: str) -> str:
        self.names += 1
        return f"{prefix}{self.names}"


class Generator:
    def __init__(self, schema: GraphQLSchema, pools: dict[str, list[Any]], seed: int) -> None:
        self.schema = schema
        self.pools = pools
        self.rng = random.Random(seed)

    def document(self) -> tuple[str, dict[str, Any]]:
        """(query text, variables)."""
        doc = _Document()
        query = self.schema.query_type
        assert query is not None
        roots = self.rng.sample(sorted(query.fields), self.rng.randint(1, 3))
        body = self._selections(doc, query, 0, roots)
        header = f"query Q({', '.join(doc.declarations)})" if doc.declarations else "query Q"
        return " ".join([header, body, *doc.fragments]), doc.variables

    def _selections(
        self,
        doc: _Document,
        kind: GraphQLObjectType,
        depth: int,
        names: list[str] | None = None,
        aliased: bool = False,
    ) -> str:
        rng = self.rng
        if names is None:
            fields = sorted(kind.fields)
            names = rng.sample(fields, min(len(fields), rng.randint(1, 4)))
        parts = [self._field(doc, kind, name, depth, aliased) for name in names]
        if rng.random() < 0.15:
            parts.append("__typename")
        if rng.random() < 0.15 and len(parts) > 1:  # some fields in a named fragment
            fragment = doc.name("F")
            inner = parts.pop()
            doc.fragments.append(f"fragment {fragment} on {kind.name} {{ {inner} }}")
            parts.append(f"...{fragment}")
        if rng.random() < 0.15 and len(parts) > 1:  # and some in an inline fragment
            inner = parts.pop()
            parts.append(f"... on {kind.name} {{ {inner} }}")
        return "{ " + " ".join(parts) + " }"

    def _field(
        self, doc: _Document, parent: GraphQLObjectType, name: str, depth: int, aliased: bool
    ) -> str:
        definition = parent.fields[name]
        text = name
        if aliased or self.rng.random() < 0.2:
            text = f"{doc.name('a')}: {name}"
        arguments = self._arguments(doc, name, definition)
        if arguments:
            text += f"({arguments})"
        named = get_named_type(definition.type)
        if isinstance(named, GraphQLObjectType):
            if depth >= MAX_DEPTH:
                return f"{text} {{ __typename }}"
            return f"{text} {self._selections(doc, named, depth + 1)}"
        if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
            possible = self.schema.get_possible_types(named)
            chosen = self.rng.sample(list(possible), min(2, len(possible)))
            # aliased in the second: same names of different types would conflict
            spreads = " ".join(
                f"... on {kind.name} {self._selections(doc, kind, depth + 1, aliased=index > 0)}"
                for index, kind in enumerate(chosen)
            )
            common = " __typename" if isinstance(named, GraphQLUnionType) else " id"
            return f"{text} {{{common} {spreads} }}"
        return text

    def _arguments(self, doc: _Document, field_name: str, definition: GraphQLField) -> str:
        given = []
        for name, argument in definition.args.items():
            # a page size is always given: the default (50) nested would pass the cost budget
            required = is_required_argument(argument) or name == "first"
            if not required and self.rng.random() < 0.5:
                continue
            value = self._value(argument.type, name, field_name)
            if self.rng.random() < 0.3:  # as a variable (sometimes left out of the variables)
                variable = doc.name("v")
                doc.declarations.append(f"${variable}: {argument.type}")
                if not (self.rng.random() < 0.1 and not isinstance(argument.type, GraphQLNonNull)):
                    doc.variables[variable] = plain(value)
                given.append(f"{name}: ${variable}")
            else:
                given.append(f"{name}: {literal(value)}")
        return ", ".join(given)

    def _value(self, kind: GraphQLInputType, name: str, field_name: str) -> Any:
        rng = self.rng
        if isinstance(kind, GraphQLNonNull):
            return self._value_of(kind.of_type, name, field_name)
        if rng.random() < 0.05:
            return None  # an explicit null
        return self._value_of(kind, name, field_name)

    def _value_of(self, kind: GraphQLInputType, name: str, field_name: str) -> Any:
        rng = self.rng
        if isinstance(kind, GraphQLList):
            return [self._value(kind.of_type, name, field_name) for _ in range(rng.randint(0, 2))]
        if isinstance(kind, GraphQLEnumType):
            return EnumValue(rng.choice(sorted(kind.values)))
        if isinstance(kind, GraphQLInputObjectType):
            value = {}
            for key, item in kind.fields.items():
                if is_required_input_field(item) or rng.random() < 0.5:
                    value[key] = self._value(item.type, key, field_name)
            return value
        assert isinstance(kind, GraphQLScalarType)
        return rng.choice(self._pool(kind.name, name, field_name))

    def _pool(self, scalar: str, name: str, field_name: str) -> list[Any]:
        pools = self.pools
        if scalar == "ID":
            key = {"sessionId": "sessions", "memoryId": "memories", "fileId": "files"}.get(name)
            if field_name == "node":
                key = "any"
            ids = pools[key or "bots"]
            return [*ids, *ids, MISSING_ID, "not-a-uuid"]
        if scalar == "Int":
            return {"first": [1, 2, 3, 2, 0, 501], "limit": [1, 2, 3, 0]}.get(name, [1, 2])
        if scalar == "Boolean":
            return [True, False]
        if scalar == "DateTime":
            return ["2026-02-12T22:04:12.123456Z", "2020-01-01T00:00:00Z", "yesterday"]
        if scalar == "Long":
            return [5, 2**40]
        if scalar == "JSON":
            return [{"a": 1}, [None], "text"]
        return pools.get(name, ["x", ""])
