"""Bot files through the GraphQL API: uploads (multipart), versions, lists, metadata updates,
deletes and their content, the reference's cases (domain.md E.4, E.9) re-expressed."""

from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from db import files as db_files
from db.settings import Settings
from schema.pagination import encode_cursor
from tests.api.upload_helpers import FILE_FIELDS, create_bot, stored, upload, uploaded
from tests.conftest import FakeClock, GraphQL, codes

NOW = "2026-02-12T22:04:12.123456+00:00"
LATER = "2026-02-12T22:05:12.123456+00:00"
FILE = (
    "query($botId: ID!, $filename: String!) "
    f"{{ file(botId: $botId, filename: $filename) {{ {FILE_FIELDS} }} }}"
)
FILES = """
query($botId: ID!, $first: Int, $after: String) {
  files(botId: $botId, first: $first, after: $after) {
    totalCount nodes { filename } pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""
VERSIONS = """
query($fileId: ID!, $first: Int, $after: String) {
  fileVersions(fileId: $fileId, first: $first, after: $after) {
    totalCount nodes { id fileId version sizeBytes sha256 createdAt }
    pageInfo { hasNextPage endCursor }
  }
}
"""
UPDATE = (
    "mutation($id: ID!, $input: UpdateFileInput!) "
    f"{{ updateFile(id: $id, input: $input) {{ {FILE_FIELDS} }} }}"
)
DELETE = (
    "mutation($botId: ID!, $filename: String!) { deleteFile(botId: $botId, filename: $filename) }"
)
HELLO_SHA = "315f5bdb76d078c43b8ac0064e4a0164612b1fce77c869345bfc94c75894edd3"


@pytest.fixture
async def bot(client: httpx.AsyncClient) -> str:
    return await create_bot(client)


@pytest.fixture
def data_dir(settings: Settings) -> Path:
    return settings.data_dir


async def filenames(gql: GraphQL, bot_id: str) -> list[str]:
    data = await gql(FILES, {"botId": bot_id})
    return [node["filename"] for node in data["files"]["nodes"]]


async def test_upload_file_new_filename_creates_version_1(
    client: httpx.AsyncClient, bot: str
) -> None:
    file = await uploaded(client, bot, "hello.txt", b"Hello, world!")
    assert file == {
        "id": file["id"],
        "botId": bot,
        "filename": "hello.txt",
        "mimeType": "text/plain",
        "sizeBytes": 13,
        "version": 1,
        "isIndexed": False,
        "createdAt": NOW,
        "updatedAt": NOW,
        "downloadUrl": file["downloadUrl"],
    }
    assert file["id"][14] == "7"  # UUIDv7
    assert (await client.get(file["downloadUrl"])).content == b"Hello, world!"


async def test_upload_file_same_filename_adds_version_keeping_id_and_created_at(
    client: httpx.AsyncClient, gql: GraphQL, clock: FakeClock, bot: str
) -> None:
    first = await uploaded(client, bot, "doc.md", b"# Version 1")
    clock.advance(seconds=60)
    second = await uploaded(client, bot, "doc.md", b"# Version 2!")
    assert (second["id"], second["version"], second["sizeBytes"]) == (first["id"], 2, 12)
    assert (second["createdAt"], second["updatedAt"]) == (NOW, LATER)
    versions = (await gql(VERSIONS, {"fileId": first["id"]}))["fileVersions"]
    assert [(node["version"], node["sizeBytes"]) for node in versions["nodes"]] == [
        (2, 12),
        (1, 11),
    ]
    assert [node["createdAt"] for node in versions["nodes"]] == [LATER, NOW]
    assert versions["totalCount"] == 2
    assert (await client.get(second["downloadUrl"])).content == b"# Version 2!"


async def test_upload_file_next_version_rederives_mime_type_and_resets_is_indexed(
    client: httpx.AsyncClient, gql: GraphQL, bot: str
) -> None:
    file = await uploaded(client, bot, "notes.md", b"a")
    await gql(UPDATE, {"id": file["id"], "input": {"mimeType": "text/x-custom", "isIndexed": True}})
    again = await uploaded(client, bot, "notes.md", b"b")
    assert (again["mimeType"], again["isIndexed"]) == ("text/markdown", False)


@pytest.mark.parametrize(
    ("filename", "mime_type"),
    [
        ("archive.tar.gz", "application/gzip"),
        ("IMAGE.PNG", "image/png"),
        (".bashrc", "application/octet-stream"),
        ("no_extension", "application/octet-stream"),
    ],
)
async def test_upload_file_derives_mime_type_from_last_extension(
    client: httpx.AsyncClient, bot: str, filename: str, mime_type: str
) -> None:
    assert (await uploaded(client, bot, filename, b"x"))["mimeType"] == mime_type


@pytest.mark.sqlite_only  # content files on disk
async def test_upload_file_same_content_is_stored_once(
    client: httpx.AsyncClient, bot: str, data_dir: Path
) -> None:
    await uploaded(client, bot, "a.txt", b"Hello, world!")
    await uploaded(client, bot, "b.txt", b"Hello, world!")
    assert stored(data_dir) == [f"content/{HELLO_SHA[:2]}/{HELLO_SHA[2:]}"]


async def test_upload_file_empty_content_is_version_of_zero_bytes(
    client: httpx.AsyncClient, bot: str
) -> None:
    file = await uploaded(client, bot, "empty.txt", b"")
    assert (file["sizeBytes"], file["version"]) == (0, 1)
    assert (await client.get(file["downloadUrl"])).content == b""


@pytest.mark.parametrize(
    "filename",
    ["../../../etc/passwd", "sub/dir/file.txt", "a\\b", "", ".", "..", "nul\x00.txt", "tab\t.txt"],
)
async def test_upload_file_bad_filename_is_bad_user_input_and_writes_nothing(
    client: httpx.AsyncClient, gql: GraphQL, bot: str, data_dir: Path, filename: str
) -> None:
    body = (await upload(client, bot, filename, b"x")).json()
    assert codes(body["errors"]) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["path"] == ["uploadFile"]
    assert await filenames(gql, bot) == []
    assert stored(data_dir) == []


async def test_upload_file_name_with_double_dot_inside_is_accepted(
    client: httpx.AsyncClient, bot: str
) -> None:
    assert (await uploaded(client, bot, "a..b.txt", b"x"))["filename"] == "a..b.txt"


async def test_upload_file_name_of_255_bytes_is_accepted_and_256_refused(
    client: httpx.AsyncClient, bot: str
) -> None:
    assert (await uploaded(client, bot, "é" * 127 + "x", b"x"))["version"] == 1
    body = (await upload(client, bot, "é" * 128, b"x")).json()
    assert codes(body["errors"]) == ["BAD_USER_INPUT"]


async def test_upload_file_unknown_bot_is_not_found_and_writes_nothing(
    client: httpx.AsyncClient, data_dir: Path
) -> None:
    body = (await upload(client, "01a2032b-3367-77cd-87bc-d68b2a1db8cc", "a.txt", b"x")).json()
    assert codes(body["errors"]) == ["NOT_FOUND"]
    assert stored(data_dir) == []


async def test_upload_file_failing_transaction_removes_the_new_content(
    client: httpx.AsyncClient, gql: GraphQL, bot: str, data_dir: Path, monkeypatch: Any
) -> None:
    async def fail(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(db_files, "create_version", fail)
    body = (await upload(client, bot, "a.txt", b"x")).json()
    assert codes(body["errors"]) == ["INTERNAL_SERVER_ERROR"]
    assert stored(data_dir) == []
    assert await filenames(gql, bot) == []


@pytest.mark.sqlite_only  # content files on disk
async def test_upload_file_failing_transaction_keeps_content_already_stored(
    client: httpx.AsyncClient, bot: str, data_dir: Path, monkeypatch: Any
) -> None:
    await uploaded(client, bot, "a.txt", b"Hello, world!")

    async def fail(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(db_files, "create_version", fail)
    await upload(client, bot, "b.txt", b"Hello, world!")
    assert stored(data_dir) == [f"content/{HELLO_SHA[:2]}/{HELLO_SHA[2:]}"]


async def test_upload_file_as_json_variable_is_bad_user_input(gql: GraphQL, bot: str) -> None:
    query = (
        "mutation($b: ID!, $f: Upload!) "
        '{ uploadFile(botId: $b, filename: "a.txt", file: $f) { id } }'
    )
    errors = await gql.errors(query, {"b": bot, "f": "not a file"})
    assert codes(errors) == ["BAD_USER_INPUT"]
    assert errors[0]["message"] == "file must be a file part of a multipart request"


async def test_file_absent_returns_null(gql: GraphQL, bot: str) -> None:
    assert (await gql(FILE, {"botId": bot, "filename": "missing.txt"}))["file"] is None


async def test_file_returns_current_metadata(
    client: httpx.AsyncClient, gql: GraphQL, bot: str
) -> None:
    file = await uploaded(client, bot, "info.txt", b"information")
    found = (await gql(FILE, {"botId": bot, "filename": "info.txt"}))["file"]
    assert (found["id"], found["sizeBytes"]) == (file["id"], 11)


async def test_files_lists_in_byte_order(client: httpx.AsyncClient, gql: GraphQL, bot: str) -> None:
    for name in ("c.txt", "é.txt", "a.txt", "B.txt", "b.txt"):
        await uploaded(client, bot, name, b"x")
    assert await filenames(gql, bot) == ["B.txt", "a.txt", "b.txt", "c.txt", "é.txt"]


async def test_files_pages_with_cursor(client: httpx.AsyncClient, gql: GraphQL, bot: str) -> None:
    for name in ("c.txt", "a.txt", "b.txt"):
        await uploaded(client, bot, name, b"x")
    first = (await gql(FILES, {"botId": bot, "first": 2}))["files"]
    after = first["pageInfo"]["endCursor"]
    rest = (await gql(FILES, {"botId": bot, "first": 2, "after": after}))["files"]
    assert [node["filename"] for node in first["nodes"]] == ["a.txt", "b.txt"]
    assert [node["filename"] for node in rest["nodes"]] == ["c.txt"]
    assert (first["pageInfo"]["hasNextPage"], rest["pageInfo"]["hasNextPage"]) == (True, False)
    assert (rest["pageInfo"]["hasPreviousPage"], rest["totalCount"]) == (True, 3)


@pytest.mark.parametrize("after", ["", "nonsense", "WyJib3QiLCJhIiwiYiJd"])
async def test_files_malformed_cursor_is_bad_user_input(gql: GraphQL, bot: str, after: str) -> None:
    assert codes(await gql.errors(FILES, {"botId": bot, "after": after})) == ["BAD_USER_INPUT"]


async def test_files_of_unknown_bot_is_empty(gql: GraphQL) -> None:
    data = await gql(FILES, {"botId": "01a2032b-3367-77cd-87bc-d68b2a1db8cc"})
    assert (data["files"]["nodes"], data["files"]["totalCount"]) == ([], 0)


@pytest.mark.parametrize("version", [2**63, 2**64 - 1])
async def test_file_versions_cursor_with_an_integer_beyond_64_bits_is_bad_user_input(
    client: httpx.AsyncClient, gql: GraphQL, bot: str, version: int
) -> None:
    file = await uploaded(client, bot, "v.txt", b"1")
    after = encode_cursor("fileVersion", version, file["id"])
    errors = await gql.errors(VERSIONS, {"fileId": file["id"], "after": after})
    assert [(error["message"], error["extensions"]["code"]) for error in errors] == [
        (f"cursor '{after[:80]}' holds a value out of range", "BAD_USER_INPUT")
    ]


async def test_file_versions_pages_newest_first(
    client: httpx.AsyncClient, gql: GraphQL, bot: str
) -> None:
    for content in (b"1", b"22", b"333"):
        file = await uploaded(client, bot, "v.txt", content)
    first = (await gql(VERSIONS, {"fileId": file["id"], "first": 2}))["fileVersions"]
    after = first["pageInfo"]["endCursor"]
    rest = await gql(VERSIONS, {"fileId": file["id"], "first": 2, "after": after})
    assert [node["version"] for node in first["nodes"]] == [3, 2]
    assert [node["version"] for node in rest["fileVersions"]["nodes"]] == [1]
    assert first["pageInfo"]["hasNextPage"] is True


async def test_update_file_sets_mime_type_and_is_indexed(
    client: httpx.AsyncClient, gql: GraphQL, clock: FakeClock, bot: str
) -> None:
    file = await uploaded(client, bot, "data.csv", b"a,b")
    clock.advance(seconds=60)
    update = {"id": file["id"], "input": {"mimeType": "Text/Plain", "isIndexed": True}}
    updated = (await gql(UPDATE, update))["updateFile"]
    assert (updated["mimeType"], updated["isIndexed"], updated["version"]) == (
        "text/plain",
        True,
        1,
    )
    assert (updated["createdAt"], updated["updatedAt"]) == (NOW, LATER)
    found = (await gql(FILE, {"botId": bot, "filename": "data.csv"}))["file"]
    assert (found["mimeType"], found["isIndexed"]) == ("text/plain", True)


async def test_update_file_omitted_field_is_kept(
    client: httpx.AsyncClient, gql: GraphQL, bot: str
) -> None:
    file = await uploaded(client, bot, "data.csv", b"a,b")
    updated = (await gql(UPDATE, {"id": file["id"], "input": {"isIndexed": True}}))["updateFile"]
    assert (updated["mimeType"], updated["isIndexed"]) == ("text/csv", True)


async def test_update_file_absent_is_not_found(gql: GraphQL) -> None:
    update = {"id": "01a2032b-3367-77cd-87bc-d68b2a1db8cc", "input": {"isIndexed": True}}
    assert codes(await gql.errors(UPDATE, update)) == ["NOT_FOUND"]


@pytest.mark.parametrize(
    "change",
    [
        {"mimeType": "text"},
        {"mimeType": "text/plain; charset=utf-8"},
        {"mimeType": "text/plain\r\nX-Evil: 1"},
        {"mimeType": None},
        {"isIndexed": None},
    ],
)
async def test_update_file_bad_input_is_bad_user_input_and_changes_nothing(
    client: httpx.AsyncClient, gql: GraphQL, bot: str, change: dict[str, Any]
) -> None:
    file = await uploaded(client, bot, "data.csv", b"a,b")
    errors = await gql.errors(UPDATE, {"id": file["id"], "input": change})
    assert codes(errors) == ["BAD_USER_INPUT"]
    found = (await gql(FILE, {"botId": bot, "filename": "data.csv"}))["file"]
    assert found == file | {"downloadUrl": found["downloadUrl"]}


async def test_delete_file_removes_versions_and_content(
    client: httpx.AsyncClient, gql: GraphQL, bot: str, data_dir: Path
) -> None:
    await uploaded(client, bot, "temp.txt", b"one")
    file = await uploaded(client, bot, "temp.txt", b"two")
    assert (await gql(DELETE, {"botId": bot, "filename": "temp.txt"}))["deleteFile"] == file["id"]
    assert (await gql(FILE, {"botId": bot, "filename": "temp.txt"}))["file"] is None
    assert (await gql(VERSIONS, {"fileId": file["id"]}))["fileVersions"]["nodes"] == []
    assert stored(data_dir) == []
    assert (await client.get(file["downloadUrl"])).status_code == 404


@pytest.mark.sqlite_only  # content files on disk
async def test_delete_file_keeps_content_another_file_uses(
    client: httpx.AsyncClient, gql: GraphQL, bot: str, data_dir: Path
) -> None:
    await uploaded(client, bot, "a.txt", b"Hello, world!")
    other = await uploaded(client, bot, "b.txt", b"Hello, world!")
    await gql(DELETE, {"botId": bot, "filename": "a.txt"})
    assert stored(data_dir) == [f"content/{HELLO_SHA[:2]}/{HELLO_SHA[2:]}"]
    assert (await client.get(other["downloadUrl"])).content == b"Hello, world!"


async def test_delete_file_absent_is_not_found(gql: GraphQL, bot: str) -> None:
    errors = await gql.errors(DELETE, {"botId": bot, "filename": "nope.txt"})
    assert codes(errors) == ["NOT_FOUND"]
    assert errors[0]["path"] == ["deleteFile"]


async def test_files_of_two_bots_are_isolated(
    client: httpx.AsyncClient, gql: GraphQL, bot: str
) -> None:
    other = await create_bot(client, "Other Bot")
    mine = await uploaded(client, bot, "shared_name.txt", b"mine")
    theirs = await uploaded(client, other, "shared_name.txt", b"theirs")
    assert mine["id"] != theirs["id"]
    assert (mine["version"], theirs["version"]) == (1, 1)
    assert await filenames(gql, bot) == await filenames(gql, other) == ["shared_name.txt"]
    await gql(DELETE, {"botId": bot, "filename": "shared_name.txt"})
    assert (await client.get(theirs["downloadUrl"])).content == b"theirs"


@pytest.mark.sqlite_only  # content files on disk
async def test_delete_bot_removes_its_files_versions_and_content(
    client: httpx.AsyncClient, gql: GraphQL, bot: str, data_dir: Path
) -> None:
    other = await create_bot(client, "Other Bot")
    kept = await uploaded(client, other, "kept.txt", b"shared")
    await uploaded(client, bot, "a.txt", b"one")
    file = await uploaded(client, bot, "a.txt", b"two")
    await uploaded(client, bot, "b.txt", b"shared")
    await gql("mutation($id: ID!) { deleteBot(id: $id) }", {"id": bot})
    assert (await gql(VERSIONS, {"fileId": file["id"]}))["fileVersions"]["nodes"] == []
    assert (await gql("query($id: ID!) { node(id: $id) { id } }", {"id": file["id"]}))[
        "node"
    ] is None
    versions = (await gql(VERSIONS, {"fileId": kept["id"]}))["fileVersions"]["nodes"]
    sha = versions[0]["sha256"]
    assert stored(data_dir) == [f"content/{sha[:2]}/{sha[2:]}"]


async def test_node_refetches_storage_file_and_file_version(
    client: httpx.AsyncClient, gql: GraphQL, bot: str
) -> None:
    file = await uploaded(client, bot, "n.txt", b"x")
    version = (await gql(VERSIONS, {"fileId": file["id"]}))["fileVersions"]["nodes"][0]
    query = (
        "query($id: ID!) { node(id: $id) { __typename id "
        "... on StorageFile { filename } ... on FileVersion { fileId version } } }"
    )
    assert (await gql(query, {"id": file["id"]}))["node"] == {
        "__typename": "StorageFile",
        "id": file["id"],
        "filename": "n.txt",
    }
    assert (await gql(query, {"id": version["id"]}))["node"] == {
        "__typename": "FileVersion",
        "id": version["id"],
        "fileId": file["id"],
        "version": 1,
    }


NESTED = """
{ bots(first: 50) { nodes {
    files(first: 10) { totalCount nodes { filename bot { id }
      versions(first: 10) { totalCount nodes { version } } } }
    file(filename: "f0.txt") { version }
} } }
"""


async def _nested_statements(app: Starlette, gql: GraphQL) -> tuple[int, Any]:
    before = app.state.db.counter.count
    data = await gql(NESTED)
    return app.state.db.counter.count - before, data


async def test_nested_files_and_versions_load_in_fixed_statements(
    app: Starlette, client: httpx.AsyncClient, gql: GraphQL, bot: str
) -> None:
    await uploaded(client, bot, "f0.txt", b"x")
    one_bot, _ = await _nested_statements(app, gql)
    for index in range(3):
        other = await create_bot(client, f"Bot {index}")
        for name in ("f0.txt", "f1.txt", "f2.txt"):
            await uploaded(client, other, name, b"1")
            await uploaded(client, other, name, b"2")
    four_bots, data = await _nested_statements(app, gql)
    assert four_bots == one_bot
    nodes = data["bots"]["nodes"]
    assert sorted(bot_["files"]["totalCount"] for bot_ in nodes) == [1, 3, 3, 3]
    assert sorted(bot_["file"]["version"] for bot_ in nodes) == [1, 2, 2, 2]
