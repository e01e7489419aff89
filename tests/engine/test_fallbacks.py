"""Queries the engine does not run compiled are counted by reason (the engine's counter and
boternity_engine_fallbacks_total) and logged at debug level; the benchmark's queries
(bench/targets.py) run with none."""

import logging
from collections import Counter

import httpx
import pytest
from starlette.applications import Starlette

from app.engine.engine import RESOLVER_ERROR
from bench.targets import GRAPHQL
from tests.api.test_compiled import seed
from tests.api.test_metrics import scrape
from tests.conftest import GraphQL

TOTAL_COUNT = "an asynchronous resolver below the root without a level resolver"


def fallbacks(reason: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return "boternity_engine_fallbacks_total", (("reason", reason),)


async def test_fallbacks_are_counted_by_reason_and_logged(
    app: Starlette, client: httpx.AsyncClient, gql: GraphQL, caplog: pytest.LogCaptureFixture
) -> None:
    await seed(gql, client)
    with caplog.at_level(logging.DEBUG, logger="boternity.engine"):
        await gql("query Count { bots { totalCount } }")
        await gql("{ bots { totalCount } }")
        await gql.errors('{ bot(id: "nope") { id } }')
        await gql("{ bots { nodes { id } } }")  # compiled
    assert app.state.graphql.engine.fallbacks == Counter({TOTAL_COUNT: 2, RESOLVER_ERROR: 1})
    assert [record.getMessage() for record in caplog.records] == [
        f"reference path for operation -: {TOTAL_COUNT}",  # no operationName given
        f"reference path for operation -: {TOTAL_COUNT}",
        f"reference path for operation -: {RESOLVER_ERROR}",
    ]
    samples = await scrape(client)
    assert samples[fallbacks(TOTAL_COUNT)] == 2
    assert samples[fallbacks(RESOLVER_ERROR)] == 1


async def test_the_benchmarks_queries_run_with_no_fallback(
    app: Starlette, client: httpx.AsyncClient, gql: GraphQL
) -> None:
    ids = await seed(gql, client)
    for name in ("one_bot", "kv_page", "nested"):
        query, variables = GRAPHQL[name]
        filled = dict.fromkeys(variables, ids["alpha"])
        body = await gql.post(query, filled)
        assert "errors" not in body, body
    assert app.state.graphql.engine.fallbacks == Counter()
