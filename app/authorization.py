"""Authorization: one decision, on the operation that will actually run, for every transport.

JSON POST, batches, GET, multipart and graphql-transport-ws all call `authorize` with the
prepared document, the request's operationName and what the transport allows, before anything
runs. It picks the operation graphql-core will execute and refuses:

- a document with several operations and no operationName (which one runs is not chosen yet);
- an operationName the document does not define;
- a mutation where the transport runs none (GET): 405;
- a mutation with a key that may not write: 403 FORBIDDEN;
- a subscription where the transport runs none (HTTP: subscriptions run over WebSocket).
"""

from dataclasses import dataclass

from graphql import OperationType

from app.auth import Principal
from app.documents import Prepared
from app.responses import GraphQLRequestError, RequestError
from db.errors import ForbiddenError


@dataclass(frozen=True)
class Allowances:
    """What a transport may run besides queries."""

    mutations: bool
    subscriptions: bool


HTTP_GET = Allowances(mutations=False, subscriptions=False)
HTTP_POST = Allowances(mutations=True, subscriptions=False)
WEBSOCKET = Allowances(mutations=True, subscriptions=True)


def selected_operation(prepared: Prepared, name: str | None) -> OperationType:
    """The kind of the operation that runs for this operationName (graphql-core's choice)."""
    if name is not None:
        if name not in prepared.operations:
            raise GraphQLRequestError(f"the document has no operation named '{name}'")
        return prepared.operations[name]
    if len(prepared.operations) != 1:
        raise GraphQLRequestError("the document has several operations; give operationName")
    return next(iter(prepared.operations.values()))


def authorize(
    principal: Principal, prepared: Prepared, name: str | None, allowed: Allowances
) -> OperationType:
    """The kind of the operation that will run, once this principal may run it over this
    transport; RequestError otherwise. `prepared` must hold a document (not parse errors)."""
    kind = selected_operation(prepared, name)
    if kind is OperationType.MUTATION:
        if not allowed.mutations:
            raise RequestError(
                405, "mutations are not allowed over GET; use POST", headers={"Allow": "POST"}
            )
        try:
            principal.require_write()
        except ForbiddenError as error:
            raise RequestError(403, error.message, error.code) from None
    if kind is OperationType.SUBSCRIPTION and not allowed.subscriptions:
        raise GraphQLRequestError("subscriptions run over WebSocket (graphql-transport-ws)")
    return kind
