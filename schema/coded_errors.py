"""The error shape (schema/errors.py) for results Strawberry streams itself: the WebSocket's
subscriptions, queries and mutations. Each error gets its extensions.code and unexpected ones
are masked (and logged), exactly as on HTTP; the HTTP endpoint formats its own results."""

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import StreamExecutionResult

from schema.errors import BAD_USER_INPUT, INTERNAL, format_error


def coded(error: GraphQLError, phase_code: str) -> GraphQLError:
    """The error as a client sees it: message (masked when unexpected) and extensions.code."""
    formatted = format_error(error, phase_code)
    return GraphQLError(
        formatted["message"],
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=formatted["extensions"],
    )


class CodedErrors(SchemaExtension):
    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        errors = getattr(result, "errors", None)
        if errors:
            # variable coercion fails before execution starts: the client's input (as on
            # HTTP: no data and no error located in the response)
            unlocated = getattr(result, "data", None) is None and all(
                error.path is None for error in errors
            )
            phase_code = BAD_USER_INPUT if unlocated else INTERNAL
            result.errors = [coded(error, phase_code) for error in errors]  # type: ignore[union-attr]
        yield None
