"""What a document costs, in time linear in its size: depth, aliases per use, and cost.

Every fragment is measured once and its measure reused at each spread, so fragments that
spread each other many times over cost no more to analyse than to read (walking every spread
again is exponential in the nesting of fragments).

- Depth: the deepest path of fields, fragments followed.
- Aliases: counted per use, after fragment expansion (a fragment holding 16 aliases spread 10
  times is 160 aliases).
- Cost: how many values the response can hold. Each field counts the product of the bounds of
  the lists above it and of its own (a connection's `nodes` and `edges` are bounded by its
  page: `first`, or the default page size; `limit` arguments by their value; other lists by a
  fixed bound); the sum over every field, alias and fragment use. Page sizes are clamped to
  what the resolvers accept (a `first` out of range is refused there, with BAD_USER_INPUT).
  Where a page size is a variable, the cost is evaluated per request from the variables
  (memoised the same way); otherwise once, with the document.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLCompositeType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    VariableNode,
    get_named_type,
)

from db.settings import Settings
from resolvers.bots import MAX_TAGS
from resolvers.kv import MAX_KEYS, MAX_SET_MANY
from schema.builder import MAX_MEMORY_LIMIT, MAX_SKILLS

# Lists that are neither a connection's page nor sized by a `limit` argument, by
# (type, field): their largest length. Any other list counts as the largest page.
FIXED_BOUNDS = {
    ("Bot", "tags"): MAX_TAGS,
    ("BuilderMemoryEntry", "chosenSkills"): MAX_SKILLS,
    ("Query", "kvKeys"): MAX_KEYS,
    ("Mutation", "setKvMany"): MAX_SET_MANY,
}
_PAGED = ("nodes", "edges")
_CACHED_COSTS = 64  # costs kept per operation, by the values of its page-size variables


def is_connection(kind: Any) -> bool:
    return isinstance(kind, GraphQLObjectType) and all(name in kind.fields for name in _PAGED)


@dataclass(frozen=True)
class Shape:
    """What a document holds: its fragment definitions and spreads (counted as written)."""

    fragments: int
    spreads: int


def shape(document: DocumentNode) -> Shape:
    fragments = sum(isinstance(node, FragmentDefinitionNode) for node in document.definitions)
    spreads = 0
    stack: list[SelectionSetNode] = [
        node.selection_set
        for node in document.definitions
        if isinstance(node, OperationDefinitionNode | FragmentDefinitionNode)
    ]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                spreads += 1
            elif selection.selection_set is not None:  # type: ignore[attr-defined]
                stack.append(selection.selection_set)  # type: ignore[attr-defined]
    return Shape(fragments, spreads)


@dataclass
class OperationCost:
    """An operation's cost: `constant` when no page size is a variable, else evaluated from
    each request's variables (and kept for the last few distinct values)."""

    analysis: "Analysis"
    operation: OperationDefinitionNode
    constant: int | None
    variables: tuple[str, ...]
    _cache: dict[tuple[Any, ...], int] = field(default_factory=dict)

    def cost(self, variables: Mapping[str, Any] | None) -> int:
        if self.constant is not None:
            return self.constant
        given = variables or {}
        key = tuple(_hashable(given.get(name)) for name in self.variables)
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) >= _CACHED_COSTS:
                self._cache.clear()
            found = self._cache[key] = Analysis(
                self.analysis.schema, self.analysis.document, self.analysis.settings, given
            ).operation_cost(self.operation)
        return found


def _hashable(value: Any) -> Any:
    return value if isinstance(value, int | str | float | bool | None) else repr(value)


class Analysis:
    """One walk of a document; fragments are measured once (depth, aliases, cost)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        settings: Settings,
        variables: Mapping[str, Any] | None = None,
    ) -> None:
        self.schema = schema
        self.document = document
        self.settings = settings
        self.variables = variables  # None: page sizes given by variables are not known yet
        self.fragments = {
            node.name.value: node
            for node in document.definitions
            if isinstance(node, FragmentDefinitionNode)
        }
        self.operations = [
            node for node in document.definitions if isinstance(node, OperationDefinitionNode)
        ]
        self.cost_variables: set[str] = set()
        self._depth_aliases: dict[str, tuple[int, int]] = {}
        self._costs: dict[tuple[str, int], int] = {}
        self._visiting: set[str] = set()

    # depth and aliases

    def depth_and_aliases(self) -> tuple[int, int]:
        """The deepest operation's depth and the aliases of every operation, per use."""
        depth = aliases = 0
        for operation in self.operations:
            deep, used = self._measure(operation.selection_set)
            depth, aliases = max(depth, deep), aliases + used
        return depth, aliases

    def _measure(self, selection_set: SelectionSetNode | None) -> tuple[int, int]:
        if selection_set is None:
            return 0, 0
        depth = aliases = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                deep, used = self._measure(selection.selection_set)
                depth = max(depth, deep + 1)
                aliases += used + (selection.alias is not None)
            elif isinstance(selection, InlineFragmentNode):
                deep, used = self._measure(selection.selection_set)
                depth, aliases = max(depth, deep), aliases + used
            elif isinstance(selection, FragmentSpreadNode):
                deep, used = self._fragment_measure(selection.name.value)
                depth, aliases = max(depth, deep), aliases + used
        return depth, aliases

    def _fragment_measure(self, name: str) -> tuple[int, int]:
        found = self._depth_aliases.get(name)
        fragment = self.fragments.get(name)
        if found is None and fragment is not None and name not in self._visiting:
            self._visiting.add(name)  # cycles were refused by validation: a guard only
            found = self._depth_aliases[name] = self._measure(fragment.selection_set)
            self._visiting.discard(name)
        return found or (0, 0)

    # cost

    def operation_cost(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return 0
        return self._cost(root, operation.selection_set, 0)

    def _cost(
        self, parent: GraphQLCompositeType, selection_set: SelectionSetNode | None, page: int
    ) -> int:
        """The values one instance of `parent` holds for this selection (page: the page size
        of the connection `parent` is, else 0)."""
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field_cost(parent, selection, page)
            elif isinstance(selection, InlineFragmentNode):
                kind = parent
                if selection.type_condition is not None:
                    kind = self.schema.get_type(selection.type_condition.name.value)  # type: ignore[assignment]
                total += self._cost(kind, selection.selection_set, page)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment_cost(selection.name.value, page)
        return total

    def _fragment_cost(self, name: str, page: int) -> int:
        found = self._costs.get((name, page))
        fragment = self.fragments.get(name)
        if found is None and fragment is not None and name not in self._visiting:
            kind = self.schema.get_type(fragment.type_condition.name.value)
            self._visiting.add(name)
            found = self._costs[(name, page)] = self._cost(
                kind,  # type: ignore[arg-type]  # validation checked the type condition
                fragment.selection_set,
                page,
            )
            self._visiting.discard(name)
        return found or 0

    def _field_cost(self, parent: GraphQLCompositeType, node: FieldNode, page: int) -> int:
        definition = getattr(parent, "fields", {}).get(node.name.value)
        if definition is None:  # __typename, or introspection (bounded by the schema)
            return 1
        kind = definition.type
        if isinstance(kind, GraphQLNonNull):
            kind = kind.of_type
        bound = 1
        if isinstance(kind, GraphQLList):
            bound = self._list_bound(parent, node, definition, page)
        named = get_named_type(kind)
        child_page = self._page(node, definition) if is_connection(named) else 0
        return bound * (1 + self._cost(named, node.selection_set, child_page))

    def _list_bound(
        self, parent: GraphQLCompositeType, node: FieldNode, definition: GraphQLField, page: int
    ) -> int:
        if page and node.name.value in _PAGED:
            return page
        if "limit" in definition.args:
            return self._argument(node, definition, "limit", MAX_MEMORY_LIMIT, MAX_MEMORY_LIMIT)
        fixed = FIXED_BOUNDS.get((parent.name, node.name.value))
        return self.settings.max_page_size if fixed is None else fixed

    def _page(self, node: FieldNode, definition: GraphQLField) -> int:
        settings = self.settings
        if "first" not in definition.args:
            return settings.default_page_size
        return self._argument(
            node, definition, "first", settings.default_page_size, settings.max_page_size
        )

    def _argument(
        self, node: FieldNode, definition: GraphQLField, name: str, default: int, most: int
    ) -> int:
        """An integer size argument's value, clamped to 1..most (the resolver refuses values
        outside its range); `default` when omitted or null. A variable's value is read from the
        request (unknown before: the cost is then worked out per request)."""
        given = next((arg.value for arg in node.arguments or () if arg.name.value == name), None)
        value: Any = None
        if isinstance(given, VariableNode):
            variable = given.name.value
            self.cost_variables.add(variable)
            if self.variables is None:
                return most
            value = self.variables.get(variable, self._variable_default(variable))
        elif isinstance(given, IntValueNode):
            value = int(given.value)
        elif given is None:
            value = definition.args[name].default_value
        if value is None or value is Undefined:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            return most  # refused when the variables are coerced
        return max(1, min(value, most))

    def _variable_default(self, name: str) -> Any:
        for operation in self.operations:
            for definition in operation.variable_definitions or ():
                if definition.variable.name.value == name and isinstance(
                    definition.default_value, IntValueNode
                ):
                    return int(definition.default_value.value)
        return None


def operation_costs(
    schema: GraphQLSchema, document: DocumentNode, settings: Settings
) -> dict[str | None, OperationCost]:
    """Each operation's cost by name: worked out now, or per request where page sizes are
    variables."""
    analysis = Analysis(schema, document, settings)
    found = [(operation, analysis.operation_cost(operation)) for operation in analysis.operations]
    variables = tuple(sorted(analysis.cost_variables))  # of the whole document (fragments
    # are shared between its operations)
    return {
        (operation.name.value if operation.name else None): OperationCost(
            analysis, operation, None if variables else cost, variables
        )
        for operation, cost in found
    }
