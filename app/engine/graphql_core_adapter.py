"""Every use of graphql-core's internal API, in one place.

The engine (app/engine/) plans and runs queries with parts of graphql-core that are not its
public API: field collection (`collect_fields`, `collect_subfields`: "for internal use only"),
argument coercion one argument at a time (`coerce_argument`, not exported), and two executor
methods marked `:meta private:` (`Executor.execute_fields`, `Executor.complete_list_value`),
which `HookedExecutor` overrides to offer a shortcut hook. The rest of the engine imports
graphql-core from `graphql` (its public API) and from here; tests/engine/test_adapters.py
checks each signature relied on, so an upgrade that changes one fails there, naming the version.
"""

from typing import Any

from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLResolveInfo
from graphql import version as GRAPHQL_CORE_VERSION  # noqa: N812 (a constant)
from graphql.execution import Executor
from graphql.execution.collect_fields import (
    FieldDetails,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.get_variable_signature import (
    GraphQLVariableSignature,
    get_variable_signature,
)
from graphql.execution.values import VariableValueSource, coerce_argument
from graphql.pyutils import AwaitableOrValue, Path

__all__ = [
    "GRAPHQL_CORE_VERSION",
    "FieldDetails",
    "FragmentDetails",
    "GraphQLVariableSignature",
    "HookedExecutor",
    "VariableValueSource",
    "coerce_argument",
    "collect_fields",
    "collect_subfields",
    "get_variable_signature",
]


class HookedExecutor(Executor[Any]):
    """graphql-core's executor with two shortcuts a subclass may take: `complete_object`
    answers an object's fields at once (None: graphql-core completes them), `complete_objects`
    a whole list of objects (None likewise)."""

    def complete_object(
        self, parent_type: GraphQLObjectType, grouped_field_set: Any, source: Any
    ) -> dict[str, Any] | None:
        return None

    def complete_objects(
        self,
        item_type: GraphQLObjectType,
        grouped_field_set: Any,
        items: list[Any],
        info: GraphQLResolveInfo[Any],
    ) -> list[Any] | None:
        return None

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        if path is not None:  # not the root
            results = self.complete_object(parent_type, grouped_field_set, source_value)
            if results is not None:
                return results
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

    def complete_list_value(
        self,
        return_type: GraphQLList[Any],
        field_details_list: Any,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> AwaitableOrValue[list[Any]]:
        item_type = return_type.of_type
        if isinstance(item_type, GraphQLNonNull):
            item_type = item_type.of_type
        if isinstance(item_type, GraphQLObjectType) and isinstance(result, list):
            grouped_field_set = self.collect_subfields(item_type, field_details_list)[0]
            completed = self.complete_objects(item_type, grouped_field_set, result, info)
            if completed is not None:
                return completed
        return super().complete_list_value(
            return_type, field_details_list, info, path, result, position_context
        )
