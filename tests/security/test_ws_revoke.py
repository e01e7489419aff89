"""A revoked key's open WebSocket (issue 14 item 6): before, its subscription kept receiving
events and only new subscribes were refused. Now `boternity-graphql api-key revoke`, run in its
own process against a real uvicorn's database, closes the key's sockets with 4401 (within
ws_key_check_ms, 500 ms by default, plus one query), with no message from the client."""

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from tests.security.keyed import create_key
from tests.server import running_server

pytestmark = pytest.mark.server
TIMEOUT_S = 10.0
_SCRIPT = Path(sys.executable).parent / "boternity-graphql"
PROVIDERS = "subscription { providerHealthChanged { name } }"


def revoke(data_dir: Path, name: str) -> None:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("BOTERNITY_")}
    environ["BOTERNITY_DATA_DIR"] = str(data_dir)
    subprocess.run([str(_SCRIPT), "api-key", "revoke", name], env=environ, check=True, timeout=60)


async def test_api_key_revoke_closes_the_keys_open_websockets_with_4401(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    async with running_server(data_dir, {"BOTERNITY_AUTH": "required"}) as base_url:
        key = await asyncio.to_thread(create_key, data_dir, "read")
        url = base_url.replace("http://", "ws://") + "/graphql"
        async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}
            await ws.send(json.dumps(init))
            async with asyncio.timeout(TIMEOUT_S):
                assert json.loads(await ws.recv()) == {"type": "connection_ack"}
            subscribe = {"id": "1", "type": "subscribe", "payload": {"query": PROVIDERS}}
            await ws.send(json.dumps(subscribe))
            await asyncio.to_thread(revoke, data_dir, "read")
            revoked = time.monotonic()
            async with asyncio.timeout(TIMEOUT_S):
                await ws.wait_closed()
            print(f"\nclosed {time.monotonic() - revoked:.3f} s after the revoke command ended")
    assert (ws.close_code, ws.close_reason) == (4401, "Unauthorized: the API key was revoked")
