"""Plain Strawberry is the reference: thousands of generated query documents (every type of
the schema: fragments, aliases, variables, nulls, field errors, nested pages, parent links,
totalCount, edges, pageInfo) are answered by the server's HTTP endpoint and by a freshly built,
unmodified Strawberry schema executing the same document with Strawberry's own execute (none
of the engine), on the same seeded database; every answer (data, and errors with their
messages, paths and codes) must be the same."""

import json
from collections import Counter
from typing import Any

import httpx
import pytest
from graphql import GraphQLError
from starlette.applications import Starlette

import resolvers
from app.engine.strawberry_adapter import graphql_schema
from app.responses import encode
from schema.errors import BAD_USER_INPUT, INTERNAL, format_error
from tests.api.test_builder_drafts import make_state
from tests.api.test_builder_drafts import save as save_draft
from tests.api.test_builder_memory import record as record_memory
from tests.api.test_compiled import seed
from tests.api.test_provider_health import record as record_call
from tests.conftest import GraphQL
from tests.engine.generator import MISSING_ID, Generator

DOCUMENTS = 2000
# answered before execution: limits the reference does not have (and invalid documents, which
# the generator must not make)
REFUSED = ("QUERY_TOO_COMPLEX", "GRAPHQL_VALIDATION_FAILED")
SESSIONS = ["01a20321-1ea8-77b0-98e8-acd5d6e5e100", "01a20321-1ea8-77b0-98e8-acd5d6e5e101"]
AUDIT_IDS = "{ auditLog(botId: $id) { nodes { id memoryId } } }"
FILE_IDS = "{ files(botId: $id) { nodes { id } } }"


def reference_body(errors: list[GraphQLError] | None, data: Any) -> dict[str, Any]:
    """The body the endpoint promises for an execution result (schema/errors.py codes)."""
    if data is None and errors and all(error.path is None for error in errors):
        return {"errors": [format_error(error, BAD_USER_INPUT) for error in errors]}
    body: dict[str, Any] = {"data": data}
    if errors:
        body["errors"] = [format_error(error, INTERNAL) for error in errors]
    return body


async def pools(gql: GraphQL, client: httpx.AsyncClient) -> dict[str, list[Any]]:
    """Seed every kind of row; the values documents draw their arguments from."""
    ids = await seed(gql, client)
    bots = list(ids.values())
    for session in SESSIONS:
        await save_draft(gql, session, make_state(session, "a coding helper", "DESCRIBE"))
    await record_memory(gql, "CODING", "a coding helper")
    await record_memory(gql, "CUSTOM", "knits", customCategory="yarn")
    await record_call(gql, "openai", True, latencyMs=5)
    await record_call(gql, "anthropic", False, error="timeout")
    variables = {"id": ids["alpha"]}
    audit = (await gql(AUDIT_IDS.replace("{ a", "query($id: ID!) { a"), variables))["auditLog"]
    files = (await gql(FILE_IDS.replace("{ f", "query($id: ID!) { f"), variables))["files"]
    memories = [node["memoryId"] for node in audit["nodes"]]
    file_ids = [node["id"] for node in files["nodes"]]
    return {
        "bots": bots,
        "sessions": SESSIONS,
        "memories": memories,
        "files": file_ids,
        "any": [*bots, *file_ids, *(node["id"] for node in audit["nodes"]), MISSING_ID],
        "slug": ["alpha", "beta", "nope"],
        "key": ["a0", "a1", "a3", "b", "a", "", "missing"],
        "prefix": ["a", "b", "", "zz"],
        "filename": ["notes.txt", "none.txt"],
        "name": ["openai", "anthropic", "unknown"],
        "description": ["a coding helper", "writes poems"],
        "customCategory": ["yarn", "x"],
        "actor": ["me", "you"],
        "after": ["garbage", "YWZ0ZXI="],
    }


async def post(app: Starlette, body: dict[str, Any]) -> tuple[int, Any]:
    """POST /graphql straight to the ASGI app (as bench/cpu.py does: httpx's transport would
    cost more than the two executions compared)."""
    sent: list[dict[str, Any]] = []
    encoded = json.dumps(body).encode()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": encoded, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"content-type", b"application/json"), (b"host", b"localhost")]
    scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": headers}
    scope |= {"query_string": b"", "http_version": "1.1", "scheme": "http", "root_path": ""}
    await app(scope, receive, send)
    return sent[0]["status"], json.loads(b"".join(m.get("body", b"") for m in sent[1:]))


# graphql-core leaves the coroutines of sibling fields unawaited when an error nulls their
# parent (on both paths); Python reports them when they are collected
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_every_answer_is_plain_strawberrys(
    app: Starlette, gql: GraphQL, client: httpx.AsyncClient, backend: str
) -> None:
    values = await pools(gql, client)
    reference = resolvers.build_schema()  # fresh: nothing of the engine touches it
    generator = Generator(graphql_schema(reference), values, seed=19)
    differences = []
    refused: Counter[str] = Counter()
    for _ in range(DOCUMENTS):
        query, variables = generator.document()
        status, served = await post(app, {"query": query, "variables": variables})
        codes = [error["extensions"]["code"] for error in served.get("errors", ())]
        if "data" not in served and codes and codes[0] in REFUSED:
            refused[codes[0]] += 1
            continue
        result = await reference.execute(
            query, variable_values=variables, context_value=app.state.make_context(None)
        )
        # encoded as the endpoint encodes (JSON values are pre-encoded fragments)
        expected = json.loads(encode(reference_body(result.errors, result.data)))
        if served != expected:
            differences.append((query, variables, status, served, expected))
    assert differences == []
    assert refused.total() < DOCUMENTS // 20, refused
    assert "GRAPHQL_VALIDATION_FAILED" not in refused  # the generator makes valid documents
    fallbacks = app.state.graphql.engine.fallbacks
    assert fallbacks.total() < DOCUMENTS, fallbacks  # most documents ran compiled
