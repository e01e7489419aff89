"""Connections held on purpose, and the one write path.

The app owns its connections for its whole life (DESIGN.md section 2):
- SQLite: one writer connection and a few read-only reader connections, opened through the
  `databases` SQLite backend (aiosqlite) with a connection factory that sets the
  per-connection PRAGMAs. Statements use :name binds, so sqlite3's statement cache compiles
  each SQL text once per connection instead of SQLAlchemy compiling it per call.
- Where statements run (measured: bench/README.md): a statement here takes microseconds (every
  page is an index range bounded by its page size), less than aiosqlite's hop to its worker
  thread and back, so statements run inline on the driver connection. What can take longer
  goes through an aiosqlite thread: BEGIN IMMEDIATE (it may wait busy_timeout for another
  process's write lock), COMMIT (it may wait for fsync), and statements the caller marks
  `slow=True` (cascading deletes, counts that grow with their matches): in a write on the
  writer's thread (the write lock is held anyway), outside one on reader connections kept for
  them alone, so no inline statement ever waits behind one.
- Every statement has a time limit (`statement_timeout_ms`): a progress handler interrupts it
  past its deadline, and the request gets QUERY_TOO_COMPLEX with nothing written (a write rolls
  back to its savepoint). A write lock another process holds past busy_timeout is CONFLICT.
- Every write goes through `Database.write()`: an app-wide lock plus BEGIN IMMEDIATE on the
  writer, so a read-then-write transaction never meets "database is locked", and other
  processes (the CLI, a restarted server) wait on busy_timeout instead of failing. Writes
  that queue while a COMMIT runs share the next one (group commit; see `write`).

Repository functions take a `Conn` first and never open transactions themselves.
"""

import asyncio
import itertools
import math
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import (
    AbstractAsyncContextManager,
    AsyncExitStack,
    asynccontextmanager,
    closing,
    contextmanager,
)
from pathlib import Path
from typing import Any, Protocol, cast

import aiosqlite
import databases

from db import budget as budgets
from db.aiosqlite_adapter import driver_connection
from db.databases_adapter import hold_connection
from db.errors import ConflictError, QueryTooComplexError, SettingsError

Params = Mapping[str, Any] | None


class Row(Protocol):
    """A result row: sqlite3.Row, read by column name."""

    def __getitem__(self, key: str, /) -> Any: ...


class StatementCounter:
    """Counts statements sent to the database (tests assert fixed counts, e.g. no N+1)."""

    def __init__(self) -> None:
        self.count = 0


class WriteQueue:
    """Write transactions waiting for their turn (the write lock, or a pool connection); the
    depth is read by the metrics (boternity_write_queue_depth)."""

    def __init__(self) -> None:
        self.depth = 0

    @asynccontextmanager
    async def turn(self, gate: AbstractAsyncContextManager[Any]) -> AsyncIterator[Any]:
        """Enter `gate`, counted as waiting until it is entered."""
        async with AsyncExitStack() as stack:
            self.depth += 1
            try:
                entered = await stack.enter_async_context(gate)
            finally:
                self.depth -= 1
            yield entered


class TimeLimit:
    """How long one statement may run, in seconds (inf: no limit, while migrations run)."""

    def __init__(self, milliseconds: int) -> None:
        self.seconds = milliseconds / 1000 if milliseconds > 0 else math.inf


# VM instructions between two calls of the progress handler (about a millisecond; a page runs
# a few thousand, so it never calls it)
PROGRESS_STEPS = 100_000


def statement_error(error: sqlite3.OperationalError, limit: TimeLimit) -> Exception:
    """The coded error for an interrupted statement or a lock held too long, else `error`."""
    message = str(error)
    if message == "interrupted":
        return QueryTooComplexError(
            f"a statement ran past the statement time limit ({limit.seconds * 1000:.0f} ms); "
            "nothing was written"
        )
    if message.startswith("database is locked"):
        return ConflictError(
            "the database is locked by another process (a migration or another server); "
            "nothing was written, try again"
        )
    return error


class Conn:
    """One database connection: run SQL text with :name binds. `slow=True` runs a statement
    that may take longer than a page off the event loop."""

    dialect = "sqlite"

    def __init__(
        self,
        raw: aiosqlite.Connection,
        counter: StatementCounter,
        limit: TimeLimit,
        slow: "Callable[[], Conn] | None" = None,
    ) -> None:
        self._raw = raw
        # the driver connection aiosqlite wraps (opened with check_same_thread=False)
        self._sqlite = cast(DeadlineConnection, driver_connection(raw))  # _connection_factory
        self._counter = counter
        self._limit = limit
        # where slow statements go (reader connections kept for them); None: this connection's
        # own thread
        self._slow = slow

    async def fetch_all(self, sql: str, params: Params = None, *, slow: bool = False) -> list[Row]:
        self._counter.count += 1
        if slow:
            if self._slow is not None:
                return await self._slow()._in_thread(sql, params)
            return await self._in_thread(sql, params)
        self._sqlite.deadline = time.monotonic() + self._limit.seconds
        try:
            cursor = self._sqlite.execute(sql, params or {})
            budget = budgets.current()
            rows: list[Row] = (
                cursor.fetchall() if budget is None else budgets.fetch_charged(cursor, budget, sql)
            )
        except sqlite3.OperationalError as error:
            raise statement_error(error, self._limit) from error
        return rows

    async def fetch_one(self, sql: str, params: Params = None, *, slow: bool = False) -> Row | None:
        rows = await self.fetch_all(sql, params, slow=slow)
        return rows[0] if rows else None

    async def fetch_val(self, sql: str, params: Params = None, *, slow: bool = False) -> Any:
        row = await self.fetch_one(sql, params, slow=slow)
        return None if row is None else row[0]  # type: ignore[index]

    async def execute(self, sql: str, params: Params = None, *, slow: bool = False) -> None:
        await self.fetch_all(sql, params, slow=slow)

    async def execute_many(self, sql: str, params: Sequence[Mapping[str, Any]]) -> None:
        self._counter.count += 1
        self._sqlite.deadline = time.monotonic() + self._limit.seconds
        try:
            self._sqlite.executemany(sql, params)
        except sqlite3.OperationalError as error:
            raise statement_error(error, self._limit) from error

    async def in_thread(self, sql: str) -> None:
        """Run a statement that may wait (for a lock, for fsync) on aiosqlite's thread."""
        self._counter.count += 1
        await self._in_thread(sql, None, limited=sql != "COMMIT")

    async def _in_thread(self, sql: str, params: Params, limited: bool = True) -> list[Row]:
        self._sqlite.deadline = time.monotonic() + self._limit.seconds if limited else math.inf
        try:
            rows = await self._raw.execute_fetchall(sql, params or {})
        except sqlite3.OperationalError as error:
            raise statement_error(error, self._limit) from error
        return list(rows)


class WriteConn(Conn):
    """The writer inside a transaction, with hooks that run when it ends."""

    def __init__(
        self, raw: aiosqlite.Connection, counter: StatementCounter, limit: TimeLimit
    ) -> None:
        super().__init__(raw, counter, limit)
        self._after_commit: list[Callable[[], None]] = []
        self._on_rollback: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run callback once the transaction has committed, before the next write starts
        (events in commit order, content clean-up). It must be quick and must not await."""
        self._after_commit.append(callback)

    def on_rollback(self, callback: Callable[[], None]) -> None:
        """Run callback if the transaction rolls back (remove content written for it)."""
        self._on_rollback.append(callback)


def sqlite_path(url: str) -> Path:
    parsed = databases.DatabaseURL(url)
    if parsed.scheme != "sqlite":
        raise SettingsError(f"unsupported database URL scheme '{parsed.scheme}' (use sqlite://)")
    if not parsed.database or parsed.database == ":memory:":
        raise SettingsError("the SQLite URL needs a file path, e.g. sqlite:////data/boternity.db")
    return Path(parsed.database)


def check_usable(path: Path) -> None:
    """A one-line SettingsError when path cannot hold the SQLite database: its folder is
    missing, it is a folder, or it is a file that is not a database (checked before the
    connections open, so nothing is created or changed)."""
    why = ""
    if not path.parent.is_dir():
        why = f"the folder {path.parent.absolute()} does not exist"
    elif path.is_dir():
        why = "it is a folder"
    elif path.exists():
        try:
            with closing(sqlite3.connect(path)) as probe:
                probe.execute("SELECT count(*) FROM sqlite_master")
        except sqlite3.Error as error:
            why = str(error)
    if why:
        raise SettingsError(
            f"cannot open the SQLite database {path.absolute()}: {why} (sqlite:///relative/path "
            "is relative to the current folder, sqlite:////absolute/path is absolute)"
        )


class DeadlineConnection(sqlite3.Connection):
    """A driver connection whose progress handler interrupts a statement past its deadline
    (set by Conn before each statement)."""

    deadline = math.inf

    def past_deadline(self) -> int:
        return 1 if time.monotonic() > self.deadline else 0


def _connection_factory(synchronous: str, busy_timeout_ms: int) -> type[sqlite3.Connection]:
    if synchronous not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise SettingsError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, not '{synchronous}'")
    pragmas = (
        "PRAGMA foreign_keys=ON",
        f"PRAGMA busy_timeout={int(busy_timeout_ms)}",
        f"PRAGMA synchronous={synchronous}",
    )

    class PragmaConnection(DeadlineConnection):
        """Sets the per-connection PRAGMAs and the progress handler on every connection
        databases opens."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.row_factory = sqlite3.Row
            for pragma in pragmas:
                self.execute(pragma)
            self.set_progress_handler(self.past_deadline, PROGRESS_STEPS)

    return PragmaConnection


class Database:
    """The app's connections: `read()` for a statement outside a transaction, `write()` for one
    write transaction."""

    def __init__(
        self,
        url: str,
        *,
        readers: int = 2,
        synchronous: str = "FULL",
        busy_timeout_ms: int = 5000,
        statement_timeout_ms: int = 0,
    ) -> None:
        self.url = url
        self.path = sqlite_path(url)
        self.counter = StatementCounter()
        self.write_queue = WriteQueue()
        self.limit = TimeLimit(statement_timeout_ms)
        self._readers_wanted = max(1, readers)
        self._databases = databases.Database(
            url,
            factory=_connection_factory(synchronous, busy_timeout_ms),
            timeout=busy_timeout_ms / 1000,
            cached_statements=512,
            check_same_thread=False,
        )
        self._held = AsyncExitStack()
        self._writer: WriteConn | None = None
        self._readers: list[Conn] = []
        self._next_reader: itertools.cycle[Conn] | None = None
        self._next_slow_reader: itertools.cycle[Conn] | None = None
        self._write_lock = asyncio.Lock()
        self._group: _CommitGroup | None = None
        self._committer: asyncio.Future[None] | None = None

    async def connect(self) -> None:
        check_usable(self.path)
        await self._databases.connect()
        writer_raw = await self._hold()
        self._writer = WriteConn(writer_raw, self.counter, self.limit)
        slow_readers = []
        for _ in range(self._readers_wanted):
            raw = await self._hold()
            await raw.execute("PRAGMA query_only=ON")
            slow_readers.append(Conn(raw, self.counter, self.limit))
        self._next_slow_reader = itertools.cycle(slow_readers)
        for _ in range(self._readers_wanted):
            raw = await self._hold()
            await raw.execute("PRAGMA query_only=ON")
            self._readers.append(Conn(raw, self.counter, self.limit, self._slow_reader))
        self._next_reader = itertools.cycle(self._readers)

    def _slow_reader(self) -> Conn:
        assert self._next_slow_reader is not None
        return next(self._next_slow_reader)

    @contextmanager
    def without_time_limit(self) -> Iterator[None]:
        """Statements run unlimited meanwhile (migrations, before the app serves)."""
        seconds, self.limit.seconds = self.limit.seconds, math.inf
        try:
            yield
        finally:
            self.limit.seconds = seconds

    async def _hold(self) -> aiosqlite.Connection:
        raw: aiosqlite.Connection = await hold_connection(self._databases, self._held)
        return raw

    async def disconnect(self) -> None:
        async with self._write_lock:
            await self._commit_group()
            await self._held.aclose()
            self._readers.clear()
            self._next_slow_reader = None
            self._writer = None
            await self._databases.disconnect()

    def read(self) -> Conn:
        """A reader connection for statements outside a write transaction."""
        if self._next_reader is None:
            raise RuntimeError("the database is not connected")
        return next(self._next_reader)

    async def set_journal_mode_wal(self) -> None:
        """WAL is a property of the file; the migration runner sets it once."""
        async with self._write_lock:
            await self._commit_group()
            await self._writer_conn().execute("PRAGMA journal_mode=WAL")

    def _writer_conn(self) -> WriteConn:
        if self._writer is None:
            raise RuntimeError("the database is not connected")
        return self._writer

    @asynccontextmanager
    async def write(self) -> AsyncIterator[WriteConn]:
        """One write transaction: it commits whole or changes nothing.

        Group commit: each mutation runs in a SAVEPOINT of the writer's open transaction, and
        the mutations that arrive while one COMMIT is under way share the next COMMIT (one
        fsync, one trip to aiosqlite's thread). The caller's `async with` ends only after its
        COMMIT, so nothing is acknowledged before it is durable; a mutation that fails rolls
        back to its savepoint and leaves the others alone.
        """
        writer = self._writer_conn()
        async with self.write_queue.turn(self._write_lock):
            group = self._group
            if group is None:
                await complete_statement(writer.in_thread("BEGIN IMMEDIATE"))
                group = self._group = _CommitGroup()
                self._committer = asyncio.ensure_future(self._commit_when_free())
            conn = WriteConn(writer._raw, self.counter, self.limit)
            await conn.execute("SAVEPOINT mutation")
            try:
                yield conn
            except BaseException as error:
                if writer._raw.in_transaction:
                    await conn.execute("ROLLBACK TO mutation")
                    await conn.execute("RELEASE mutation")
                else:  # SQLite rolled the whole transaction back (disk full, I/O error)
                    self._group = None
                    group.fail(error)
                run_callbacks(conn._on_rollback)
                raise
            await conn.execute("RELEASE mutation")
            group.join(conn)
        await asyncio.shield(group.done)

    async def _commit_when_free(self) -> None:
        async with self._write_lock:
            await self._commit_group()

    async def _commit_group(self) -> None:
        """COMMIT the open group (the caller holds the write lock); then its after-commit
        callbacks run, still under the lock, in commit order."""
        group, self._group = self._group, None
        if group is None:
            return
        writer = self._writer_conn()
        try:
            await complete_statement(writer.in_thread("COMMIT"))
        except BaseException as error:
            if writer._raw.in_transaction:
                await writer.execute("ROLLBACK")
            group.fail(error)
            if not isinstance(error, Exception):
                raise
            return
        group.succeed()


class _CommitGroup:
    """The mutations sharing one SQLite transaction, and their callbacks."""

    def __init__(self) -> None:
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._after_commit: list[Callable[[], None]] = []
        self._on_rollback: list[Callable[[], None]] = []

    def join(self, conn: WriteConn) -> None:
        self._after_commit += conn._after_commit
        self._on_rollback += conn._on_rollback

    def succeed(self) -> None:
        run_callbacks(self._after_commit)
        self.done.set_result(None)

    def fail(self, error: BaseException) -> None:
        run_callbacks(self._on_rollback)
        if not self.done.done():
            self.done.set_exception(
                error if isinstance(error, Exception) else RuntimeError("the commit was cancelled")
            )
        self.done.exception()  # retrieved: waiters that were cancelled meanwhile log nothing


async def complete_statement(statement: Awaitable[None]) -> None:
    """Await a statement to its end even when the caller is cancelled meanwhile (a cancelled
    COMMIT must still be known to have happened or not), then re-raise the cancellation."""
    task = asyncio.ensure_future(statement)
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.done():
                break
            cancelled = True
    task.result()
    if cancelled:
        raise asyncio.CancelledError


def run_callbacks(callbacks: list[Callable[[], None]]) -> None:
    for callback in callbacks:
        callback()
