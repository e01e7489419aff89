"""The cost budget, fragment limits and aliases per use, over HTTP and WebSocket."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette

from app.main import create_app
from tests.api.test_graphql_http import custom_client, only_error
from tests.api.ws_session import WsSession
from tests.conftest import FakeClock, make_settings

__all__ = ["custom_client"]  # the fixture, shared

PAGE = "query($n: Int) { bots(first: $n) { nodes { id } } }"  # 1 + n + n
COUNT = "{ bots { totalCount } }"


def too_complex(cost: int, limit: int) -> dict[str, Any]:
    return {
        "message": f"the query costs {cost} (the values its response can hold); at most {limit} "
        "are allowed: ask for smaller pages or fewer fields",
        "extensions": {"code": "QUERY_TOO_COMPLEX", "cost": cost, "maxCost": limit},
    }


async def test_a_query_at_the_budget_runs_and_one_over_is_refused(custom_client: Any) -> None:
    http = await custom_client(max_cost="11")
    at = await http.post("/graphql", json={"query": "{ bots(first: 5) { nodes { id } } }"})
    assert at.json() == {"data": {"bots": {"nodes": []}}}
    over = await http.post("/graphql", json={"query": "{ bots(first: 6) { nodes { id } } }"})
    assert over.status_code == 200  # application/json: 200 for every well-formed request
    assert only_error(over) == too_complex(13, 11)


async def test_page_size_variables_are_costed_per_request(custom_client: Any) -> None:
    http = await custom_client(max_cost="11")
    at = await http.post("/graphql", json={"query": PAGE, "variables": {"n": 5}})
    assert at.json() == {"data": {"bots": {"nodes": []}}}
    over = await http.post("/graphql", json={"query": PAGE, "variables": {"n": 6}})
    assert only_error(over) == too_complex(13, 11)
    # omitted: the default page size (50)
    default = await http.post("/graphql", json={"query": PAGE})
    assert only_error(default) == too_complex(101, 11)
    again = await http.post("/graphql", json={"query": PAGE, "variables": {"n": 5}})
    assert again.json() == {"data": {"bots": {"nodes": []}}}


async def test_a_page_out_of_range_stays_bad_user_input(custom_client: Any) -> None:
    http = await custom_client()
    response = await http.post("/graphql", json={"query": PAGE, "variables": {"n": 10**6}})
    assert only_error(response)["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_batch_is_costed_as_the_sum_and_nothing_runs(custom_client: Any) -> None:
    http = await custom_client(max_cost="12")
    create = 'mutation { createBot(input: {name: "Costly"}) { id } }'  # 2
    cheap = [{"query": create}, {"query": PAGE, "variables": {"n": 5}}]  # 2 + 11
    grj = {"accept": "application/graphql-response+json"}
    response = await http.post("/graphql", json=cheap, headers=grj)
    assert response.status_code == 400
    assert response.json() == {"errors": [too_complex(13, 12)]}
    assert (await http.post("/graphql", json={"query": COUNT})).json() == {
        "data": {"bots": {"totalCount": 0}}
    }
    fits = [{"query": create}, {"query": PAGE, "variables": {"n": 4}}]  # 2 + 9
    assert [sorted(answer) for answer in (await http.post("/graphql", json=fits)).json()] == [
        ["data"],
        ["data"],
    ]


async def test_aliases_inside_fragments_are_counted_per_use(custom_client: Any) -> None:
    http = await custom_client(max_aliases="3")
    fragment = "fragment T on BotConnection { a: totalCount b: totalCount }"
    once = await http.post("/graphql", json={"query": f"{{ bots {{ ...T }} }} {fragment}"})
    assert once.json() == {"data": {"bots": {"a": 0, "b": 0}}}
    twice = f"{{ x: bots {{ ...T }} }} {fragment}"  # 1 + 2
    assert "errors" not in (await http.post("/graphql", json={"query": twice})).json()
    thrice = f"{{ x: bots {{ ...T }} y: bots {{ ...T }} }} {fragment}"  # 2 + 2 x 2
    response = await http.post("/graphql", json={"query": thrice})
    assert only_error(response) == {
        "message": "the query uses 6 aliases; at most 3 are allowed",
        "extensions": {"code": "QUERY_TOO_COMPLEX"},
    }


async def test_fragment_definitions_and_spreads_are_capped(custom_client: Any) -> None:
    http = await custom_client(max_fragments="2", max_spreads="3")
    two = "{ bots { ...A ...B ...A } } fragment A on BotConnection { totalCount } "
    two += "fragment B on BotConnection { totalCount }"
    assert (await http.post("/graphql", json={"query": two})).json() == {
        "data": {"bots": {"totalCount": 0}}
    }
    three = "{ bots { ...A ...B ...C } } fragment A on BotConnection { totalCount } "
    three += "fragment B on BotConnection { totalCount } fragment C on BotConnection { __typename }"
    assert only_error(await http.post("/graphql", json={"query": three})) == {
        "message": "the query defines 3 fragments; at most 2 are allowed",
        "extensions": {"code": "QUERY_TOO_COMPLEX"},
    }
    four = two.replace("...A } }", "...A ...B } }")
    assert only_error(await http.post("/graphql", json={"query": four})) == {
        "message": "the query has 4 fragment spreads; at most 3 are allowed",
        "extensions": {"code": "QUERY_TOO_COMPLEX"},
    }


@pytest.fixture
async def cheap_app(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Starlette]:
    application = create_app(make_settings(tmp_path / "data", max_cost="4"), clock=clock)
    async with LifespanManager(application):
        yield application


async def test_a_subscription_is_costed_per_event_when_it_subscribes(cheap_app: Starlette) -> None:
    at = "subscription { providerHealthChanged { name health { name } } }"  # 1 + 1 + 1 + 1
    over = "subscription { providerHealthChanged { name deleted health { name } } }"
    save = 'mutation { saveProviderHealth(input: {name: "p"}) { name } }'  # 2
    async with WsSession(cheap_app) as ws:
        await ws.init()
        await ws.subscribe("1", over)
        assert await ws.error("1") == [too_complex(5, 4)]
        await ws.subscribe("2", at)
        await ws.subscribe("3", "query { bots(first: 2) { nodes { id } } }")  # 5
        assert await ws.error("3") == [too_complex(5, 4)]
        await ws.subscribe("4", save)
        received = [await ws.receive() for _ in range(3)]  # in any order
        assert sorted(received, key=lambda message: (message["id"], message["type"])) == [
            {
                "id": "2",
                "type": "next",
                "payload": {
                    "data": {"providerHealthChanged": {"name": "p", "health": {"name": "p"}}}
                },
            },
            {"id": "4", "type": "complete"},
            {"id": "4", "type": "next", "payload": {"data": {"saveProviderHealth": {"name": "p"}}}},
        ]
        await ws.send({"id": "2", "type": "complete"})
