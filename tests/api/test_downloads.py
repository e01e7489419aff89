"""Downloads behind downloadUrl: exact bytes of the current and of every older version, the
headers that keep uploaded content from running on the API's origin, and signed URLs (valid,
tampered, expired)."""

import hashlib
import hmac
import re
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.main import create_app
from db import api_keys
from db.codec import new_id
from db.settings import Settings
from tests.api.upload_helpers import create_bot, serving, uploaded
from tests.conftest import START, FakeClock, GraphQL, make_settings

EXP = int(START.timestamp()) + 900
VERSIONS = (
    "query($fileId: ID!) { fileVersions(fileId: $fileId) { nodes { version sha256 downloadUrl } } }"
)
MISSING_ID = "01a2032b-3367-77cd-87bc-d68b2a1db8cc"


@pytest.fixture
async def bot(client: httpx.AsyncClient) -> str:
    return await create_bot(client)


async def versions(gql: GraphQL, file_id: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = (await gql(VERSIONS, {"fileId": file_id}))["fileVersions"][
        "nodes"
    ]
    return nodes


def error_code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["errors"][0]["extensions"]["code"]


async def test_download_current_sends_exact_bytes_and_safe_headers(
    client: httpx.AsyncClient, bot: str
) -> None:
    content = bytes(range(256)) * 3
    file = await uploaded(client, bot, "résumé ☃.html", content)
    response = await client.get(file["downloadUrl"], headers={"X-Request-ID": "download-1"})
    assert response.status_code == 200
    assert response.content == content
    assert response.headers.pop("x-request-id")  # every answer carries one (app/access.py)
    assert {name: response.headers[name] for name in response.headers} == {
        "content-type": "text/html",
        "content-length": "768",
        "etag": f'"{hashlib.sha256(content).hexdigest()}"',
        "content-disposition": 'attachment; filename="r_sum_ _.html"; '
        "filename*=UTF-8''r%C3%A9sum%C3%A9%20%E2%98%83.html",
        "x-content-type-options": "nosniff",
        "content-security-policy": "sandbox; frame-ancestors 'none'",
        "x-frame-options": "DENY",
    }


async def test_download_old_version_sends_its_exact_bytes(
    client: httpx.AsyncClient, gql: GraphQL, bot: str
) -> None:
    await uploaded(client, bot, "doc.md", b"# Version 1")
    file = await uploaded(client, bot, "doc.md", b"# Version 2")
    old = (await versions(gql, file["id"]))[1]
    response = await client.get(old["downloadUrl"])
    assert (response.status_code, response.content) == (200, b"# Version 1")
    assert response.headers["etag"] == f'"{old["sha256"]}"'
    assert response.headers["content-type"] == "text/markdown"
    assert response.headers["content-disposition"].startswith('attachment; filename="doc.md"')
    assert (await client.get(file["downloadUrl"])).content == b"# Version 2"


async def test_download_url_is_the_path_with_exp_and_sig(
    client: httpx.AsyncClient, gql: GraphQL, bot: str
) -> None:
    file = await uploaded(client, bot, "a.txt", b"x")
    version = (await versions(gql, file["id"]))[0]
    assert re.fullmatch(
        rf"/files/{file['id']}/content\?exp={EXP}&sig=[0-9a-f]{{64}}", file["downloadUrl"]
    )
    assert re.fullmatch(
        rf"/files/{file['id']}/versions/1/content\?exp={EXP}&sig=[0-9a-f]{{64}}",
        version["downloadUrl"],
    )


async def test_download_url_signature_is_hmac_sha256_of_path_and_exp(
    tmp_path: Path, clock: FakeClock
) -> None:
    settings = make_settings(tmp_path / "data", download_secret="s3cret")
    async with serving(settings, clock) as client:
        file = await uploaded(client, await create_bot(client), "a.txt", b"x")
    path = f"/files/{file['id']}/content"
    sig = hmac.new(b"s3cret", f"{path}\n{EXP}".encode(), hashlib.sha256).hexdigest()
    assert file["downloadUrl"] == f"{path}?exp={EXP}&sig={sig}"


async def test_download_url_at_its_expiry_second_is_served(
    client: httpx.AsyncClient, clock: FakeClock, bot: str
) -> None:
    file = await uploaded(client, bot, "a.txt", b"x")
    clock.advance(seconds=900)
    assert (await client.get(file["downloadUrl"])).status_code == 200


async def test_download_url_past_expiry_is_forbidden(
    client: httpx.AsyncClient, clock: FakeClock, bot: str
) -> None:
    file = await uploaded(client, bot, "a.txt", b"x")
    clock.advance(seconds=901)
    response = await client.get(file["downloadUrl"])
    assert error_code(response) == (403, "FORBIDDEN")
    assert response.json()["errors"][0]["message"] == "the download link has expired"


def _tamper(url: str, other: str) -> list[str]:
    path, query = url.split("?")
    exp, sig = (part.split("=")[1] for part in query.split("&"))
    flipped = ("0" if sig[0] != "0" else "1") + sig[1:]
    return [
        f"{path}?exp={exp}&sig={flipped}",
        f"{path}?exp={int(exp) + 3600}&sig={sig}",
        f"{path}?exp={exp}",
        f"{path}?sig={sig}",
        f"{path}?exp=-5&sig={sig}",
        f"{other.split('?')[0]}?{query}",
        f"{path.replace('/content', '/versions/1/content')}?{query}",
    ]


async def test_download_url_tampered_is_forbidden(client: httpx.AsyncClient, bot: str) -> None:
    file = await uploaded(client, bot, "a.txt", b"x")
    other = await uploaded(client, bot, "b.txt", b"y")
    for url in _tamper(file["downloadUrl"], other["downloadUrl"]):
        assert error_code(await client.get(url)) == (403, "FORBIDDEN"), url


async def test_download_unsigned_path_is_served_when_auth_is_disabled(
    client: httpx.AsyncClient, bot: str
) -> None:
    file = await uploaded(client, bot, "a.txt", b"x")
    response = await client.get(file["downloadUrl"].split("?")[0])
    assert (response.status_code, response.content) == (200, b"x")


async def test_download_unsigned_path_is_unauthenticated_when_auth_is_required(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with serving(make_settings(tmp_path / "data", auth="required"), clock) as client:
        response = await client.get(f"/files/{MISSING_ID}/content")
    assert error_code(response) == (401, "UNAUTHENTICATED")


@pytest.mark.parametrize(
    "path",
    [
        f"/files/{MISSING_ID}/content",
        "/files/not-a-uuid/content",
        "/files/{id}/versions/2/content",
        "/files/{id}/versions/0/content",
        "/files/{id}/versions/99999999999999999999/content",
    ],
)
async def test_download_of_what_does_not_exist_is_not_found(
    client: httpx.AsyncClient, bot: str, path: str
) -> None:
    file = await uploaded(client, bot, "a.txt", b"x")
    assert error_code(await client.get(path.format(id=file["id"]))) == (404, "NOT_FOUND")


async def test_download_of_deleted_file_is_not_found(
    client: httpx.AsyncClient, gql: GraphQL, bot: str
) -> None:
    file = await uploaded(client, bot, "a.txt", b"x")
    await gql('mutation($b: ID!) { deleteFile(botId: $b, filename: "a.txt") }', {"b": bot})
    assert error_code(await client.get(file["downloadUrl"])) == (404, "NOT_FOUND")


@pytest.mark.sqlite_only  # the secret file in the data dir
async def test_signing_secret_is_created_private_and_kept_across_restarts(
    settings: Settings, clock: FakeClock
) -> None:
    async with serving(settings, clock) as client:
        file = await uploaded(client, await create_bot(client), "a.txt", b"x")
    secret = settings.data_dir / "secret.key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    kept = secret.read_bytes()
    async with serving(settings, clock) as client:
        response = await client.get(file["downloadUrl"])
    assert (response.status_code, secret.read_bytes()) == (200, kept)


async def test_download_with_auth_needs_a_key_or_a_signature(
    tmp_path: Path, clock: FakeClock
) -> None:
    app = create_app(make_settings(tmp_path / "data", auth="required"), clock=clock)
    secrets = {scope: api_keys.new_secret() for scope in ("read", "write")}
    async with LifespanManager(app):
        async with app.state.db.write() as conn:
            for scope, secret in secrets.items():
                await api_keys.create_api_key(
                    conn,
                    id=new_id(),
                    name=scope,
                    scope=scope,
                    secret=secret,
                    now="2026-01-01T00:00:00.000000+00:00",
                )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            client.headers["Authorization"] = f"Bearer {secrets['write']}"
            file = await uploaded(client, await create_bot(client), "a.txt", b"secret bytes")
            del client.headers["Authorization"]
            unsigned = file["downloadUrl"].split("?")[0]
            assert (await client.get(unsigned)).status_code == 401
            with_key = await client.get(
                unsigned, headers={"Authorization": f"Bearer {secrets['read']}"}
            )
            assert (with_key.status_code, with_key.content) == (200, b"secret bytes")
            signed = await client.get(file["downloadUrl"])
            assert (signed.status_code, signed.content) == (200, b"secret bytes")
