"""Two tabs editing one draft, for real: concurrent saves with the same expectation against a
real uvicorn. Exactly one wins; the others are PRECONDITION_FAILED and change nothing."""

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import codes

pytestmark = pytest.mark.server

SESSION = "01a20321-1ea8-77b0-98e8-acd5d6e5e1a1"
WRITERS = 12
SAVE = """
mutation($input: SaveBuilderDraftInput!) {
  saveBuilderDraft(input: $input) { state revision updatedAt }
}
"""
GET = "query($id: ID!) { builderDraft(sessionId: $id) { state revision updatedAt } }"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A real uvicorn on 127.0.0.1 (auth disabled, a fresh data dir), stopped after the test."""
    port = _free_port()
    env = {**os.environ, "BOTERNITY_AUTH": "disabled", "BOTERNITY_DATA_DIR": str(tmp_path)}
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--log-level", "warning"),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            await _wait_ready(http, process)
            yield http
    finally:
        if process.returncode is None:
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout=10)
        except TimeoutError:
            process.kill()
            await process.wait()


async def _wait_ready(http: httpx.AsyncClient, process: asyncio.subprocess.Process) -> None:
    for _ in range(200):
        if process.returncode is not None:
            pytest.fail(f"the server exited early with code {process.returncode}")
        try:
            if (await http.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)  # polling a starting process: the only wait here
    pytest.fail("the server was not ready within 10 seconds")


async def _post(http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    return response.json()


async def _race(http: httpx.AsyncClient, expectation: dict[str, Any]) -> None:
    """WRITERS saves at once, all expecting the same stored draft."""
    results = await asyncio.gather(
        *(
            _post(
                http,
                SAVE,
                {"input": {"sessionId": SESSION, "state": {"writer": index}, **expectation}},
            )
            for index in range(WRITERS)
        )
    )
    winners = [body["data"]["saveBuilderDraft"] for body in results if "errors" not in body]
    losers = [codes(body["errors"]) for body in results if "errors" in body]
    assert len(winners) == 1
    assert losers == [["PRECONDITION_FAILED"]] * (WRITERS - 1)
    stored = (await _post(http, GET, {"id": SESSION}))["data"]["builderDraft"]
    assert stored == winners[0]
    assert stored["revision"] == 2


async def test_concurrent_saves_with_same_revision_exactly_one_wins(
    server: httpx.AsyncClient,
) -> None:
    await _post(server, SAVE, {"input": {"sessionId": SESSION, "state": {"writer": None}}})
    await _race(server, {"expectedRevision": 1})


async def test_concurrent_saves_with_same_updated_at_exactly_one_wins(
    server: httpx.AsyncClient,
) -> None:
    first = await _post(server, SAVE, {"input": {"sessionId": SESSION, "state": {}}})
    await _race(server, {"expectedUpdatedAt": first["data"]["saveBuilderDraft"]["updatedAt"]})
