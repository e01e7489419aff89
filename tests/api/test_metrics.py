"""GET /metrics: the Prometheus text format through prometheus-client, what each metric counts,
the bounded operation names, and who may read it."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette

from app.main import create_app
from db import api_keys
from db.codec import new_id
from tests.api.upload_helpers import create_bot, serving
from tests.api.ws_session import WsSession, subscribed
from tests.conftest import FakeClock, make_settings

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(client: httpx.AsyncClient, headers: dict[str, str] | None = None) -> Samples:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def requests(operation_type: str, outcome: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    labels = {"operation_type": operation_type, "outcome": outcome, "transport": "http"}
    return "boternity_requests_total", tuple(sorted(labels.items()))


def ws_requests(operation_type: str, outcome: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    labels = {"operation_type": operation_type, "outcome": outcome, "transport": "ws"}
    return "boternity_requests_total", tuple(sorted(labels.items()))


async def test_metrics_count_requests_errors_durations_and_statements(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    before = await scrape(client)
    assert before[("boternity_write_queue_depth", ())] == 0
    assert before[("boternity_subscriptions_active", ())] == 0
    assert ("boternity_event_loop_lag_seconds", ()) in before
    await create_bot(client)
    await client.post("/graphql", json={"query": "query Bots { bots { totalCount } }"})
    await client.post("/graphql", json={"query": "query Bots { bots { totalCount } }"})
    await client.post("/graphql", json={"query": '{ bot(id: "nope") { id } }'})
    await client.post(
        "/graphql",
        json={"query": 'mutation Gone { deleteBot(id: "00000000-0000-7000-8000-000000000000") }'},
    )
    await client.post(
        "/graphql", content=b"{not json", headers={"content-type": "application/json"}
    )
    await client.post("/graphql", json=[{"query": "{ bots { totalCount } }"}] * 2)
    await client.get("/healthz")
    await client.get("/files/00000000-0000-7000-8000-000000000000/content")
    after = await scrape(client)
    assert after[requests("mutation", "OK")] == 1  # createBot
    assert after[requests("query", "OK")] == 2
    assert after[requests("query", "BAD_USER_INPUT")] == 1
    assert after[requests("mutation", "NOT_FOUND")] == 1
    assert after[requests("none", "BAD_USER_INPUT")] == 1  # not JSON
    assert after[requests("batch", "OK")] == 1
    assert after[requests("none", "HTTP_404")] == 1
    assert after[requests("none", "OK")] == 2  # /healthz, and the first /metrics (not this one)
    assert after[("boternity_graphql_errors_total", (("code", "BAD_USER_INPUT"),))] == 2
    assert after[("boternity_graphql_errors_total", (("code", "NOT_FOUND"),))] == 1
    durations = {
        dict(labels)["operation"]: value
        for (name, labels), value in after.items()
        if name == "boternity_request_duration_seconds_count"
    }
    assert durations == {"(anonymous)": 2, "Bots": 2, "Gone": 1, "(batch)": 1, "(none)": 4}
    statements = after[("boternity_sql_statements_total", ())]
    assert statements == app.state.db.counter.count
    assert statements > before[("boternity_sql_statements_total", ())]


@pytest.mark.sqlite_only
async def test_operation_names_beyond_the_limit_share_one_series(
    tmp_path: Path, clock: FakeClock
) -> None:
    settings = make_settings(tmp_path / "data", metrics_max_operation_names="2")
    async with serving(settings, clock) as client:
        for name in ("A", "B", "C", "D", "A"):
            query = f"query {name} {{ bots {{ totalCount }} }}"
            assert (await client.post("/graphql", json={"query": query})).status_code == 200
        samples = await scrape(client)
    durations = {
        dict(labels)["operation"]: value
        for (name, labels), value in samples.items()
        if name == "boternity_request_duration_seconds_count"
    }
    assert durations == {"A": 2, "B": 1, "(other)": 2}


@pytest.fixture
async def secured(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Starlette]:
    settings = make_settings(
        tmp_path / "data", auth="required", auth_cache_ms="0", metrics_token="scraper-token"
    )
    application = create_app(settings, clock=clock)
    async with LifespanManager(application):
        yield application


@pytest.mark.sqlite_only
async def test_metrics_need_a_key_of_any_scope_or_the_metrics_token(secured: Starlette) -> None:
    secret = api_keys.new_secret()
    async with secured.state.db.write() as conn:
        await api_keys.create_api_key(
            conn, id=new_id(), name="r", scope="read", secret=secret, now="2026-01-01T00:00:00Z"
        )
    transport = httpx.ASGITransport(app=secured)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        for headers in ({}, {"Authorization": "Bearer scraper-tokenx"}):
            refused = await client.get("/metrics", headers=headers)
            assert refused.status_code == 401
            assert refused.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
            assert refused.headers["www-authenticate"] == "Bearer"
        await scrape(client, {"Authorization": f"Bearer {secret}"})
        await scrape(client, {"Authorization": "Bearer scraper-token"})


async def test_websocket_subscriptions_are_counted_as_requests_and_as_active(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    """Three subscriptions of one selection on two sockets share one broker subscription; the
    gauge counts the three a client holds."""
    bot = await create_bot(client)
    query = f'subscription {{ kvChanged(botId: "{bot}") {{ key }} }}'
    async with WsSession(app) as first, WsSession(app) as second:
        await first.init()
        await second.init()
        await first.subscribe("1", query)
        await first.subscribe("2", query)
        await second.subscribe("3", query)
        await subscribed(app, f"kv/{bot}", 3)
        assert app.state.broker.subscriber_count(f"kv/{bot}") == 1
        assert (await scrape(client))[("boternity_subscriptions_active", ())] == 3
        await second.subscribe("4", "subscription { nope }")
        assert (await second.error("4"))[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        samples = await scrape(client)
        assert samples[ws_requests("subscription", "OK")] == 3
        assert samples[ws_requests("none", "GRAPHQL_VALIDATION_FAILED")] == 1
        assert (
            samples[("boternity_graphql_errors_total", (("code", "GRAPHQL_VALIDATION_FAILED"),))]
            == 1
        )
    assert (await scrape(client))[("boternity_subscriptions_active", ())] == 0
