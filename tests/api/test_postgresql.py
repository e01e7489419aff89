"""What only PostgreSQL has: file content in the database (chunked, stored once, gone with the
last version naming it, never half-written), the shared download secret, byte-order columns,
migrations run by several processes at once, and the LISTEN/NOTIFY broker. Every test here
runs on PostgreSQL alone (`settings` below), and skips without BOTERNITY_TEST_POSTGRES_URL."""

import asyncio
import hashlib
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from db import files as db_files
from db.codec import system_clock
from db.file_contents import CHUNK_BYTES
from db.migrate import load_migrations, migrate, pending
from db.postgres import PostgresDatabase
from db.postgres_broker import PostgresBroker
from db.settings import Settings
from tests.api.upload_helpers import create_bot, serving, upload, uploaded
from tests.api.ws_session import WsSession, subscribed
from tests.conftest import FakeClock, GraphQL, codes, make_settings

pytestmark = pytest.mark.postgres
CONTENTS = """
SELECT c.sha256, c.size_bytes, count(k.chunk_index) AS chunks, sum(length(k.data)) AS stored
FROM file_contents c LEFT JOIN file_content_chunks k ON k.sha256 = c.sha256
GROUP BY c.sha256, c.size_bytes ORDER BY c.sha256
"""
DELETE_FILE = "mutation($b: ID!, $f: String!) { deleteFile(botId: $b, filename: $f) }"


@pytest.fixture
def settings(tmp_path: Path, postgres_url: str) -> Settings:
    return make_settings(tmp_path / "data", database_url=postgres_url)


@pytest.fixture
async def bot(client: httpx.AsyncClient) -> str:
    return await create_bot(client)


async def contents(app: Starlette) -> list[tuple[str, int, int, int | None]]:
    """(sha256, size, chunks, bytes in chunks) per stored content."""
    rows = await app.state.db.read().fetch_all(CONTENTS)
    return [(row["sha256"], row["size_bytes"], row["chunks"], row["stored"]) for row in rows]


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


async def test_upload_stores_content_in_1_mib_chunks_and_downloads_it_whole(
    app: Starlette, client: httpx.AsyncClient, bot: str
) -> None:
    content = os.urandom(2 * CHUNK_BYTES + 12345)
    file = await uploaded(client, bot, "big.bin", content)
    assert await contents(app) == [(sha(content), len(content), 3, len(content))]
    download = await client.get(file["downloadUrl"])
    assert download.headers["content-length"] == str(len(content))
    assert download.content == content


async def test_upload_empty_file_stores_content_without_chunks(
    app: Starlette, client: httpx.AsyncClient, bot: str
) -> None:
    file = await uploaded(client, bot, "empty.txt", b"")
    assert await contents(app) == [(sha(b""), 0, 0, None)]
    assert (await client.get(file["downloadUrl"])).content == b""
    assert (await client.get(file["downloadUrl"])).headers["content-length"] == "0"


async def test_same_content_in_two_files_is_stored_once_and_kept_until_the_last_goes(
    app: Starlette, client: httpx.AsyncClient, gql: GraphQL, bot: str
) -> None:
    kept = await uploaded(client, bot, "a.txt", b"shared")
    await uploaded(client, bot, "b.txt", b"shared")
    assert await contents(app) == [(sha(b"shared"), 6, 1, 6)]
    await gql(DELETE_FILE, {"b": bot, "f": "b.txt"})
    assert await contents(app) == [(sha(b"shared"), 6, 1, 6)]
    assert (await client.get(kept["downloadUrl"])).content == b"shared"
    await gql(DELETE_FILE, {"b": bot, "f": "a.txt"})
    assert await contents(app) == []


async def test_delete_bot_removes_content_only_its_files_named(
    app: Starlette, client: httpx.AsyncClient, gql: GraphQL, bot: str
) -> None:
    other = await create_bot(client, "Other Bot")
    await uploaded(client, other, "kept.txt", b"shared")
    await uploaded(client, bot, "a.txt", b"one")
    await uploaded(client, bot, "a.txt", b"two")
    await uploaded(client, bot, "b.txt", b"shared")
    await gql("mutation($id: ID!) { deleteBot(id: $id) }", {"id": bot})
    assert await contents(app) == [(sha(b"shared"), 6, 1, 6)]


async def test_failing_upload_transaction_leaves_no_content(
    app: Starlette, client: httpx.AsyncClient, gql: GraphQL, bot: str, monkeypatch: Any
) -> None:
    monkeypatch.setattr(db_files, "INSERT_VERSION", "INSERT INTO no_such_table VALUES (:id)")
    body = (await upload(client, bot, "a.txt", b"x" * (CHUNK_BYTES + 1))).json()
    assert codes(body["errors"]) == ["INTERNAL_SERVER_ERROR"]
    assert await contents(app) == []
    assert (await gql("query($b: ID!) { files(botId: $b) { totalCount } }", {"b": bot})) == {
        "files": {"totalCount": 0}
    }


async def test_download_url_signed_by_one_process_opens_on_another(
    client: httpx.AsyncClient, bot: str, tmp_path: Path, postgres_url: str, clock: FakeClock
) -> None:
    file = await uploaded(client, bot, "a.txt", b"hello")
    elsewhere = make_settings(tmp_path / "elsewhere", database_url=postgres_url)
    async with serving(elsewhere, clock) as other:
        assert (await other.get(file["downloadUrl"])).content == b"hello"
    assert not (tmp_path / "elsewhere" / "secret.key").exists()


async def test_every_text_column_sorts_in_byte_order(app: Starlette) -> None:
    rows = await app.state.db.read().fetch_all(
        "SELECT table_name, column_name, collation_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND data_type = 'text' "
        "AND table_name <> 'schema_migrations'"
    )
    assert len(rows) > 40
    assert {row["collation_name"] for row in rows} == {"C"}


async def test_processes_migrating_an_empty_database_at_once_apply_each_migration_once(
    postgres_server: Any,
) -> None:
    url = postgres_server.fresh_database(migrated=False)
    databases = [PostgresDatabase(url, pool_size=2) for _ in range(3)]
    try:
        for db in databases:
            await db.connect()
        applied = await asyncio.gather(*(migrate(db, system_clock) for db in databases))
        names = [migration.name for migration in load_migrations(dialect="postgresql")]
        assert sorted(name for each in applied for name in each) == sorted(names)
        assert "0008_shared_state.postgresql.sql" in names
        assert await pending(databases[0].read()) == []
    finally:
        for db in databases:
            await db.disconnect()
        postgres_server.drop(url)


KV_CHANGED = "subscription($b: ID!) { kvChanged(botId: $b) { key entry { value } } }"
SET_KV = "mutation($b: ID!, $k: String!, $v: JSON) { setKv(botId: $b, key: $k, value: $v) { key } }"


async def test_broker_is_postgres_with_a_postgresql_database(app: Starlette) -> None:
    assert isinstance(app.state.broker, PostgresBroker)


async def test_kv_event_over_the_notify_payload_limit_arrives_whole(
    app: Starlette, gql: GraphQL, bot: str
) -> None:
    big = "é" * 20_000 + "🙂" * 5000  # 60,000 bytes of UTF-8: parts cut between characters
    async with WsSession(app) as ws:
        await ws.init()
        await ws.subscribe("1", KV_CHANGED, {"b": bot})
        await subscribed(app, f"kv/{bot}")
        await gql(SET_KV, {"b": bot, "k": "big", "v": big})
        await gql(SET_KV, {"b": bot, "k": "small", "v": 1})
        assert await ws.next("1") == {"kvChanged": {"key": "big", "entry": {"value": big}}}
        assert await ws.next("1") == {"kvChanged": {"key": "small", "entry": {"value": 1}}}


async def test_lost_listening_connection_ends_subscriptions_then_listens_again(
    app: Starlette, gql: GraphQL, bot: str
) -> None:
    async with WsSession(app) as ws:
        await ws.init()
        await ws.subscribe("1", KV_CHANGED, {"b": bot})
        await subscribed(app, f"kv/{bot}")
        await app.state.db.read().execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE query LIKE 'LISTEN %' AND datname = current_database()"
        )
        await ws.completed("1")  # the client resubscribes and re-reads
        async with asyncio.timeout(10):
            while not app.state.broker.listening:  # noqa: ASYNC110 (reconnecting)
                await asyncio.sleep(0.01)
        await ws.subscribe("2", KV_CHANGED, {"b": bot})
        await subscribed(app, f"kv/{bot}")
        await gql(SET_KV, {"b": bot, "k": "after", "v": 2})
        assert await ws.next("2") == {"kvChanged": {"key": "after", "entry": {"value": 2}}}
