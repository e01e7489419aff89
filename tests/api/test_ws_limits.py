"""Caps on WebSockets and their operations, globally and per API key (app/ws_limits.py), each
at its boundary, and the closing of a revoked or deleted key's sockets."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette

from app.main import create_app
from db import api_keys
from db.codec import new_id
from db.settings import Settings
from tests.api.ws_session import WsSession
from tests.conftest import FakeClock, make_settings

PROVIDERS = "subscription { providerHealthChanged { name } }"
LOCAL = "http://localhost"
NOW = "2026-01-01T00:00:00.000000+00:00"


def limited(settings: Settings, **environ: str) -> Settings:
    """The test's database settings, with authentication required and these limits."""
    return make_settings(
        settings.data_dir,
        database_url=settings.database_url,
        auth="required",
        auth_cache_ms="60000",  # only the periodic re-check can notice a revocation
        **environ,
    )


@asynccontextmanager
async def keyed(
    settings: Settings, clock: FakeClock, **limits: str
) -> AsyncIterator[tuple[Starlette, dict[str, str]]]:
    """An app with these limits, and read keys "a" and "b" (name -> secret)."""
    app = create_app(limited(settings, **limits), clock=clock)
    async with LifespanManager(app):
        secrets = {name: api_keys.new_secret() for name in ("a", "b")}
        async with app.state.db.write() as conn:
            for name, secret in secrets.items():
                await api_keys.create_api_key(
                    conn, id=new_id(), name=name, scope="read", secret=secret, now=NOW
                )
        yield app, secrets


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def error_message(ws: WsSession, id: str) -> Any:
    errors = await ws.error(id)
    assert [error["extensions"]["code"] for error in errors] == ["BAD_USER_INPUT"]
    return errors[0]["message"]


async def test_one_websocket_over_max_websockets_is_closed_with_1013(
    settings: Settings, clock: FakeClock
) -> None:
    async with keyed(settings, clock, max_websockets="2") as (app, _):
        async with WsSession(app) as first, WsSession(app):  # the second: at the limit
            async with WsSession(app) as third:
                closed = await third.closed()
            await first.send({"type": "ping"})
            assert await first.receive() == {"type": "pong"}
        async with WsSession(app) as after:  # the others closed: there is room again
            await after.send({"type": "ping"})
            assert await after.receive() == {"type": "pong"}
    assert (closed.code, closed.reason) == (
        1013,
        "Try again later: the server holds its most WebSockets (2)",
    )


async def test_one_websocket_over_max_websockets_per_key_is_closed_with_4429(
    settings: Settings, clock: FakeClock
) -> None:
    async with (
        keyed(settings, clock, max_websockets_per_key="2") as (app, keys),
        WsSession(app) as first,
        WsSession(app) as second,
    ):
        await first.init(auth(keys["a"]))
        await second.init(auth(keys["a"]))  # the second: at the limit
        async with WsSession(app) as third:
            await third.send({"type": "connection_init", "payload": auth(keys["a"])})
            closed = await third.closed()
        async with WsSession(app) as other_key:
            await other_key.init(auth(keys["b"]))
    assert (closed.code, closed.reason) == (4429, "Too many WebSockets: at most 2 per API key")


async def test_one_subscription_over_max_subscriptions_per_key_is_refused(
    settings: Settings, clock: FakeClock
) -> None:
    async with (
        keyed(settings, clock, max_subscriptions_per_key="3") as (app, keys),
        WsSession(app) as first,
        WsSession(app) as second,
        WsSession(app) as other,
    ):
        await first.init(auth(keys["a"]))
        await second.init(auth(keys["a"]))
        await other.init(auth(keys["b"]))
        for id in ("1", "2"):
            await first.subscribe(id, PROVIDERS)
        await second.subscribe("3", PROVIDERS)  # the third: at the limit
        await second.subscribe("4", PROVIDERS)
        refused = await error_message(second, "4")
        await other.subscribe("1", "query { providers { name } }")
        assert await other.next("1") == {"providers": []}
        await first.send({"id": "1", "type": "complete"})
        await first.send({"type": "ping"})
        assert await first.receive() == {"type": "pong"}  # the complete was handled
        await second.subscribe("5", "query { providers { name } }")  # a place is free again
        assert await second.next("5") == {"providers": []}
    assert refused == "at most 3 subscriptions per API key"


async def test_one_subscription_over_max_subscriptions_total_is_refused(
    settings: Settings, clock: FakeClock
) -> None:
    async with (
        keyed(settings, clock, max_subscriptions_total="2") as (app, keys),
        WsSession(app) as first,
        WsSession(app) as second,
    ):
        await first.init(auth(keys["a"]))
        await second.init(auth(keys["b"]))
        await first.subscribe("1", PROVIDERS)
        await second.subscribe("1", PROVIDERS)  # the second: at the limit
        await second.subscribe("2", PROVIDERS)
        refused = await error_message(second, "2")
    assert refused == "the server holds its most subscriptions (2); try again later"


@pytest.mark.parametrize("how", ["revoked", "deleted"])
async def test_sockets_of_a_revoked_or_deleted_key_are_closed_with_4401(
    settings: Settings, clock: FakeClock, how: str
) -> None:
    """With auth_cache_ms at a minute, only the periodic re-check (every 50 ms here) can
    notice; it also makes the authenticator forget the key, so HTTP refuses it at once."""
    async with (
        keyed(settings, clock, ws_key_check_ms="50") as (app, keys),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost"
        ) as http,
        WsSession(app) as revoked,
        WsSession(app) as also_revoked,
        WsSession(app) as other,
    ):
        for ws, key in ((revoked, "a"), (also_revoked, "a"), (other, "b")):
            await ws.init(auth(keys[key]))
            await ws.subscribe("1", PROVIDERS)
        query = {"query": "{ providers { name } }"}
        assert (await http.post("/graphql", json=query, headers=auth(keys["a"]))).status_code == 200
        async with app.state.db.write() as conn:
            if how == "revoked":
                assert await api_keys.revoke_api_key(conn, name="a", now=NOW)
            else:
                await conn.execute("DELETE FROM api_keys WHERE name = 'a'")
        closed = [await revoked.closed(), await also_revoked.closed()]
        refused = await http.post("/graphql", json=query, headers=auth(keys["a"]))
        await other.send({"type": "ping"})
        assert await other.receive() == {"type": "pong"}
    assert [(c.code, c.reason) for c in closed] == [
        (4401, "Unauthorized: the API key was revoked")
    ] * 2
    assert refused.status_code == 401
