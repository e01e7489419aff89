"""The response budget (db/budget.py): what a request reads for its response is charged as rows
are fetched, per use; past max_response_bytes the request answers PAYLOAD_TOO_LARGE."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from app.main import create_app
from db.budget import ROW_BYTES
from tests.api.test_graphql_http import custom_client
from tests.conftest import make_settings

__all__ = ["custom_client"]  # the fixture, shared

VALUE = "v" * 1000
CHARGE = ROW_BYTES + len("k") + len(f'"{VALUE}"')  # one kv_entries row: key, value, the rest
CREATE = 'mutation { createBot(input: {name: "Budget"}) { id } }'
SET = 'mutation($b: ID!, $v: JSON) { setKv(botId: $b, key: "k", value: $v) { key } }'
ENTRY = 'kvEntry(botId: $b, key: "k") { value }'
KEYS = "query($b: ID!) { kvKeys(botId: $b) }"


def over(limit: int) -> dict[str, Any]:
    return {
        "errors": [
            {
                "message": f"the response would hold more than {limit} bytes "
                "(max_response_bytes): ask for smaller pages or fewer fields",
                "extensions": {"code": "PAYLOAD_TOO_LARGE"},
            }
        ],
        "data": None,
    }


async def bot_with_value(http: httpx.AsyncClient) -> str:
    bot: str = (await http.post("/graphql", json={"query": CREATE})).json()["data"]["createBot"][
        "id"
    ]
    done = await http.post("/graphql", json={"query": SET, "variables": {"b": bot, "v": VALUE}})
    assert done.json() == {"data": {"setKv": {"key": "k"}}}
    return bot


async def read(http: httpx.AsyncClient, bot: str, uses: int) -> Any:
    fields = " ".join(f"a{n}: {ENTRY}" for n in range(uses))
    query = f"query($b: ID!) {{ {fields} }}"
    return (await http.post("/graphql", json={"query": query, "variables": {"b": bot}})).json()


@asynccontextmanager
async def serving(data_dir: Path, **settings: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(data_dir, **settings))
    async with (
        LifespanManager(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost"
        ) as http,
    ):
        yield http


async def test_a_read_at_the_budget_answers_and_one_byte_over_is_refused(tmp_path: Path) -> None:
    async with serving(tmp_path / "data", max_response_bytes=str(CHARGE)) as at:
        bot = await bot_with_value(at)  # setKv reads the row it wrote: CHARGE
        assert await read(at, bot, 1) == {"data": {"a0": {"value": VALUE}}}
    async with serving(tmp_path / "data", max_response_bytes=str(CHARGE - 1)) as below:
        assert await read(below, bot, 1) == over(CHARGE - 1)


async def test_a_value_is_charged_for_every_use(custom_client: Any) -> None:
    http = await custom_client(max_response_bytes=str(3 * CHARGE))
    bot = await bot_with_value(http)
    three = await read(http, bot, 3)
    assert three == {"data": {f"a{n}": {"value": VALUE} for n in range(3)}}
    assert await read(http, bot, 4) == over(3 * CHARGE)


async def test_a_batch_shares_one_budget(custom_client: Any) -> None:
    http = await custom_client(max_response_bytes=str(2 * CHARGE))
    bot = await bot_with_value(http)
    query = f"query($b: ID!) {{ {ENTRY} }}"
    one = {"query": query, "variables": {"b": bot}}
    answers = (await http.post("/graphql", json=[one, one])).json()
    assert answers == [{"data": {"kvEntry": {"value": VALUE}}}] * 2
    answers = (await http.post("/graphql", json=[one, one, one])).json()
    assert answers == [{"data": {"kvEntry": {"value": VALUE}}}] * 2 + [over(2 * CHARGE)]


async def test_a_mutation_over_the_budget_writes_nothing(custom_client: Any) -> None:
    http = await custom_client(max_response_bytes=str(CHARGE - 1))
    bot = (await http.post("/graphql", json={"query": CREATE})).json()["data"]["createBot"]["id"]
    answer = await http.post("/graphql", json={"query": SET, "variables": {"b": bot, "v": VALUE}})
    assert answer.json() == over(CHARGE - 1)
    keys = await http.post("/graphql", json={"query": KEYS, "variables": {"b": bot}})
    assert keys.json() == {"data": {"kvKeys": []}}
