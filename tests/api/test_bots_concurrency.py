"""50 concurrent createBot and 50 concurrent updateBot mutations against a real uvicorn on
127.0.0.1: zero errors, and every acknowledged write is read back afterwards."""

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server import running_server

pytestmark = pytest.mark.server
CLIENTS = 50


async def post(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body
    return body["data"]


async def test_concurrent_creates_and_updates_all_land(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path / "data") as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as client,
    ):
        create = "mutation($name: String!) { createBot(input: {name: $name}) { id slug } }"
        created = await asyncio.gather(
            *(post(client, create, {"name": "Same Name"}) for _ in range(CLIENTS))
        )
        bots = [data["createBot"] for data in created]
        assert sorted(bot["slug"] for bot in bots) == sorted(
            ["same-name"] + [f"same-name-{n}" for n in range(2, CLIENTS + 1)]
        )
        update = (
            "mutation($id: ID!, $tags: [String!]) "
            "{ updateBot(id: $id, input: {tags: $tags, status: DISABLED}) { id tags } }"
        )
        updated = await asyncio.gather(
            *(post(client, update, {"id": bot["id"], "tags": [bot["slug"]]}) for bot in bots)
        )
        assert [data["updateBot"]["tags"] for data in updated] == [[bot["slug"]] for bot in bots]
        listing = await post(
            client,
            "{ bots(first: 500, status: DISABLED) { totalCount nodes { id slug tags } } }",
            {},
        )
        found = {node["id"]: node for node in listing["bots"]["nodes"]}
        assert listing["bots"]["totalCount"] == CLIENTS
        assert all(found[bot["id"]]["tags"] == [bot["slug"]] for bot in bots)
