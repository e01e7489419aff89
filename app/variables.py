"""Variables bounded before graphql-core coerces them: the length of every list, and their size.

Coercion walks every item of every list (a list variable of 1.2 M enum values took 3 s of the
event loop), so lists are measured against their bounds first, on the raw JSON values:

- a list of enum values holds at most as many items as the enum has values;
- a list of `KvSetInput` at most setKvMany's 1,000, a list of strings at most 50 (tags,
  chosenSkills), any other list (ids) at most the largest page;

and the variables of a request that carries no upload are at most max_variables_bytes of JSON
(uploads come with their own limits, app/uploads.py). Literal lists are bounded by the
document's token limit. The resolvers keep their own checks (the same bounds) for every path.
"""

from collections.abc import Mapping
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLSchema,
    OperationDefinitionNode,
    get_named_type,
    type_from_ast,
)

from app.responses import RequestError
from db.codec import dump_json
from db.errors import PayloadTooLargeError
from db.settings import Settings
from resolvers.bots import MAX_TAGS
from resolvers.kv import MAX_SET_MANY
from schema.builder import MAX_SKILLS

ITEM_BOUNDS = {"KvSetInput": MAX_SET_MANY, "String": max(MAX_TAGS, MAX_SKILLS)}


def list_bound(item: GraphQLNamedType, settings: Settings) -> int:
    """The most items a list of `item` may hold."""
    if isinstance(item, GraphQLEnumType):
        return len(item.values)
    return ITEM_BOUNDS.get(item.name, settings.max_page_size)


def _holds_list(kind: Any, seen: frozenset[str] = frozenset()) -> bool:
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    if isinstance(kind, GraphQLList):
        return True
    if isinstance(kind, GraphQLInputObjectType) and kind.name not in seen:
        inner = seen | {kind.name}
        return any(_holds_list(field.type, inner) for field in kind.fields.values())
    return False


class ListVariables:
    """The variables of one operation whose types hold lists; `check` measures them."""

    def __init__(
        self, schema: GraphQLSchema, operation: OperationDefinitionNode, settings: Settings
    ) -> None:
        self._settings = settings
        self._checked: list[tuple[str, GraphQLInputType]] = []
        for definition in operation.variable_definitions or ():
            kind = type_from_ast(schema, definition.type)
            if kind is not None and _holds_list(kind):
                self._checked.append((definition.variable.name.value, kind))  # type: ignore[arg-type]

    def check(self, variables: Mapping[str, Any] | None) -> None:
        """BAD_USER_INPUT when a list is over its bound (nothing to do for most operations)."""
        if not self._checked or not variables:
            return
        for name, kind in self._checked:
            if name in variables:
                self._walk(variables[name], kind, f"${name}")

    def _walk(self, value: Any, kind: Any, path: str) -> None:
        if isinstance(kind, GraphQLNonNull):
            kind = kind.of_type
        if isinstance(kind, GraphQLList):
            if not isinstance(value, list):  # one value coerces as a list of one
                self._walk(value, kind.of_type, path)
                return
            item = get_named_type(kind.of_type)
            assert item is not None  # a list always has an item type
            bound = list_bound(item, self._settings)
            if len(value) > bound:
                raise RequestError(
                    400, f"{path} holds {len(value)} items; at most {bound} are allowed"
                )
            if _holds_list(kind.of_type):
                for index, item in enumerate(value):
                    self._walk(item, kind.of_type, f"{path}[{index}]")
        elif isinstance(kind, GraphQLInputObjectType) and isinstance(value, dict):
            for name, field in kind.fields.items():
                if name in value and _holds_list(field.type):
                    self._walk(value[name], field.type, f"{path}.{name}")


def check_variables_size(operations: list[Any], settings: Settings) -> None:
    """PAYLOAD_TOO_LARGE (HTTP 413) when an operation's variables are over max_variables_bytes
    of JSON. Called only for a body larger than the limit (a smaller one cannot hold more)."""
    limit = settings.max_variables_bytes
    for operation in operations:
        variables = operation.get("variables") if isinstance(operation, dict) else None
        if variables is not None and _size(variables) > limit:
            raise RequestError(
                413,
                f"the variables are over {limit} bytes of JSON (uploads go as multipart)",
                PayloadTooLargeError.code,
            )


def _size(variables: Any) -> int:
    return len(dump_json(variables).encode("utf-8", "surrogatepass"))
