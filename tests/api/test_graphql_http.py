"""The HTTP transport: methods, bodies, batches, limits, CSRF, GraphiQL."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from graphql import get_introspection_query

from app.main import create_app
from tests.conftest import FakeClock, make_settings

PREFLIGHT = {"Apollo-Require-Preflight": "1"}
COUNT = "{ bots { totalCount } }"
CREATE = 'mutation { createBot(input: {name: "Via"}) { slug } }'
NO_QUERY = 'the request has no query: send {"query": "<a GraphQL document>"} (GET: ?query=...)'
NOT_AN_OPERATION = (
    'each operation must be a JSON object {"query": "...", "variables": {...}} '
    "(a batch is a list of them)"
)
GRAPHQL_RESPONSE = {"Accept": "application/graphql-response+json"}
BAD_INPUT = {"code": "BAD_USER_INPUT"}


@pytest.fixture
async def custom_client(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Any]:
    """A client on an app with the given settings: `await custom_client(max_depth="3")`."""
    managers: list[Any] = []

    async def make(**settings: str) -> httpx.AsyncClient:
        app = create_app(make_settings(tmp_path / f"data{len(managers)}", **settings), clock=clock)
        manager = LifespanManager(app)
        await manager.__aenter__()
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost"
        )
        managers.append((manager, http))
        return http

    yield make
    for manager, http in managers:
        await http.aclose()
        await manager.__aexit__(None, None, None)


def only_error(response: httpx.Response) -> dict[str, Any]:
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    error: dict[str, Any] = errors[0]
    return error


async def test_post_malformed_json_is_400_with_coded_error(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert only_error(response) == {
        "message": "the request body is not valid JSON",
        "extensions": {"code": "BAD_USER_INPUT"},
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, NO_QUERY),
        ({"query": 5}, NO_QUERY),
        ({"query": COUNT, "extensions": 1}, "extensions must be a JSON object"),
        ({"query": COUNT, "variables": [1]}, "variables must be a JSON object"),
        ({"query": COUNT, "operationName": 3}, "operationName must be a string"),
        ([], "an empty batch: send at least one operation"),
        ([1], NOT_AN_OPERATION),
        (1, NOT_AN_OPERATION),
    ],
)
async def test_post_malformed_operation_is_400(
    client: httpx.AsyncClient, body: Any, message: str
) -> None:
    response = await client.post("/graphql", json=body)
    assert response.status_code == 400
    assert only_error(response)["message"] == message


async def test_post_unsupported_content_type_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=b"{}", headers={"content-type": "application/xml"}
    )
    assert response.status_code == 415
    assert only_error(response)["extensions"] == {"code": "BAD_USER_INPUT"}


async def test_post_body_over_limit_is_413_and_writes_nothing(custom_client: Any) -> None:
    http = await custom_client(max_body_bytes="200")
    padding = " " * 300
    response = await http.post(
        "/graphql",
        content=f'{{"query": "{CREATE.replace(chr(34), chr(92) + chr(34))}"{padding}}}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert only_error(response)["extensions"] == {"code": "PAYLOAD_TOO_LARGE"}
    count = await http.post("/graphql", json={"query": COUNT})
    assert count.json() == {"data": {"bots": {"totalCount": 0}}}


@pytest.mark.parametrize(
    ("headers", "received"),
    [
        ({}, "no Content-Type"),
        ({"content-type": "text/plain"}, "Content-Type 'text/plain'"),
        (PREFLIGHT, "no Content-Type"),
        (
            {"content-type": "application/x-www-form-urlencoded", **PREFLIGHT},
            "Content-Type 'application/x-www-form-urlencoded'",
        ),
    ],
)
async def test_post_without_json_content_type_says_to_send_it_and_runs_nothing(
    client: httpx.AsyncClient, headers: dict[str, str], received: str
) -> None:
    """Before: a POST with no Content-Type ran, mutations included, without a preflight header
    (any page can send one); `curl -d` was told to add a CSRF header."""
    body = '{"query": "mutation { createBot(input: {name: \\"Via\\"}) { slug } }"}'
    response = await client.post("/graphql", content=body, headers=headers)
    assert response.status_code == 415
    assert only_error(response) == {
        "message": f"the request has {received}: send Content-Type: application/json with a "
        'JSON body {"query": "..."} (multipart/form-data for file uploads)',
        "extensions": {"code": "BAD_USER_INPUT"},
    }
    count = await client.post("/graphql", json={"query": COUNT})
    assert count.json() == {"data": {"bots": {"totalCount": 0}}}


async def test_get_query_with_preflight_header_runs(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": COUNT}, headers=PREFLIGHT)
    assert response.status_code == 200
    assert response.json() == {"data": {"bots": {"totalCount": 0}}}


async def test_get_query_with_variables_runs(client: httpx.AsyncClient) -> None:
    query = "query($first: Int) { bots(first: $first) { totalCount } }"
    response = await client.get(
        "/graphql", params={"query": query, "variables": '{"first": 2}'}, headers=PREFLIGHT
    )
    assert response.json() == {"data": {"bots": {"totalCount": 0}}}


async def test_get_without_preflight_header_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": COUNT})
    assert response.status_code == 400
    assert only_error(response)["extensions"] == {"code": "BAD_USER_INPUT"}


async def test_get_mutation_is_405_and_writes_nothing(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": CREATE}, headers=PREFLIGHT)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    count = await client.post("/graphql", json={"query": COUNT})
    assert count.json() == {"data": {"bots": {"totalCount": 0}}}


async def test_get_html_serves_graphiql(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_graphiql_switched_off_is_404(custom_client: Any) -> None:
    http = await custom_client(graphiql="false")
    response = await http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 404


async def test_batch_runs_each_operation_in_order(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json=[{"query": CREATE}, {"query": COUNT}])
    assert response.status_code == 200
    assert response.json() == [
        {"data": {"createBot": {"slug": "via"}}},
        {"data": {"bots": {"totalCount": 1}}},
    ]


async def test_batch_over_limit_is_400_and_runs_nothing(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json=[{"query": CREATE}] * 11)
    assert response.status_code == 400
    assert only_error(response)["message"] == "a batch may hold at most 10 operations"
    count = await client.post("/graphql", json={"query": COUNT})
    assert count.json() == {"data": {"bots": {"totalCount": 0}}}


async def test_operation_name_selects_operation(client: httpx.AsyncClient) -> None:
    body = {"query": f'query A {COUNT} query B {{ bot(slug: "x") {{ id }} }}', "operationName": "B"}
    response = await client.post("/graphql", json=body)
    assert response.json() == {"data": {"bot": None}}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (None, "the document has several operations; give operationName"),
        ("C", "the document has no operation named 'C'"),
    ],
)
@pytest.mark.parametrize(("accept", "status"), [({}, 200), (GRAPHQL_RESPONSE, 400)])
async def test_operation_name_missing_or_unknown_runs_nothing(
    client: httpx.AsyncClient,
    name: str | None,
    message: str,
    accept: dict[str, str],
    status: int,
) -> None:
    body = {"query": f"query A {COUNT} mutation B {CREATE[9:]}", "operationName": name}
    response = await client.post("/graphql", json=body, headers=accept)
    assert response.status_code == status
    assert response.json() == {"errors": [{"message": message, "extensions": BAD_INPUT}]}
    count = await client.post("/graphql", json={"query": COUNT})
    assert count.json() == {"data": {"bots": {"totalCount": 0}}}


@pytest.mark.parametrize(("accept", "status"), [({}, 200), (GRAPHQL_RESPONSE, 400)])
async def test_subscription_over_http_is_refused(
    client: httpx.AsyncClient, accept: dict[str, str], status: int
) -> None:
    query = 'subscription { kvChanged(botId: "01a20321-1ea8-77b0-98e8-acd5d6e5e1a8") { key } }'
    response = await client.post("/graphql", json={"query": query}, headers=accept)
    assert response.status_code == status
    assert only_error(response) == {
        "message": "subscriptions run over WebSocket (graphql-transport-ws)",
        "extensions": BAD_INPUT,
    }


async def test_introspection_query_of_graphiql_fits_the_default_limits(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/graphql", json={"query": get_introspection_query()})
    body = response.json()
    assert "errors" not in body
    assert body["data"]["__schema"]["queryType"] == {"kind": "OBJECT", "name": "Query"}


async def test_introspection_switched_off_is_validation_error(custom_client: Any) -> None:
    http = await custom_client(introspection="false")
    response = await http.post(
        "/graphql", json={"query": "{ __schema { types { name } } }"}, headers=GRAPHQL_RESPONSE
    )
    assert response.status_code == 400
    assert [error["extensions"]["code"] for error in response.json()["errors"]] == [
        "GRAPHQL_VALIDATION_FAILED",
        "GRAPHQL_VALIDATION_FAILED",
    ]
    ok = await http.post("/graphql", json={"query": COUNT})
    assert ok.json() == {"data": {"bots": {"totalCount": 0}}}


async def test_query_deeper_than_limit_is_too_complex(custom_client: Any) -> None:
    http = await custom_client(max_depth="2")
    ok = await http.post("/graphql", json={"query": "{ bots { totalCount } }"})
    assert ok.json() == {"data": {"bots": {"totalCount": 0}}}
    deep = await http.post("/graphql", json={"query": "{ bots { pageInfo { hasNextPage } } }"})
    assert deep.status_code == 200  # application/json: 200 for every well-formed request
    assert only_error(deep) == {
        "message": "the query is 3 levels deep; at most 2 are allowed",
        "extensions": {"code": "QUERY_TOO_COMPLEX"},
    }


async def test_depth_counts_through_fragments(custom_client: Any) -> None:
    http = await custom_client(max_depth="2")
    query = "query { bots { ...P } } fragment P on BotConnection { pageInfo { hasNextPage } }"
    response = await http.post("/graphql", json={"query": query})
    assert only_error(response)["extensions"] == {"code": "QUERY_TOO_COMPLEX"}


async def test_aliases_over_limit_are_too_complex(custom_client: Any) -> None:
    http = await custom_client(max_aliases="2")
    two = "{ a: bots { totalCount } b: bots { totalCount } }"
    assert "errors" not in (await http.post("/graphql", json={"query": two})).json()
    three = "{ a: bots { totalCount } b: bots { totalCount } c: bots { totalCount } }"
    response = await http.post("/graphql", json={"query": three})
    assert only_error(response) == {
        "message": "the query uses 3 aliases; at most 2 are allowed",
        "extensions": {"code": "QUERY_TOO_COMPLEX"},
    }


async def test_tokens_over_limit_are_too_complex(custom_client: Any) -> None:
    http = await custom_client(max_tokens="9")
    response = await http.post(
        "/graphql", json={"query": "{ bots { totalCount pageInfo { hasNextPage } } }"}
    )
    assert only_error(response) == {
        "message": "the query has more than 9 tokens",
        "extensions": {"code": "QUERY_TOO_COMPLEX"},
    }


async def test_large_integer_in_response_is_encoded_exactly(client: httpx.AsyncClient) -> None:
    from app.responses import encode

    assert encode({"v": 2**70}) == b'{"v":1180591620717411303424}'


async def test_healthz_and_readyz_answer(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


async def test_post_deeply_nested_json_is_400(client: httpx.AsyncClient) -> None:
    body = (
        b'{"query": "{ bots { totalCount } }", "variables": {"x": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}}"
    )
    response = await client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert only_error(response)["message"] == "the request body is nested too deeply"


async def test_lone_surrogate_quoted_in_an_error_message_is_escaped(
    client: httpx.AsyncClient,
) -> None:
    body = b'{"query": "mutation($id: ID!) { deleteBot(id: $id) }", "variables": {"id": "\\ud800"}}'
    response = await client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    assert b"'\\ud800'" in response.content  # valid UTF-8: the surrogate travels as an escape
    error = only_error(response)
    assert (error["message"], error["extensions"]["code"]) == (
        "id '\ud800' is not a valid UUID",
        "BAD_USER_INPUT",
    )


async def test_literal_nested_too_deeply_is_too_complex(client: httpx.AsyncClient) -> None:
    query = '{ bot(slug: "x") { id } a: bots(first: ' + "[" * 300 + "]" * 300 + ") { totalCount } }"
    response = await client.post("/graphql", json={"query": query})
    assert only_error(response) == {
        "message": "the query is nested too deeply",
        "extensions": {"code": "QUERY_TOO_COMPLEX"},
    }


async def test_cors_is_off_by_default(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/graphql",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in response.headers


async def test_cors_allows_only_configured_origins(custom_client: Any) -> None:
    http = await custom_client(cors_origins="https://app.example")
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    allowed = await http.options("/graphql", headers={"Origin": "https://app.example", **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    other = await http.options("/graphql", headers={"Origin": "https://evil.example", **preflight})
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers
    simple = await http.post(
        "/graphql", json={"query": COUNT}, headers={"Origin": "https://app.example"}
    )
    assert simple.headers["access-control-allow-origin"] == "https://app.example"
