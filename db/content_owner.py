"""Which database a content store belongs to.

Migration 0009 gives a SQLite database an identity (a random id in database_identity); the
content store records the identity of the database it serves in <data dir>/content/owner.json.
A process whose database is not the owner refuses to start (`claim` raises OwnerError, one
line naming both), so a typo in the database path, or another database on the same data dir,
can never sweep the real database's content as unreferenced. With PostgreSQL, content lives in
the database itself and there is nothing to claim.

A store without owner.json (made before migration 0009, or new) is claimed by the first
database to start on it, unless it holds content and that database names no file at all: that
is the typo case again, and it is refused.
"""

import json
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from db.connection import Conn
from db.content import ContentStore, fsync_dir
from db.errors import SettingsError

OWNER_FILE = "owner.json"
GET_IDENTITY = "SELECT identity FROM database_identity WHERE id = 1"
ANY_VERSION = "SELECT 1 FROM bot_file_versions LIMIT 1"


class OwnerError(SettingsError):
    """The content store belongs to another database; nothing was touched."""


@dataclass(frozen=True, slots=True)
class Owner:
    identity: str
    database: str


def read_owner(store: ContentStore) -> Owner | None:
    """The owner recorded in the store, None when none is."""
    try:
        recorded = json.loads((store.root / OWNER_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (ValueError, UnicodeDecodeError):
        raise OwnerError(f"{store.root / OWNER_FILE} is not readable JSON; move it aside") from None
    return Owner(str(recorded["identity"]), str(recorded["database"]))


def write_owner(store: ContentStore, owner: Owner) -> None:
    """Record the owner whole or not at all (a temp file renamed over, fsynced)."""
    store.root.mkdir(parents=True, exist_ok=True)
    staging = store.root / f"{OWNER_FILE}.part"
    with staging.open("w", encoding="utf-8") as handle:
        json.dump({"identity": owner.identity, "database": owner.database}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    staging.replace(store.root / OWNER_FILE)
    fsync_dir(store.root)


async def database_identity(conn: Conn) -> str:
    identity: str = await conn.fetch_val(GET_IDENTITY)
    return identity


async def claim(conn: Conn, store: ContentStore, database: Path) -> None:
    """Check that the store belongs to this (migrated SQLite) database, claiming it when it
    belongs to none; OwnerError when it belongs to another."""
    mine = Owner(await database_identity(conn), str(database))
    recorded = read_owner(store)
    if recorded is not None:
        if recorded.identity != mine.identity:
            raise OwnerError(
                f"the content store {store.root} belongs to the database {recorded.database}, "
                f"not to {mine.database} (identity {recorded.identity} there, "
                f"{mine.identity} here); refusing to start, nothing was deleted"
            )
        return
    if _holds_content(store) and await conn.fetch_val(ANY_VERSION) is None:
        raise OwnerError(
            f"the content store {store.root} holds files but the database {mine.database} names "
            "none (another database's content?); refusing to start, nothing was deleted"
        )
    write_owner(store, mine)


def check_owner(store: ContentStore, database: Path) -> None:
    """Without a server: OwnerError when the store's recorded owner is not this SQLite
    database (the commands that read or copy the deployment: backup, verify)."""
    recorded = read_owner(store)
    if recorded is None:
        return
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        row = conn.execute(GET_IDENTITY).fetchone()
    if row is None or row[0] != recorded.identity:
        raise OwnerError(
            f"the content store {store.root} belongs to the database {recorded.database}, "
            f"not to {database}; nothing was done"
        )


def _holds_content(store: ContentStore) -> bool:
    return any(store.aged(folder, float("inf")) for folder in store.folders())
