"""Three API processes on one PostgreSQL database (tests/server.py with BOTERNITY_DATABASE_URL),
each with a data dir of its own (as on three machines), started at once on an empty database
(they take turns migrating), driven concurrently: no update is lost, file versions stay
consecutive, every process serves every file, a subscription on one sees changes made through
the others."""

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.test_subscriptions_server import (
    KV_CHANGED,
    SET_MANY,
    graphql_ws,
    next_events,
    receive,
    wait_live,
)
from tests.api.upload_helpers import create_bot, upload
from tests.postgres import PostgresServer
from tests.server import running_server

pytestmark = [pytest.mark.server, pytest.mark.postgres]
PROCESSES = 3
CALLS_PER_PROCESS = 100
UPLOADS_PER_PROCESS = 10
RECORD_CALL = """
mutation($name: String!) { recordProviderCall(input: {name: $name, success: true}) { totalCalls } }
"""
PROVIDER = "query($name: String!) { providerHealth(name: $name) { totalCalls totalFailures } }"
VERSIONS = (
    'query($botId: ID!) { file(botId: $botId, filename: "same.txt") '
    "{ version versions(first: 100) { nodes { version sha256 downloadUrl } } } }"
)


@pytest.fixture
def empty_postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    url = postgres_server.fresh_database(migrated=False)
    yield url
    postgres_server.drop(url)


@pytest.fixture
async def clients(
    tmp_path: Path, empty_postgres_url: str
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """A client per process; the processes started together (a failed start stops the rest)."""
    env = {"BOTERNITY_DATABASE_URL": empty_postgres_url}
    async with AsyncExitStack() as stack:
        async with asyncio.TaskGroup() as group:
            starting = [
                group.create_task(
                    stack.enter_async_context(running_server(tmp_path / f"data{index}", env))
                )
                for index in range(PROCESSES)
            ]
        yield [
            await stack.enter_async_context(httpx.AsyncClient(base_url=task.result(), timeout=60))
            for task in starting
        ]


async def post(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


async def test_300_provider_calls_through_3_processes_are_each_counted_once(
    clients: list[httpx.AsyncClient],
) -> None:
    calls = [
        post(client, RECORD_CALL, {"name": "openai"})
        for client in clients
        for _ in range(CALLS_PER_PROCESS)
    ]
    async with asyncio.timeout(120):
        results = await asyncio.gather(*calls)
    seen = sorted(result["recordProviderCall"]["totalCalls"] for result in results)
    assert seen == list(range(1, PROCESSES * CALLS_PER_PROCESS + 1))  # one after another
    for client in clients:
        health = (await post(client, PROVIDER, {"name": "openai"}))["providerHealth"]
        assert health == {"totalCalls": 300, "totalFailures": 0}


async def test_concurrent_uploads_of_one_filename_through_3_processes_are_consecutive_versions(
    clients: list[httpx.AsyncClient],
) -> None:
    bot = await create_bot(clients[0])
    count = PROCESSES * UPLOADS_PER_PROCESS
    contents = [f"upload {index}\n".encode() * (index * 997) for index in range(count)]
    async with asyncio.timeout(120):
        responses = await asyncio.gather(
            *(
                upload(clients[index % PROCESSES], bot, "same.txt", content)
                for index, content in enumerate(contents)
            )
        )
    bodies = [response.json() for response in responses]
    assert [body.get("errors") for body in bodies] == [None] * count
    versions = sorted(body["data"]["uploadFile"]["version"] for body in bodies)
    assert versions == list(range(1, count + 1))
    by_sha = {hashlib.sha256(content).hexdigest(): content for content in contents}
    for lister in clients:
        file = (await post(lister, VERSIONS, {"botId": bot}))["file"]
        nodes = file["versions"]["nodes"]
        assert file["version"] == count
        assert [node["version"] for node in nodes] == list(range(count, 0, -1))
        assert sorted(node["sha256"] for node in nodes) == sorted(by_sha)
        for node in nodes:  # a URL one process signed opens on every process
            for server in clients:
                download = await server.get(node["downloadUrl"])
                assert download.status_code == 200
                assert download.content == by_sha[node["sha256"]]


async def test_subscription_on_one_process_sees_changes_made_through_the_others(
    clients: list[httpx.AsyncClient],
) -> None:
    bot = await create_bot(clients[0])
    async with graphql_ws(str(clients[0].base_url)) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert await receive(ws) == {"type": "connection_ack"}
        subscribe = {"query": KV_CHANGED, "variables": {"b": bot}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
        await wait_live(ws, clients[1], bot)  # a write through process B reaches A
        entries = [{"key": "k1", "value": 1}, {"key": "k2", "value": {"from": "C"}}]
        await post(clients[2], SET_MANY, {"b": bot, "e": entries})
        await post(clients[1], 'mutation($b: ID!) { deleteKv(botId: $b, key: "k1") }', {"b": bot})
        assert await next_events(ws, 3) == [
            {"key": "k1", "deleted": False, "entry": {"value": 1}},
            {"key": "k2", "deleted": False, "entry": {"value": {"from": "C"}}},
            {"key": "k1", "deleted": True, "entry": None},
        ]
        await post(clients[2], "mutation($b: ID!) { deleteBot(id: $b) }", {"b": bot})
        message = await receive(ws)
        while message.get("type") == "next":  # late probe events
            message = await receive(ws)
        assert message == {"id": "1", "type": "complete"}
