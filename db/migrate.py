"""The migration runner.

Migrations are migrations/NNNN_snake_case.sql, applied in order. Each one and its bookkeeping row
(version, name, sha256 checksum) commit in one transaction, so a failing migration leaves nothing
applied. A database whose applied migration no longer matches its file (edited after it landed),
or that has a migration this version does not know, is refused.

Where the SQL must differ, NNNN_snake_case.sqlite.sql or NNNN_snake_case.postgresql.sql serves
that database alone (a version is one plain file, or one file per database). On PostgreSQL,
TEXT columns are declared COLLATE "C" as they run (db/dialect.py), and processes starting at
once take turns on an advisory lock.
"""

import hashlib
import re
import sqlite3
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from db.codec import Clock, format_timestamp
from db.connection import Conn, Database, WriteConn
from db.dialect import MIGRATION_LOCK, SQLITE, TABLE_EXISTS, UNLIMITED, migration_ddl
from db.errors import MigrationError

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)(?:\.(sqlite|postgresql))?\.sql$")

_CREATE_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TEXT NOT NULL
)
"""
_SELECT_APPLIED = "SELECT version, name, checksum FROM schema_migrations ORDER BY version"
_INSERT_APPLIED = """
INSERT INTO schema_migrations (version, name, checksum, applied_at)
VALUES (:version, :name, :checksum, :applied_at)
"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(source: Path | None = None, dialect: str = SQLITE) -> list[Migration]:
    """The migration files for `dialect` in order; `source` defaults to the packaged migrations
    folder."""
    folder = source if source is not None else Path(str(resources.files("migrations")))
    found: list[Migration] = []
    for path in sorted(folder.iterdir()):
        match = _FILE_NAME.match(path.name)
        if match is None or match[3] not in (None, dialect):
            continue
        found.append(Migration(int(match[1]), path.name, path.read_text(encoding="utf-8")))
    versions = [migration.version for migration in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migration files share a version number in {folder}")
    return found


def split_statements(script: str) -> list[str]:
    """Split a SQL script into complete statements (triggers and strings kept whole)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statement = buffer.strip()
            if _has_code(statement):
                statements.append(statement)
            buffer = ""
    if _has_code(buffer):
        raise MigrationError(f"incomplete SQL statement at the end: {buffer.strip()[:80]}")
    return statements


def _has_code(text: str) -> bool:
    return (
        any(line.strip() and not line.strip().startswith("--") for line in text.splitlines())
        and text.strip() != ";"
    )


async def _applied(conn: Conn) -> dict[int, tuple[str, str]]:
    rows = await conn.fetch_all(_SELECT_APPLIED)
    return {row["version"]: (row["name"], row["checksum"]) for row in rows}


def _check_known(applied: dict[int, tuple[str, str]], migrations: list[Migration]) -> None:
    known = {migration.version: migration for migration in migrations}
    for version, (name, checksum) in applied.items():
        migration = known.get(version)
        if migration is None:
            raise MigrationError(
                f"the database has migration {name}, which this version does not know"
            )
        if migration.checksum != checksum:
            raise MigrationError(
                f"migration {migration.name} changed after it was applied "
                f"(checksum {checksum[:12]} in the database, {migration.checksum[:12]} on disk)"
            )


async def migrate(db: Database, clock: Clock, source: Path | None = None) -> list[str]:
    """Apply every pending migration; returns the names applied."""
    with db.without_time_limit():
        return await _migrate(db, clock, source)


async def _migrate(db: Database, clock: Clock, source: Path | None) -> list[str]:
    dialect = db.read().dialect
    migrations = load_migrations(source, dialect)
    await db.read().fetch_all("SELECT 1")  # reachable before anything else
    async with db.write() as conn:
        await _take_turn(conn)
        await conn.execute(_CREATE_BOOKKEEPING)
    if dialect == SQLITE:
        await _set_wal(db)
    applied_now: list[str] = []
    for migration in migrations:
        async with db.write() as conn:
            await _take_turn(conn)
            applied = await _applied(conn)
            _check_known(applied, migrations)
            if migration.version in applied:
                continue
            for statement in split_statements(migration.sql):
                await conn.execute(migration_ddl(statement, dialect))
            await conn.execute(
                _INSERT_APPLIED,
                {
                    "version": migration.version,
                    "name": migration.name,
                    "checksum": migration.checksum,
                    "applied_at": format_timestamp(clock()),
                },
            )
        applied_now.append(migration.name)
    async with db.write() as conn:
        _check_known(await _applied(conn), migrations)
    return applied_now


async def pending(conn: Conn, source: Path | None = None) -> list[str]:
    """Names of migrations not applied yet; raises MigrationError when the database is off."""
    migrations = load_migrations(source, conn.dialect)
    has_table = await conn.fetch_val(TABLE_EXISTS[conn.dialect], {"name": "schema_migrations"})
    applied = await _applied(conn) if has_table else {}
    _check_known(applied, migrations)
    return [migration.name for migration in migrations if migration.version not in applied]


async def _take_turn(conn: WriteConn) -> None:
    """Migrations run by several processes at once take turns (PostgreSQL; SQLite's single
    writer already does), without the statement time limit."""
    for statement in (MIGRATION_LOCK[conn.dialect], UNLIMITED[conn.dialect]):
        if statement is not None:
            await conn.execute(statement)


async def _set_wal(db: Database) -> None:
    """journal_mode=WAL is persistent in the file; set once, outside any transaction."""
    mode = await db.read().fetch_val("PRAGMA journal_mode")
    if str(mode).lower() != "wal":
        await db.set_journal_mode_wal()
