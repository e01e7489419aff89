"""DNS rebinding (issue 14 item 7): a page on an attacker's name that resolves to 127.0.0.1
reaches a server started as the quick start says (BOTERNITY_AUTH=disabled) with the attacker's
name in the Host header. Every route and the WebSocket handshake refuse it with HTTP 400 and a
coded error, and nothing runs; the loopback names, with or without port, are served. Each
against a real uvicorn on 127.0.0.1."""

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from tests.server import running_server

pytestmark = pytest.mark.server
TIMEOUT_S = 10.0
CREATE_BOT = {"query": 'mutation { createBot(input: {name: "pwned"}) { id } }'}
BOTS = {"query": "query { bots { nodes { name } } }"}
EVIL = "rebind.attacker.example"


async def handshake_status(base_url: str, host: str, origin: str) -> int:
    """The HTTP status a WebSocket handshake with this Host and Origin gets (101: upgraded)."""
    port = int(base_url.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = (
        "GET /graphql HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        f"Origin: {origin}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
    )
    writer.write(request.encode())
    async with asyncio.timeout(TIMEOUT_S):
        status_line = await reader.readline()
    writer.close()
    return int(status_line.split()[1])


async def test_http_request_for_another_host_is_refused_with_400_and_runs_nothing(
    tmp_path: Path,
) -> None:
    async with (
        running_server(tmp_path / "data") as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=TIMEOUT_S) as http,
    ):
        port = base_url.rsplit(":", 1)[1]
        rebound = {"Host": f"{EVIL}:{port}", "Origin": f"http://{EVIL}:{port}"}
        post = await http.post("/graphql", json=CREATE_BOT, headers=rebound)
        others = [
            await http.get(path, headers=rebound)
            for path in ("/graphql", "/healthz", "/readyz", "/files/x/content", "/nowhere")
        ]
        served = [
            (await http.post("/graphql", json=BOTS, headers={"Host": host})).status_code
            for host in ("localhost", f"localhost:{port}", "127.0.0.1", f"[::1]:{port}")
        ]
        bots = (await http.post("/graphql", json=BOTS)).json()
    assert post.status_code == 400
    assert post.json() == {
        "errors": [
            {
                "message": f"the Host '{EVIL}:{port}' is not one this server answers to; the "
                "operator lists the names clients use in BOTERNITY_ALLOWED_HOSTS",
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ]
    }
    assert [response.status_code for response in others] == [400] * 5
    assert all(
        response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        for response in others
    )
    assert served == [200] * 4
    assert bots == {"data": {"bots": {"nodes": []}}}


async def test_websocket_handshake_for_another_host_is_refused_with_400(tmp_path: Path) -> None:
    async with running_server(tmp_path / "data") as base_url:
        port = base_url.rsplit(":", 1)[1]
        rebound = await handshake_status(base_url, f"{EVIL}:{port}", f"http://{EVIL}:{port}")
        own = await handshake_status(base_url, f"localhost:{port}", f"http://localhost:{port}")
    assert (rebound, own) == (400, 101)


async def test_websocket_own_origin_comes_from_allowed_hosts_not_from_the_host_header(
    tmp_path: Path,
) -> None:
    """An allowed Host with the attacker's origin (what a rebinding page sends if the Host
    check let its name through) is refused: the own origin is not read from the Host."""
    async with running_server(tmp_path / "data") as base_url:
        port = base_url.rsplit(":", 1)[1]
        url = base_url.replace("http://", "ws://") + "/graphql"
        codes = []
        for origin in (f"http://{EVIL}:{port}", f"http://localhost:{int(port) + 1}"):
            async with connect(
                url,
                subprotocols=[Subprotocol("graphql-transport-ws")],
                additional_headers={"Origin": origin},
            ) as ws:
                async with asyncio.timeout(TIMEOUT_S):
                    await ws.wait_closed()
                codes.append(ws.close_code)
        async with connect(
            url,
            subprotocols=[Subprotocol("graphql-transport-ws")],
            additional_headers={"Origin": f"http://localhost:{port}"},
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            async with asyncio.timeout(TIMEOUT_S):
                acknowledged = json.loads(await ws.recv())
    assert codes == [4403, 4403]
    assert acknowledged == {"type": "connection_ack"}
