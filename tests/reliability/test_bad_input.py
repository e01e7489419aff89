"""Property-based bad input (hypothesis) through the ASGI app: arbitrary and hostile values
(any Unicode, NUL, lone surrogates, binary, huge strings and numbers, NaN, invalid UUIDs, deep
nesting) at every argument and input field of every mutation, as JSON variables or as GraphQL
literals, and raw hostile HTTP bodies. Every request is answered with a result or coded errors
(never INTERNAL_SERVER_ERROR, never HTTP 500, never a traceback), and a rejected request
changes nothing: every table's rows and the content store are as they were."""

import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote_from_bytes

import httpx
import orjson
import pytest
import pytest_asyncio
from asgi_lifespan import LifespanManager
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from app.main import create_app
from tests.api.upload_helpers import PREFLIGHT, create_bot, stored, uploaded
from tests.conftest import FakeClock, make_settings
from tests.reliability.hostile import (
    TARGETS,
    TEXT,
    VALUES,
    Target,
    arguments,
    is_upload,
    operation,
    to_json,
    variables,
)

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    # hypothesis warns while it prints a failing example holding a huge hostile value
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning"),
]
EXAMPLES = 50
ALLOWED_CODES = {
    "BAD_USER_INPUT",
    "NOT_FOUND",
    "CONFLICT",
    "PRECONDITION_FAILED",
    "PAYLOAD_TOO_LARGE",
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "QUERY_TOO_COMPLEX",
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
}
TRACEBACK = re.compile(r'Traceback|File "|line \d+, in ')
BOUNDARY = "hostile-boundary"
MULTIPART = {**PREFLIGHT, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("CI") == "true",  # CI replays the same examples every run
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


@dataclass(frozen=True)
class Harness:
    app: Starlette
    client: httpx.AsyncClient
    data_dir: Path
    bot_id: str
    file_id: str

    def ids(self, target: Target) -> dict[str, str]:
        """Real rows for the baseline ids, so a hostile value is not hidden by NOT_FOUND."""
        own_id = self.file_id if target.mutation == "updateFile" else self.bot_id
        return {"botId": self.bot_id, "id": own_id, "filename": "keep.txt"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def harness(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    data_dir = tmp_path_factory.mktemp("bad-input") / "data"
    app = create_app(make_settings(data_dir), clock=FakeClock())
    transport = httpx.ASGITransport(app=app)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=transport, base_url="http://localhost") as client,
    ):
        bot_id = await create_bot(client, "Target Bot")
        file = await uploaded(client, bot_id, "keep.txt", b"kept")
        yield Harness(app, client, data_dir, bot_id, file["id"])


async def snapshot(harness: Harness) -> dict[str, Any]:
    """Every row of every table, and every file in the content store and its temp dir."""
    conn = harness.app.state.db.read()
    tables = await conn.fetch_all(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    state: dict[str, Any] = {"files": stored(harness.data_dir)}
    for table in tables:
        rows = await conn.fetch_all(f'SELECT * FROM "{table["name"]}"')  # noqa: S608 (names from sqlite_master)
        state[table["name"]] = sorted(repr(tuple(row)) for row in rows)
    return state


def answer(response: httpx.Response, field: str | None) -> bool:
    """Check the answer's shape; whether the request was rejected (no result for `field`)."""
    assert response.status_code in (200, 400, 405, 413, 415), response.text[:500]
    assert not TRACEBACK.search(response.text), response.text[:2000]
    body = response.json()
    assert isinstance(body, dict), body
    errors = body.get("errors", [])
    assert [
        error["extensions"]["code"]
        for error in errors
        if error["extensions"]["code"] not in ALLOWED_CODES
    ] == [], errors
    data = body.get("data")
    result = data.get(field) if isinstance(data, dict) and field else None
    assert errors or result is not None or field is None, body
    return result is None


async def send(
    harness: Harness, target: Target, values: dict[str, Any], literal: bool, ascii_only: bool
) -> httpx.Response:
    """JSON, or the multipart request spec when an Upload argument keeps its baseline."""
    payload = {"query": operation(target, values, literal)}
    payload["variables"] = variables(target, values, literal)
    body = to_json(payload, ascii_only).encode("utf-8", "surrogatepass")
    uploads = [name for name in values if is_upload(target, name) and name != target.path[0]]
    if not uploads:
        headers = {"Content-Type": "application/json"}
        return await harness.client.post("/graphql", content=body, headers=headers)
    files: dict[str, Any] = {
        "operations": (None, body),
        "map": (None, orjson.dumps({str(n): [f"variables.{u}"] for n, u in enumerate(uploads)})),
    }
    files.update(
        {str(n): ("hostile.bin", b"\x00\xff hostile", "text/plain") for n in range(len(uploads))}
    )
    return await harness.client.post("/graphql", files=files, headers=PREFLIGHT)


@pytest.mark.parametrize("target", TARGETS, ids=[target.name for target in TARGETS])
@PROPERTY
@given(value=VALUES, literal=st.booleans(), ascii_only=st.booleans())
async def test_hostile_mutation_argument_gets_coded_answer_and_rejection_writes_nothing(
    harness: Harness, target: Target, value: Any, literal: bool, ascii_only: bool
) -> None:
    values = arguments(target, value, harness.ids(target))
    before = await snapshot(harness)
    response = await send(harness, target, values, literal, ascii_only)
    if answer(response, target.mutation):
        assert await snapshot(harness) == before


RAW_BODIES = [
    b"\xff\xfe\x00\x01 binary garbage",
    b'{"query": "\xff\xfe"}',
    b'{"query": "mutation { deleteBot(id: \\"\xed\xa0\x80\\") }"}',
    b'{"query": "{ bots { totalCount } }", "variables": {"x": 1e999999}}',
    b'{"query": "{ bots { totalCount } }", "variables": {"x": -1e999999}}',
    b'{"query": "{ bots { totalCount } }", "variables": {"x": ' + b"9" * 5000 + b"}}",
    b'{"query": "{ bots { totalCount } }", "variables": {"x": NaN}}',
    b'{"query": "{ bots { totalCount } }", "variables": {"x": "\\ud800"}}',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    b'{"query": "' + b"{ bots " * 20_000 + b'"}',
    b'{"query": "{ bots { totalCount } }", "variables": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    b'{"query": 1e999}',
    b'{"query": ["{ bots { totalCount } }"]}',
    b'{"query": "{ bots { totalCount } }", "operationName": {"a": 1}}',
    b"[" + b'{"query": "{ bots { totalCount } }"},' * 50 + b"{}]",
    b"null",
    b"",
    b"[]",
    b'"\\ud800"',
]


@pytest.mark.parametrize("body", RAW_BODIES, ids=[f"raw{n}" for n in range(len(RAW_BODIES))])
async def test_raw_hostile_json_body_gets_coded_answer(harness: Harness, body: bytes) -> None:
    before = await snapshot(harness)
    response = await harness.client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    answer(response, None)
    assert await snapshot(harness) == before


def multipart(operations: bytes, mapping: bytes, file: bytes) -> bytes:
    parts = [("operations", operations, ""), ("map", mapping, ""), ("0", file, '; filename="f"')]
    return (
        b"".join(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"{extra}\r\n\r\n'.encode()
            + content
            + b"\r\n"
            for name, content, extra in parts
        )
        + f"--{BOUNDARY}--\r\n".encode()
    )


JSON_TEXT = st.builds(to_json, VALUES, st.booleans()).map(
    lambda text: text.encode("utf-8", "surrogatepass")
)

MAPS = st.builds(
    to_json,
    st.dictionaries(st.just("0") | TEXT, st.lists(TEXT, max_size=3), max_size=3),
    st.booleans(),
).map(lambda text: text.encode("utf-8", "surrogatepass"))


@PROPERTY
@given(
    body=st.one_of(
        st.binary(max_size=2000),
        st.builds(multipart, JSON_TEXT, JSON_TEXT, st.binary(max_size=100)),
        st.builds(
            multipart,
            st.just(b'{"query": "{ bots { totalCount } }", "variables": {"x": null}}'),
            st.one_of(JSON_TEXT, MAPS),
            st.binary(max_size=100),
        ),
    ),
    multipart_type=st.booleans(),
)
async def test_raw_hostile_body_gets_coded_answer_and_writes_nothing(
    harness: Harness, body: bytes, multipart_type: bool
) -> None:
    headers = MULTIPART if multipart_type else {"Content-Type": "application/json"}
    before = await snapshot(harness)
    response = await harness.client.post("/graphql", content=body, headers=headers)
    answer(response, None)
    assert await snapshot(harness) == before


@PROPERTY
@given(query=st.text(max_size=300), variables=JSON_TEXT)
async def test_hostile_get_parameters_get_coded_answer(
    harness: Harness, query: str, variables: bytes
) -> None:
    url = (
        f"/graphql?query={quote_from_bytes(query.encode('utf-8', 'surrogatepass'))}"
        f"&variables={quote_from_bytes(variables)}"
    )
    assume(len(url) < 60_000)  # httpx refuses longer URLs itself
    before = await snapshot(harness)
    response = await harness.client.get(url, headers={**PREFLIGHT, "Accept": "application/json"})
    answer(response, None)
    assert await snapshot(harness) == before
