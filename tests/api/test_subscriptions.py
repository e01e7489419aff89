"""Subscriptions over graphql-transport-ws: each one receives exactly the events of the
mutations it watches, after they commit, in commit order; nothing for other bots, keys,
prefixes, names or sessions, nor for a failed mutation. A later event that the subscription
must receive (a fence) proves that nothing else arrived before it."""

from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette

from app.main import create_app
from db import kv as db_kv
from db.settings import Settings
from resolvers import events
from schema.context import Context
from tests.api.ws_session import WsSession, subscribed
from tests.conftest import FakeClock, GraphQL, codes, make_settings

NOW = "2026-02-12T22:04:12.123456+00:00"
SESSION = "01a20321-1ea8-77b0-98e8-acd5d6e5e1a1"
OTHER_SESSION = "01a20321-1ea8-77b0-98e8-acd5d6e5e1a2"
UNKNOWN_BOT = "01a20321-1ea8-77b0-98e8-acd5d6e5e1a8"
MEMORY = "01a20321-1ea8-77b0-98e8-acd5d6e5e1a9"

KV_CHANGED = """
subscription($botId: ID!, $prefix: String) {
  kvChanged(botId: $botId, prefix: $prefix) {
    botId key deleted entry { key value createdAt updatedAt bot { name } }
  }
}"""
SET_KV = "mutation($b: ID!, $k: String!, $v: JSON) { setKv(botId: $b, key: $k, value: $v) { key } }"
SET_MANY = "mutation($b: ID!, $e: [KvSetInput!]!) { setKvMany(botId: $b, entries: $e) { key } }"
DELETE_KV = "mutation($b: ID!, $k: String!) { deleteKv(botId: $b, key: $k) }"
AUDIT_LOGGED = "subscription($botId: ID) { auditLogged(botId: $botId) { botId memoryId action } }"
LOG = (
    "mutation($b: ID!, $a: AuditAction!) { logMemoryAudit(input: "
    f'{{botId: $b, memoryId: "{MEMORY}", action: $a, actor: "user"}}) {{ id }} }}'
)
PROVIDER_CHANGED = """
subscription($name: String) {
  providerHealthChanged(name: $name) {
    name deleted health { name circuitState consecutiveFailures isAvailable updatedAt }
  }
}"""
SAVE_PROVIDER = "mutation($n: String!) { saveProviderHealth(input: {name: $n}) { name } }"
FAIL_CALL = (
    "mutation($n: String!) { recordProviderCall("
    'input: {name: $n, success: false, error: "timeout"}) { name } }'
)
DELETE_PROVIDER = "mutation($n: String!) { deleteProviderHealth(name: $n) }"
DRAFT_CHANGED = """
subscription($s: ID!) {
  builderDraftChanged(sessionId: $s) { sessionId deleted draft { revision state phase } }
}"""
SAVE_DRAFT = (
    "mutation($s: ID!, $state: JSON!, $rev: Int) { saveBuilderDraft(input: "
    "{sessionId: $s, state: $state, expectedRevision: $rev}) { revision } }"
)
DELETE_DRAFT = "mutation($s: ID!) { deleteBuilderDraft(sessionId: $s) }"


async def create_bot(gql: GraphQL, name: str) -> str:
    data = await gql("mutation($n: String!) { createBot(input: {name: $n}) { id } }", {"n": name})
    bot_id: str = data["createBot"]["id"]
    return bot_id


def kv_event(bot_id: str, key: str, value: Any, bot_name: str = "A") -> dict[str, Any]:
    entry = {"key": key, "value": value, "createdAt": NOW, "updatedAt": NOW}
    entry["bot"] = {"name": bot_name}
    return {"kvChanged": {"botId": bot_id, "key": key, "deleted": False, "entry": entry}}


def kv_deleted(bot_id: str, key: str) -> dict[str, Any]:
    return {"kvChanged": {"botId": bot_id, "key": key, "deleted": True, "entry": None}}


@pytest.fixture
async def ws(app: Starlette) -> Any:
    async with WsSession(app) as session:
        await session.init()
        yield session


async def test_kv_changed_sends_one_event_per_changed_key_in_commit_order(
    app: Starlette, gql: GraphQL, ws: WsSession
) -> None:
    bot, other = await create_bot(gql, "A"), await create_bot(gql, "B")
    await ws.subscribe("1", KV_CHANGED, {"botId": bot})
    await subscribed(app, f"kv/{bot}")
    await gql(SET_KV, {"b": bot, "k": "a", "v": {"n": 1}})
    await gql(SET_MANY, {"b": bot, "e": [{"key": "b", "value": None}, {"key": "c", "value": 3}]})
    await gql(DELETE_KV, {"b": bot, "k": "a"})
    await gql(DELETE_KV, {"b": bot, "k": "absent"})
    await gql(SET_KV, {"b": other, "k": "a", "v": 1})
    await gql(SET_KV, {"b": bot, "k": "fence", "v": True})
    received = [await ws.next("1") for _ in range(5)]
    assert received == [
        kv_event(bot, "a", {"n": 1}),
        kv_event(bot, "b", None),
        kv_event(bot, "c", 3),
        kv_deleted(bot, "a"),
        kv_event(bot, "fence", True),
    ]


async def test_kv_changed_with_prefix_sends_only_keys_with_that_prefix(
    app: Starlette, gql: GraphQL, ws: WsSession
) -> None:
    bot = await create_bot(gql, "A")
    await ws.subscribe("1", KV_CHANGED, {"botId": bot, "prefix": "user:"})
    await subscribed(app, f"kv/{bot}")
    entries = [{"key": key, "value": 1} for key in ("user:1", "User:2", "user", "x", "user:é")]
    await gql(SET_MANY, {"b": bot, "e": entries})
    await gql(DELETE_KV, {"b": bot, "k": "x"})
    await gql(DELETE_KV, {"b": bot, "k": "user:1"})
    assert [await ws.next("1") for _ in range(3)] == [
        kv_event(bot, "user:1", 1),
        kv_event(bot, "user:é", 1),
        kv_deleted(bot, "user:1"),
    ]


async def test_set_kv_many_with_one_bad_entry_sends_nothing(
    app: Starlette, gql: GraphQL, ws: WsSession, gql_errors: Any
) -> None:
    bot = await create_bot(gql, "A")
    await ws.subscribe("1", KV_CHANGED, {"botId": bot})
    await subscribed(app, f"kv/{bot}")
    bad = [{"key": "a", "value": 1}, {"key": "", "value": 2}]
    assert codes(await gql_errors(SET_MANY, {"b": bot, "e": bad})) == ["BAD_USER_INPUT"]
    await gql(SET_KV, {"b": bot, "k": "fence", "v": 0})
    assert await ws.next("1") == kv_event(bot, "fence", 0)


async def test_rolled_back_write_publishes_nothing(
    app: Starlette, gql: GraphQL, ws: WsSession, settings: Settings, clock: FakeClock
) -> None:
    bot = await create_bot(gql, "A")
    await ws.subscribe("1", KV_CHANGED, {"botId": bot})
    await subscribed(app, f"kv/{bot}")
    context = Context(db=app.state.db, settings=settings, clock=clock, broker=app.state.broker)

    async def set_then_fail() -> None:
        async with app.state.db.write() as conn:
            row = await db_kv.set_entry(conn, bot_id=bot, key="a", value_json="1", now=NOW)
            events.kv_set(conn, context, row)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await set_then_fail()
    await gql(SET_KV, {"b": bot, "k": "fence", "v": 0})
    assert await ws.next("1") == kv_event(bot, "fence", 0)


async def test_delete_bot_completes_its_kv_changed_subscriptions_only(
    app: Starlette, gql: GraphQL, ws: WsSession
) -> None:
    bot, other = await create_bot(gql, "A"), await create_bot(gql, "B")
    await ws.subscribe("1", KV_CHANGED, {"botId": bot})
    await ws.subscribe("2", KV_CHANGED, {"botId": other})
    await subscribed(app, f"kv/{bot}")
    await subscribed(app, f"kv/{other}")
    await gql(SET_KV, {"b": bot, "k": "a", "v": 1})
    await gql("mutation($id: ID!) { deleteBot(id: $id) }", {"id": bot})
    assert await ws.next("1") == kv_event(bot, "a", 1)
    await ws.completed("1")
    await gql(SET_KV, {"b": other, "k": "b", "v": 2})
    assert await ws.next("2") == kv_event(other, "b", 2, bot_name="B")


async def test_kv_changed_for_unknown_bot_completes_at_once(ws: WsSession) -> None:
    await ws.subscribe("1", KV_CHANGED, {"botId": UNKNOWN_BOT})
    await ws.completed("1")


async def test_kv_changed_with_invalid_bot_id_is_an_error_before_any_event(
    ws: WsSession,
) -> None:
    await ws.subscribe("1", KV_CHANGED, {"botId": "x"})
    errors = await ws.error("1")
    assert codes(errors) == ["BAD_USER_INPUT"]
    assert errors[0]["path"] == ["kvChanged"]


async def test_subscription_falling_behind_its_queue_ends_with_payload_too_large(
    tmp_path: Path, clock: FakeClock
) -> None:
    app = create_app(make_settings(tmp_path / "data", subscription_queue="2"), clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=transport, base_url="http://localhost") as http,
        WsSession(app) as ws,
    ):
        gql = GraphQL(http)
        bot = await create_bot(gql, "A")
        await ws.init()
        await ws.subscribe("1", KV_CHANGED, {"botId": bot})
        await subscribed(app, f"kv/{bot}")
        # one commit publishes three events at once: more than a queue of 2 holds
        entries = [{"key": key, "value": 1} for key in ("a", "b", "c")]
        await gql(SET_MANY, {"b": bot, "e": entries})
        overflow = await ws.receive()
        assert overflow["id"] == "1"
        assert overflow["type"] == "next"
        assert overflow["payload"]["data"] is None
        assert codes(overflow["payload"]["errors"]) == ["PAYLOAD_TOO_LARGE"]
        assert "fell more than 2 events behind" in overflow["payload"]["errors"][0]["message"]
        await ws.completed("1")
        await ws.subscribe("again", KV_CHANGED, {"botId": bot})
        await subscribed(app, f"kv/{bot}")
        await gql(SET_KV, {"b": bot, "k": "d", "v": 2})
        assert await ws.next("again") == kv_event(bot, "d", 2)


async def test_server_shutdown_completes_open_subscriptions(
    tmp_path: Path, clock: FakeClock
) -> None:
    app = create_app(make_settings(tmp_path / "data"), clock=clock)
    async with WsSession(app) as ws:
        async with LifespanManager(app):
            await ws.init()
            await ws.subscribe("1", AUDIT_LOGGED, {})
            await ws.subscribe("2", DRAFT_CHANGED, {"s": SESSION})
            await subscribed(app, "audit")
            await subscribed(app, f"draft/{SESSION}")
        completed = [await ws.receive(), await ws.receive()]
        assert sorted(message["id"] for message in completed) == ["1", "2"]
        assert {message["type"] for message in completed} == {"complete"}


def audit_entry(bot_id: str, action: str) -> dict[str, Any]:
    return {"auditLogged": {"botId": bot_id, "memoryId": MEMORY, "action": action}}


async def test_audit_logged_sends_one_bots_entries_or_every_bots(
    app: Starlette, gql: GraphQL, gql_errors: Any, ws: WsSession
) -> None:
    bot, other = await create_bot(gql, "A"), await create_bot(gql, "B")
    await ws.subscribe("one", AUDIT_LOGGED, {"botId": bot})
    await ws.subscribe("all", AUDIT_LOGGED, {})
    await subscribed(app, f"audit/{bot}")
    await subscribed(app, "audit")
    await gql(LOG, {"b": other, "a": "ADD"})
    await gql(LOG, {"b": bot, "a": "SHARE"})
    assert codes(await gql_errors(LOG, {"b": UNKNOWN_BOT, "a": "ADD"})) == ["NOT_FOUND"]
    await gql(LOG, {"b": bot, "a": "REVOKE"})
    assert await ws.collect({"one": 2, "all": 3}) == {
        "one": [audit_entry(bot, "SHARE"), audit_entry(bot, "REVOKE")],
        "all": [audit_entry(other, "ADD"), audit_entry(bot, "SHARE"), audit_entry(bot, "REVOKE")],
    }


def provider_event(name: str, failures: int) -> dict[str, Any]:
    health = {
        "name": name,
        "circuitState": "CLOSED",
        "consecutiveFailures": failures,
        "isAvailable": True,
        "updatedAt": NOW,
    }
    return {"providerHealthChanged": {"name": name, "deleted": False, "health": health}}


def provider_deleted(name: str) -> dict[str, Any]:
    return {"providerHealthChanged": {"name": name, "deleted": True, "health": None}}


async def test_provider_health_changed_sends_saves_calls_and_deletes_of_one_or_every_provider(
    app: Starlette, gql: GraphQL, gql_errors: Any, ws: WsSession
) -> None:
    await ws.subscribe("one", PROVIDER_CHANGED, {"name": "p"})
    await ws.subscribe("all", PROVIDER_CHANGED, {})
    await subscribed(app, "provider/p")
    await subscribed(app, "provider")
    await gql(SAVE_PROVIDER, {"n": "p"})
    await gql(SAVE_PROVIDER, {"n": "q"})
    bad = 'mutation { saveProviderHealth(input: {name: "p", priority: -1}) { name } }'
    assert codes(await gql_errors(bad)) == ["BAD_USER_INPUT"]
    await gql(FAIL_CALL, {"n": "p"})
    await gql(DELETE_PROVIDER, {"n": "p"})
    await gql(DELETE_PROVIDER, {"n": "absent"})
    assert await ws.collect({"one": 3, "all": 4}) == {
        "one": [provider_event("p", 0), provider_event("p", 1), provider_deleted("p")],
        "all": [
            provider_event("p", 0),
            provider_event("q", 0),
            provider_event("p", 1),
            provider_deleted("p"),
        ],
    }


def draft_event(revision: int) -> dict[str, Any]:
    draft = {"revision": revision, "state": {"phase": "model"}, "phase": "MODEL"}
    return {"builderDraftChanged": {"sessionId": SESSION, "deleted": False, "draft": draft}}


async def test_builder_draft_changed_sends_the_sessions_saves_and_deletes(
    app: Starlette, gql: GraphQL, gql_errors: Any, ws: WsSession
) -> None:
    state = {"phase": "model"}
    await ws.subscribe("1", DRAFT_CHANGED, {"s": SESSION})
    await subscribed(app, f"draft/{SESSION}")
    await gql(SAVE_DRAFT, {"s": SESSION, "state": state})
    await gql(SAVE_DRAFT, {"s": OTHER_SESSION, "state": state})
    stale = {"s": SESSION, "state": state, "rev": 5}
    assert codes(await gql_errors(SAVE_DRAFT, stale)) == ["PRECONDITION_FAILED"]
    await gql(SAVE_DRAFT, {"s": SESSION, "state": state, "rev": 1})
    await gql(DELETE_DRAFT, {"s": SESSION})
    await gql(DELETE_DRAFT, {"s": SESSION})
    await gql(SAVE_DRAFT, {"s": SESSION, "state": state})
    deleted = {"builderDraftChanged": {"sessionId": SESSION, "deleted": True, "draft": None}}
    assert [await ws.next("1") for _ in range(4)] == [
        draft_event(1),
        draft_event(2),
        deleted,
        draft_event(1),
    ]
