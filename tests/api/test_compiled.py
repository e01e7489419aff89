"""Compiled queries (app/engine/plans.py): the shapes they cover answer exactly what graphql-core
answers, errors take graphql-core's path, and the benchmark's queries never fall back."""

from collections import Counter
from typing import Any

import httpx
import pytest
from graphql import parse
from starlette.applications import Starlette

from app.engine.compiler import Declined, compile_query
from app.engine.engine import RESOLVER_ERROR
from app.engine.plans import COERCION, QueryPlan
from tests.api.upload_helpers import uploaded
from tests.conftest import GraphQL

CREATE_BOT = "mutation($name: String!) { createBot(input: {name: $name}) { id } }"
SET_KV = "mutation($b: ID!, $k: String!, $v: JSON) { setKv(botId: $b, key: $k, value: $v) { key } }"
LOG = "mutation($input: LogMemoryAuditInput!) { logMemoryAudit(input: $input) { id } }"
ACTIVITY = """mutation($id: ID!) {
  recordBotActivity(id: $id, input: {tokensUsed: 12345678901, conversations: 2}) { id }
}"""
MEMORY = "01a20321-1ea8-77b0-98e8-acd5d6e5e1a8"

ONE_BOT = "query OneBot($id: ID!) { bot(id: $id) { id name slug } }"
KV_PAGE = "query KvPage($id: ID!) { kvEntries(botId: $id, first: 50) { nodes { key value } } }"
NESTED = (
    "query Nested { bots(first: 50) { nodes { id kvEntries(first: 10) { nodes { key value } } } } }"
)

# Each shape the compiler covers, with the variables to run it with (filled in per test).
SHAPES: list[tuple[str, dict[str, Any]]] = [
    (ONE_BOT, {"id": "{first}"}),
    (KV_PAGE, {"id": "{first}"}),
    (NESTED, {}),
    (
        """query($id: ID!) { bot(id: $id) {
            __typename id slug name description status category tags userId
            conversationCount totalTokensUsed versionCount createdAt updatedAt lastActiveAt } }""",
        {"id": "{first}"},
    ),
    ("query($id: ID!) { bot(id: $id) { id } }", {"id": "{missing}"}),
    ("query($slug: String) { bot(slug: $slug) { id name } }", {"slug": "beta"}),
    (
        """query($p: String, $n: Int) { bots(first: 3) { nodes { name
             kvEntries(prefix: $p, first: $n) { nodes { key value botId }
               pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
             kvEntry(key: "b") { key value }
             missing: kvEntry(key: "nope") { key } } } }""",
        {"p": "a", "n": 1},
    ),
    (
        """query($p: String) { bots(first: 3) { nodes { kvEntries(prefix: $p) {
             nodes { key } } } } }""",
        {},
    ),
    (
        """query($id: ID!) { kvEntries(botId: $id) { edges { cursor node { key value
             bot { name status kvEntries(first: 1) { nodes { key } } } } } } }""",
        {"id": "{first}"},
    ),
    (
        """query Frag($id: ID!) { first: bot(id: $id) { ...Names ... on Bot { slug } }
             second: bot(id: $id) { ...Names } }
           fragment Names on Bot { name n2: name }""",
        {"id": "{first}"},
    ),
    (
        """query($id: ID!) { bots(first: 3, orderBy: {field: NAME, direction: ASC}) {
             pageInfo { hasNextPage endCursor } nodes { name } }
           auditLog(botId: $id, filter: {actions: [ADD]}) {
             nodes { action actor details bot { name } } }
           files(botId: $id) { nodes { filename sizeBytes bot { name } } } }""",
        {"id": "{first}"},
    ),
    (
        """{ bots(first: 3, orderBy: {field: NAME, direction: ASC}) { nodes { name
             files(first: 5) { nodes { filename version sizeBytes bot { name } }
               pageInfo { hasNextPage endCursor } }
             file(filename: "notes.txt") { filename version }
             missing: file(filename: "none.txt") { filename } } } }""",
        {},
    ),
    (
        """query($id: ID!) { bot(id: $id) { name } kvKeys(botId: $id)
             kvEntry(botId: $id, key: "a1") { value } }""",
        {"id": "{first}"},
    ),
]


async def seed(gql: GraphQL, client: httpx.AsyncClient) -> dict[str, str]:
    """Three bots (KV entries, an audit entry and a file on the first), ids by name."""
    ids = {}
    for name in ("alpha", "beta", "gamma"):
        ids[name] = (await gql(CREATE_BOT, {"name": name}))["createBot"]["id"]
    values: list[Any] = [1, None, "text", {"deep": [1, 2.5, True]}, 12345678901234567890]
    for number, value in enumerate(values):
        await gql(SET_KV, {"b": ids["alpha"], "k": f"a{number}", "v": value})
    await gql(SET_KV, {"b": ids["alpha"], "k": "b", "v": [None]})
    await gql(SET_KV, {"b": ids["beta"], "k": "a", "v": False})
    await gql(ACTIVITY, {"id": ids["alpha"]})
    audit = {"botId": ids["alpha"], "memoryId": MEMORY, "action": "ADD", "actor": "me"}
    await gql(LOG, {"input": {**audit, "details": {"why": "test"}}})
    await uploaded(client, ids["alpha"], "notes.txt", b"hello")
    return ids


def filled(variables: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    names = {"{first}": ids["alpha"], "{missing}": MEMORY}
    return {name: names.get(value, value) for name, value in variables.items()}


async def answers_both_ways(
    app: Starlette, gql: GraphQL, monkeypatch: pytest.MonkeyPatch, query: str, variables: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The body answered with compiled plans, then by graphql-core alone."""
    compiled = await gql.post(query, variables)
    with monkeypatch.context() as patch:
        patch.setattr(app.state.graphql.engine, "plan", lambda *_: Declined("switched off"))
        app.state.graphql.documents.get.cache_clear()
        plain = await gql.post(query, variables)
    app.state.graphql.documents.get.cache_clear()
    return compiled, plain


async def test_every_covered_shape_answers_as_graphql_core(
    app: Starlette, gql: GraphQL, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await seed(gql, client)
    schema = app.state.graphql.engine.strawberry_schema
    for query, variables in SHAPES:
        assert isinstance(compile_query(schema, parse(query), None), QueryPlan), query
        compiled, plain = await answers_both_ways(
            app, gql, monkeypatch, query, filled(variables, ids)
        )
        assert "errors" not in compiled, (query, compiled)
        assert compiled == plain, query
    assert app.state.graphql.engine.fallbacks == Counter({"switched off": len(SHAPES)})


async def test_benchmark_queries_are_compiled_and_answer_exactly(
    app: Starlette, gql: GraphQL, client: httpx.AsyncClient
) -> None:
    ids = await seed(gql, client)
    assert await gql(ONE_BOT, {"id": ids["beta"]}) == {
        "bot": {"id": ids["beta"], "name": "beta", "slug": "beta"}
    }
    page = await gql(KV_PAGE, {"id": ids["alpha"]})
    assert page == {
        "kvEntries": {
            "nodes": [
                {"key": "a0", "value": 1},
                {"key": "a1", "value": None},
                {"key": "a2", "value": "text"},
                {"key": "a3", "value": {"deep": [1, 2.5, True]}},
                {"key": "a4", "value": 12345678901234567890},
                {"key": "b", "value": [None]},
            ]
        }
    }
    nested = await gql(NESTED)
    assert [(bot["id"], len(bot["kvEntries"]["nodes"])) for bot in nested["bots"]["nodes"]] == [
        (ids["gamma"], 0),
        (ids["beta"], 1),
        (ids["alpha"], 6),
    ]
    assert app.state.graphql.engine.fallbacks == Counter()


@pytest.mark.parametrize(
    ("query", "variables", "codes", "reason"),
    [
        # a batch resolver raises: graphql-core reports it per bot (a non-null field's error
        # nulls the whole page, so only the first is reported)
        (
            "{ bots(first: 2) { nodes { name kvEntries(first: 0) { nodes { key } } } } }",
            {},
            ["BAD_USER_INPUT"],
            RESOLVER_ERROR,
        ),
        (
            '{ bots(first: 2) { nodes { kvEntry(key: "") { key } } } }',
            {},
            ["BAD_USER_INPUT"] * 2,
            RESOLVER_ERROR,
        ),
        (
            "query($id: ID!) { bot(id: $id) { name } }",
            {"id": "not-a-uuid"},
            ["BAD_USER_INPUT"],
            RESOLVER_ERROR,
        ),
        # variables that do not coerce: graphql-core's request error
        (
            "query($n: Int) { bots(first: $n) { nodes { id } } }",
            {"n": "x"},
            ["BAD_USER_INPUT"],
            COERCION,
        ),
        ("query($id: ID!) { bot(id: $id) { name } }", {}, ["BAD_USER_INPUT"], COERCION),
    ],
)
async def test_errors_are_graphql_cores(
    app: Starlette,
    gql: GraphQL,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    variables: dict[str, Any],
    codes: list[str],
    reason: str,
) -> None:
    await seed(gql, client)
    compiled, plain = await answers_both_ways(app, gql, monkeypatch, query, variables)
    assert compiled == plain
    assert [error["extensions"]["code"] for error in compiled["errors"]] == codes
    assert app.state.graphql.engine.fallbacks == Counter({reason: 1, "switched off": 1})


async def test_a_batch_error_keeps_graphql_cores_paths_and_partial_data(
    gql: GraphQL, client: httpx.AsyncClient
) -> None:
    await seed(gql, client)
    body = await gql.post('{ bots(first: 2) { nodes { kvEntry(key: "") { key } } } }')
    assert body["data"] == {"bots": {"nodes": [{"kvEntry": None}, {"kvEntry": None}]}}
    assert [error["path"] for error in body["errors"]] == [
        ["bots", "nodes", 0, "kvEntry"],
        ["bots", "nodes", 1, "kvEntry"],
    ]
    body = await gql.post("{ bots(first: 2) { nodes { kvEntries(first: 0) { nodes { key } } } } }")
    assert body["data"] is None
    assert [error["path"] for error in body["errors"]] == [["bots", "nodes", 0, "kvEntries"]]


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("query($on: Boolean!) { bots { nodes { id @include(if: $on) } } }", "directives"),
        ("{ __schema { queryType { name } } }", "introspection"),
        ('mutation { createBot(input: {name: "x"}) { id } }', "a mutation"),
        ("query($id: ID!) { node(id: $id) { id } }", "an interface or union"),
        (
            "{ bots { totalCount } }",
            "an asynchronous resolver below the root without a level resolver",
        ),
    ],
)
async def test_other_shapes_are_left_to_graphql_core(
    app: Starlette, query: str, reason: str
) -> None:
    declined = compile_query(app.state.graphql.engine.strawberry_schema, parse(query), None)
    assert isinstance(declined, Declined)
    assert declined.reason == reason


async def test_the_named_operation_is_the_one_compiled(app: Starlette) -> None:
    document = parse('query A { bots { nodes { id } } } mutation B { deleteBot(id: "x") }')
    schema = app.state.graphql.engine.strawberry_schema
    assert isinstance(compile_query(schema, document, "A"), QueryPlan)
    declined = compile_query(schema, document, "B")
    assert isinstance(declined, Declined)
    assert declined.reason == "a mutation"
    declined = compile_query(schema, document, None)  # ambiguous: graphql-core says so
    assert isinstance(declined, Declined)
    assert declined.reason == "no single operation"
