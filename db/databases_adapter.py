"""Every use of the internals of `databases`, in one place.

The app holds its connections for its whole life (a SQLite writer and readers, DESIGN.md
section 2), several per task, while `Database.connection()` gives one connection per task; so
a connection of its own is made from the database's backend (`Database._backend`), the way
`Database.connection()` makes one. PostgreSQL statements run on the asyncpg pool the backend
opened (`_backend._pool`). tests/engine/test_adapters.py checks both, naming the version.
"""

from contextlib import AsyncExitStack
from importlib.metadata import version
from typing import Any

import databases
import databases.core

DATABASES_VERSION = version("databases")


async def hold_connection(database: databases.Database, held: AsyncExitStack) -> Any:
    """A new connection of `database`, open until `held` closes; its driver connection."""
    connection = databases.core.Connection(database, database._backend)
    await held.enter_async_context(connection)
    return connection.raw_connection


def asyncpg_pool(database: databases.Database) -> Any:
    """The asyncpg pool of a connected PostgreSQL database (None before connect)."""
    return database._backend._pool
