"""100 concurrent clients x 50 mixed mutations (setKv, setKvMany, logMemoryAudit,
recordProviderCall, small uploadFile) against a real uvicorn on 127.0.0.1: zero errors, zero
"database is locked", and every acknowledged write is read back afterwards (and nothing else).
Run once with authentication disabled and once with a write key made by the CLI."""

import asyncio
import os
import sys
from pathlib import Path

import httpx
import pytest

from tests.reliability.readback import acked_writes_found, read_back, verify
from tests.reliability.workload import (
    CLIENTS,
    MUTATIONS,
    REQUEST_TIMEOUT_S,
    Ledger,
    create_bots,
    run_load,
)
from tests.server import started_server

pytestmark = pytest.mark.server
LOAD_TIMEOUT_S = 120.0
CLI = Path(sys.executable).parent / "boternity-graphql"


async def create_write_key(data_dir: Path) -> str:
    """`boternity-graphql migrate` (api-key never creates a database), then `api-key create` on
    the data dir; the secret it prints once."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("BOTERNITY_")}
    environ["BOTERNITY_DATA_DIR"] = str(data_dir)
    out = b""
    for command in (("migrate",), ("api-key", "create", "--name", "load", "--scope", "write")):
        process = await asyncio.create_subprocess_exec(
            str(CLI),
            *command,
            env=environ,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(30):
            out, err = await process.communicate()
        assert process.returncode == 0, err.decode()
    return out.decode().splitlines()[-1]


def server_problems(log: str) -> list[str]:
    return [
        line
        for line in log.splitlines()
        if "database is locked" in line or "Traceback" in line or "ERROR" in line
    ]


@pytest.mark.parametrize("auth", ["disabled", "required"])
async def test_load_of_mixed_mutations_every_acknowledged_write_is_read_back(
    tmp_path: Path, auth: str
) -> None:
    data_dir = tmp_path / "data"
    headers: dict[str, str] = {}
    if auth == "required":
        headers = {"Authorization": f"Bearer {await create_write_key(data_dir)}"}
    ledger = Ledger()
    async with started_server(data_dir, {"BOTERNITY_AUTH": auth}) as server:
        async with httpx.AsyncClient(
            base_url=server.url, timeout=REQUEST_TIMEOUT_S, headers=headers
        ) as client:
            bots = await create_bots(client)
        async with asyncio.timeout(LOAD_TIMEOUT_S):
            await run_load(server.url, bots, ledger, "load", headers)
        found = await read_back(server.url, bots, headers)
    print(
        f"\nload (auth {auth}): {ledger.requests} requests, {len(ledger.errors)} errors,"
        f" {len(ledger.acked)} acknowledged, {acked_writes_found(ledger, found)} found"
    )
    assert ledger.errors == []
    assert ledger.unknown == []
    assert len(ledger.acked) == CLIENTS * MUTATIONS
    assert verify(ledger, found) == []
    assert acked_writes_found(ledger, found) == CLIENTS * MUTATIONS
    assert server_problems(server.log.read_text()) == []
