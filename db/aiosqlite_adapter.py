"""Every use of aiosqlite's internals, in one place.

Statements that cannot wait run inline on the event loop, on the sqlite3 connection aiosqlite
wraps (`Connection._conn`; opened with check_same_thread=False): a statement bounded by a page
takes microseconds, less than the hop to aiosqlite's thread and back (docs/adr-0001-database-
seam.md gives the figures). tests/engine/test_adapters.py checks it, naming the version.
"""

import sqlite3
from importlib.metadata import version

import aiosqlite

AIOSQLITE_VERSION = version("aiosqlite")


def driver_connection(connection: aiosqlite.Connection) -> sqlite3.Connection:
    """The sqlite3 connection an open aiosqlite connection runs its statements on."""
    driver: sqlite3.Connection = connection._conn
    return driver
