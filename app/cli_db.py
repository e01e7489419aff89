"""What the CLI's commands share: the one-line CommandError, the database they open (migrated
first), and the flags to repeat in a hint so that following it reaches the same database."""

import argparse
import shlex
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.settings import flag_name, prepare_data_dir, sources
from db.backend import claim_content, open_content_store, open_database, url_scheme
from db.codec import system_clock
from db.connection import Database, sqlite_path
from db.migrate import migrate
from db.postgres import redacted
from db.settings import Settings

# The settings that choose and open the database: the flags of every command that opens it.
DATABASE_SETTINGS = (
    "data_dir",
    "database_url",
    "sqlite_readers",
    "sqlite_synchronous",
    "busy_timeout_ms",
    "postgres_pool_size",
    "log_level",
    "log_format",
)


class CommandError(Exception):
    """The command cannot do what was asked; the message is one line."""


def same_database(settings: Settings, args: argparse.Namespace) -> str:
    """The flags (leading space) that point another command at the database this one used:
    --data-dir and --database-url, when given as flags or variables (a password hidden)."""
    given = sources(flags=vars(args))
    words: list[str] = []
    for name in ("data_dir", "database_url"):
        if name in given:
            words += [flag_name(name), shlex.quote(redacted(str(getattr(settings, name))))]
    return "".join(f" {word}" for word in words)


def require_database(settings: Settings, args: argparse.Namespace) -> None:
    """A CommandError when the SQLite file is missing: commands other than serve and migrate
    never create a database."""
    if url_scheme(settings.database_url) != "sqlite":
        return
    path = sqlite_path(settings.database_url)
    if not path.exists():
        raise CommandError(
            f"there is no database at {path}; create it with: "
            f"boternity-graphql migrate{same_database(settings, args)}"
        )


@asynccontextmanager
async def migrated(settings: Settings) -> AsyncIterator[tuple[Database, list[str]]]:
    """The database, migrated first (the names of migrations applied now come along), whose
    content store is checked to belong to it (db/content_owner.py)."""
    prepare_data_dir(settings)
    db = open_database(settings)
    await db.connect()
    try:
        applied = await migrate(db, system_clock)
        await claim_content(db, open_content_store(db, settings))
        yield db, applied
    finally:
        await db.disconnect()
