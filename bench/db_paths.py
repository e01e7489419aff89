"""The cost of each way a statement can reach the database, measured in one sitting: the
numbers of docs/adr-0001-database-seam.md.

    python bench/db_paths.py                      # SQLite, 2,000 lookups per path
    python bench/db_paths.py --postgres URL       # and PostgreSQL (a scratch database)

One statement: a bot row by primary key (what `bot(id:)` runs), through
- inline: the sqlite3 connection aiosqlite wraps, on the event loop (db/connection.py Conn);
- aiosqlite: the same connection through aiosqlite's worker thread (execute_fetchall);
- databases: Database.fetch_all with the SQL text (SQLAlchemy text() compiled per call);
and on PostgreSQL the asyncpg pool (db/postgres.py) against databases.fetch_all. Wall time
per statement, best of 3 passes, on an otherwise idle event loop.
"""

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
import databases

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from db.aiosqlite_adapter import driver_connection  # after the project is on the path

SQL = "SELECT id, name, slug FROM bots WHERE id = :id"
CREATE = "CREATE TABLE bots (id TEXT PRIMARY KEY, name TEXT, slug TEXT)"
ROWS = 1000


async def best(label: str, count: int, statement: Callable[[int], Awaitable[Any]]) -> float:
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        for n in range(count):
            await statement(n % ROWS)
        timings.append((time.perf_counter() - start) / count)
    print(f"{label}: {min(timings) * 1e6:,.1f} us per statement")
    return min(timings)


async def sqlite_paths(count: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "paths.db"
        with sqlite3.connect(path) as setup:
            setup.execute(CREATE)
            setup.executemany(
                "INSERT INTO bots VALUES (?, ?, ?)",
                [(f"id{n}", f"n{n}", f"s{n}") for n in range(ROWS)],
            )
        async with aiosqlite.connect(path, check_same_thread=False) as connection:
            await best("sqlite inline", count, _inline(driver_connection(connection)))
            await best("sqlite aiosqlite thread", count, _threaded(connection))
        database = databases.Database(f"sqlite:///{path}")
        await database.connect()
        try:
            await best("sqlite databases.fetch_all", count, _through(database))
        finally:
            await database.disconnect()


def _inline(connection: sqlite3.Connection) -> Callable[[int], Awaitable[Any]]:
    async def statement(n: int) -> Any:
        return connection.execute(SQL, {"id": f"id{n}"}).fetchall()

    return statement


def _threaded(connection: aiosqlite.Connection) -> Callable[[int], Awaitable[Any]]:
    async def statement(n: int) -> Any:
        return await connection.execute_fetchall(SQL, {"id": f"id{n}"})

    return statement


def _through(database: databases.Database) -> Callable[[int], Awaitable[Any]]:
    async def statement(n: int) -> Any:
        return await database.fetch_all(SQL, {"id": f"id{n}"})

    return statement


async def postgres_paths(url: str, count: int) -> None:
    pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as setup:
            await setup.execute("DROP TABLE IF EXISTS bots")
            await setup.execute(CREATE)
            await setup.executemany(
                "INSERT INTO bots VALUES ($1, $2, $3)",
                [(f"id{n}", f"n{n}", f"s{n}") for n in range(ROWS)],
            )

        async def pooled(n: int) -> Any:
            return await pool.fetch("SELECT id, name, slug FROM bots WHERE id = $1", f"id{n}")

        await best("postgresql asyncpg pool", count, pooled)
    finally:
        await pool.close()
    database = databases.Database(url, min_size=1, max_size=1)
    await database.connect()
    try:
        await best("postgresql databases.fetch_all", count, _through(database))
        await database.execute("DROP TABLE bots")
    finally:
        await database.disconnect()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="statements per pass")
    parser.add_argument("--postgres", metavar="URL", help="a scratch PostgreSQL database")
    args = parser.parse_args()
    asyncio.run(sqlite_paths(args.count))
    if args.postgres:
        asyncio.run(postgres_paths(args.postgres, args.count))


if __name__ == "__main__":
    main()
