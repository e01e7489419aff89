"""The backend a database URL names, with what goes with it: SQLite (the embedded default, one
machine: content on disk under the data dir, events within the process) or PostgreSQL (many API
processes on one database: content and the download-URL secret in the database, events through
LISTEN/NOTIFY; db/postgres.py)."""

from db.broker import Broker, MemoryBroker
from db.connection import Database
from db.content import ContentStore
from db.content_owner import claim
from db.errors import SettingsError
from db.file_contents import DatabaseContentStore
from db.postgres import SCHEMES as POSTGRES_SCHEMES
from db.postgres import PostgresDatabase
from db.postgres_broker import PostgresBroker
from db.settings import Settings
from db.signing import load_secret, load_shared_secret

SCHEMES = ("sqlite", *POSTGRES_SCHEMES)


def url_scheme(url: str) -> str:
    return url.split(":", 1)[0].lower()


def check_url(url: str) -> None:
    scheme = url_scheme(url)
    if scheme not in SCHEMES:
        raise SettingsError(
            f"unknown database URL scheme '{scheme}' in BOTERNITY_DATABASE_URL "
            "(use sqlite:///path or postgresql://user@host/database)"
        )


def open_database(settings: Settings) -> Database:
    """The Database for settings.database_url (not connected yet)."""
    check_url(settings.database_url)
    if url_scheme(settings.database_url) in POSTGRES_SCHEMES:
        return PostgresDatabase(
            settings.database_url,
            pool_size=settings.postgres_pool_size,
            statement_timeout_ms=settings.statement_timeout_ms,
            lock_timeout_ms=settings.busy_timeout_ms,
        )
    return Database(
        settings.database_url,
        readers=settings.sqlite_readers,
        synchronous=settings.sqlite_synchronous,
        busy_timeout_ms=settings.busy_timeout_ms,
        statement_timeout_ms=settings.statement_timeout_ms,
    )


def open_content_store(db: Database, settings: Settings) -> ContentStore:
    if isinstance(db, PostgresDatabase):
        return DatabaseContentStore(settings.data_dir, settings.content_grace_seconds)
    return ContentStore(settings.data_dir, settings.content_grace_seconds)


async def claim_content(db: Database, store: ContentStore) -> None:
    """Check that the content store belongs to this (connected, migrated) database, or claim it
    (SQLite; PostgreSQL keeps content in the database). OwnerError when it belongs to another."""
    if not isinstance(db, PostgresDatabase):
        await claim(db.read(), store, db.path)


def open_broker(settings: Settings, db: Database) -> Broker:
    """The broker the `broker` setting names; auto: postgres with a PostgreSQL database.
    (app/settings.py has checked the choice, the queue size and the URL a postgres broker
    needs, naming the flag or variable given.)"""
    choice = settings.broker
    if choice == "auto":
        choice = "postgres" if isinstance(db, PostgresDatabase) else "memory"
    if choice == "memory":
        return MemoryBroker(queue_size=settings.subscription_queue)
    if not isinstance(db, PostgresDatabase):
        raise SettingsError("BOTERNITY_BROKER=postgres needs a postgresql:// database URL")
    return PostgresBroker(db, queue_size=settings.subscription_queue)


async def download_secret(db: Database, settings: Settings) -> bytes:
    """The secret signing download URLs: the setting, else the backend's own (connected db)."""
    if settings.download_secret:
        return settings.download_secret.encode()
    if isinstance(db, PostgresDatabase):
        async with db.write() as conn:
            return await load_shared_secret(conn)
    return load_secret(settings.data_dir)
