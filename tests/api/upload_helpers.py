"""Helpers for file tests: uploads through the GraphQL multipart request spec (small ones as
httpx multipart, big ones streamed lazily from a generator of zero bytes), and a look at what
the data dir holds."""

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
from asgi_lifespan import LifespanManager

from app.main import create_app
from db.content_owner import OWNER_FILE
from db.settings import Settings
from tests.conftest import FakeClock

PREFLIGHT = {"Apollo-Require-Preflight": "1"}
FILE_FIELDS = (
    "id botId filename mimeType sizeBytes version isIndexed createdAt updatedAt downloadUrl"
)
UPLOAD = (
    "mutation($botId: ID!, $filename: String!, $file: Upload!) "
    f"{{ uploadFile(botId: $botId, filename: $filename, file: $file) {{ {FILE_FIELDS} }} }}"
)
CREATE_BOT = "mutation($name: String!) { createBot(input: {name: $name}) { id } }"
MIB = 1024 * 1024
_ZEROS = bytes(MIB)
_BOUNDARY = "files-test-boundary"


def form(bot_id: str, filename: str, query: str = UPLOAD) -> dict[str, str]:
    """The operations and map fields of one uploadFile with its file in part "0"."""
    variables = {"botId": bot_id, "filename": filename, "file": None}
    return {
        "operations": orjson.dumps({"query": query, "variables": variables}).decode(),
        "map": orjson.dumps({"0": ["variables.file"]}).decode(),
    }


async def upload(
    client: httpx.AsyncClient, bot_id: str, filename: str, content: bytes, query: str = UPLOAD
) -> httpx.Response:
    return await client.post(
        "/graphql",
        data=form(bot_id, filename, query),
        files={"0": (filename, content, "application/octet-stream")},
        headers=PREFLIGHT,
    )


async def uploaded(
    client: httpx.AsyncClient, bot_id: str, filename: str, content: bytes
) -> dict[str, Any]:
    """Upload and return the StorageFile; fails on any error."""
    response = await upload(client, bot_id, filename, content)
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body["errors"]
    file: dict[str, Any] = body["data"]["uploadFile"]
    return file


async def create_bot(client: httpx.AsyncClient, name: str = "Test Bot") -> str:
    response = await client.post(
        "/graphql", json={"query": CREATE_BOT, "variables": {"name": name}}
    )
    bot_id: str = response.json()["data"]["createBot"]["id"]
    return bot_id


def zeros_upload(
    bot_id: str, filename: str, size: int, *, parts: int | None = None
) -> tuple[dict[str, str], AsyncIterator[bytes]]:
    """Headers and a lazily generated multipart body uploading `size` zero bytes. With `parts`,
    only the first `parts` MiB of file data are sent, then the generator waits forever (a
    client stuck mid-body)."""
    fields = form(bot_id, filename)
    head = "".join(
        f'--{_BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    )
    head += (
        f'--{_BOUNDARY}\r\nContent-Disposition: form-data; name="0"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    tail = f"\r\n--{_BOUNDARY}--\r\n".encode()

    async def body() -> AsyncIterator[bytes]:
        yield head.encode()
        left = size
        sent = 0
        while left > 0:
            if parts is not None and sent == parts:
                await asyncio.Event().wait()
            chunk = _ZEROS if left >= MIB else _ZEROS[:left]
            left -= len(chunk)
            sent += 1
            yield chunk
        yield tail

    headers = {**PREFLIGHT, "Content-Type": f"multipart/form-data; boundary={_BOUNDARY}"}
    return headers, body()


def sha256_of_zeros(size: int) -> str:
    digest = hashlib.sha256()
    for start in range(0, size, MIB):
        digest.update(_ZEROS[: min(MIB, size - start)])
    return digest.hexdigest()


def stored(data_dir: Path) -> list[str]:
    """Every file under the content store (but its owner record) and the upload temp dir,
    relative to the data dir."""
    return sorted(
        str(path.relative_to(data_dir))
        for folder in (data_dir / "content", data_dir / "tmp")
        if folder.exists()
        for path in folder.rglob("*")
        if path.is_file() and path != data_dir / "content" / OWNER_FILE
    )


@asynccontextmanager
async def serving(settings: Settings, clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    """A client on an app with these settings (for tests that need other settings)."""
    app = create_app(settings, clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=transport, base_url="http://localhost") as client,
    ):
        yield client
