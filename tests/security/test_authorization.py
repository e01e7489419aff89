"""Issue 14, item 1: one authorization decision on every transport. Every mutation of the schema
(generated from it), with a read key, over JSON POST, batch, GET, multipart and
graphql-transport-ws, alone and in two-operation documents (mutation first and last, with and
without operationName): refused before anything runs, and the database is unchanged.

Against a real uvicorn (tests/server.py). The WebSocket attack of issue 14 (a read key, a
mutation first and a query second, no operationName) deleted the bot before this decision."""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from resolvers import build_schema
from tests.input_samples import SCALARS, sample
from tests.security.keyed import KeyedServer, keyed_server

pytestmark = pytest.mark.server
SCHEMA = build_schema()._schema
assert SCHEMA.mutation_type is not None
MUTATIONS = sorted(SCHEMA.mutation_type.fields.items())
TIMEOUT_S = 10.0
UPLOAD = object()  # where a file goes (multipart) or null (every other transport)
PREFLIGHT = {"GraphQL-Require-Preflight": "1", "Accept": "application/graphql-response+json"}
QUERY = "query Q { __typename }"
BOUNDARY = "authorization-test"
SEVERAL = (400, "BAD_USER_INPUT", "the document has several operations; give operationName")
FORBIDDEN = (403, "FORBIDDEN", "the API key 'read' has scope read; mutations need write")
NOT_ON_GET = (405, "BAD_USER_INPUT", "mutations are not allowed over GET; use POST")

# (status, code, message) or None (the result is returned), from the transport's outcome
Outcome = tuple[int | None, list[dict[str, Any]], Any]
Send = Callable[[str, dict[str, Any], str | None], Awaitable[Outcome]]


def mutation(name: str, field: GraphQLField, bot_id: str) -> tuple[str, dict[str, Any]]:
    """`mutation Op(...) { name(...) }` with every argument as a variable."""
    declarations = ", ".join(f"${arg}: {spec.type}" for arg, spec in field.args.items())
    arguments = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    kind = field.type
    while isinstance(kind, GraphQLNonNull | GraphQLList):
        kind = kind.of_type
    selection = "" if isinstance(kind, GraphQLScalarType | GraphQLEnumType) else " { __typename }"
    text = f"mutation Op({declarations}) {{ {name}({arguments}){selection} }}"
    scalars = {**SCALARS, "ID": bot_id, "Upload": UPLOAD}  # every ID is the seeded bot's
    return text, {arg: sample(spec.type, scalars) for arg, spec in field.args.items()}


def shapes(text: str) -> list[tuple[str, str, str | None]]:
    """(label, document, operationName) of each way to send the mutation."""
    return [
        ("alone", text, None),
        ("mutation first, no name", f"{text}\n{QUERY}", None),
        ("mutation last, no name", f"{QUERY}\n{text}", None),
        ("mutation first, named", f"{text}\n{QUERY}", "Op"),
        ("mutation last, named", f"{QUERY}\n{text}", "Op"),
    ]


def nulled(value: Any) -> Any:
    if value is UPLOAD:
        return None
    if isinstance(value, dict):
        return {key: nulled(item) for key, item in value.items()}
    if isinstance(value, list):
        return [nulled(item) for item in value]
    return value


def upload_paths(value: Any, prefix: str) -> list[str]:
    if value is UPLOAD:
        return [prefix]
    if not isinstance(value, dict | list):
        return []
    items = value.items() if isinstance(value, dict) else enumerate(value)
    return [path for key, item in items for path in upload_paths(item, f"{prefix}.{key}")]


def http_outcome(response: httpx.Response) -> Outcome:
    body = response.json()
    if isinstance(body, list):  # a batch that ran: the mutation's result
        body = body[-1]
    return response.status_code, body.get("errors", []), body.get("data")


async def post(http: httpx.AsyncClient, query: str, variables: Any, name: str | None) -> Outcome:
    payload = {"query": query, "variables": nulled(variables), "operationName": name}
    return http_outcome(await http.post("/graphql", json=payload, headers=PREFLIGHT))


async def batch(http: httpx.AsyncClient, query: str, variables: Any, name: str | None) -> Outcome:
    payload = [
        {"query": "{ __typename }"},
        {"query": query, "variables": nulled(variables), "operationName": name},
    ]
    return http_outcome(await http.post("/graphql", json=payload, headers=PREFLIGHT))


async def get(http: httpx.AsyncClient, query: str, variables: Any, name: str | None) -> Outcome:
    params = {"query": query, "variables": json.dumps(nulled(variables))}
    if name is not None:
        params["operationName"] = name
    return http_outcome(await http.get("/graphql", params=params, headers=PREFLIGHT))


async def multipart(
    http: httpx.AsyncClient, query: str, variables: Any, name: str | None
) -> Outcome:
    """The multipart request spec: operations, map, then a file for each Upload variable."""
    operations = {"query": query, "variables": nulled(variables), "operationName": name}
    paths = upload_paths(variables, "variables")
    parts = [
        ('name="operations"', json.dumps(operations)),
        ('name="map"', json.dumps({"0": paths} if paths else {})),
    ]
    if paths:
        parts.append(('name="0"; filename="notes.txt"', "hello"))
    body = "".join(
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; {disposition}\r\n\r\n{value}\r\n"
        for disposition, value in parts
    )
    headers = {**PREFLIGHT, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    response = await http.post("/graphql", content=f"{body}--{BOUNDARY}--\r\n", headers=headers)
    return http_outcome(response)


class WebSocketSender:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.sent = 0

    async def __call__(self, query: str, variables: Any, name: str | None) -> Outcome:
        self.sent += 1
        payload = {"query": query, "variables": nulled(variables), "operationName": name}
        await self.ws.send(
            json.dumps({"id": str(self.sent), "type": "subscribe", "payload": payload})
        )
        async with asyncio.timeout(TIMEOUT_S):
            message = json.loads(await self.ws.recv())
            if message["type"] == "next":
                assert json.loads(await self.ws.recv())["type"] == "complete"
                result = message["payload"]
                return None, result.get("errors", []), result.get("data")
        assert message["type"] == "error", message
        return None, message["payload"], None


@asynccontextmanager
async def sender(server: KeyedServer, transport: str) -> AsyncIterator[Send]:
    async with httpx.AsyncClient(
        base_url=server.url, timeout=TIMEOUT_S, headers=server.bearer("read")
    ) as http:
        if transport != "websocket":
            function = {"post": post, "batch": batch, "get": get, "multipart": multipart}
            chosen = function[transport]
            yield lambda query, variables, name: chosen(http, query, variables, name)
            return
        url = server.url.replace("http://", "ws://") + "/graphql"
        async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
            init = {"type": "connection_init", "payload": server.bearer("read")}
            await ws.send(json.dumps(init))
            assert json.loads(await ws.recv()) == {"type": "connection_ack"}
            yield WebSocketSender(ws)


async def seed(server: KeyedServer) -> str:
    """A bot with one KV entry, written with the write key: its id."""
    async with httpx.AsyncClient(base_url=server.url, headers=server.bearer("write")) as http:
        created = await http.post(
            "/graphql", json={"query": 'mutation { createBot(input: {name: "Kept"}) { id } }'}
        )
        bot_id: str = created.json()["data"]["createBot"]["id"]
        set_kv = 'mutation($b: ID!) { setKv(botId: $b, key: "k", value: 1) { key } }'
        written = await http.post("/graphql", json={"query": set_kv, "variables": {"b": bot_id}})
        assert "errors" not in written.json(), written.json()
        return bot_id


def expected(transport: str, label: str) -> tuple[int, str, str]:
    if label.endswith("no name"):
        return SEVERAL
    return NOT_ON_GET if transport == "get" else FORBIDDEN


@pytest.mark.parametrize("transport", ["post", "batch", "get", "multipart", "websocket"])
async def test_every_mutation_with_read_key_is_refused_on_every_transport(
    tmp_path: Path, transport: str
) -> None:
    async with keyed_server(tmp_path) as server:
        bot_id = await seed(server)
        before = server.row_counts()
        assert before["bots"] == 1
        async with sender(server, transport) as send:
            for name, field in MUTATIONS:
                text, variables = mutation(name, field, bot_id)
                for label, document, operation_name in shapes(text):
                    status, errors, data = await send(document, variables, operation_name)
                    where = f"{name}, {label}, over {transport}"
                    want_status, want_code, want_message = expected(transport, label)
                    assert data is None, where
                    assert [(e["message"], e["extensions"]["code"]) for e in errors] == [
                        (want_message, want_code)
                    ], where
                    if status is not None:
                        assert status == want_status, where
                    assert server.row_counts() == before, where
                # The same key runs the query of the same document when it is the one named.
                _, errors, data = await send(f"{text}\n{QUERY}", variables, "Q")
                assert (errors, data) == ([], {"__typename": "Query"}), name
