"""The multipart request spec at the HTTP endpoint: CSRF, the operations/map protocol, batches,
the size limits enforced while the body streams, and temp files cleaned whatever happens."""

import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from asgi_lifespan import LifespanManager

from app.main import create_app
from db.settings import Settings
from tests.api.upload_helpers import (
    MIB,
    PREFLIGHT,
    UPLOAD,
    create_bot,
    form,
    serving,
    sha256_of_zeros,
    stored,
    zeros_upload,
)
from tests.conftest import FakeClock, GraphQL, codes, make_settings

LIMIT = 52_428_800
FILES = "query($botId: ID!) { files(botId: $botId) { nodes { filename sizeBytes } } }"


@pytest.fixture
async def bot(client: httpx.AsyncClient) -> str:
    return await create_bot(client)


@pytest.fixture
def data_dir(settings: Settings) -> Path:
    return settings.data_dir


async def post_multipart(
    client: httpx.AsyncClient,
    fields: dict[str, str],
    files: dict[str, Any],
    headers: dict[str, str] = PREFLIGHT,
) -> httpx.Response:
    return await client.post("/graphql", data=fields, files=files, headers=headers)


async def test_upload_without_preflight_header_is_refused_before_reading(
    client: httpx.AsyncClient, bot: str, data_dir: Path
) -> None:
    response = await post_multipart(client, form(bot, "a.txt"), {"0": b"x"}, headers={})
    assert response.status_code == 400
    assert "CSRF" in response.json()["errors"][0]["message"]
    assert stored(data_dir) == []


@pytest.mark.parametrize(
    ("fields", "files", "message"),
    [
        (
            {"map": '{"0": ["variables.file"]}'},
            {"0": b"x"},
            "the operations field must come before the map field",
        ),
        (None, {"1": b"x"}, "the file part '1' is not named in the map"),
        (
            {"operations": '{"query": "q", "variables": {}}', "map": '{"0": ["v"], "1": ["v"]}'},
            {"0": b"x"},
            "the map names file part '1', which was not sent",
        ),
        ({"operations": "{not json", "map": '{"0": ["variables.file"]}'}, {"0": b"x"}, None),
        ({"operations": "{}", "map": '{"0": "variables.file"}'}, {"0": b"x"}, None),
        (
            {"operations": '{"query": "q", "variables": {}}', "map": '{"0": ["query"]}'},
            {"0": b"x"},
            "the map path 'query' does not point into an operation's variables",
        ),
        (
            {"operations": '{"query": "q", "variables": {}}', "map": '{"0": ["variables.a.b"]}'},
            {"0": b"x"},
            "the map path 'variables.a.b' does not name a variable",
        ),
        (
            {"operations": "[" * 100_000 + "]" * 100_000, "map": '{"0": ["0.variables.file"]}'},
            {"0": b"x"},
            "the operations field is nested too deeply",
        ),
        (
            {"operations": '{"query": "q", "variables": {}}', "map": '{"0": ["\\ud800"]}'},
            {"0": b"x"},
            "the map path '\ud800' does not point into an operation's variables",
        ),
    ],
)
async def test_upload_breaking_the_protocol_is_400_and_stores_nothing(
    client: httpx.AsyncClient,
    bot: str,
    data_dir: Path,
    fields: dict[str, str] | None,
    files: dict[str, bytes],
    message: str | None,
) -> None:
    response = await post_multipart(client, fields or form(bot, "a.txt"), files)
    error = response.json()["errors"][0]
    assert (response.status_code, error["extensions"]["code"]) == (400, "BAD_USER_INPUT")
    if message is not None:
        assert error["message"] == message
    assert stored(data_dir) == []


async def test_upload_body_without_closing_boundary_is_400(
    client: httpx.AsyncClient, bot: str, data_dir: Path
) -> None:
    fields = form(bot, "a.txt")
    body = (
        '--b\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
        f'{fields["operations"]}\r\n--b\r\nContent-Disposition: form-data; name="map"\r\n\r\n'
        f'{fields["map"]}\r\n--b\r\nContent-Disposition: form-data; name="0"; '
        'filename="a.txt"\r\n\r\nunfinished'
    )
    headers = {**PREFLIGHT, "Content-Type": "multipart/form-data; boundary=b"}
    response = await client.post("/graphql", content=body.encode(), headers=headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == (
        "the multipart body ends before its closing boundary"
    )
    assert stored(data_dir) == []


async def test_upload_too_many_files_is_400(client: httpx.AsyncClient, bot: str) -> None:
    mapping = {str(index): [f"variables.f{index}"] for index in range(11)}
    fields = {
        "operations": '{"query": "q", "variables": {}}',
        "map": orjson.dumps(mapping).decode(),
    }
    response = await post_multipart(client, fields, {"0": b"x"})
    assert response.json()["errors"][0]["message"] == "a request may upload at most 10 files"


async def test_upload_batch_places_each_file_in_its_operation(
    client: httpx.AsyncClient, gql: GraphQL, bot: str
) -> None:
    operation = orjson.loads(form(bot, "x")["operations"])
    operations = [
        operation | {"variables": operation["variables"] | {"filename": name}}
        for name in ("one.txt", "two.txt")
    ]
    fields = {
        "operations": orjson.dumps(operations).decode(),
        "map": '{"a": ["0.variables.file"], "b": ["1.variables.file"]}',
    }
    response = await post_multipart(client, fields, {"a": b"1", "b": b"22"})
    assert [item["data"]["uploadFile"]["sizeBytes"] for item in response.json()] == [1, 2]
    assert (await gql(FILES, {"botId": bot}))["files"]["nodes"] == [
        {"filename": "one.txt", "sizeBytes": 1},
        {"filename": "two.txt", "sizeBytes": 2},
    ]


@pytest.mark.sqlite_only  # content files on disk
async def test_upload_one_file_mapped_to_two_mutations_stores_it_for_both(
    client: httpx.AsyncClient, gql: GraphQL, bot: str, data_dir: Path
) -> None:
    query = (
        "mutation($b: ID!, $f: Upload!) { "
        'one: uploadFile(botId: $b, filename: "one.txt", file: $f) { sizeBytes } '
        'two: uploadFile(botId: $b, filename: "two.txt", file: $f) { sizeBytes } }'
    )
    fields = {
        "operations": orjson.dumps({"query": query, "variables": {"b": bot, "f": None}}).decode(),
        "map": '{"0": ["variables.f"]}',
    }
    response = await post_multipart(client, fields, {"0": b"same"})
    assert response.json() == {"data": {"one": {"sizeBytes": 4}, "two": {"sizeBytes": 4}}}
    assert len(stored(data_dir)) == 1


async def test_upload_fields_over_1_mib_are_payload_too_large(
    client: httpx.AsyncClient, bot: str, data_dir: Path
) -> None:
    operations = {"query": UPLOAD, "variables": {"botId": bot, "filename": "a", "pad": "x" * 2**20}}
    fields = {"operations": orjson.dumps(operations).decode(), "map": '{"0": ["variables.file"]}'}
    response = await post_multipart(client, fields, {"0": b"x"})
    assert response.status_code == 413
    assert codes(response.json()["errors"]) == ["PAYLOAD_TOO_LARGE"]


def three_files_body(bot: str, size: int) -> bytes:
    """A multipart body uploading three files of `size` bytes in one batch."""
    operation = orjson.loads(form(bot, "x")["operations"])
    operations = [operation] * 3
    mapping = {str(index): [f"{index}.variables.file"] for index in range(3)}
    parts = [("operations", orjson.dumps(operations)), ("map", orjson.dumps(mapping))]
    parts += [(str(index), b"z" * size) for index in range(3)]
    return (
        b"".join(
            b'--b\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
            % (name.encode(), data)
            for name, data in parts
        )
        + b"--b--\r\n"
    )


@pytest.mark.parametrize("declared", [True, False])
async def test_upload_body_over_file_limit_plus_1_mib_is_payload_too_large(
    tmp_path: Path, clock: FakeClock, declared: bool
) -> None:
    settings = make_settings(tmp_path / "data", max_file_bytes=str(MIB))
    async with serving(settings, clock) as client:
        body = three_files_body(await create_bot(client), MIB)

        async def streamed() -> AsyncIterator[bytes]:
            yield body

        headers = {**PREFLIGHT, "Content-Type": "multipart/form-data; boundary=b"}
        response = await client.post(
            "/graphql", content=body if declared else streamed(), headers=headers
        )
    assert response.status_code == 413
    assert response.json()["errors"][0]["message"] == f"the request body is over {2 * MIB} bytes"
    assert stored(settings.data_dir) == []


@pytest.mark.sqlite_only  # content files on disk
async def test_upload_of_exactly_the_limit_is_accepted(
    client: httpx.AsyncClient, bot: str, data_dir: Path
) -> None:
    headers, body = zeros_upload(bot, "limit.bin", LIMIT)
    response = await client.post("/graphql", content=body, headers=headers)
    assert response.json()["data"]["uploadFile"]["sizeBytes"] == LIMIT
    sha = sha256_of_zeros(LIMIT)
    assert stored(data_dir) == [f"content/{sha[:2]}/{sha[2:]}"]
    assert (data_dir / "content" / sha[:2] / sha[2:]).stat().st_size == LIMIT


async def test_upload_one_byte_over_the_limit_is_payload_too_large_and_writes_nothing(
    client: httpx.AsyncClient, gql: GraphQL, bot: str, data_dir: Path
) -> None:
    headers, body = zeros_upload(bot, "huge.bin", LIMIT + 1)
    response = await client.post("/graphql", content=body, headers=headers)
    assert response.status_code == 413
    assert response.json()["errors"] == [
        {
            "message": f"the file in part '0' is over {LIMIT} bytes",
            "extensions": {"code": "PAYLOAD_TOO_LARGE"},
        }
    ]
    assert "connection" not in response.headers  # the whole body was read: no need to close
    assert stored(data_dir) == []
    assert (await gql(FILES, {"botId": bot}))["files"]["nodes"] == []


@pytest.mark.sqlite_only  # content files on disk
async def test_restart_clears_temp_files_and_content_no_version_names_once_past_the_grace(
    settings: Settings, clock: FakeClock, data_dir: Path
) -> None:
    async with serving(settings, clock) as client:
        bot = await create_bot(client)
        await post_multipart(client, form(bot, "kept.txt"), {"0": b"kept"})
    kept = stored(data_dir)
    assert len(kept) == 1
    interrupted = data_dir / "tmp" / "interrupted.part"
    interrupted.write_bytes(b"half an upload")
    orphan = data_dir / "content" / "ab" / ("c" * 62)
    orphan.parent.mkdir()
    orphan.write_bytes(b"linked, never committed")
    young = {"tmp/young.part": b"being received", "content/ab/" + "d" * 62: b"being committed"}
    for name, content in young.items():
        (data_dir / name).write_bytes(content)
    past_grace = time.time() - settings.content_grace_seconds - 1
    for path in (interrupted, orphan, data_dir / kept[0]):
        os.utime(path, (past_grace, past_grace))
    app = create_app(settings, clock=clock)
    async with LifespanManager(app):
        assert await app.state.files.sweeping == 1
        assert stored(data_dir) == sorted([*kept, *young])


@pytest.mark.parametrize(
    ("query", "variables", "path", "message"),
    [
        (
            'mutation($b: ID!, $value: JSON) { setKv(botId: $b, key: "k", value: $value) { key } }',
            {"value": None},
            "variables.value",
            "the variable $value is JSON, not Upload: the file mapped to 'variables.value' "
            "cannot go there",
        ),
        (
            "mutation($input: LogMemoryAuditInput!) { logMemoryAudit(input: $input) { id } }",
            {"input": {"botId": "<bot>", "action": "ADD", "details": None}},
            "variables.input.details",
            "the variable $input is LogMemoryAuditInput!, not Upload: the file mapped to "
            "'variables.input.details' cannot go there",
        ),
        (
            "mutation($input: SaveBuilderDraftInput!) "
            "{ saveBuilderDraft(input: $input) { revision } }",
            {"input": {"sessionId": "<bot>", "state": None}},
            "variables.input.state",
            "the variable $input is SaveBuilderDraftInput!, not Upload: the file mapped to "
            "'variables.input.state' cannot go there",
        ),
        (
            'mutation($b: ID!, $value: JSON) { setKv(botId: $b, key: "k", value: $value) { key } }',
            {"value": {"nested": [None]}},
            "variables.value.nested.0",
            "the variable $value is JSON, not Upload: the file mapped to "
            "'variables.value.nested.0' cannot go there",
        ),
    ],
)
async def test_upload_where_the_schema_expects_another_type_is_bad_user_input(
    client: httpx.AsyncClient,
    gql: GraphQL,
    bot: str,
    query: str,
    variables: dict[str, Any],
    path: str,
    message: str,
) -> None:
    """Before: INTERNAL_SERVER_ERROR (the staged file reached the JSON scalar)."""
    filled = orjson.loads(orjson.dumps(variables).replace(b"<bot>", bot.encode()))
    fields = {
        "operations": orjson.dumps({"query": query, "variables": {"b": bot, **filled}}).decode(),
        "map": orjson.dumps({"0": [path]}).decode(),
    }
    response = await post_multipart(client, fields, {"0": ("a.txt", b"hello", "text/plain")})
    assert response.status_code == 200  # application/json: a request error of a GraphQL request
    assert response.json() == {
        "errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]
    }
    counts = await gql(
        "query($b: ID!) { bot(id: $b) { kvEntries(first: 1) { totalCount } "
        "auditLog(first: 1) { totalCount } } builderDrafts(first: 1) { totalCount } }",
        {"b": bot},
    )
    assert counts == {
        "bot": {"kvEntries": {"totalCount": 0}, "auditLog": {"totalCount": 0}},
        "builderDrafts": {"totalCount": 0},
    }
