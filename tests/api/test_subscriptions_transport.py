"""The WebSocket endpoint's rules: authentication on connection_init, scopes, the origin check,
the per-socket subscription limit and the document limits."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette

from app.main import create_app
from db import api_keys
from db.codec import new_id
from db.errors import SettingsError
from tests.api.ws_session import WsSession, subscribed
from tests.conftest import FakeClock, codes, make_settings

PROVIDERS = "subscription { providerHealthChanged { name deleted } }"
DELETE_PROVIDER = 'mutation { deleteProviderHealth(name: "p") }'
SAVE_PROVIDER = 'mutation { saveProviderHealth(input: {name: "p"}) { name } }'
ALLOWED = "https://app.example"


@pytest.fixture
async def secured(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Starlette]:
    settings = make_settings(
        tmp_path / "data", auth="required", auth_cache_ms="0", ws_origins=ALLOWED
    )
    application = create_app(settings, clock=clock)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def keys(secured: Starlette) -> dict[str, str]:
    """A read key and a write key: scope -> secret."""
    secrets = {scope: api_keys.new_secret() for scope in ("read", "write")}
    async with secured.state.db.write() as conn:
        for scope, secret in secrets.items():
            await api_keys.create_api_key(
                conn,
                id=new_id(),
                name=scope,
                scope=scope,
                secret=secret,
                now="2026-01-01T00:00:00.000000+00:00",
            )
    return secrets


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({}, "Unauthorized: an API key is required"),
        (bearer("not-a-key"), "Unauthorized: the API key is not valid (unknown or revoked)"),
        ({"Authorization": "Basic abc"}, "Unauthorized: an API key is required"),
    ],
    ids=["no-key", "wrong-key", "not-bearer"],
)
async def test_connection_init_without_valid_key_closes_with_4401(
    secured: Starlette, keys: dict[str, str], payload: dict[str, Any], reason: str
) -> None:
    async with WsSession(secured) as ws:
        await ws.send({"type": "connection_init", "payload": payload})
        closed = await ws.closed()
    assert closed.code == 4401
    assert closed.reason.startswith(reason)


async def test_subscribe_before_connection_init_closes_with_4401(secured: Starlette) -> None:
    async with WsSession(secured) as ws:
        await ws.subscribe("1", PROVIDERS)
        closed = await ws.closed()
    assert (closed.code, closed.reason) == (4401, "Unauthorized")


async def test_read_key_may_subscribe(secured: Starlette, keys: dict[str, str]) -> None:
    async with WsSession(secured) as ws:
        await ws.init(bearer(keys["read"]))
        await ws.subscribe("1", PROVIDERS)
        await ws.subscribe("2", "query { providers { name } }")
        await subscribed(secured, "provider")
        assert await ws.next("2") == {"providers": []}
        await ws.completed("2")
        async with WsSession(secured) as writer:
            await writer.init({"authorization": f"Bearer {keys['write']}"})
            await writer.subscribe("w", SAVE_PROVIDER)
            assert await writer.next("w") == {"saveProviderHealth": {"name": "p"}}
        assert await ws.next("1") == {"providerHealthChanged": {"name": "p", "deleted": False}}


async def test_subscribe_after_the_key_was_revoked_closes_with_4401(
    secured: Starlette, keys: dict[str, str]
) -> None:
    async with WsSession(secured) as ws:
        await ws.init(bearer(keys["read"]))
        async with secured.state.db.write() as conn:
            await api_keys.revoke_api_key(conn, name="read", now="2026-01-02T00:00:00.000000+00:00")
        await ws.subscribe("1", PROVIDERS)
        closed = await ws.closed()
    assert closed.code == 4401
    assert closed.reason.startswith("Unauthorized: the API key is not valid")


async def test_mutation_over_websocket_with_read_key_is_forbidden_and_changes_nothing(
    secured: Starlette, keys: dict[str, str]
) -> None:
    async with WsSession(secured) as ws:
        await ws.init(bearer(keys["read"]))
        await ws.subscribe("1", SAVE_PROVIDER)
        errors = await ws.error("1")
        await ws.subscribe("2", "query { providers { name } }")
        assert await ws.next("2") == {"providers": []}
    assert codes(errors) == ["FORBIDDEN"]


async def test_subscription_over_the_limit_gets_an_error_and_the_socket_stays_open(
    app: Starlette, gql: Any
) -> None:
    async with WsSession(app) as ws:
        await ws.init()
        for number in range(20):
            await ws.subscribe(str(number), PROVIDERS)
        await ws.subscribe("21st", PROVIDERS)
        errors = await ws.error("21st")
        await subscribed(app, "provider", 20)
        await gql(SAVE_PROVIDER)
        received = await ws.collect({str(number): 1 for number in range(20)})
        await ws.send({"type": "ping"})
        assert await ws.receive() == {"type": "pong"}
    assert errors == [
        {
            "message": "at most 20 subscriptions per WebSocket",
            "extensions": {"code": "BAD_USER_INPUT"},
        }
    ]
    assert all(
        events == [{"providerHealthChanged": {"name": "p", "deleted": False}}]
        for events in received.values()
    )


async def test_completed_subscription_frees_its_place(app: Starlette) -> None:
    async with WsSession(app) as ws:
        await ws.init()
        for number in range(20):
            await ws.subscribe(str(number), PROVIDERS)
        await ws.send({"id": "0", "type": "complete"})
        await ws.subscribe("another", "query { providers { name } }")
        assert await ws.next("another") == {"providers": []}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("subscription { providerHealthChanged { nope } }", "GRAPHQL_VALIDATION_FAILED"),
        ("subscription { providerHealthChanged { " + "a: name " * 31 + "} }", "QUERY_TOO_COMPLEX"),
        (
            "subscription($b: ID!) { kvChanged(botId: $b) { entry { bot { "
            + "kvEntries { nodes { bot { " * 4
            + "name"
            + " } } }" * 4
            + " } } } }",
            "QUERY_TOO_COMPLEX",
        ),
    ],
    ids=["invalid", "aliases", "depth"],
)
async def test_subscription_document_over_the_limits_is_refused(
    app: Starlette, query: str, code: str
) -> None:
    async with WsSession(app) as ws:
        await ws.init()
        await ws.subscribe("1", query, {"b": "01a20321-1ea8-77b0-98e8-acd5d6e5e1a8"})
        errors = await ws.error("1")
    assert codes(errors) == [code]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"origin": "http://localhost:8000"},
        {"origin": ALLOWED},
        {"origin": "https://APP.example:443"},
    ],
    ids=["no-origin", "own-origin", "listed", "listed-other-spelling"],
)
async def test_allowed_origin_may_connect(
    secured: Starlette, keys: dict[str, str], headers: dict[str, str]
) -> None:
    async with WsSession(secured, headers) as ws:
        await ws.init(bearer(keys["read"]))


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "http://localhost:8080", "http://testserver", "null"],
    ids=str,
)
async def test_other_origin_is_closed_with_4403(secured: Starlette, origin: str) -> None:
    async with WsSession(secured, {"origin": origin}) as ws:
        closed = await ws.closed()
    assert closed.code == 4403


def test_ws_origin_that_is_not_an_origin_is_a_settings_error(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", ws_origins="https://app.example/path")
    with pytest.raises(SettingsError, match="BOTERNITY_WS_ORIGINS: Invalid origin"):
        create_app(settings)


async def test_subscriptions_of_one_selection_share_one_run_across_sockets(
    app: Starlette, gql: Any
) -> None:
    """One broker subscription (one run, one encoding per event) for the same document and
    variables on any socket; another selection has its own."""
    one_provider = 'subscription { providerHealthChanged(name: "p") { name deleted } }'
    async with WsSession(app) as first, WsSession(app) as second:
        await first.init()
        await second.init()
        await first.subscribe("1", PROVIDERS)
        await first.subscribe("2", PROVIDERS)
        await second.subscribe("3", PROVIDERS)
        await second.subscribe("4", one_provider)
        await subscribed(app, "provider/p")
        await subscribed(app, "provider", 4)
        shared = app.state.broker.subscriber_count("provider")
        await gql(SAVE_PROVIDER)
        event = {"providerHealthChanged": {"name": "p", "deleted": False}}
        assert await first.collect({"1": 1, "2": 1}) == {"1": [event], "2": [event]}
        assert await second.collect({"3": 1, "4": 1}) == {"3": [event], "4": [event]}
        await first.send({"id": "1", "type": "complete"})
        await gql(DELETE_PROVIDER)
        deleted = {"providerHealthChanged": {"name": "p", "deleted": True}}
        assert await first.collect({"2": 1}) == {"2": [deleted]}
    assert shared == 1
