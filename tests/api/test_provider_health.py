"""Provider health through the GraphQL API: the reference's store cases (E.3), full-replace
saves, deletes, and the circuit breaker applied by recordProviderCall with the injected clock."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.main import create_app
from db import provider_health as db_provider_health
from db.settings import Settings
from tests.conftest import FakeClock, GraphQL, codes, make_settings
from tests.server import running_server

FIELDS = """
name priority circuitState consecutiveFailures lastError lastLatencyMs totalCalls totalFailures
uptimeSince openedAt rateLimitedUntil isAvailable updatedAt
"""
SAVE = (
    f"mutation($input: ProviderHealthInput!) {{ saveProviderHealth(input: $input) {{ {FIELDS} }} }}"
)
RECORD = (
    f"mutation($input: ProviderCallInput!) {{ recordProviderCall(input: $input) {{ {FIELDS} }} }}"
)
GET = f"query($name: String!) {{ providerHealth(name: $name) {{ {FIELDS} }} }}"
LIST = f"{{ providers {{ {FIELDS} }} }}"
DELETE = "mutation($name: String!) { deleteProviderHealth(name: $name) }"
NOW = "2026-02-12T22:04:12.123456+00:00"
PLUS_2S = "2026-02-12T22:04:14.123456+00:00"
PLUS_5S = "2026-02-12T22:04:17.123456+00:00"
PLUS_10S = "2026-02-12T22:04:22.123456+00:00"
PLUS_31S = "2026-02-12T22:04:43.123456+00:00"
DEFAULTS = {
    "priority": 0,
    "circuitState": "CLOSED",
    "consecutiveFailures": 0,
    "lastError": None,
    "lastLatencyMs": None,
    "totalCalls": 0,
    "totalFailures": 0,
    "uptimeSince": None,
    "openedAt": None,
    "rateLimitedUntil": None,
    "isAvailable": True,
    "updatedAt": NOW,
}


async def save(gql: GraphQL, name: str, **fields: Any) -> dict[str, Any]:
    health: dict[str, Any] = (await gql(SAVE, {"input": {"name": name, **fields}}))[
        "saveProviderHealth"
    ]
    return health


async def record(gql: GraphQL, name: str, success: bool, **fields: Any) -> dict[str, Any]:
    variables = {"input": {"name": name, "success": success, **fields}}
    health: dict[str, Any] = (await gql(RECORD, variables))["recordProviderCall"]
    return health


async def fail(gql: GraphQL, name: str, times: int = 1, **fields: Any) -> dict[str, Any]:
    for index in range(times):
        health = await record(gql, name, False, error=f"provider error: {index}", **fields)
    return health


async def load(gql: GraphQL, name: str) -> Any:
    return (await gql(GET, {"name": name}))["providerHealth"]


async def listed(gql: GraphQL) -> list[Any]:
    providers: list[Any] = (await gql(LIST))["providers"]
    return providers


# ------------------------------------------------------------------ the reference's cases (E.3)


async def test_save_provider_health_then_load_returns_it(gql: GraphQL) -> None:
    saved = await save(gql, "anthropic", uptimeSince=NOW)
    assert saved == {"name": "anthropic", **DEFAULTS, "uptimeSince": NOW}
    assert await load(gql, "anthropic") == saved


async def test_save_provider_health_with_a_year_below_1000_stores_it_four_digits_wide(
    gql: GraphQL,
) -> None:
    saved = await save(gql, "ancient", uptimeSince="0999-06-01T00:00:00Z")
    assert saved["uptimeSince"] == "0999-06-01T00:00:00.000000+00:00"
    assert await load(gql, "ancient") == saved


async def test_provider_health_unknown_is_null(gql: GraphQL) -> None:
    assert await load(gql, "missing") is None


async def test_save_provider_health_again_replaces_every_field(gql: GraphQL) -> None:
    await save(gql, "openai", priority=1, uptimeSince=NOW, lastLatencyMs=80)
    changes = {
        "circuitState": "OPEN",
        "consecutiveFailures": 3,
        "lastError": "timeout",
        "totalCalls": 100,
        "totalFailures": 5,
    }
    saved = await save(gql, "openai", priority=1, **changes)
    assert saved == {
        "name": "openai",
        **DEFAULTS,
        "priority": 1,
        **changes,
        "openedAt": NOW,
        "isAvailable": False,
    }
    assert await load(gql, "openai") == saved


async def test_providers_lists_by_priority(gql: GraphQL) -> None:
    for name, priority in (("anthropic", 0), ("openai", 1), ("gemini", 2)):
        await save(gql, name, priority=priority)
    assert [(p["name"], p["priority"]) for p in await listed(gql)] == [
        ("anthropic", 0),
        ("openai", 1),
        ("gemini", 2),
    ]


async def test_providers_inserted_shuffled_list_by_priority_then_name_bytes(gql: GraphQL) -> None:
    for name, priority in (("gemini", 2), ("b", 5), ("ä", 5), ("anthropic", 0), ("B", 5)):
        await save(gql, name, priority=priority)
    await save(gql, "a", priority=5)
    await save(gql, "openai", priority=1)
    assert [p["name"] for p in await listed(gql)] == [
        "anthropic",
        "openai",
        "gemini",
        "B",
        "a",
        "b",
        "ä",
    ]


async def test_providers_empty_is_empty_list(gql: GraphQL) -> None:
    assert await listed(gql) == []


async def test_save_provider_health_keeps_latency(gql: GraphQL) -> None:
    await save(gql, "anthropic", lastLatencyMs=250)
    assert (await load(gql, "anthropic"))["lastLatencyMs"] == 250


# ------------------------------------------------------------------ save and delete


async def test_save_provider_health_omitted_nullable_fields_are_stored_as_null(
    gql: GraphQL, clock: FakeClock
) -> None:
    full = {
        "lastError": "boom",
        "lastLatencyMs": 12,
        "uptimeSince": NOW,
        "rateLimitedUntil": PLUS_10S,
    }
    await save(gql, "p", priority=4, **full)
    clock.advance(seconds=1)
    assert await save(gql, "p") == {
        "name": "p",
        **DEFAULTS,
        "updatedAt": "2026-02-12T22:04:13.123456+00:00",
    }


@pytest.mark.parametrize("state", ["OPEN", "HALF_OPEN"])
async def test_save_provider_health_not_closed_without_opened_at_opens_now(
    gql: GraphQL, state: str
) -> None:
    saved = await save(gql, "p", circuitState=state)
    assert (saved["circuitState"], saved["openedAt"]) == (state, NOW)


async def test_save_provider_health_open_keeps_given_opened_at_in_utc(gql: GraphQL) -> None:
    saved = await save(gql, "p", circuitState="OPEN", openedAt="2026-02-12T23:04:00+01:00")
    assert saved["openedAt"] == "2026-02-12T22:04:00.000000+00:00"
    assert (saved["circuitState"], saved["isAvailable"]) == ("OPEN", False)


async def test_save_provider_health_closed_stores_no_opened_at(gql: GraphQL) -> None:
    saved = await save(gql, "p", openedAt=NOW)
    assert (saved["circuitState"], saved["openedAt"]) == ("CLOSED", None)


async def test_save_provider_health_counters_pass_int32(gql: GraphQL) -> None:
    saved = await save(gql, "p", totalCalls=2**40, totalFailures=2**33, lastLatencyMs=2**35)
    after = await record(gql, "p", True)
    assert (saved["totalFailures"], saved["lastLatencyMs"]) == (2**33, 2**35)
    assert (after["totalCalls"], after["totalFailures"]) == (2**40 + 1, 2**33)


async def test_delete_provider_health_removes_it_then_is_false(gql: GraphQL) -> None:
    await save(gql, "p")
    await save(gql, "q")
    assert (await gql(DELETE, {"name": "p"}))["deleteProviderHealth"] is True
    assert await load(gql, "p") is None
    assert [p["name"] for p in await listed(gql)] == ["q"]
    assert (await gql(DELETE, {"name": "p"}))["deleteProviderHealth"] is False


# ------------------------------------------------------------------ recordProviderCall


async def test_record_provider_call_unknown_name_creates_it_with_defaults(gql: GraphQL) -> None:
    health = await record(gql, "new", True, latencyMs=120)
    assert health == {
        "name": "new",
        **DEFAULTS,
        "totalCalls": 1,
        "lastLatencyMs": 120,
        "uptimeSince": NOW,
    }
    assert await load(gql, "new") == health


async def test_record_provider_call_keeps_error_exactly_as_sent(gql: GraphQL) -> None:
    error = '  provider error: 503 Überlastet\n{"retry": true}\t'
    health = await record(gql, "p", False, error=error, latencyMs=900)
    assert (health["lastError"], health["lastLatencyMs"]) == (error, 900)
    assert (health["consecutiveFailures"], health["totalCalls"], health["totalFailures"]) == (
        1,
        1,
        1,
    )


async def test_record_provider_call_without_latency_keeps_last_latency(gql: GraphQL) -> None:
    await record(gql, "p", True, latencyMs=300)
    assert (await record(gql, "p", True))["lastLatencyMs"] == 300


async def test_record_provider_call_third_failure_opens_circuit(gql: GraphQL) -> None:
    await save(gql, "p", priority=2, uptimeSince=NOW)
    second = await fail(gql, "p", times=2)
    assert (second["circuitState"], second["isAvailable"]) == ("CLOSED", True)
    third = await fail(gql, "p")
    assert third == {
        "name": "p",
        **DEFAULTS,
        "priority": 2,
        "circuitState": "OPEN",
        "consecutiveFailures": 3,
        "lastError": "provider error: 0",
        "totalCalls": 3,
        "totalFailures": 3,
        "openedAt": NOW,
        "isAvailable": False,
    }


async def test_record_provider_call_success_clears_error_and_failure_count(
    gql: GraphQL, clock: FakeClock
) -> None:
    await record(gql, "p", True)
    await fail(gql, "p", times=2)
    clock.advance(seconds=2)
    health = await record(gql, "p", True)
    assert (health["circuitState"], health["consecutiveFailures"], health["lastError"]) == (
        "CLOSED",
        0,
        None,
    )
    assert (health["uptimeSince"], health["updatedAt"]) == (NOW, PLUS_2S)


async def test_provider_health_after_cooldown_reads_half_open_without_writing(
    gql: GraphQL, clock: FakeClock, app: Any
) -> None:
    opened = await fail(gql, "p", times=3)
    clock.advance(seconds=31)
    read = await load(gql, "p")
    assert read == {**opened, "circuitState": "HALF_OPEN", "isAvailable": True}
    assert await listed(gql) == [read]
    stored = await db_provider_health.get_provider_health(app.state.db.read(), name="p")
    assert stored is not None
    assert (stored.circuit_state, stored.updated_at) == ("open", NOW)


async def test_provider_health_before_cooldown_stays_open(gql: GraphQL, clock: FakeClock) -> None:
    await fail(gql, "p", times=3)
    clock.advance(seconds=29.999999)
    read = await load(gql, "p")
    assert (read["circuitState"], read["isAvailable"]) == ("OPEN", False)


async def test_record_provider_call_success_after_cooldown_closes(
    gql: GraphQL, clock: FakeClock
) -> None:
    await fail(gql, "p", times=3)
    clock.advance(seconds=31)
    health = await record(gql, "p", True, latencyMs=40)
    assert health == {
        "name": "p",
        **DEFAULTS,
        "lastLatencyMs": 40,
        "totalCalls": 4,
        "totalFailures": 3,
        "uptimeSince": PLUS_31S,
        "updatedAt": PLUS_31S,
    }


async def test_record_provider_call_failure_after_cooldown_reopens(
    gql: GraphQL, clock: FakeClock
) -> None:
    await fail(gql, "p", times=3)
    clock.advance(seconds=31)
    health = await record(gql, "p", False, error="still down")
    assert (health["circuitState"], health["openedAt"], health["isAvailable"]) == (
        "OPEN",
        PLUS_31S,
        False,
    )
    assert (health["consecutiveFailures"], health["lastError"], health["uptimeSince"]) == (
        4,
        "still down",
        None,
    )


async def test_record_provider_call_failure_while_open_keeps_opened_at(
    gql: GraphQL, clock: FakeClock
) -> None:
    await fail(gql, "p", times=3)
    clock.advance(seconds=10)
    health = await record(gql, "p", False, error="late")
    assert (health["circuitState"], health["openedAt"], health["updatedAt"]) == (
        "OPEN",
        NOW,
        PLUS_10S,
    )
    assert (health["totalCalls"], health["totalFailures"], health["consecutiveFailures"]) == (
        4,
        4,
        4,
    )


async def test_record_provider_call_success_while_open_closes(
    gql: GraphQL, clock: FakeClock
) -> None:
    await fail(gql, "p", times=3)
    clock.advance(seconds=10)
    health = await record(gql, "p", True)
    assert (health["circuitState"], health["openedAt"], health["uptimeSince"]) == (
        "CLOSED",
        None,
        PLUS_10S,
    )


async def test_record_provider_call_on_half_open_save_failure_reopens(gql: GraphQL) -> None:
    await save(gql, "p", circuitState="HALF_OPEN", openedAt="2026-02-12T20:00:00Z")
    health = await record(gql, "p", False, error="nope")
    assert (health["circuitState"], health["openedAt"], health["consecutiveFailures"]) == (
        "OPEN",
        NOW,
        1,
    )


@asynccontextmanager
async def other_process(settings: Settings, clock: FakeClock) -> AsyncIterator[GraphQL]:
    """A second app on the same database: another API process, or the server restarted."""
    application = create_app(settings, clock=clock)
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            yield GraphQL(http)


async def test_open_circuit_is_the_same_in_another_process(
    gql: GraphQL, settings: Settings, clock: FakeClock
) -> None:
    opened = await fail(gql, "p", times=3)
    async with other_process(settings, clock) as other:
        assert await load(other, "p") == opened
        clock.advance(seconds=30)
        assert await load(other, "p") == await load(gql, "p")
        assert (await load(other, "p"))["circuitState"] == "HALF_OPEN"


async def test_record_provider_call_retry_after_limits_until_it_passes(
    gql: GraphQL, clock: FakeClock
) -> None:
    limited = await record(gql, "p", False, error="rate limited", retryAfterMs=2000)
    assert (limited["rateLimitedUntil"], limited["isAvailable"]) == (PLUS_2S, False)
    assert limited["circuitState"] == "CLOSED"
    clock.advance(seconds=2)
    read = await load(gql, "p")
    assert (read["rateLimitedUntil"], read["isAvailable"], read["updatedAt"]) == (None, True, NOW)


@pytest.mark.parametrize(
    "fields", [{"retryAfterMs": 60000}, {"retryAfterMs": 2**63 - 1}, {"rateLimited": True}]
)
async def test_record_provider_call_rate_limit_is_capped_at_max_wait(
    gql: GraphQL, fields: dict[str, Any]
) -> None:
    health = await record(gql, "p", False, error="rate limited", **fields)
    assert (health["rateLimitedUntil"], health["isAvailable"]) == (PLUS_5S, False)


async def test_breaker_settings_change_the_rules(tmp_path: Path, clock: FakeClock) -> None:
    settings = make_settings(
        tmp_path / "tuned",
        circuit_failure_threshold="1",
        circuit_cooldown_seconds="5",
        rate_limit_max_wait_ms="1000",
    )
    async with other_process(settings, clock) as tuned:
        opened = await fail(tuned, "p", retryAfterMs=60000)
        assert (opened["circuitState"], opened["rateLimitedUntil"]) == (
            "OPEN",
            "2026-02-12T22:04:13.123456+00:00",
        )
        clock.advance(seconds=5)
        assert (await load(tuned, "p"))["circuitState"] == "HALF_OPEN"


# ------------------------------------------------------------------ bad input writes nothing


@pytest.mark.parametrize(
    "call",
    [
        {"success": True, "latencyMs": -1},
        {"success": True, "retryAfterMs": -1},
        {"success": False},
        {"success": False, "error": None},
        {"success": False, "error": ""},
        {"success": True, "error": "but it worked"},
        {"success": False, "error": "x" * (64 * 1024 + 1)},
        {"success": False, "error": "a\x00b"},
        {"success": True, "name": ""},
        {"success": True, "name": "a\x00b"},
        {"success": True, "name": "n" * 4097},
        {"success": True, "latencyMs": 2**63},
        {"success": "yes"},
    ],
)
async def test_record_provider_call_bad_input_writes_nothing(
    gql: GraphQL, call: dict[str, Any]
) -> None:
    before = await record(gql, "p", True, latencyMs=5)
    errors = await gql.errors(RECORD, {"input": {"name": "p", **call}})
    assert codes(errors) == ["BAD_USER_INPUT"]
    assert await listed(gql) == [before]


async def test_record_provider_call_accepts_64_kib_error(gql: GraphQL) -> None:
    error = "é" * (32 * 1024)
    assert (await record(gql, "p", False, error=error))["lastError"] == error


async def test_record_provider_call_past_counter_maximum_writes_nothing(gql: GraphQL) -> None:
    before = await save(gql, "p", totalCalls=2**63 - 1)
    errors = await gql.errors(RECORD, {"input": {"name": "p", "success": True}})
    assert codes(errors) == ["BAD_USER_INPUT"]
    assert errors[0]["message"] == f"totalCalls would pass its maximum ({2**63 - 1})"
    assert await load(gql, "p") == before


@pytest.mark.parametrize(
    "fields",
    [
        {"priority": -1},
        {"priority": 2**31},
        {"consecutiveFailures": -1},
        {"totalCalls": -1},
        {"totalFailures": -5},
        {"lastLatencyMs": -1},
        {"circuitState": "BROKEN"},
        {"circuitState": "open"},
        {"name": ""},
        {"name": "n" * 4097},
        {"lastError": "e" * (64 * 1024 + 1)},
        {"openedAt": "2026-02-12T22:04:12"},
        {"uptimeSince": "yesterday"},
    ],
)
async def test_save_provider_health_bad_input_writes_nothing(
    gql: GraphQL, fields: dict[str, Any]
) -> None:
    errors = await gql.errors(SAVE, {"input": {"name": "p", **fields}})
    assert codes(errors) == ["BAD_USER_INPUT"]
    assert await listed(gql) == []


async def test_save_provider_health_unknown_state_literal_fails_validation(gql: GraphQL) -> None:
    query = 'mutation { saveProviderHealth(input: {name: "p", circuitState: BROKEN}) { name } }'
    assert codes(await gql.errors(query)) == ["GRAPHQL_VALIDATION_FAILED"]
    assert await listed(gql) == []


@pytest.mark.parametrize("query", [GET, DELETE], ids=["providerHealth", "deleteProviderHealth"])
async def test_empty_name_is_bad_user_input(gql: GraphQL, query: str) -> None:
    errors = await gql.errors(query, {"name": ""})
    assert codes(errors) == ["BAD_USER_INPUT"]
    assert errors[0]["message"] == "name must not be empty"


# ------------------------------------------------------------------ concurrency, real server

CONCURRENT_CALLS = 200


@pytest.mark.server
async def test_record_provider_call_concurrently_loses_no_update(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path / "data") as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as http,
        asyncio.timeout(120),
    ):

        async def call(index: int) -> Any:
            success = index % 2 == 0
            call_input = {"name": "busy", "success": success, "latencyMs": index}
            if not success:
                call_input["error"] = f"provider error: {index}"
            response = await http.post(
                "/graphql", json={"query": RECORD, "variables": {"input": call_input}}
            )
            return response.json()

        bodies = await asyncio.gather(*(call(index) for index in range(CONCURRENT_CALLS)))
        final = await http.post("/graphql", json={"query": GET, "variables": {"name": "busy"}})
    assert [body for body in bodies if "errors" in body] == []
    health = final.json()["data"]["providerHealth"]
    assert (health["totalCalls"], health["totalFailures"]) == (
        CONCURRENT_CALLS,
        CONCURRENT_CALLS // 2,
    )
    assert sorted(body["data"]["recordProviderCall"]["totalCalls"] for body in bodies) == list(
        range(1, CONCURRENT_CALLS + 1)
    )
