"""`boternity-graphql backup` against a real uvicorn taking writes: 100 clients x 50 mutations
(setKv, setKvMany, logMemoryAudit, recordProviderCall, uploads) while the backup runs; then
`restore` into a fresh data dir and `verify`. Every write acknowledged before the backup started
is in the copy, verify passes, and no client saw an error."""

import asyncio
import os
import sys
from pathlib import Path

import httpx
import pytest

from tests.reliability.readback import missing, read_back
from tests.reliability.workload import REQUEST_TIMEOUT_S, Ledger, create_bots, run_load
from tests.server import running_server

pytestmark = pytest.mark.server
BIN = Path(sys.executable).parent / "boternity-graphql"
ACKS_BEFORE_BACKUP = 500
RUN_TIMEOUT_S = 120.0


async def cli(*args: str, data_dir: Path) -> tuple[int, str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("BOTERNITY")}
    environ["BOTERNITY_DATA_DIR"] = str(data_dir)
    process = await asyncio.create_subprocess_exec(
        str(BIN),
        *args,
        env=environ,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_backup_under_load_then_restore_and_verify(tmp_path: Path) -> None:
    data_dir, dest, fresh = tmp_path / "data", tmp_path / "backup", tmp_path / "fresh"
    ledger = Ledger()
    async with running_server(data_dir) as url:
        async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_S) as client:
            bots = await create_bots(client)
        load = asyncio.create_task(run_load(url, bots, ledger, "b", {}))
        async with asyncio.timeout(RUN_TIMEOUT_S):
            await ledger.wait_for_acks(ACKS_BEFORE_BACKUP)
            before = list(ledger.acked)
            status, output = await cli("backup", str(dest), data_dir=data_dir)
            during = len(ledger.acked) - len(before)
            await load
    assert status == 0, output
    assert ledger.errors == []
    assert (await cli("restore", str(dest), data_dir=fresh))[0] == 0
    status, output = await cli("verify", data_dir=fresh)
    assert status == 0, output
    async with running_server(fresh, {"BOTERNITY_MAX_COST": "10000000"}) as url:  # read_back
        found = await read_back(url, bots, {})
    problems = [problem for op, result in before for problem in missing(op, result, found)]
    assert problems == []
    print(
        f"\nbackup under load: {len(before)} writes acknowledged before the backup, all in the"
        f" copy; {during} acknowledged while it ran; {ledger.requests} requests, 0 errors"
    )
