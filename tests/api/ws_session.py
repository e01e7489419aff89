"""A graphql-transport-ws client on the ASGI app itself, in the test's event loop (so mutations
through the `gql` fixture and subscriptions share one app, one broker and one loop).

    async with WsSession(app) as ws:
        await ws.init()
        await ws.subscribe("1", "subscription { ... }")
        await subscribed(app, "kv/<bot id>")
        ...  # mutations
        assert (await ws.next("1")) == {...}
"""

import asyncio
import json
from types import TracebackType
from typing import Any

from starlette.applications import Starlette

TIMEOUT_S = 5.0
PROTOCOL = "graphql-transport-ws"


class ClosedError(Exception):
    """The server closed the socket."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"closed {code}: {reason}")
        self.code = code
        self.reason = reason


class WsSession:
    def __init__(self, app: Starlette, headers: dict[str, str] | None = None) -> None:
        self.app = app
        self.headers = {"host": "localhost:8000", **(headers or {})}
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "WsSession":
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "http_version": "1.1",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "query_string": b"",
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in self.headers.items()]
            + [(b"sec-websocket-protocol", PROTOCOL.encode())],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "subprotocols": [PROTOCOL],
        }
        self._task = asyncio.create_task(self.app(scope, self._to_app.get, self._put))
        await self._to_app.put({"type": "websocket.connect"})
        accepted = await self._message()
        assert accepted["type"] == "websocket.accept", accepted
        assert accepted.get("subprotocol") == PROTOCOL
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._to_app.put({"type": "websocket.disconnect", "code": 1000})
        assert self._task is not None
        async with asyncio.timeout(TIMEOUT_S):
            await self._task

    async def _put(self, message: dict[str, Any]) -> None:
        await self._from_app.put(message)

    async def _message(self) -> dict[str, Any]:
        async with asyncio.timeout(TIMEOUT_S):
            return await self._from_app.get()

    async def send(self, message: Any) -> None:
        await self.send_text(json.dumps(message))

    async def send_text(self, text: str) -> None:
        await self._to_app.put({"type": "websocket.receive", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        await self._to_app.put({"type": "websocket.receive", "bytes": data})

    async def receive(self) -> dict[str, Any]:
        """The next protocol message; ClosedError when the server closed the socket instead."""
        message = await self._message()
        if message["type"] == "websocket.close":
            raise ClosedError(message.get("code", 1000), message.get("reason") or "")
        received: dict[str, Any] = json.loads(message["text"])
        return received

    async def closed(self) -> ClosedError:
        """Wait for the server to close the socket; fails on any other message."""
        try:
            message = await self.receive()
        except ClosedError as closed:
            return closed
        raise AssertionError(f"expected the socket to close, got {message}")

    async def init(self, payload: dict[str, Any] | None = None) -> None:
        await self.send({"type": "connection_init", "payload": payload or {}})
        assert await self.receive() == {"type": "connection_ack"}

    async def subscribe(self, id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        payload = {"query": query, "variables": variables or {}}
        await self.send({"id": id, "type": "subscribe", "payload": payload})

    async def next(self, id: str) -> Any:
        """The data of the next message, which must be a `next` for this id without errors."""
        message = await self.receive()
        assert message.get("id") == id, message
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        return message["payload"]["data"]

    async def collect(self, counts: dict[str, int]) -> dict[str, list[Any]]:
        """The data of the next `next` messages by id, until each id has its count (the
        subscriptions of one socket interleave)."""
        received: dict[str, list[Any]] = {id: [] for id in counts}
        while any(len(received[id]) < count for id, count in counts.items()):
            message = await self.receive()
            assert message["type"] == "next", message
            assert message.get("id") in counts, message
            assert "errors" not in message["payload"], message
            received[message["id"]].append(message["payload"]["data"])
        return received

    async def completed(self, id: str) -> None:
        assert await self.receive() == {"id": id, "type": "complete"}

    async def error(self, id: str) -> list[Any]:
        """The errors of the next message, which must be an `error` for this id."""
        message = await self.receive()
        assert message.get("id") == id, message
        assert message["type"] == "error", message
        errors: list[Any] = message["payload"]
        return errors


async def subscribed(app: Starlette, topic: str, count: int = 1) -> None:
    """Wait until the topic is subscribed to and the WebSocket subscriptions number at least
    `count` (the server registers a subscription asynchronously after the subscribe message;
    events published before that are not its). Subscriptions of one selection share one
    broker subscription (app/ws_feeds.py)."""
    feeds = app.state.websocket.feeds
    async with asyncio.timeout(TIMEOUT_S):
        while app.state.broker.subscriber_count(topic) < 1 or feeds.members < count:  # noqa: ASYNC110 (no event to wait on)
            await asyncio.sleep(0)
