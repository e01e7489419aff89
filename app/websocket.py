"""GraphQL over WebSocket (graphql-transport-ws, the protocol of graphql-ws, Apollo Client and
urql) at /graphql: Strawberry's own handler, with this server's rules added.

- Every message is checked against the protocol first (app/ws_protocol.py): a malformed one
  (not a JSON object, no or an unknown type, a subscribe without a payload object or query
  string, a non-string id...) closes the socket with 4400; a subscribe before connection_ack
  with 4401, a second connection_init with 4429, an id in use with 4409.
- Origin: a handshake with no Origin header, or from the server's own origin (an allowed host
  on the bind port, app/hosts.py; never taken from the request's Host), is accepted; another
  origin only when listed in ws_origins. A refused one is closed with 4403.
- Authentication on connection_init, with the same keys and scopes as HTTP: the payload
  {"Authorization": "Bearer <key>"}. No key or a wrong one closes the socket with 4401 (which
  graphql-ws clients do not retry); so does a key revoked since, at the next subscribe.
  Mutations need a write key, as on HTTP.
- Every document gets the HTTP endpoint's checks (parse, validation, depth, token and alias
  limits, introspection switch) from the same cache before it runs.
- At most max_subscriptions operations at once per socket: one more gets an error message
  (BAD_USER_INPUT, like an over-long batch on HTTP) and the socket stays open. The caps over
  every socket and per key, and the closing of a revoked key's sockets: app/ws_limits.py.
- A subscription runs once per distinct selection (document, operation name, variables) in
  this process, whichever sockets ask for it; each event is encoded once (app/ws_feeds.py).
Errors carry extensions.code as on HTTP (schema/coded_errors.py).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

import orjson
import strawberry
from graphql import GraphQLFormattedError, OperationType
from starlette.requests import HTTPConnection
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http.websocket_origin import normalize_allowed_origins, normalize_origin
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    ErrorMessage,
    Message,
    SubscribeMessage,
)

from app.auth import Authenticator, Principal
from app.authorization import WEBSOCKET, authorize
from app.documents import DocumentCache
from app.hosts import own_origins
from app.responses import RequestError, encode
from app.ws_feeds import Feeds, Item, Member, Outbox, Results, selection_key
from app.ws_limits import TOO_MANY, TRY_AGAIN_LATER, Sockets
from app.ws_protocol import BAD_REQUEST, problem
from db.errors import DomainError, SettingsError, UnauthenticatedError
from db.settings import Settings
from schema.context import Context
from schema.errors import BAD_USER_INPUT, INTERNAL, coded_error

_log = logging.getLogger("boternity.websocket")
_MAX_REASON_BYTES = 123  # the WebSocket protocol's limit on a close reason


def _origin(scope: Scope) -> str | None:
    for key, value in scope["headers"]:
        if key == b"origin":
            return str(value.decode("latin-1"))
    return None


def _authorization(payload: dict[str, Any]) -> str | None:
    """The payload's Authorization value (the name in any case), as on HTTP."""
    for name, value in payload.items():
        if name.lower() == "authorization" and isinstance(value, str):
            return value
    return None


def _unexpected_only(record: logging.LogRecord) -> bool:
    """Strawberry logs every error of the results it streams; an expected one (a DomainError,
    already sent to the client with its code) is not the server's problem and is not logged."""
    return not (record.exc_info and isinstance(record.exc_info[1], DomainError))


def _reason(text: str) -> str:
    return text.encode()[:_MAX_REASON_BYTES].decode(errors="ignore")


class TransportHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with authentication on connection_init and the checks above."""

    authorization: str | None = None
    principal: Principal | None = None
    outbox: Outbox | None = None  # frames of this socket's subscriptions (app/ws_feeds.py)

    @property
    def endpoint(self) -> "GraphQLWebSocket":
        assert isinstance(self.view, GraphQLWebSocket)
        return self.view

    async def handle(self) -> None:
        """Serve the socket, counted among the open ones (app/ws_limits.py): over
        max_websockets it is closed with 1013 at once."""
        sockets = self.endpoint.sockets
        refusal = sockets.admit(self)
        if refusal is not None:
            await self.websocket.close(TRY_AGAIN_LATER, _reason(refusal))
            return
        try:
            await super().handle()
        finally:
            sockets.leave(self)
            if self.outbox is not None:
                await self.outbox.close()

    async def close(self, code: int, reason: str) -> None:
        """Close the socket (nothing more is read from it)."""
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        await self.websocket.close(code, _reason(reason))

    async def handle_message(self, message: Message) -> None:
        """A message that is not one the protocol lets a client send closes the socket with
        4400 before anything else reads it (app/ws_protocol.py)."""
        reason = problem(message)
        if reason is not None:
            await self.close(BAD_REQUEST, f"Bad request: {reason}")
            return
        await super().handle_message(message)

    async def _authenticate(self) -> bool:
        """Check the connection's key (on every subscribe too, so a revoked key opens nothing
        new); when it is not valid, close the socket with 4401."""
        try:
            self.principal = await self.endpoint.authenticator.authenticate(self.authorization)
        except UnauthenticatedError as error:
            await self.close(4401, f"Unauthorized: {error.message}")
            return False
        return True

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload") or {}  # the protocol allows null or no payload
        if not self.connection_init_received:
            self.authorization = _authorization(payload)
            if not await self._authenticate():
                return
            assert self.principal is not None
            refusal = self.endpoint.sockets.admit_key(self, self.principal)
            if refusal is not None:
                await self.close(TOO_MANY, refusal)
                return
        await super().handle_connection_init(
            ConnectionInitMessage(type=message["type"], payload=payload)
        )

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged and message["id"] not in self.operations:
            if not await self._authenticate():
                return
            checked = self._refusal(message)
            self.endpoint.observe(checked)
            if isinstance(checked, list):
                errors = cast("list[GraphQLFormattedError]", checked)
                await self.send_message(
                    ErrorMessage(id=message["id"], type="error", payload=errors)
                )
                return
            if checked is OperationType.SUBSCRIPTION:
                self._follow(message)
                return
        await super().handle_subscribe(message)

    def _follow(self, message: SubscribeMessage) -> None:
        """Subscribe through the feed of this selection (app/ws_feeds.py)."""
        payload = message["payload"]
        query, name = payload["query"], payload.get("operationName")
        variables = payload.get("variables")

        def start() -> Awaitable[Results]:
            return self.schema.stream(
                query,
                variable_values=variables,
                context_value=self.context,
                root_value=self.root_value,
                operation_name=name,
            )

        operation = Operation(self, message["id"], query, variables, name)

        async def send(item: Item) -> None:
            kind, value = item
            frame: dict[str, Any] = {"id": operation.id, "type": kind}
            if value is not None:
                frame["payload"] = value
            await operation.send_operation_message(cast("Message", frame))

        if self.outbox is None:
            self.outbox = Outbox()
        key = selection_key(query, name, variables)
        member = self.endpoint.feeds.join(key, start, self.outbox, send)
        operation.task = asyncio.create_task(_follow_until_done(member))
        operation.task.add_done_callback(_retrieve)
        self.operations[message["id"]] = operation

    def _refusal(self, message: SubscribeMessage) -> list[dict[str, Any]] | OperationType:
        """The kind of the operation to run, or the errors that stop it before it runs."""
        limit = self.endpoint.settings.max_subscriptions
        if len(self.operations) >= limit:
            return [coded_error(f"at most {limit} subscriptions per WebSocket", BAD_USER_INPUT)]
        assert self.principal is not None  # authenticated before the connection_ack
        refusal = self.endpoint.sockets.operation_refusal(self.principal)
        if refusal is not None:
            return [coded_error(refusal, BAD_USER_INPUT)]
        payload = message["payload"]  # its shape is checked (app/ws_protocol.py)
        query, name = payload["query"], payload.get("operationName")
        if not query.strip():
            return [coded_error("the subscribe message has an empty query", BAD_USER_INPUT)]
        prepared = self.endpoint.documents.get(query)
        if prepared.document is None:
            return prepared.errors
        try:
            kind = authorize(self.principal, prepared, name, WEBSOCKET)
            self.endpoint.documents.check_operation(prepared, name, payload.get("variables"))
        except RequestError as refused:
            return refused.errors
        return kind


async def _follow_until_done(member: Member) -> None:
    """The operation's task: done when the feed completes it; cancelled when the client
    completes it or the socket closes, and then it leaves the feed."""
    try:
        await asyncio.shield(member.finished)
    finally:
        member.leave()


def _retrieve(task: "asyncio.Task[None]") -> None:
    """Mark a finished operation's exception retrieved (it was logged where it happened)."""
    if not task.cancelled():
        task.exception()


class GraphQLWebSocket(GraphQL[Context, None]):
    """The WebSocket endpoint (mounted as a Starlette WebSocketRoute)."""

    graphql_transport_ws_handler_class = TransportHandler

    def __init__(
        self,
        schema: strawberry.Schema,
        settings: Settings,
        make_context: Callable[[HTTPConnection], Context],
        authenticator: Authenticator,
        documents: DocumentCache,
        count_operation: Callable[[str, str, list[str]], None],
    ) -> None:
        try:
            listed = normalize_allowed_origins(settings.ws_origins)
        except ValueError as error:  # an entry of ws_origins is not an origin
            raise SettingsError(f"BOTERNITY_WS_ORIGINS: {error}") from None
        self.origins = listed | own_origins(settings)
        super().__init__(
            schema,
            graphql_ide=None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            max_subscriptions_per_connection=None,  # TransportHandler checks it, with a code
            allowed_origins=("*",),  # __call__ decides, from the allowed hosts only
        )
        logging.getLogger("strawberry.execution").addFilter(_unexpected_only)
        self.settings = settings
        self.make_context = make_context
        self.authenticator = authenticator
        self.documents = documents
        self.sockets = Sockets(settings, authenticator)
        self.feeds = Feeds(settings.subscription_queue)
        self._count_operation = count_operation  # (operation type, outcome, codes): metrics

    def observe(self, checked: list[dict[str, Any]] | OperationType) -> None:
        """Count a subscribe message: admitted as its kind, or refused with its codes."""
        if isinstance(checked, OperationType):
            self._count_operation(checked.value, "OK", [])
            return
        codes = [error.get("extensions", {}).get("code", INTERNAL) for error in checked]
        self._count_operation("none", codes[0] if codes else INTERNAL, codes)

    def decode_json(self, data: str | bytes) -> object:
        """orjson: a document nested too deep is a JSONDecodeError (then 4400), never a
        RecursionError."""
        return orjson.loads(data)

    def encode_json(self, data: object) -> str:
        """The HTTP endpoint's encoder: orjson, pre-encoded JSON values (KV values) as they are."""
        return encode(data).decode()

    async def get_context(self, request: Any, response: Any) -> Context:
        return self.make_context(request)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A handshake from a browser page whose origin is neither the server's own (an
        allowed host on the bind port, never the request's Host: DNS rebinding) nor listed in
        ws_origins is closed with 4403."""
        origin = _origin(scope)
        if origin is None or "*" in self.origins or normalize_origin(origin) in self.origins:
            await super().__call__(scope, receive, send)
            return
        _log.warning("refused a WebSocket from the origin %r (not in BOTERNITY_WS_ORIGINS)", origin)
        await self.reject_websocket(WebSocket(scope, receive, send))

    async def reject_websocket(self, request: WebSocket) -> WebSocket:
        """Accept, then close with 4403, so the client sees why (a refused handshake would be
        a bare HTTP 403)."""
        await request.accept(subprotocol=await self.pick_websocket_subprotocol(request))
        await request.close(code=4403, reason="Forbidden: this origin may not open WebSockets")
        return request
