"""The content store belongs to one database (db/content_owner.py) and unreferenced content is
removed only past the grace period (db/content_sweep.py): the two ways issue 17 found to lose
every file's content."""

import json
import logging
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.main import create_app
from db import files as db_files
from db.codec import format_timestamp, new_id
from db.connection import Database
from db.content import ContentStore
from db.content_owner import OWNER_FILE, OwnerError
from db.content_sweep import sweep
from db.migrate import migrate
from tests.api.upload_helpers import create_bot, serving, stored, uploaded
from tests.conftest import START, FakeClock, make_settings

pytestmark = pytest.mark.sqlite_only
BIN = Path(sys.executable).parent / "boternity-graphql"
DOWNLOAD = (
    "query($botId: ID!, $filename: String!)"
    " { file(botId: $botId, filename: $filename) { downloadUrl } }"
)


def cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("BOTERNITY")}
    environ.update(BOTERNITY_DATA_DIR=str(data_dir), BOTERNITY_AUTH="disabled")
    return subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, env=environ, timeout=60, check=False
    )


def identity(database: Path) -> str:
    with sqlite3.connect(database) as conn:
        found: str = conn.execute("SELECT identity FROM database_identity").fetchone()[0]
    conn.close()
    return found


async def download(client: httpx.AsyncClient, bot: str, filename: str) -> bytes:
    found = await client.post(
        "/graphql", json={"query": DOWNLOAD, "variables": {"botId": bot, "filename": filename}}
    )
    response = await client.get(found.json()["data"]["file"]["downloadUrl"])
    assert response.status_code == 200, response.text
    return response.content


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


async def test_another_database_on_the_same_data_dir_is_refused_and_deletes_nothing(
    data_dir: Path, clock: FakeClock
) -> None:
    settings = make_settings(data_dir)
    async with serving(settings, clock) as client:
        bot = await create_bot(client)
        await uploaded(client, bot, "a.txt", b"precious")
    before = stored(data_dir)
    past_grace = time.time() - settings.content_grace_seconds - 1
    os.utime(data_dir / before[0], (past_grace, past_grace))
    typo = data_dir / "boternity.sqlite"
    for command in (["serve"], ["migrate"], ["api-key", "list"]):
        result = cli(*command, "--database-url", f"sqlite:///{typo}", data_dir=data_dir)
        assert result.returncode == 2, result.stderr
        assert result.stderr == (
            f"boternity-graphql: error: the content store {data_dir / 'content'} belongs to "
            f"the database {data_dir / 'boternity.db'}, not to {typo} (identity "
            f"{identity(data_dir / 'boternity.db')} there, {identity(typo)} here); refusing to "
            "start, nothing was deleted\n"
        )
    other = create_app(make_settings(data_dir, database_url=f"sqlite:///{typo}"), clock=clock)
    with pytest.raises(OwnerError):
        await LifespanManager(other).__aenter__()
    assert stored(data_dir) == before
    async with serving(settings, clock) as client:
        assert await download(client, bot, "a.txt") == b"precious"


async def test_a_store_without_owner_is_claimed_only_by_a_database_that_names_files(
    data_dir: Path, clock: FakeClock
) -> None:
    settings = make_settings(data_dir)
    async with serving(settings, clock) as client:
        await uploaded(client, await create_bot(client), "a.txt", b"made before 0009")
    (data_dir / "content" / OWNER_FILE).unlink()  # as a data dir from before migration 0009
    empty = data_dir / "empty.db"
    result = cli("migrate", "--database-url", f"sqlite:///{empty}", data_dir=data_dir)
    assert result.returncode == 2
    assert result.stderr == (
        f"boternity-graphql: error: the content store {data_dir / 'content'} holds files but "
        f"the database {empty} names none (another database's content?); refusing to start, "
        "nothing was deleted\n"
    )
    assert not (data_dir / "content" / OWNER_FILE).exists()
    assert cli("migrate", data_dir=data_dir).returncode == 0
    owner = json.loads((data_dir / "content" / OWNER_FILE).read_text())
    database = data_dir / "boternity.db"
    assert owner == {"identity": identity(database), "database": str(database)}


async def test_a_second_process_starting_while_the_first_is_between_fsync_and_commit(
    data_dir: Path, clock: FakeClock
) -> None:
    """Process one has fsynced an upload into tmp when process two starts on the same data dir
    and sweeps: the upload is younger than the grace period, so it is left alone and commits.
    (Content linked into the store but not committed yet is as young: the sweep's grace test
    below keeps it too.)"""
    settings = make_settings(data_dir)
    first = create_app(settings, clock=clock)
    transport = httpx.ASGITransport(app=first)
    async with (
        LifespanManager(first),
        httpx.AsyncClient(transport=transport, base_url="http://localhost") as client,
    ):
        bot = await create_bot(client)
        writer = first.state.content.new_writer()
        writer.write(b"fsynced, not committed")
        staged = writer.finish()
        second = create_app(settings, clock=clock)
        async with LifespanManager(second):
            assert await second.state.files.sweeping == 0
        async with first.state.db.write() as conn:
            await db_files.create_version(
                conn,
                file_id=new_id(),
                version_id=new_id(),
                bot_id=bot,
                filename="late.txt",
                mime_type="text/plain",
                content=staged,
                store=first.state.content,
                now=format_timestamp(START),
            )
        staged.path.unlink()
        assert await download(client, bot, "late.txt") == b"fsynced, not committed"


async def test_the_sweep_removes_unnamed_content_only_past_the_grace_and_logs_each(
    data_dir: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(data_dir, content_grace_seconds="600")
    async with serving(settings, clock) as client:
        await uploaded(client, await create_bot(client), "named.txt", b"named")
    store = ContentStore(data_dir, grace_seconds=600)
    named = stored(data_dir)[0]
    now = time.time()
    ages = {named: 601, "content/ab/" + "1" * 62: 600, "content/ab/" + "2" * 62: 601}
    for name, age in ages.items():
        path = data_dir / name
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(b"x" * age)
        os.utime(path, (now - age, now - age))
    db = Database(settings.database_url)
    await db.connect()
    try:
        await migrate(db, clock)
        with caplog.at_level(logging.INFO, logger="boternity.content"):
            assert await sweep(db, store, now=lambda: now) == 1
    finally:
        await db.disconnect()
    assert stored(data_dir) == sorted([named, "content/ab/" + "1" * 62])
    assert [record.getMessage() for record in caplog.records] == [
        f"removed unreferenced content sha256=ab{'2' * 62} size=601",
        "content sweep finished: 1 unreferenced file(s) removed",
    ]
