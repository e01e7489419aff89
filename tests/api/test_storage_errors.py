"""A full disk or an unwritable data dir: /readyz says so (and recovers), and an upload that meets
it answers the GraphQL error shape, says what happened, and leaves nothing behind.

Tests run as root, where chmod does not stop a write, so the faults are injected where the
content store opens and writes its files (db.content.create)."""

import errno
from pathlib import Path
from typing import Any, BinaryIO

import httpx
import pytest
from starlette.applications import Starlette

import db.content
from db.settings import Settings
from tests.api.upload_helpers import create_bot, stored, upload

FILES = "query($botId: ID!) { files(botId: $botId) { totalCount } }"
FULL = {
    "message": "the server's disk is full",
    "extensions": {"code": "INTERNAL_SERVER_ERROR", "reason": "DISK_FULL"},
}
UNWRITABLE = {
    "message": "the server's data dir is not writable",
    "extensions": {"code": "INTERNAL_SERVER_ERROR", "reason": "DATA_DIR_UNWRITABLE"},
}


class FullDisk:
    """A file on a disk with no space left: opening works, every write fails with ENOSPC."""

    def __init__(self, real: BinaryIO) -> None:
        self._real = real

    def write(self, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def full_disk(path: Path) -> BinaryIO:
    return FullDisk(path.open("xb"))  # type: ignore[return-value]


def read_only(path: Path) -> BinaryIO:
    raise OSError(errno.EROFS, "Read-only file system", str(path))


async def files_of(client: httpx.AsyncClient, bot: str) -> int:
    response = await client.post("/graphql", json={"query": FILES, "variables": {"botId": bot}})
    total: int = response.json()["data"]["files"]["totalCount"]
    return total


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (full_disk, "the server's disk is full"),
        (read_only, "the server's data dir is not writable"),
    ],
)
async def test_readyz_is_unavailable_while_the_data_dir_takes_no_writes_then_ready_again(
    client: httpx.AsyncClient,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    fault: Any,
    message: str,
) -> None:
    assert (await client.get("/readyz")).json() == {"status": "ready"}
    with monkeypatch.context() as patched:
        patched.setattr(db.content, "create", fault)
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {
            "status": "unavailable",
            "reason": f"data dir {settings.data_dir}: {message}",
        }
    assert list((settings.data_dir / "tmp").iterdir()) == []  # the probe left nothing
    response = await client.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ready"})


async def test_readyz_is_unavailable_while_the_database_cannot_be_reached(
    app: Starlette, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable() -> None:
        raise ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")

    with monkeypatch.context() as patched:
        patched.setattr(app.state.db, "read", unreachable)
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {
            "status": "unavailable",
            "reason": "database: ConnectionRefusedError",
        }
    assert (await client.get("/readyz")).status_code == 200


@pytest.mark.parametrize(("fault", "error"), [(full_disk, FULL), (read_only, UNWRITABLE)])
async def test_an_upload_meeting_a_full_disk_or_an_unwritable_dir_says_so_and_leaves_nothing(
    client: httpx.AsyncClient,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    fault: Any,
    error: dict[str, Any],
) -> None:
    bot = await create_bot(client)
    with monkeypatch.context() as patched:
        patched.setattr(db.content, "create", fault)
        response = await upload(client, bot, "big.bin", b"x" * 100_000)
    assert response.status_code == 507
    assert response.json() == {"errors": [error]}
    assert stored(settings.data_dir) == []
    assert await files_of(client, bot) == 0


@pytest.mark.sqlite_only  # content is linked into the store on disk
async def test_a_full_disk_while_storing_the_content_fails_the_mutation_alone(
    client: httpx.AsyncClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await create_bot(client)

    def no_space(source: Path, target: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(db.content.os, "link", no_space)
        response = await upload(client, bot, "a.txt", b"content")
    assert response.status_code == 200
    assert response.json() == {
        "data": None,
        "errors": [{**FULL, "locations": [{"line": 1, "column": 61}], "path": ["uploadFile"]}],
    }
    assert stored(settings.data_dir) == []
    assert await files_of(client, bot) == 0
