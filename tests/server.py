"""A real server for tests: `boternity-graphql serve` in a subprocess on 127.0.0.1.

    async with running_server(data_dir) as base_url:
        ...  # httpx against f"{base_url}/graphql"

It picks a free port, runs with BOTERNITY_AUTH=disabled and the given data dir (plus `env`),
waits for /readyz (bounded), and always stops the process. Its output goes to a log file in
the data dir's parent, quoted when the server does not become ready.

`started_server` is the same but yields a `Server` (url, pid, log, and `kill()` for crash
tests: SIGKILL, then reap).
"""

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
_POLL_INTERVAL_S = 0.05
_SCRIPT = Path(sys.executable).parent / "boternity-graphql"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Server:
    """A started server: its base URL, process id and log file."""

    url: str
    process: asyncio.subprocess.Process
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    async def kill(self) -> None:
        """kill -9 the server (no shutdown of any kind) and reap it."""
        if self.process.returncode is None:
            os.kill(self.process.pid, signal.SIGKILL)
        await self.process.wait()


@asynccontextmanager
async def running_server(
    data_dir: Path, env: Mapping[str, str] | None = None
) -> AsyncIterator[str]:
    """Start the server, yield its base URL (http://127.0.0.1:PORT), stop it on exit."""
    async with started_server(data_dir, env) as server:
        yield server.url


@asynccontextmanager
async def started_server(
    data_dir: Path, env: Mapping[str, str] | None = None
) -> AsyncIterator[Server]:
    """Start the server, yield it as a Server, stop it on exit (unless it was killed)."""
    port = free_port()
    environ = {key: value for key, value in os.environ.items() if not key.startswith("BOTERNITY_")}
    environ.update(
        BOTERNITY_AUTH="disabled",
        BOTERNITY_DATA_DIR=str(data_dir),
        BOTERNITY_HOST="127.0.0.1",
        BOTERNITY_PORT=str(port),
    )
    environ.update(env or {})
    log_path = data_dir.parent / f"server-{port}.log"
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            str(_SCRIPT), "serve", env=environ, stdout=log, stderr=asyncio.subprocess.STDOUT
        )
        try:
            await _wait_ready(process, base_url, log_path)
            yield Server(base_url, process, log_path)
        finally:
            await _stop(process)


async def _wait_ready(process: asyncio.subprocess.Process, base_url: str, log: Path) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=2.0) as client:
        try:
            async with asyncio.timeout(READY_TIMEOUT_S):
                while True:
                    if process.returncode is not None:
                        raise RuntimeError(
                            f"the server exited ({process.returncode}):\n{_tail(log)}"
                        )
                    try:
                        if (await client.get("/readyz")).status_code == 200:
                            return
                    except httpx.TransportError:
                        pass  # not listening yet
                    await asyncio.sleep(_POLL_INTERVAL_S)
        except TimeoutError:
            raise RuntimeError(
                f"the server was not ready within {READY_TIMEOUT_S} s:\n{_tail(log)}"
            ) from None


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            async with asyncio.timeout(STOP_TIMEOUT_S):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


def _tail(log: Path, size: int = 4000) -> str:
    return log.read_bytes()[-size:].decode(errors="replace")
