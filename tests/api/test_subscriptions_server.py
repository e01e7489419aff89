"""A real client (the `websockets` library speaking graphql-transport-ws) against a real uvicorn
on 127.0.0.1 (tests/server.py)."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.server import running_server

pytestmark = pytest.mark.server
TIMEOUT_S = 10.0
PROBE = "k-probe"
KV_CHANGED = """
subscription($b: ID!) { kvChanged(botId: $b, prefix: "k") { key deleted entry { value } } }
"""
SET_KV = "mutation($b: ID!, $k: String!, $v: JSON) { setKv(botId: $b, key: $k, value: $v) { key } }"
SET_MANY = "mutation($b: ID!, $e: [KvSetInput!]!) { setKvMany(botId: $b, entries: $e) { key } }"


async def post(http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    body = (await http.post("/graphql", json={"query": query, "variables": variables})).json()
    assert "errors" not in body, body
    return body["data"]


async def receive(ws: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(TIMEOUT_S):
        message: dict[str, Any] = json.loads(await ws.recv())
        return message


@asynccontextmanager
async def graphql_ws(base_url: str, origin: str | None = None) -> AsyncIterator[ClientConnection]:
    url = base_url.replace("http://", "ws://") + "/graphql"
    headers = {"Origin": origin} if origin else None
    async with connect(
        url, subprotocols=[Subprotocol("graphql-transport-ws")], additional_headers=headers
    ) as ws:
        yield ws


async def wait_live(ws: ClientConnection, http: httpx.AsyncClient, bot_id: str) -> None:
    """Write the probe key until its event arrives: then the subscription is registered (the
    server registers it asynchronously after the subscribe message)."""
    for attempt in range(50):
        await post(http, SET_KV, {"b": bot_id, "k": PROBE, "v": attempt})
        try:
            async with asyncio.timeout(0.2):
                message = json.loads(await ws.recv())
        except TimeoutError:
            continue
        assert message["payload"]["data"]["kvChanged"]["key"] == PROBE
        return
    raise AssertionError("the subscription never received an event")


async def next_events(ws: ClientConnection, count: int) -> list[Any]:
    """The next `count` events, leaving out late probe events."""
    received: list[Any] = []
    while len(received) < count:
        message = await receive(ws)
        assert message["type"] == "next", message
        change = message["payload"]["data"]["kvChanged"]
        if change["key"] != PROBE:
            received.append(change)
    return received


async def test_websockets_client_receives_kv_changes_then_completion(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path / "data") as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=TIMEOUT_S) as http,
        graphql_ws(base_url) as ws,
    ):
        data = await post(http, 'mutation { createBot(input: {name: "A"}) { id } }', {})
        bot_id = data["createBot"]["id"]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert await receive(ws) == {"type": "connection_ack"}
        subscribe = {"query": KV_CHANGED, "variables": {"b": bot_id}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
        await wait_live(ws, http, bot_id)
        entries = [{"key": "k1", "value": 1}, {"key": "x", "value": 2}, {"key": "k2", "value": 3}]
        await post(http, SET_MANY, {"b": bot_id, "e": entries})
        await post(http, 'mutation($b: ID!) { deleteKv(botId: $b, key: "k1") }', {"b": bot_id})
        assert await next_events(ws, 3) == [
            {"key": "k1", "deleted": False, "entry": {"value": 1}},
            {"key": "k2", "deleted": False, "entry": {"value": 3}},
            {"key": "k1", "deleted": True, "entry": None},
        ]
        await post(http, "mutation($b: ID!) { deleteBot(id: $b) }", {"b": bot_id})
        message = await receive(ws)
        while message.get("type") == "next":  # late probe events
            message = await receive(ws)
        assert message == {"id": "1", "type": "complete"}


async def test_websockets_client_from_other_origin_is_closed_with_4403(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path / "data", {"BOTERNITY_WS_ORIGINS": "https://app.example"}) as url,
        graphql_ws(url, origin="https://app.example") as allowed,
    ):
        await allowed.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert await receive(allowed) == {"type": "connection_ack"}
        async with graphql_ws(url, origin="https://evil.example") as refused:
            with pytest.raises(ConnectionClosed) as closed:
                await receive(refused)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4403
