"""PostgreSQL: the interface of db/connection.py (Database, Conn, WriteConn) on the asyncpg pool
that the `databases` PostgreSQL backend opens, for many API processes on one database.

- SQL text with :name binds is translated once per text to $1, $2 ... (db/dialect.py) and runs on
  asyncpg connections, whose statement cache prepares each text once per connection. Rows are
  asyncpg Records, read by column name.
- `read()` is a Conn on the pool: each statement borrows a connection (autocommit).
- `write()` holds one pool connection for one transaction (BEGIN ... COMMIT) and takes no
  app-wide lock: other processes write too, so every read-modify-write is one statement or
  locks its rows (FOR UPDATE), and PostgreSQL's row locks order what must be ordered.
  after_commit callbacks run once the COMMIT has returned; in-process commit order is not
  guaranteed between concurrent writers. Notifications (`notify`) go out with the transaction,
  so listeners get them in commit order (the postgres broker, db/postgres_broker.py).
- Connections return to the pool without asyncpg's reset query: nothing here changes session
  state, so each statement costs one round trip.
- A write that collides with a concurrent one (a deadlock or a parent deleted meanwhile) is
  CONFLICT: nothing was written, and the client may retry.
"""

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import asyncpg
import databases

from db import budget as budgets
from db.connection import (
    Conn,
    Database,
    Params,
    Row,
    StatementCounter,
    TimeLimit,
    WriteConn,
    WriteQueue,
    complete_statement,
    run_callbacks,
)
from db.databases_adapter import asyncpg_pool
from db.dialect import POSTGRESQL, bound, numbered
from db.errors import ConflictError, QueryTooComplexError, SettingsError

SCHEMES = ("postgresql", "postgres")
NOTIFY = """
SELECT pg_notify(n.channel, n.payload)
FROM unnest(CAST(:channels AS TEXT[]), CAST(:payloads AS TEXT[])) AS n(channel, payload)
"""
_COLLISIONS = (
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
    asyncpg.ForeignKeyViolationError,
)


def _args(sql: str, params: Params) -> tuple[str, list[Any]]:
    query, parameters = numbered(sql)
    given = params or {}
    return query, [bound(parameter, given) for parameter in parameters]


@contextmanager
def _collisions() -> Iterator[None]:
    try:
        yield
    except _COLLISIONS as error:
        raise ConflictError(
            f"a concurrent write changed the same data ({type(error).__name__}); "
            "nothing was written, try again"
        ) from error
    except asyncpg.LockNotAvailableError as error:
        raise ConflictError(
            "a lock was held longer than the lock timeout (a migration or another writer); "
            "nothing was written, try again"
        ) from error
    except asyncpg.QueryCanceledError as error:
        raise QueryTooComplexError(
            "a statement ran past the statement time limit; nothing was written"
        ) from error


def _charge(rows: list[Row]) -> None:
    """Charge the request's response budget (db/budget.py). asyncpg hands over a statement's
    rows at once, so the budget stops the request at the first statement past it."""
    budget = budgets.current()
    if budget is not None and rows:
        budget.charge_rows(rows, budgets.sized_columns(rows[0].keys()))  # type: ignore[attr-defined]


class PostgresConn(Conn):
    """Statements on the pool (reads) or on one held connection (PostgresWriteConn)."""

    dialect = POSTGRESQL

    def __init__(self, target: asyncpg.Pool | asyncpg.Connection, counter: StatementCounter):
        self._target = target
        self._counter = counter

    async def fetch_all(self, sql: str, params: Params = None, *, slow: bool = False) -> list[Row]:
        query, args = _args(sql, params)
        self._counter.count += 1
        with _collisions():
            rows: list[Row] = await self._target.fetch(query, *args)
        _charge(rows)
        return rows

    async def fetch_one(self, sql: str, params: Params = None, *, slow: bool = False) -> Row | None:
        query, args = _args(sql, params)
        self._counter.count += 1
        with _collisions():
            row: Row | None = await self._target.fetchrow(query, *args)
        if row is not None:
            _charge([row])
        return row

    async def fetch_val(self, sql: str, params: Params = None, *, slow: bool = False) -> Any:
        query, args = _args(sql, params)
        self._counter.count += 1
        with _collisions():
            return await self._target.fetchval(query, *args)

    async def execute(self, sql: str, params: Params = None, *, slow: bool = False) -> None:
        query, args = _args(sql, params)
        self._counter.count += 1
        with _collisions():
            await self._target.execute(query, *args)

    async def execute_many(self, sql: str, params: Sequence[Mapping[str, Any]]) -> None:
        query, parameters = numbered(sql)
        rows = [[bound(parameter, row) for parameter in parameters] for row in params]
        self._counter.count += 1
        with _collisions():
            await self._target.executemany(query, rows)


class PostgresWriteConn(PostgresConn, WriteConn):
    """One pool connection inside a transaction, with the hooks that run when it ends."""

    def __init__(self, raw: asyncpg.Connection, counter: StatementCounter) -> None:
        super().__init__(raw, counter)
        self._after_commit = []
        self._on_rollback = []
        self._notifications: list[tuple[str, str]] = []

    def notify(self, channel: str, payload: str) -> None:
        """NOTIFY with this transaction: listeners get it at the commit (in commit order, the
        transaction's notifications in the order given), never if it rolls back."""
        self._notifications.append((channel, payload))

    async def send_notifications(self) -> None:
        """Before COMMIT: every notification in one statement."""
        if self._notifications:
            channels, payloads = zip(*self._notifications, strict=True)
            await self.execute(NOTIFY, {"channels": list(channels), "payloads": list(payloads)})


async def _keep_session(connection: asyncpg.Connection) -> None:
    """The pool's reset hook: nothing to undo (an open transaction is still rolled back)."""


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    parsed = databases.DatabaseURL(url)
    return str(parsed.replace(password="***")) if parsed.password else url  # noqa: S106 (a mask)


class PostgresDatabase(Database):
    """The app's pool: `read()` for a statement outside a transaction, `write()` for one write
    transaction."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        statement_timeout_ms: int = 0,
        lock_timeout_ms: int = 0,
    ) -> None:
        self.url = url
        self.counter = StatementCounter()
        self.write_queue = WriteQueue()
        self.limit = TimeLimit(statement_timeout_ms)
        self._databases = databases.Database(
            url,
            min_size=1,
            max_size=max(1, pool_size),
            reset=_keep_session,
            statement_cache_size=1024,
            # every statement of every pool connection (0: none); migrations lift it
            server_settings={
                "statement_timeout": str(max(0, statement_timeout_ms)),
                "lock_timeout": str(max(0, lock_timeout_ms)),
            },
        )
        self._reader: PostgresConn | None = None

    async def connect(self) -> None:
        try:
            await self._databases.connect()
        except (OSError, asyncpg.PostgresError) as error:
            raise SettingsError(
                f"cannot connect to the PostgreSQL database {redacted(self.url)}: {error}"
            ) from None
        self._reader = PostgresConn(self.pool, self.counter)

    async def connect_one(self) -> asyncpg.Connection:
        """A connection of its own, outside the pool (the postgres broker LISTENs on one)."""
        url = databases.DatabaseURL(self.url)
        ssl = url.options.get("ssl")
        return await asyncpg.connect(
            host=url.hostname,
            port=url.port,
            user=url.username,
            password=url.password,
            database=url.database,
            **({} if ssl is None else {"ssl": {"true": True, "false": False}.get(ssl, ssl)}),
        )

    @property
    def pool(self) -> asyncpg.Pool:
        """The asyncpg pool the `databases` backend opened."""
        pool: asyncpg.Pool | None = asyncpg_pool(self._databases)
        if pool is None:
            raise RuntimeError("the database is not connected")
        return pool

    async def disconnect(self) -> None:
        self._reader = None
        await self._databases.disconnect()

    def read(self) -> Conn:
        if self._reader is None:
            raise RuntimeError("the database is not connected")
        return self._reader

    @asynccontextmanager
    async def write(self) -> AsyncIterator[WriteConn]:
        """One write transaction on one pool connection: it commits whole or changes nothing."""
        async with self.write_queue.turn(self.pool.acquire()) as raw:
            conn = PostgresWriteConn(raw, self.counter)
            try:
                await complete_statement(conn.execute("BEGIN"))
                yield conn
                await conn.send_notifications()
            except BaseException:
                await _abandon(conn, raw)
                raise
            try:
                await complete_statement(conn.execute("COMMIT"))
            except asyncio.CancelledError:
                run_callbacks(conn._after_commit)  # the COMMIT completed before the cancellation
                raise
            except BaseException:
                await _abandon(conn, raw)
                raise
            run_callbacks(conn._after_commit)


async def _abandon(conn: PostgresWriteConn, raw: asyncpg.Connection) -> None:
    """Roll back what is still open, then run the rollback hooks."""
    if not raw.is_closed() and raw.is_in_transaction():
        await complete_statement(conn.execute("ROLLBACK"))
    run_callbacks(conn._on_rollback)
