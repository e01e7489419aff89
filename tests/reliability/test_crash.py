"""kill -9 a real uvicorn in the middle of the reliability load (100 clients x 50 mixed
mutations), restart it on the same data dir, three times: every acknowledged mutation is there,
every mutation in flight at the kill is there whole or not at all, PRAGMA integrity_check is ok,
no file version row lacks its content and (after the last restart's sweep, with no grace
period) no content lacks a row."""

import asyncio
import hashlib
import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.reliability.readback import (
    acked_writes_found,
    in_flight_landed,
    read_back,
    verify,
)
from tests.reliability.test_load import server_problems
from tests.reliability.workload import REQUEST_TIMEOUT_S, Ledger, create_bots, run_load
from tests.server import Server, started_server

pytestmark = pytest.mark.server
KILL_AFTER_ACKS = (600, 1000, 1400)  # one kill -9 per entry, each at a different point
CRASHES = len(KILL_AFTER_ACKS)
RUN_TIMEOUT_S = 60.0


def database_problems(data_dir: Path) -> list[str]:
    """integrity_check and foreign_key_check of the SQLite file (the server is not running),
    and every version row's content present with exactly its sha256."""
    with sqlite3.connect(data_dir / "boternity.db") as db:
        problems = [row[0] for row in db.execute("PRAGMA integrity_check") if row[0] != "ok"]
        problems += [f"foreign key: {row}" for row in db.execute("PRAGMA foreign_key_check")]
        hashes = [row[0] for row in db.execute("SELECT DISTINCT sha256 FROM bot_file_versions")]
        problems += [
            f"bot_files {row[0]} has no row for its current version"
            for row in db.execute(
                "SELECT f.id FROM bot_files f LEFT JOIN bot_file_versions v"
                " ON v.file_id = f.id AND v.version = f.version AND v.sha256 = f.sha256"
                " WHERE v.id IS NULL"
            )
        ]
    db.close()
    for sha256 in hashes:
        path = data_dir / "content" / sha256[:2] / sha256[2:]
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != sha256:
            problems.append(f"version content {sha256} is missing or not whole")
    return problems


def orphans(data_dir: Path) -> list[str]:
    """Content no version row names, and leftovers in tmp (after a restart: none)."""
    with sqlite3.connect(data_dir / "boternity.db") as db:
        hashes = {row[0] for row in db.execute("SELECT sha256 FROM bot_file_versions")}
    db.close()
    stored = {
        path.parent.name + path.name
        for path in (data_dir / "content").glob("*/*")
        if path.is_file()
    }
    leftovers = [str(path) for path in (data_dir / "tmp").iterdir()]
    return sorted(stored - hashes) + leftovers


async def swept(server: Server) -> None:
    """Wait (bounded) for the server's background content sweep to finish."""
    async with asyncio.timeout(RUN_TIMEOUT_S):
        while "content sweep finished" not in server.log.read_text():  # noqa: ASYNC110 (a log)
            await asyncio.sleep(0.05)


async def crash_mid_load(
    server: Server, bots: list[str], ledger: Ledger, run: int, kill_after: int
) -> int:
    """Start the load, kill -9 the server once `kill_after` more writes were acknowledged, and
    let the clients find out; the number of mutations in flight at the kill."""
    in_flight_before = len(ledger.unknown)
    load = asyncio.create_task(run_load(server.url, bots, ledger, f"r{run}", {}))
    async with asyncio.timeout(RUN_TIMEOUT_S):
        await ledger.wait_for_acks(len(ledger.acked) + kill_after)
        await server.kill()
        await load
    return len(ledger.unknown) - in_flight_before


async def test_kill_9_mid_load_then_restart_keeps_every_acknowledged_write(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    ledger = Ledger()
    survived = 0
    in_flight = []
    for run, kill_after in enumerate(KILL_AFTER_ACKS):
        async with started_server(data_dir) as server:
            if run == 0:
                async with httpx.AsyncClient(
                    base_url=server.url, timeout=REQUEST_TIMEOUT_S
                ) as client:
                    bots = await create_bots(client)
            else:  # a restart after a crash
                assert verify(ledger, await read_back(server.url, bots, {})) == []
                survived += 1
            in_flight.append(await crash_mid_load(server, bots, ledger, run, kill_after))
        assert server_problems(server.log.read_text()) == []
        assert database_problems(data_dir) == []
    async with started_server(data_dir, {"BOTERNITY_CONTENT_GRACE_SECONDS": "0"}) as server:
        found = await read_back(server.url, bots, {})
        assert verify(ledger, found) == []
        survived += 1
        await swept(server)
    assert server_problems(server.log.read_text()) == []
    assert database_problems(data_dir) == []
    assert orphans(data_dir) == []
    print(
        f"\ncrash: {CRASHES} kill -9 runs, {survived} restarts verified; {ledger.requests}"
        f" answered requests, {len(ledger.errors)} errors, {len(ledger.acked)} acknowledged,"
        f" {acked_writes_found(ledger, found)} found; in flight at the kills: {in_flight},"
        f" of which {in_flight_landed(ledger, found)} had landed whole, none half"
    )
    assert ledger.errors == []
    assert survived == CRASHES
