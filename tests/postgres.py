"""PostgreSQL for tests. BOTERNITY_TEST_POSTGRES_URL names a server and a database to connect to
(e.g. postgresql://postgres@127.0.0.1:5432/test); without it the PostgreSQL variants skip.

The session migrates one template database once; each test gets a database of its own copied
from it (CREATE DATABASE ... TEMPLATE, a few tens of ms), dropped when the test ends. Databases
are named boternity_test_<pid>_..., so two sessions on one server never meet. Administration
runs on its own thread and event loop, so sync fixtures can use it from any test's loop.

The template's default collation is ICU en-US ('a' < 'B'), when the server has ICU, so every
test proves that byte order comes from the schema (COLLATE "C"), not from the database.
"""

import asyncio
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import asyncpg
import databases

from db.codec import system_clock
from db.migrate import migrate
from db.postgres import PostgresDatabase

ENV = "BOTERNITY_TEST_POSTGRES_URL"
NOT_SET = f"{ENV} is not set"
_TIMEOUT_S = 120.0

T = TypeVar("T")


def with_database(url: str, name: str) -> str:
    return str(databases.DatabaseURL(url).replace(database=name))


class PostgresServer:
    """The test server: a migrated template, and fresh databases copied from it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._prefix = f"boternity_test_{os.getpid()}"
        self._template = f"{self._prefix}_template"
        self._made = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._admin: asyncpg.Connection = self.run(asyncpg.connect(url))
        self.run(self._make_template())

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run on the administration loop and wait for the result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(_TIMEOUT_S)

    async def _make_template(self) -> None:
        await self._admin.execute(f'DROP DATABASE IF EXISTS "{self._template}"')
        try:
            await self._admin.execute(
                f'CREATE DATABASE "{self._template}" TEMPLATE template0 ENCODING UTF8 '
                "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
            )
        except asyncpg.PostgresError:  # no ICU in this server: its default collation
            await self._admin.execute(f'CREATE DATABASE "{self._template}"')
        db = PostgresDatabase(with_database(self.url, self._template), pool_size=1)
        await db.connect()
        try:
            await migrate(db, system_clock)
        finally:
            await db.disconnect()

    def fresh_database(self, *, migrated: bool = True) -> str:
        """The URL of a new database without rows: migrated, or with no tables at all."""
        self._made += 1
        name = f"{self._prefix}_{self._made}"
        template = f' TEMPLATE "{self._template}"' if migrated else ""
        self.run(self._admin.execute(f'CREATE DATABASE "{name}"{template}'))
        return with_database(self.url, name)

    def drop(self, url: str) -> None:
        name = databases.DatabaseURL(url).database
        self.run(self._admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        self.run(self._admin.execute(f'DROP DATABASE IF EXISTS "{self._template}"'))
        self.run(self._admin.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(_TIMEOUT_S)
        self._loop.close()
