"""Scale (issue 15): deletes of any size, totals kept exact by the database under concurrent
writes, locks held by another process, and the statement time limit."""

import asyncio
import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from db import builder as db_builder
from db import files as db_files
from db.codec import new_id
from db.connection import Database
from db.dialect import UNLIMITED
from db.settings import Settings
from tests.api.upload_helpers import create_bot, serving, stored, uploaded
from tests.conftest import FakeClock, GraphQL, make_settings
from tests.server import running_server

NOW = "2026-02-12T22:04:12.123456+00:00"
DELETE_FILE = "mutation($b: ID!, $f: String!) { deleteFile(botId: $b, filename: $f) }"
DELETE_BOT = "mutation($id: ID!) { deleteBot(id: $id) }"
KV_TOTAL = "query($id: ID!) { bot(id: $id) { kvEntries { totalCount } } }"
EXTRA_VERSIONS = 33_000  # past SQLite's 32,766 bound variables and PostgreSQL's 32,767


async def unlimited_write(db: Database, sql: str, params: dict[str, Any]) -> None:
    """One setup statement without the statement time limit."""
    with db.without_time_limit():
        async with db.write() as conn:
            if (lift := UNLIMITED[conn.dialect]) is not None:
                await conn.execute(lift)
            await conn.execute(sql, params)


async def test_delete_file_with_33000_versions_keeps_only_content_named_elsewhere(
    app: Starlette, client: httpx.AsyncClient, gql: GraphQL, settings: Settings
) -> None:
    bot = await create_bot(client, "Many")
    other = await create_bot(client, "Other")
    await uploaded(client, bot, "big.txt", b"only here")
    file = await uploaded(client, bot, "big.txt", b"shared")
    await uploaded(client, other, "copy.txt", b"shared")
    db: Database = app.state.db
    versions = [
        {"id": new_id(), "file_id": file["id"], "version": 3 + n, "size_bytes": 1, "now": NOW}
        | {"sha256": f"{n:064x}"}
        for n in range(EXTRA_VERSIONS)
    ]
    async with db.write() as conn:
        await conn.execute_many(db_files.INSERT_VERSION, versions)
        if conn.dialect != "sqlite":
            await conn.execute_many(
                "INSERT INTO file_contents (sha256, size_bytes) VALUES (:sha256, 1)",
                [{"sha256": version["sha256"]} for version in versions],
            )
    assert (await gql(DELETE_FILE, {"b": bot, "f": "big.txt"})) == {"deleteFile": file["id"]}
    conn = db.read()
    assert await conn.fetch_val("SELECT count(*) FROM bot_file_versions") == 1
    counts = "query($id: ID!) { bot(id: $id) { files { totalCount } } }"
    assert (await gql(counts, {"id": bot}))["bot"]["files"]["totalCount"] == 0
    if conn.dialect == "sqlite":
        assert len(stored(settings.data_dir)) == 1  # the shared content, named by copy.txt
    else:
        contents = await conn.fetch_all("SELECT sha256 FROM file_contents")
        assert [row["sha256"] for row in contents] == [file_sha256(b"shared")]
    await gql(DELETE_BOT, {"id": other})
    if conn.dialect == "sqlite":
        assert stored(settings.data_dir) == []
    else:
        assert await conn.fetch_val("SELECT count(*) FROM file_contents") == 0


def file_sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


async def fill_kv(db: Database, bot_id: str, count: int) -> None:
    await unlimited_write(
        db,
        """
WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)
INSERT INTO kv_entries (bot_id, key, value, created_at, updated_at)
SELECT :bot_id, 'k' || CAST(i AS TEXT), '1', :now, :now FROM n
""",
        {"bot_id": bot_id, "count": count, "now": NOW},
    )


@pytest.mark.sqlite_only
async def test_a_statement_past_the_time_limit_is_query_too_complex_and_writes_nothing(
    settings: Settings, clock: FakeClock
) -> None:
    """SQLite checks the time every ~100,000 VM steps: small statements are never checked, the
    cascade over 200,000 keys always runs past 50 ms."""
    limited = make_settings(settings.data_dir, statement_timeout_ms="50")
    async with serving(limited, clock) as client:
        graphql = GraphQL(client)
        bot = await create_bot(client, "Huge")
        db: Database = client._transport.app.state.db  # type: ignore[attr-defined]
        await fill_kv(db, bot, 200_000)
        errors = await graphql.errors(DELETE_BOT, {"id": bot})
        assert [error["extensions"]["code"] for error in errors] == ["QUERY_TOO_COMPLEX"]
        total = (await graphql(KV_TOTAL, {"id": bot}))["bot"]["kvEntries"]["totalCount"]
        assert total == 200_000
        with db.without_time_limit():
            assert await db.read().fetch_val("SELECT count(*) FROM kv_entries") == 200_000


@pytest.mark.postgres
async def test_a_statement_past_the_time_limit_on_postgresql_is_query_too_complex(
    postgres_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    """The delete's cascade waits on a row another connection holds (no lock timeout) until
    statement_timeout (1 s) cancels it: nothing is written."""
    limited = make_settings(
        tmp_path / "data",
        database_url=postgres_url,
        statement_timeout_ms="1000",
        busy_timeout_ms="0",
    )
    async with serving(limited, clock) as client:
        graphql = GraphQL(client)
        bot = await create_bot(client, "Held")
        db: Database = client._transport.app.state.db  # type: ignore[attr-defined]
        await fill_kv(db, bot, 10)
        other = await asyncpg.connect(postgres_url)
        transaction = other.transaction()
        await transaction.start()
        await other.execute("SELECT key FROM kv_entries WHERE key = 'k1' FOR UPDATE")
        try:
            errors = await graphql.errors(DELETE_BOT, {"id": bot})
            assert [error["extensions"]["code"] for error in errors] == ["QUERY_TOO_COMPLEX"]
        finally:
            await transaction.rollback()
            await other.close()
        total = (await graphql(KV_TOTAL, {"id": bot}))["bot"]["kvEntries"]["totalCount"]
        assert total == 10
        assert await graphql("{ bots { totalCount } }") == {"bots": {"totalCount": 1}}


async def test_without_a_time_limit_the_same_delete_completes(
    settings: Settings, clock: FakeClock
) -> None:
    unlimited = make_settings(
        settings.data_dir, database_url=settings.database_url, statement_timeout_ms="0"
    )
    async with serving(unlimited, clock) as client:
        graphql = GraphQL(client)
        bot = await create_bot(client, "Huge")
        db: Database = client._transport.app.state.db  # type: ignore[attr-defined]
        await fill_kv(db, bot, 200_000)
        assert (await graphql(DELETE_BOT, {"id": bot})) == {"deleteBot": bot}
        assert await db.read().fetch_val("SELECT count(*) FROM kv_entries") == 0
        assert await db.read().fetch_val("SELECT count(*) FROM row_counts WHERE kind = 'kv'") == 0


@pytest.mark.sqlite_only
async def test_a_write_meeting_another_process_lock_is_conflict(
    settings: Settings, clock: FakeClock
) -> None:
    short = make_settings(settings.data_dir, busy_timeout_ms="100")
    async with serving(short, clock) as client:
        graphql = GraphQL(client)
        other = sqlite3.connect(settings.data_dir / "boternity.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            errors = await graphql.errors('mutation { createBot(input: {name: "Locked"}) { id } }')
            assert [error["extensions"]["code"] for error in errors] == ["CONFLICT"]
        finally:
            other.execute("ROLLBACK")
            other.close()
        listing = await graphql("{ bots { totalCount } }")
        assert listing == {"bots": {"totalCount": 0}}
        created = await graphql('mutation { createBot(input: {name: "Free"}) { name } }')
        assert created == {"createBot": {"name": "Free"}}


@pytest.mark.postgres
async def test_a_write_meeting_a_migration_lock_on_postgresql_is_conflict(
    postgres_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    short = make_settings(tmp_path / "data", database_url=postgres_url, busy_timeout_ms="100")
    async with serving(short, clock) as client:
        graphql = GraphQL(client)
        other = await asyncpg.connect(postgres_url)
        transaction = other.transaction()
        await transaction.start()
        await other.execute("LOCK TABLE bots IN ACCESS EXCLUSIVE MODE")  # as a migration does
        try:
            errors = await graphql.errors('mutation { createBot(input: {name: "Locked"}) { id } }')
            assert [error["extensions"]["code"] for error in errors] == ["CONFLICT"]
        finally:
            await transaction.rollback()
            await other.close()
        created = await graphql('mutation { createBot(input: {name: "Free"}) { name } }')
        assert created == {"createBot": {"name": "Free"}}


CLIENTS = 40


async def post(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def test_totals_stay_exact_under_concurrent_writes(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    env = (
        {}
        if backend == "sqlite"
        else {"BOTERNITY_DATABASE_URL": request.getfixturevalue("postgres_url")}
    )
    async with (
        running_server(tmp_path / "data", env) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=60) as client,
    ):
        create = (
            "mutation($name: String!, $status: BotStatus!, $category: BotCategory!) "
            "{ createBot(input: {name: $name, status: $status, category: $category}) { id } }"
        )
        statuses, categories = ("ACTIVE", "ARCHIVED"), ("ASSISTANT", "CREATIVE", "UTILITY")
        created = await asyncio.gather(
            *(
                post(
                    client,
                    create,
                    {"name": f"b{n}", "status": statuses[n % 2], "category": categories[n % 3]},
                )
                for n in range(CLIENTS)
            )
        )
        ids = [data["createBot"]["id"] for data in created]
        main = ids[0]
        set_kv = "mutation($b: ID!, $k: String!) { setKv(botId: $b, key: $k, value: 1) { key } }"
        delete_kv = "mutation($b: ID!, $k: String!) { deleteKv(botId: $b, key: $k) }"
        log = (
            "mutation($b: ID!, $m: ID!) { logMemoryAudit(input: {botId: $b, memoryId: $m, "
            'action: ADD, actor: "user"}) { id } }'
        )
        update = "mutation($id: ID!) { updateBot(id: $id, input: {status: DISABLED}) { id } }"
        memories = [new_id() for _ in range(3)]
        writes = [
            *(post(client, set_kv, {"b": main, "k": f"k{n % 25}"}) for n in range(CLIENTS)),
            *(post(client, delete_kv, {"b": main, "k": f"k{n}"}) for n in range(0, 30, 3)),
            *(post(client, log, {"b": main, "m": memories[n % 3]}) for n in range(CLIENTS)),
            *(post(client, update, {"id": bot_id}) for bot_id in ids[1:CLIENTS:4]),
            *(post(client, DELETE_BOT, {"id": bot_id}) for bot_id in ids[2:CLIENTS:4]),
        ]
        await asyncio.gather(*writes)
        totals = await post(
            client,
            """query($b: ID!) { bot(id: $b) {
                kvEntries(first: 500) { totalCount nodes { key } }
                auditLog(first: 500) { totalCount nodes { id } } } }""",
            {"b": main},
        )
        for field in ("kvEntries", "auditLog"):
            page = totals["bot"][field]
            assert page["totalCount"] == len(page["nodes"])
        assert totals["bot"]["auditLog"]["totalCount"] == CLIENTS
        for memory in memories:
            trail = await post(
                client,
                "query($m: ID!) { memoryAuditTrail(memoryId: $m, first: 500) "
                "{ totalCount nodes { id } } }",
                {"m": memory},
            )
            page = trail["memoryAuditTrail"]
            assert page["totalCount"] == len(page["nodes"])
        listing = (
            "query($s: BotStatus, $c: BotCategory) "
            "{ bots(first: 500, status: $s, category: $c) { totalCount nodes { id } } }"
        )
        for status in (None, "ACTIVE", "ARCHIVED", "DISABLED"):
            for category in (None, *categories):
                page = (await post(client, listing, {"s": status, "c": category}))["bots"]
                assert page["totalCount"] == len(page["nodes"]), (status, category)
        everything = (await post(client, listing, {}))["bots"]
        assert everything["totalCount"] == CLIENTS - len(ids[2:CLIENTS:4])


SAVE_DRAFT = (
    "mutation($input: SaveBuilderDraftInput!) { saveBuilderDraft(input: $input) { revision } }"
)


async def test_builder_drafts_list_summaries_without_parsing_states(
    gql: GraphQL, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = [new_id() for _ in range(3)]
    for n, session in enumerate(sessions):
        state = {"initial_description": f"bot {n}", "phase": "model", "notes": "x" * 100_000}
        await gql(SAVE_DRAFT, {"input": {"sessionId": session, "state": state}})
    parsed: list[str] = []
    original = db_builder._parse_state

    def counting(text: str) -> Any:
        parsed.append(text)
        return original(text)

    monkeypatch.setattr(db_builder, "_parse_state", counting)
    summaries = await gql("{ builderDrafts { nodes { initialDescription phase } } }")
    assert summaries["builderDrafts"]["nodes"] == [
        {"initialDescription": f"bot {n}", "phase": "MODEL"} for n in (2, 1, 0)
    ]
    assert parsed == []
    states = await gql("{ builderDrafts { nodes { state } } }")
    assert [node["state"]["initial_description"] for node in states["builderDrafts"]["nodes"]] == [
        "bot 2",
        "bot 1",
        "bot 0",
    ]
    assert len(parsed) == 3


SAVE_PROVIDER = (
    "mutation($name: String!) { saveProviderHealth(input: {name: $name, priority: 1}) "
    "{ name priority } }"
)
RECORD_CALL = (
    "mutation($name: String!) { recordProviderCall(input: {name: $name, success: true}) "
    "{ name totalCalls } }"
)


async def test_providers_are_bounded_by_max_providers(settings: Settings, clock: FakeClock) -> None:
    bounded = make_settings(
        settings.data_dir, database_url=settings.database_url, max_providers="3"
    )
    async with serving(bounded, clock) as client:
        graphql = GraphQL(client)
        for name in ("a", "b"):
            await graphql(SAVE_PROVIDER, {"name": name})
        await graphql(RECORD_CALL, {"name": "c"})  # the third: at the limit
        for query in (SAVE_PROVIDER, RECORD_CALL):
            errors = await graphql.errors(query, {"name": "d"})
            assert [error["extensions"]["code"] for error in errors] == ["CONFLICT"]
            assert errors[0]["message"] == (
                "at most 3 providers may exist (setting max_providers); "
                "delete one or raise the setting"
            )
        names = await graphql("{ providers { name } }")
        assert names == {"providers": [{"name": "c"}, {"name": "a"}, {"name": "b"}]}
        assert await graphql(SAVE_PROVIDER, {"name": "a"}) == {
            "saveProviderHealth": {"name": "a", "priority": 1}
        }
        assert await graphql(RECORD_CALL, {"name": "b"}) == {
            "recordProviderCall": {"name": "b", "totalCalls": 1}
        }
        await graphql('mutation { deleteProviderHealth(name: "a") }')
        assert await graphql(SAVE_PROVIDER, {"name": "d"}) == {
            "saveProviderHealth": {"name": "d", "priority": 1}
        }
