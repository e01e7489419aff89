"""The migration runner: from empty, idempotent, atomic per migration, refuses drift."""

import shutil
import sqlite3
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path

import pytest

from db.connection import Database
from db.errors import MigrationError
from db.migrate import load_migrations, migrate, pending, split_statements
from tests.conftest import FakeClock


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'test.db'}")
    await db.connect()
    yield db
    await db.disconnect()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A copy of the packaged migrations that a test may change."""
    folder = tmp_path / "migrations"
    shutil.copytree(Path(str(resources.files("migrations"))), folder)
    return folder


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as raw:
        rows = raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {row[0] for row in rows}


async def test_migrate_from_empty_applies_all_in_order(
    database: Database, clock: FakeClock
) -> None:
    applied = await migrate(database, clock)
    assert applied == [migration.name for migration in load_migrations()]
    assert applied[0] == "0001_bots.sql"
    assert {"bots", "schema_migrations"} <= tables(database.path)
    rows = await database.read().fetch_all(
        "SELECT version, name, applied_at FROM schema_migrations"
    )
    assert (rows[0]["version"], rows[0]["name"]) == (1, "0001_bots.sql")
    assert rows[0]["applied_at"] == "2026-02-12T22:04:12.123456+00:00"


async def test_migrate_sets_wal_and_every_connection_has_foreign_keys(
    database: Database, clock: FakeClock
) -> None:
    await migrate(database, clock)
    reopened = Database(database.url)
    await reopened.connect()
    try:
        assert await reopened.read().fetch_val("PRAGMA journal_mode") == "wal"
    finally:
        await reopened.disconnect()
    for _ in range(3):
        assert await database.read().fetch_val("PRAGMA foreign_keys") == 1
    async with database.write() as conn:
        assert await conn.fetch_val("PRAGMA foreign_keys") == 1
        assert await conn.fetch_val("PRAGMA busy_timeout") == 5000
        assert await conn.fetch_val("PRAGMA synchronous") == 2  # FULL


async def test_migrate_twice_applies_nothing_the_second_time(
    database: Database, clock: FakeClock
) -> None:
    await migrate(database, clock)
    assert await migrate(database, clock) == []
    assert await pending(database.read()) == []


async def test_failing_migration_leaves_nothing_of_it_applied(
    database: Database, clock: FakeClock, source: Path
) -> None:
    (source / "0900_broken.sql").write_text(
        "-- broken on purpose\nCREATE TABLE half_done (id TEXT);\nINSERT INTO nowhere VALUES (1);\n"
    )
    with pytest.raises(sqlite3.OperationalError, match="no such table: nowhere"):
        await migrate(database, clock, source)
    assert "half_done" not in tables(database.path)
    assert await pending(database.read(), source) == ["0900_broken.sql"]
    versions = await database.read().fetch_all("SELECT version FROM schema_migrations")
    assert 900 not in [row["version"] for row in versions]


async def test_changed_applied_migration_is_refused(
    database: Database, clock: FakeClock, source: Path
) -> None:
    await migrate(database, clock, source)
    first = source / "0001_bots.sql"
    first.write_text(first.read_text() + "\n-- edited after landing\n")
    with pytest.raises(
        MigrationError, match=r"migration 0001_bots\.sql changed after it was applied"
    ):
        await migrate(database, clock, source)
    with pytest.raises(MigrationError):
        await pending(database.read(), source)


async def test_unknown_applied_migration_is_refused(
    database: Database, clock: FakeClock, source: Path
) -> None:
    (source / "0901_extra.sql").write_text("CREATE TABLE extra (id TEXT);\n")
    await migrate(database, clock, source)
    (source / "0901_extra.sql").unlink()
    with pytest.raises(MigrationError, match=r"0901_extra\.sql, which this version does not know"):
        await migrate(database, clock, source)


def test_split_statements_keeps_triggers_and_strings_whole() -> None:
    script = """
-- a comment
CREATE TABLE t (a TEXT DEFAULT 'x;y');
CREATE TRIGGER tr AFTER INSERT ON t BEGIN
    UPDATE t SET a = 'z';
END;
"""
    statements = split_statements(script)
    assert len(statements) == 2
    assert statements[0].endswith("DEFAULT 'x;y');")
    assert statements[1].startswith("CREATE TRIGGER")
    assert statements[1].endswith("END;")


def test_split_statements_refuses_incomplete_statement() -> None:
    with pytest.raises(MigrationError, match="incomplete SQL statement"):
        split_statements("CREATE TABLE t (a TEXT)")


def test_load_migrations_takes_files_of_this_dialect_and_plain_ones(source: Path) -> None:
    (source / "0900_both.sql").write_text("CREATE TABLE both_ (id TEXT);\n")
    (source / "0901_only.postgresql.sql").write_text("CREATE TABLE pg (data BYTEA);\n")
    (source / "0902_only.sqlite.sql").write_text("CREATE TABLE lite (data BLOB);\n")
    sqlite_names = [migration.name for migration in load_migrations(source)][-2:]
    postgres_names = [migration.name for migration in load_migrations(source, "postgresql")][-2:]
    assert sqlite_names == ["0900_both.sql", "0902_only.sqlite.sql"]
    assert postgres_names == ["0900_both.sql", "0901_only.postgresql.sql"]


def test_load_migrations_refuses_a_plain_and_a_dialect_file_of_one_version(source: Path) -> None:
    (source / "0900_x.sql").write_text("CREATE TABLE x (id TEXT);\n")
    (source / "0900_x.postgresql.sql").write_text("CREATE TABLE x (id TEXT);\n")
    assert [migration.name for migration in load_migrations(source)][-1] == "0900_x.sql"
    with pytest.raises(MigrationError, match="two migration files share a version number"):
        load_migrations(source, "postgresql")
