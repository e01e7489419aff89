"""`boternity-graphql backup`, `restore` and `verify` on a SQLite deployment: a round trip, the
refusals, and what verify finds."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.api.upload_helpers import create_bot, serving, stored, uploaded
from tests.conftest import FakeClock, make_settings
from tests.postgres import PostgresServer

BIN = Path(sys.executable).parent / "boternity-graphql"


def cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("BOTERNITY")}
    environ["BOTERNITY_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, env=environ, timeout=120, check=False
    )


@pytest.mark.sqlite_only
async def test_backup_restore_verify_round_trip_and_refusals(
    tmp_path: Path, clock: FakeClock
) -> None:
    data_dir = tmp_path / "data"
    async with serving(make_settings(data_dir), clock) as client:
        bot = await create_bot(client)
        for name, content in (("a.txt", b"alpha"), ("b.txt", b"beta"), ("c.txt", b"alpha")):
            await uploaded(client, bot, name, content)
    dest = tmp_path / "backup"
    made = cli("backup", str(dest), data_dir=data_dir)
    assert made.returncode == 0, made.stderr
    assert re.fullmatch(
        rf"backed up \d+ rows, 2 files, 9 bytes in \d+\.\d s to {dest}\n", made.stdout
    )
    assert sorted(os.listdir(tmp_path)) == ["backup", "data"]  # nothing partial left beside
    again = cli("backup", str(dest), data_dir=data_dir)
    assert (again.returncode, again.stderr) == (
        2,
        f"boternity-graphql: error: {dest} exists already; give a path that does not\n",
    )
    refused = cli("restore", str(dest), data_dir=data_dir)
    assert (refused.returncode, refused.stderr) == (
        2,
        f"boternity-graphql: error: the data dir {data_dir} is not empty; restore into an "
        "empty one\n",
    )
    fresh = tmp_path / "fresh"
    restored = cli("restore", str(dest), data_dir=fresh)
    assert restored.returncode == 0, restored.stderr
    assert re.fullmatch(
        rf"restored \d+ rows, 2 files, 9 bytes in \d+\.\d s into {fresh}\n", restored.stdout
    )
    assert stored(fresh) == stored(data_dir)
    checked = cli("verify", data_dir=fresh)
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout == (
        f"verify: ok ({fresh / 'boternity.db'}: integrity ok; 2 files present with their size "
        "and sha256; no unreferenced content older than 3600 s)\n"
    )
    async with serving(make_settings(fresh), clock) as client:
        files = await client.post(
            "/graphql",
            json={
                "query": "query($b: ID!) { files(botId: $b) { nodes { filename sizeBytes } } }",
                "variables": {"b": bot},
            },
        )
    assert files.json()["data"]["files"]["nodes"] == [
        {"filename": name, "sizeBytes": size}
        for name, size in (("a.txt", 5), ("b.txt", 4), ("c.txt", 5))
    ]


@pytest.mark.sqlite_only
async def test_verify_lists_missing_corrupt_and_old_unreferenced_content(
    tmp_path: Path, clock: FakeClock
) -> None:
    data_dir = tmp_path / "data"
    async with serving(make_settings(data_dir), clock) as client:
        bot = await create_bot(client)
        await uploaded(client, bot, "a.txt", b"alpha")
        await uploaded(client, bot, "b.txt", b"beta")
    alpha, beta = sorted(stored(data_dir), key=lambda name: (data_dir / name).stat().st_size)[::-1]
    (data_dir / alpha).write_bytes(b"ALPHA")
    (data_dir / beta).unlink()
    orphan = data_dir / "content" / "ff" / ("f" * 62)
    orphan.parent.mkdir()
    orphan.write_bytes(b"left over")
    old = time.time() - 3601
    os.utime(orphan, (old, old))
    checked = cli("verify", data_dir=data_dir)
    assert checked.returncode == 1
    sha = {name: Path(name).parent.name + Path(name).name for name in (alpha, beta)}
    assert checked.stdout.splitlines() == [
        *sorted(
            [
                f"content {sha[alpha]}: its bytes do not match its sha256",
                f"content {sha[beta]}: missing",
            ],
            key=lambda line: line.split()[1],
        ),
        f"content {'f' * 64}: unreferenced, older than the grace period",
        f"verify: 3 problem(s) in {data_dir / 'boternity.db'} and {data_dir / 'content'}",
    ]


@pytest.mark.postgres
async def test_postgresql_backup_and_restore_drive_pg_dump_and_pg_restore(
    tmp_path: Path, clock: FakeClock, postgres_server: PostgresServer
) -> None:
    source, target = (
        postgres_server.fresh_database(),
        postgres_server.fresh_database(migrated=False),
    )
    try:
        async with serving(make_settings(tmp_path / "a", database_url=source), clock) as client:
            bot = await create_bot(client)
            await uploaded(client, bot, "a.txt", b"in the database")
        dest = tmp_path / "dump"
        made = cli("backup", str(dest), "--database-url", source, data_dir=tmp_path / "a")
        assert made.returncode == 0, made.stderr
        assert re.fullmatch(
            rf"backed up .* with pg_dump \(\d+ bytes\) in \d+\.\d s to {dest}\n", made.stdout
        )
        put = cli("restore", str(dest), "--database-url", target, data_dir=tmp_path / "b")
        assert put.returncode == 0, put.stderr
        async with serving(make_settings(tmp_path / "b", database_url=target), clock) as client:
            found = await client.post(
                "/graphql",
                json={
                    "query": "query($b: ID!) { files(botId: $b) { nodes { filename sizeBytes } } }",
                    "variables": {"b": bot},
                },
            )
        assert found.json()["data"]["files"]["nodes"] == [{"filename": "a.txt", "sizeBytes": 15}]
    finally:
        postgres_server.drop(source)
        postgres_server.drop(target)
