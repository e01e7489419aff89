"""The error shape: every error a client can get carries extensions.code; unexpected errors are
masked and logged with their traceback."""

import logging
from typing import Any

import httpx
import pytest

import db.bots
from tests.conftest import GraphQL

MISSING = "01a20321-1ea8-77b0-98e8-acd5d6e5e1a8"


async def _conflict(gql: GraphQL) -> dict[str, Any]:
    for _ in range(100):
        await gql('mutation { createBot(input: {name: "Dup"}) { id } }')
    return await gql.post('mutation { createBot(input: {name: "Dup"}) { id } }')


CASES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "BAD_USER_INPUT",
        "id 'nope' is not a valid UUID",
        {"query": '{ bot(id: "nope") { id } }'},
    ),
    (
        "BAD_USER_INPUT",
        "Variable '$first' has invalid value: Int cannot represent non-integer value: 'x'",
        {
            "query": "query($first: Int) { bots(first: $first) { totalCount } }",
            "variables": {"first": "x"},
        },
    ),
    (
        "NOT_FOUND",
        f"no bot with id {MISSING}",
        {"query": f'mutation {{ deleteBot(id: "{MISSING}") }}'},
    ),
    (
        "GRAPHQL_PARSE_FAILED",
        "Syntax Error: Expected Name, found <EOF>.",
        {"query": "{ bots {"},
    ),
    (
        "GRAPHQL_VALIDATION_FAILED",
        "Cannot query field 'nope' on type 'Query'. Did you mean 'node'?",
        {"query": "{ nope }"},
    ),
    (
        "QUERY_TOO_COMPLEX",
        "the query uses 31 aliases; at most 30 are allowed",
        {"query": "{ " + " ".join(f"a{i}: bots {{ totalCount }}" for i in range(31)) + " }"},
    ),
]


@pytest.mark.parametrize(("code", "message", "body"), CASES, ids=[case[0] for case in CASES])
async def test_error_has_code_and_readable_message(
    client: httpx.AsyncClient, code: str, message: str, body: dict[str, Any]
) -> None:
    response = await client.post("/graphql", json=body)
    errors = response.json()["errors"]
    assert [(error["extensions"]["code"], error["message"]) for error in errors] == [
        (code, message)
    ]


async def test_conflict_error_has_code_and_path(gql: GraphQL) -> None:
    body = await _conflict(gql)
    assert body == {
        "data": None,
        "errors": [
            {
                "message": "the slugs dup and dup-2 ... -100 are all taken",
                "locations": [{"line": 1, "column": 12}],
                "path": ["createBot"],
                "extensions": {"code": "CONFLICT"},
            }
        ],
    }


async def test_payload_too_large_error_has_code(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        content=b"x" * (8 * 1024 * 1024 + 1),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"] == {"code": "PAYLOAD_TOO_LARGE"}


async def test_unexpected_error_is_masked_and_logged(
    gql: GraphQL, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("secret database detail")

    monkeypatch.setattr(db.bots, "get_bot", broken)
    with caplog.at_level(logging.ERROR, logger="boternity.graphql"):
        body = await gql.post(f'{{ bot(id: "{MISSING}") {{ id }} }}')
    assert body == {
        "data": {"bot": None},
        "errors": [
            {
                "message": "Internal server error",
                "locations": [{"line": 1, "column": 3}],
                "path": ["bot"],
                "extensions": {"code": "INTERNAL_SERVER_ERROR"},
            }
        ],
    }
    assert "secret database detail" not in str(body)
    record = caplog.records[-1]
    assert record.exc_info is not None
    assert "secret database detail" in str(record.exc_info[1])
