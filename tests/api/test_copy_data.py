"""`boternity-graphql copy-data`: a SQLite deployment (rows of every table and file content)
moved into an empty PostgreSQL database, with progress on stderr and a tally per table."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from db.copy_data import DERIVED, TABLES
from tests.api.upload_helpers import serving, uploaded
from tests.conftest import FakeClock, GraphQL, make_settings

pytestmark = pytest.mark.postgres
BIN = Path(sys.executable).parent / "boternity-graphql"
ID = "01a2032b-3367-77cd-87bc-d68b2a1db8cc"
READ_BACK = """
query($bot: ID!) {
  bot(id: $bot) { name slug tags kvEntries(first: 10) { nodes { key value } } }
  file(botId: $bot, filename: "a.txt") {
    isIndexed version versions(first: 5) { nodes { version downloadUrl } }
  }
  auditLog(botId: $bot) { totalCount }
  providers { name totalCalls }
  builderDraft(sessionId: "01a2032b-3367-77cd-87bc-d68b2a1db8cc") { revision state }
  recentBuilderMemory(limit: 5) { initialDescription }
}
"""


def copy_data(source: Path, target: str, *extra: str) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("BOTERNITY")}
    return subprocess.run(
        [str(BIN), "copy-data", "--from", f"sqlite:///{source}", "--to", target, *extra],
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
        check=False,
    )


async def fill(gql: GraphQL, client: Any) -> str:
    """One of everything; returns the bot's id."""
    bot = (await gql('mutation { createBot(input: {name: "Mover", tags: ["x"]}) { id } }'))[
        "createBot"
    ]["id"]
    await gql(
        'mutation($b: ID!, $v: JSON!) { setKv(botId: $b, key: "k", value: $v) { key } }',
        {"b": bot, "v": {"a": [1, None]}},
    )
    await uploaded(client, bot, "a.txt", b"first")
    file = await uploaded(client, bot, "a.txt", b"second" * 100_000)
    await gql(
        "mutation($id: ID!) { updateFile(id: $id, input: {isIndexed: true}) { id } }",
        {"id": file["id"]},
    )
    await gql(
        "mutation($b: ID!) { logMemoryAudit(input: {botId: $b, "
        'memoryId: "01a2032b-3367-77cd-87bc-d68b2a1db8cd", action: ADD, actor: "me"}) { id } }',
        {"b": bot},
    )
    await gql('mutation { recordProviderCall(input: {name: "openai", success: true}) { name } }')
    await gql(
        'mutation($id: ID!) { saveBuilderDraft(input: {sessionId: $id, state: {phase: "x"}}) '
        "{ revision } }",
        {"id": ID},
    )
    await gql(
        "mutation { recordBuilderMemory(input: {purposeCategory: CODING, "
        'initialDescription: "a coder"}) { id } }'
    )
    return str(bot)


async def test_copy_data_moves_every_row_and_file_and_tallies_them(
    tmp_path: Path, postgres_url: str, clock: FakeClock
) -> None:
    data_dir = tmp_path / "data"
    async with serving(make_settings(data_dir), clock) as client:
        bot = await fill(GraphQL(client), client)
        before = await GraphQL(client)(READ_BACK, {"bot": bot})
    result = copy_data(data_dir / "boternity.db", postgres_url)
    assert result.returncode == 0, result.stderr
    bar = "file content             [##############################] 600005/600005 bytes"
    assert result.stderr.splitlines()[-1] == bar  # (text mode turns each \r into a newline)
    tally = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()[1:]}
    assert tally["bot_file_versions"] == ["2", "2", "ok"]
    assert tally["api_keys"] == ["0", "0", "ok"]
    assert [tally[table][2] for table in TABLES] == ["ok"] * len(TABLES)
    moved = make_settings(tmp_path / "elsewhere", database_url=postgres_url)
    async with serving(moved, clock) as client:
        after = await GraphQL(client)(READ_BACK, {"bot": bot})
        versions = after["file"]["versions"]["nodes"]
        contents = [(await client.get(node["downloadUrl"])).content for node in versions]
    for data in (before, after):  # download URLs carry each server's signature
        data["file"]["versions"]["nodes"] = [node["version"] for node in versions]
    assert after == before
    assert after["file"]["isIndexed"] is True
    assert contents == [b"second" * 100_000, b"first"]


async def test_copy_data_into_a_database_with_rows_is_refused_and_writes_nothing(
    tmp_path: Path, postgres_url: str, clock: FakeClock
) -> None:
    data_dir = tmp_path / "data"
    async with serving(make_settings(data_dir), clock) as client:
        await fill(GraphQL(client), client)
    assert copy_data(data_dir / "boternity.db", postgres_url).returncode == 0
    again = copy_data(data_dir / "boternity.db", postgres_url)
    assert again.returncode == 2
    assert again.stderr == (
        "boternity-graphql: error: the target database is not empty (bots has 1 rows); "
        "copy-data fills an empty database\n"
    )


async def test_copy_data_with_missing_content_is_refused(
    tmp_path: Path, postgres_url: str, clock: FakeClock
) -> None:
    data_dir = tmp_path / "data"
    async with serving(make_settings(data_dir), clock) as client:
        await fill(GraphQL(client), client)
    for path in (data_dir / "content").rglob("*"):
        if path.is_file():
            path.unlink()
    result = copy_data(data_dir / "boternity.db", postgres_url)
    assert result.returncode == 2
    assert "is missing from" in result.stderr
    async with serving(
        make_settings(tmp_path / "elsewhere", database_url=postgres_url), clock
    ) as c:
        assert (await GraphQL(c)("{ bots { totalCount } }"))["bots"]["totalCount"] == 0


def test_copy_data_knows_every_table(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    subprocess.run(
        [str(BIN), "migrate"],
        env={**os.environ, "BOTERNITY_DATA_DIR": str(data_dir)},
        check=True,
        capture_output=True,
        timeout=60,
    )
    with sqlite3.connect(data_dir / "boternity.db") as raw:
        rows = raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    # database_identity names the SQLite file its content store belongs to: not copied
    own = {"schema_migrations", "database_identity"}
    assert sorted(TABLES + DERIVED) == sorted(
        name for (name,) in rows if name not in own and not name.startswith("sqlite_")
    )
