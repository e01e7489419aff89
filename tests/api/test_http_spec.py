"""GraphQL over HTTP as the specification has it (app/responses.py): the media type negotiated
from Accept, its status codes, and every error answer of every layer as a GraphQL response in
that media type. CSRF as Apollo's csrfPrevention (app/csrf.py)."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette
from starlette.datastructures import Headers

from app import csrf
from app.main import create_app
from app.responses import negotiate
from db import api_keys
from db.codec import new_id
from tests.conftest import FakeClock, make_settings

GRJ = "application/graphql-response+json"
JSON = "application/json"
COUNT = "{ bots { totalCount } }"
CREATE = 'mutation { createBot(input: {name: "Via"}) { slug } }'
ACCEPTS = {None: JSON, JSON: JSON, GRJ: GRJ, f"{GRJ}, {JSON};q=0.9": GRJ}


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        (JSON, JSON),
        (GRJ, GRJ),
        (f"{GRJ},{JSON};q=0.9", GRJ),  # Apollo Client 4
        (f"{GRJ}, application/graphql+json, {JSON}, text/event-stream", GRJ),  # urql
        (f"{JSON}, {GRJ}", JSON),
        (f"{JSON};q=0.5, {GRJ}", GRJ),
        (f"{GRJ};q=0, {JSON}", JSON),
        (f"{GRJ};q=0.2, */*;q=0.8", JSON),
        ("text/html", JSON),  # nothing this server speaks: the spec's default
        (f"text/html, {GRJ};q=0.1", GRJ),
        (f"{GRJ};q=oops, {JSON}", JSON),
    ],
)
def test_accept_picks_the_media_type(accept: str | None, media: str) -> None:
    assert negotiate(accept) == media


@pytest.mark.parametrize(
    ("headers", "passes"),
    [
        ({}, False),
        ({"content-type": "text/plain"}, False),
        ({"content-type": "TEXT/Plain; charset=utf-8"}, False),
        ({"content-type": "application/x-www-form-urlencoded"}, False),
        ({"content-type": "multipart/form-data; boundary=x"}, False),
        ({"content-type": "application/json"}, True),  # Apollo Client's GET queries
        ({"content-type": "application/graphql-response+json"}, True),
        ({"content-type": "not a mime type"}, True),  # browsers preflight it too
        ({"content-type": ""}, True),
        ({"apollo-require-preflight": "1"}, True),
        ({"x-apollo-operation-name": "Q"}, True),
        ({"graphql-require-preflight": "1", "content-type": "text/plain"}, True),
        ({"apollo-require-preflight": ""}, False),
    ],
)
def test_csrf_decides_as_apollo(headers: dict[str, str], passes: bool) -> None:
    assert csrf.passes(Headers(headers)) is passes


@pytest.fixture
async def secured(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Starlette]:
    settings = make_settings(
        tmp_path / "data", auth="required", max_body_bytes="400", max_depth="3", max_file_bytes="8"
    )
    application = create_app(settings, clock=clock)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def http(secured: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    keys = {scope: api_keys.new_secret() for scope in ("read", "write")}
    async with secured.state.db.write() as conn:
        for scope, secret in keys.items():
            now = "2026-01-01T00:00:00.000000+00:00"
            await api_keys.create_api_key(
                conn, id=new_id(), name=scope, scope=scope, secret=secret, now=now
            )
    transport = httpx.ASGITransport(app=secured)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        client.headers["authorization"] = f"Bearer {keys['write']}"
        client.headers["x-read-key"] = f"Bearer {keys['read']}"
        yield client


def multipart(operations: str, file: bytes = b"hi") -> dict[str, Any]:
    boundary = "spec-boundary"
    body = (
        (
            f"--{boundary}\r\nContent-Disposition: form-data; "
            f'name="operations"\r\n\r\n{operations}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n'
            '{"0": ["variables.file"]}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="0"; filename="a.txt"\r\n\r\n'
        ).encode()
        + file
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return {"content": body, "content-type": f"multipart/form-data; boundary={boundary}"}


UPLOAD = (
    '{"query": "mutation($b: ID!, $file: Upload!) { uploadFile(botId: $b, filename: \\"a.txt\\", '
    'file: $file) { id } }", "variables": {"b": "01a20321-1ea8-77b0-98e8-acd5d6e5e1a8", '
    '"file": null}}'
)
PREFLIGHT = {"graphql-require-preflight": "1"}

# name -> (method, headers, body (json or raw), status with GRJ, status with JSON, code)
REFUSALS: dict[str, tuple[str, dict[str, str], Any, int, int, str]] = {
    "csrf": ("GET", {}, {"query": COUNT}, 400, 400, "BAD_USER_INPUT"),
    "host not allowed": (
        "POST",
        {"host": "evil.example"},
        {"query": COUNT},
        400,
        400,
        "BAD_USER_INPUT",
    ),
    "no key": ("POST", {"authorization": ""}, {"query": COUNT}, 401, 401, "UNAUTHENTICATED"),
    "read key mutation": ("POST", {"read": "1"}, {"query": CREATE}, 403, 403, "FORBIDDEN"),
    "mutation over GET": ("GET", PREFLIGHT, {"query": CREATE}, 405, 405, "BAD_USER_INPUT"),
    "PUT": (
        "PUT",
        {"content-type": JSON},
        b'{"query": "{ __typename }"}',
        405,
        405,
        "BAD_USER_INPUT",
    ),
    "body too large": ("POST", {}, {"query": COUNT + " " * 400}, 413, 413, "PAYLOAD_TOO_LARGE"),
    "not JSON": ("POST", {"content-type": "text/plain"}, b"{}", 415, 415, "BAD_USER_INPUT"),
    "malformed JSON": ("POST", {"content-type": JSON}, b"{", 400, 400, "BAD_USER_INPUT"),
    "no query": ("POST", {}, {"variables": {}}, 400, 400, "BAD_USER_INPUT"),
    "parse": ("POST", {}, {"query": "{"}, 400, 200, "GRAPHQL_PARSE_FAILED"),
    "validation": ("POST", {}, {"query": "{ nope }"}, 400, 200, "GRAPHQL_VALIDATION_FAILED"),
    "variables": (
        "POST",
        {},
        {"query": "query($n: Int!) { bots(first: $n) { totalCount } }"},
        400,
        200,
        "BAD_USER_INPUT",
    ),
    "too deep": (
        "POST",
        {},
        {"query": "{ bots { nodes { kvEntries { nodes { key } } } } }"},
        400,
        200,
        "QUERY_TOO_COMPLEX",
    ),
    "no operationName": (
        "POST",
        {},
        {"query": f"query A {COUNT} query B {COUNT}"},
        400,
        200,
        "BAD_USER_INPUT",
    ),
    "upload malformed": (
        "POST",
        {**PREFLIGHT, "multipart": "1"},
        "{",
        400,
        400,
        "BAD_USER_INPUT",
    ),
    "upload too large": (
        "POST",
        {**PREFLIGHT, "multipart": "big"},
        UPLOAD,
        413,
        413,
        "PAYLOAD_TOO_LARGE",
    ),
    "upload without preflight": ("POST", {"multipart": "1"}, UPLOAD, 400, 400, "BAD_USER_INPUT"),
}


async def send(
    http: httpx.AsyncClient, method: str, headers: dict[str, str], body: Any, accept: str | None
) -> httpx.Response:
    headers = dict(headers)
    if accept is not None:
        headers["accept"] = accept
    if headers.pop("read", None):
        headers["authorization"] = http.headers["x-read-key"]
    if method == "GET":
        return await http.get("/graphql", params=body, headers=headers)
    kind = headers.pop("multipart", None)
    if kind is not None:
        parts = multipart(body, b"x" * 9 if kind == "big" else b"hi")
        headers["content-type"] = parts["content-type"]
        return await http.post("/graphql", content=parts["content"], headers=headers)
    if method == "PUT":
        return await http.put("/graphql", content=body, headers=headers)
    if isinstance(body, bytes):
        return await http.post("/graphql", content=body, headers=headers)
    return await http.post("/graphql", json=body, headers=headers)


@pytest.mark.parametrize("accept", list(ACCEPTS))
@pytest.mark.parametrize("refusal", list(REFUSALS))
async def test_every_refusal_is_a_graphql_response_in_the_negotiated_media_type(
    http: httpx.AsyncClient, refusal: str, accept: str | None
) -> None:
    method, headers, body, grj_status, json_status, code = REFUSALS[refusal]
    response = await send(http, method, headers, body, accept)
    media = ACCEPTS[accept]
    assert response.headers["content-type"] == f"{media}; charset=utf-8"
    assert response.status_code == (grj_status if media == GRJ else json_status)
    payload = response.json()
    assert "data" not in payload
    assert [error["extensions"]["code"] for error in payload["errors"]] == (
        [code] * len(payload["errors"])
    )
    assert payload["errors"]
    count = await http.post("/graphql", json={"query": COUNT})
    assert count.json() == {"data": {"bots": {"totalCount": 0}}}


@pytest.mark.parametrize("accept", list(ACCEPTS))
async def test_executed_request_is_200_in_both_media_types_field_errors_included(
    http: httpx.AsyncClient, accept: str | None
) -> None:
    headers = {} if accept is None else {"accept": accept}
    query = 'query { bot(id: "not-a-uuid") { id } }'
    response = await http.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{ACCEPTS[accept]}; charset=utf-8"
    body = response.json()
    assert body["data"] == {"bot": None}
    assert [error["extensions"]["code"] for error in body["errors"]] == ["BAD_USER_INPUT"]


async def test_get_with_json_content_type_passes_csrf_as_apollo_use_get_for_queries(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get(
        "/graphql", params={"query": COUNT}, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"bots": {"totalCount": 0}}}


async def test_get_refused_by_csrf_says_what_to_add(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", params={"query": COUNT})
    assert response.json() == {
        "errors": [{"message": csrf.REFUSAL, "extensions": {"code": "BAD_USER_INPUT"}}]
    }


async def test_unexpected_error_is_a_masked_graphql_response(
    http: httpx.AsyncClient, secured: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(query: str) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(secured.state.graphql.documents, "get", broken)
    response = await http.post("/graphql", json={"query": COUNT}, headers={"accept": GRJ})
    assert response.status_code == 500
    assert response.headers["content-type"] == f"{GRJ}; charset=utf-8"
    assert response.json() == {
        "errors": [
            {"message": "Internal server error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
        ]
    }
