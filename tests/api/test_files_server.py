"""Uploads against a real uvicorn on 127.0.0.1 (tests/server.py): concurrent uploads of one
filename, uploads cut off by the client or by killing the server, and bounded memory while a
200 MB upload is refused."""

import asyncio
import hashlib
import os
import signal
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.api.upload_helpers import MIB, create_bot, stored, upload, zeros_upload
from tests.server import running_server

pytestmark = pytest.mark.server
CLIENTS = 20
FILES = "query($botId: ID!) { files(botId: $botId) { totalCount } }"
VERSIONS = (
    'query($botId: ID!) { file(botId: $botId, filename: "same.txt") '
    "{ versions(first: 100) { nodes { version sha256 downloadUrl } } } }"
)


def server_pid(data_dir: Path) -> int:
    """The pid of the server running_server started for data_dir (a child of this process)."""
    wanted = f"BOTERNITY_DATA_DIR={data_dir}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            status = (entry / "status").read_text()
        except OSError:
            continue
        if wanted in environ and f"PPid:\t{os.getpid()}\n" in status:
            return int(entry.name)
    raise AssertionError(f"no server process for {data_dir}")


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM line")


async def eventually(check: Callable[[], bool]) -> None:
    """Wait (at most 15 s) until another process has made check() true."""
    async with asyncio.timeout(15):
        while not check():  # noqa: ASYNC110 (polls the server's files; no event to await)
            await asyncio.sleep(0.02)


def has_partial_upload(data_dir: Path) -> bool:
    return any(path.stat().st_size >= MIB for path in (data_dir / "tmp").glob("*.part"))


async def file_count(client: httpx.AsyncClient, bot: str) -> int:
    response = await client.post("/graphql", json={"query": FILES, "variables": {"botId": bot}})
    count: int = response.json()["data"]["files"]["totalCount"]
    return count


async def test_concurrent_uploads_of_one_filename_get_consecutive_versions(
    tmp_path: Path,
) -> None:
    contents = [f"upload {index}\n".encode() * 5000 for index in range(CLIENTS)]
    async with (
        running_server(tmp_path / "data") as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=60) as client,
    ):
        bot = await create_bot(client)
        responses = await asyncio.gather(
            *(upload(client, bot, "same.txt", content) for content in contents)
        )
        bodies = [response.json() for response in responses]
        assert [body.get("errors") for body in bodies] == [None] * CLIENTS
        assert sorted(body["data"]["uploadFile"]["version"] for body in bodies) == list(
            range(1, CLIENTS + 1)
        )
        listed = await client.post(
            "/graphql", json={"query": VERSIONS, "variables": {"botId": bot}}
        )
        nodes = listed.json()["data"]["file"]["versions"]["nodes"]
        assert [node["version"] for node in nodes] == list(range(CLIENTS, 0, -1))
        by_sha = {hashlib.sha256(content).hexdigest(): content for content in contents}
        assert sorted(node["sha256"] for node in nodes) == sorted(by_sha)
        for node in nodes:
            assert (await client.get(node["downloadUrl"])).content == by_sha[node["sha256"]]


async def test_client_disconnect_mid_upload_leaves_no_row_and_no_content(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    async with (
        running_server(data_dir) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=60) as client,
    ):
        bot = await create_bot(client)
        headers, body = zeros_upload(bot, "cut.bin", 20 * MIB, parts=5)
        sending = asyncio.ensure_future(client.post("/graphql", content=body, headers=headers))
        await eventually(lambda: has_partial_upload(data_dir))
        sending.cancel()
        await eventually(lambda: stored(data_dir) == [])
        assert await file_count(client, bot) == 0


async def test_server_killed_mid_upload_leaves_no_row_and_no_content(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    async with (
        running_server(data_dir) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=60) as client,
    ):
        bot = await create_bot(client)
        headers, body = zeros_upload(bot, "cut.bin", 20 * MIB, parts=5)
        sending = asyncio.ensure_future(client.post("/graphql", content=body, headers=headers))
        await eventually(lambda: has_partial_upload(data_dir))
        os.kill(server_pid(data_dir), signal.SIGKILL)
        sending.cancel()  # the client waits on its own body; it cannot notice
    assert stored(data_dir) != []  # the killed server left its temp file
    async with (
        running_server(data_dir, {"BOTERNITY_CONTENT_GRACE_SECONDS": "0"}) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=60) as client,
    ):
        assert stored(data_dir) == []
        assert await file_count(client, bot) == 0


async def test_200_mb_upload_is_refused_with_bounded_server_memory(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    async with (
        running_server(data_dir) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=120) as client,
    ):
        bot = await create_bot(client)
        pid = server_pid(data_dir)
        before = peak_rss_mib(pid)
        headers, body = zeros_upload(bot, "huge.bin", 200 * MIB)
        try:
            response = await client.post("/graphql", content=body, headers=headers)
        except httpx.TransportError:
            pass  # the server closed the connection after its 413, mid-body
        else:
            assert response.status_code == 413
            assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
        peak = peak_rss_mib(pid)
        print(f"server peak RSS (VmHWM): {before:.1f} MiB before, {peak:.1f} MiB after 200 MB")
        assert peak < 150
        await eventually(lambda: stored(data_dir) == [])
        assert await file_count(client, bot) == 0
