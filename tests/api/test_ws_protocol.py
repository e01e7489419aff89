"""graphql-transport-ws as graphql-ws's PROTOCOL.md says it, for every message a client can
send: a malformed one closes the socket with 4400 (before any key is given), a subscribe before
connection_ack with 4401, a second connection_init with 4429, a duplicate id with 4409; each
with no traceback in the server's log (checked on a real uvicorn)."""

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from tests.api.ws_session import WsSession
from tests.server import started_server

QUERY = "query { providers { name } }"
SUBSCRIPTION = "subscription { providerHealthChanged { name } }"
SUBSCRIBE = {"id": "1", "type": "subscribe", "payload": {"query": QUERY}}

# (frame, the close reason after "Bad request: ")
MALFORMED: dict[str, tuple[Any, str]] = {
    "array": ([], "a message must be a JSON object"),
    "array-of-init": ([{"type": "connection_init"}], "a message must be a JSON object"),
    "number": (1, "a message must be a JSON object"),
    "string": ("connection_init", "a message must be a JSON object"),
    "null": (None, "a message must be a JSON object"),
    "no-type": ({"payload": {}}, "a message needs a string type"),
    "type-not-string": ({"type": 1}, "a message needs a string type"),
    "unknown-type": ({"type": "start"}, "unknown message type 'start'"),
    "server-type-next": (
        {"id": "1", "type": "next", "payload": {}},
        "unknown message type 'next'",
    ),
    "server-type-ack": ({"type": "connection_ack"}, "unknown message type 'connection_ack'"),
    "init-payload-array": (
        {"type": "connection_init", "payload": []},
        "the connection_init payload must be an object or null",
    ),
    "init-payload-string": (
        {"type": "connection_init", "payload": "x"},
        "the connection_init payload must be an object or null",
    ),
    "ping-payload-number": (
        {"type": "ping", "payload": 1},
        "the ping payload must be an object or null",
    ),
    "subscribe-payload-null": (
        {"id": "1", "type": "subscribe", "payload": None},
        "a subscribe message needs a payload object",
    ),
    "subscribe-payload-string": (
        {"id": "1", "type": "subscribe", "payload": "query { __typename }"},
        "a subscribe message needs a payload object",
    ),
    "subscribe-no-payload": ({"id": "1", "type": "subscribe"}, "a subscribe message needs a"),
    "subscribe-no-query": (
        {"id": "1", "type": "subscribe", "payload": {"variables": {}}},
        "a subscribe payload needs a query string",
    ),
    "subscribe-query-not-string": (
        {"id": "1", "type": "subscribe", "payload": {"query": ["x"]}},
        "a subscribe payload needs a query string",
    ),
    "subscribe-id-number": (
        {"id": 1, "type": "subscribe", "payload": {"query": QUERY}},
        "a subscribe message needs a non-empty string id",
    ),
    "subscribe-no-id": (
        {"type": "subscribe", "payload": {"query": QUERY}},
        "a subscribe message needs a non-empty string id",
    ),
    "subscribe-empty-id": (
        {"id": "", "type": "subscribe", "payload": {"query": QUERY}},
        "a subscribe message needs a non-empty string id",
    ),
    "subscribe-variables-array": (
        {"id": "1", "type": "subscribe", "payload": {"query": QUERY, "variables": [1]}},
        "variables must be an object or null",
    ),
    "subscribe-operation-name-number": (
        {"id": "1", "type": "subscribe", "payload": {"query": QUERY, "operationName": 2}},
        "operationName must be a string or null",
    ),
    "subscribe-extensions-string": (
        {"id": "1", "type": "subscribe", "payload": {"query": QUERY, "extensions": "x"}},
        "extensions must be an object or null",
    ),
    "complete-no-id": ({"type": "complete"}, "a complete message needs a non-empty string id"),
    "complete-id-object": (
        {"id": {}, "type": "complete"},
        "a complete message needs a non-empty string id",
    ),
}


@pytest.mark.parametrize(("frame", "reason"), MALFORMED.values(), ids=MALFORMED.keys())
@pytest.mark.parametrize("initialised", [False, True], ids=["before-init", "after-ack"])
async def test_malformed_message_closes_with_4400(
    app: Starlette, frame: Any, reason: str, initialised: bool
) -> None:
    async with WsSession(app) as ws:
        if initialised:
            await ws.init()
        await ws.send(frame)
        closed = await ws.closed()
    assert closed.code == 4400
    assert closed.reason.startswith(f"Bad request: {reason}")


@pytest.mark.parametrize(
    "send",
    [
        lambda ws: ws.send_text("{not json"),
        lambda ws: ws.send_text("[" * 100_000 + "]" * 100_000),
        lambda ws: ws.send_bytes(b'{"type": "connection_init"}'),
    ],
    ids=["not-json", "nested-too-deep", "binary"],
)
async def test_frame_that_is_not_json_text_closes_with_4400(app: Starlette, send: Any) -> None:
    async with WsSession(app) as ws:
        await send(ws)
        closed = await ws.closed()
    assert closed.code == 4400


@pytest.mark.parametrize("payload", [None, {}, {"any": "thing"}], ids=["null", "empty", "object"])
async def test_connection_init_payload_may_be_null_or_an_object(
    app: Starlette, payload: Any
) -> None:
    async with WsSession(app) as ws:
        await ws.send({"type": "connection_init", "payload": payload})
        assert await ws.receive() == {"type": "connection_ack"}
        await ws.send({"type": "connection_init"})
        closed = await ws.closed()
    assert (closed.code, closed.reason) == (4429, "Too many initialisation requests")


async def test_connection_init_without_payload_is_acknowledged(app: Starlette) -> None:
    async with WsSession(app) as ws:
        await ws.send({"type": "connection_init"})
        assert await ws.receive() == {"type": "connection_ack"}
        await ws.send({"type": "ping", "payload": None})
        assert await ws.receive() == {"type": "pong"}
        await ws.send({"type": "pong", "payload": {"t": 1}})
        await ws.send({"id": "unknown", "type": "complete"})  # nothing to complete: ignored
        await ws.send(SUBSCRIBE)
        assert await ws.next("1") == {"providers": []}
        await ws.completed("1")


async def test_subscribe_before_connection_ack_closes_with_4401(app: Starlette) -> None:
    async with WsSession(app) as ws:
        await ws.send(SUBSCRIBE)
        closed = await ws.closed()
    assert (closed.code, closed.reason) == (4401, "Unauthorized")


async def test_subscribe_with_an_id_in_use_closes_with_4409(app: Starlette) -> None:
    async with WsSession(app) as ws:
        await ws.init()
        await ws.subscribe("same", SUBSCRIPTION)
        await ws.subscribe("same", SUBSCRIPTION)
        closed = await ws.closed()
    assert (closed.code, closed.reason) == (4409, "Subscriber for same already exists")


async def test_id_of_a_finished_operation_may_be_used_again(app: Starlette) -> None:
    async with WsSession(app) as ws:
        await ws.init()
        for _ in range(2):
            await ws.send(SUBSCRIBE)
            assert await ws.next("1") == {"providers": []}
            await ws.completed("1")


# Each frame on its own socket of one real server, whose log then holds no traceback.
ON_A_REAL_SERVER: list[tuple[str | bytes, int]] = [
    ("[]", 4400),
    ("1", 4400),
    ("{", 4400),
    (b"\x00\x01", 4400),
    ('{"id": "1", "type": "subscribe", "payload": null}', 4400),
    ('{"id": "1", "type": "subscribe", "payload": "query { __typename }"}', 4400),
    ('{"type": "start"}', 4400),
    (json.dumps(SUBSCRIBE), 4401),
]


async def closed_code(url: str, frames: list[str | bytes]) -> int:
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        for frame in frames:
            await ws.send(frame)
        async with asyncio.timeout(10):
            await ws.wait_closed()
    assert ws.close_code is not None
    return ws.close_code


@pytest.mark.server
async def test_malformed_frames_on_a_real_server_close_with_their_code_and_log_no_traceback(
    tmp_path: Path,
) -> None:
    async with started_server(tmp_path / "data") as server:
        url = server.url.replace("http://", "ws://") + "/graphql"
        codes = [await closed_code(url, [frame]) for frame, _ in ON_A_REAL_SERVER]
        init = json.dumps({"type": "connection_init"})
        twice = await closed_code(url, [init, init])
        again = json.dumps({"id": "a", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
        duplicate = await closed_code(url, [init, again, again])
    assert codes == [code for _, code in ON_A_REAL_SERVER]
    assert (twice, duplicate) == (4429, 4409)
    log = server.log.read_text()
    assert "Traceback" not in log
    assert "ERROR" not in log
