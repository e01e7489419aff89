"""The response budget: how many bytes of stored data a request may read for its response.

A request (app/graphql_http.py) opens `reading(ReadBudget(max_response_bytes))`; every row a
statement returns while it is open is charged as it is fetched: the stored size of its texts
of variable size (values, states, names, descriptions, details, errors ...) plus a fixed
allowance for the rest (ids, timestamps, numbers). Past the limit the fetch stops with
PAYLOAD_TOO_LARGE, and so does every later fetch of the request, so no request holds, or
builds a response from, more than its budget, whatever the size of the values it selects.

The budget travels in a context variable, so the per-request DataLoaders' batches (tasks the
request schedules) charge it too; outside a request (migrations, authentication, events) no
budget is open and nothing is charged. DataLoaders do not cache (schema/context.py): every use
of a row in the response is a read, so a value selected 30 times is charged 30 times.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from operator import itemgetter
from typing import Any

from db.errors import PayloadTooLargeError

# The columns whose size varies with what clients store; the others are fixed-width.
SIZED_COLUMNS = frozenset(
    {
        "key",
        "value",
        "state",
        "name",
        "slug",
        "description",
        "tags",
        "user_id",
        "actor",
        "details",
        "last_error",
        "filename",
        "mime_type",
        "initial_description",
        "custom_category",
        "chosen_tone",
        "chosen_model",
        "chosen_skills",
        "bot_slug",
    }
)
ROW_BYTES = 128  # the fixed-width columns of a row: ids, timestamps, numbers
_FIRST_ROWS = 8  # rows of the first fetch while a budget is open (a 1 MiB value each at most)
_MOST_ROWS = 1024
_GETTERS: dict[str, list[Any]] = {}  # the sized columns' readers by SQL text
_MOST_SHAPES = 4096


class ReadBudget:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit

    def error(self) -> PayloadTooLargeError:
        return PayloadTooLargeError(
            f"the response would hold more than {self.limit} bytes (max_response_bytes): ask "
            "for smaller pages or fewer fields"
        )

    def charge(self, size: int) -> None:
        self.used += size
        if self.used > self.limit:
            raise self.error()

    def charge_rows(self, rows: Any, getters: list[Any]) -> int:
        """Charge rows (their sized columns read by `getters`); a bound on the largest row."""
        total, largest = row_sizes(rows, getters)
        self.charge(total)
        return largest


def row_sizes(rows: Any, getters: list[Any]) -> tuple[int, int]:
    """What rows are charged: ROW_BYTES each plus the length of their sized columns (text, or
    NULL), and a bound on the largest row (ROW_BYTES plus each column's longest value).
    Column by column, in C."""
    total, largest = ROW_BYTES * len(rows), ROW_BYTES
    for getter in getters:
        lengths = list(map(len, filter(None, map(getter, rows))))
        total += sum(lengths)
        largest += max(lengths, default=0)
    return total, largest


_CURRENT: ContextVar[ReadBudget | None] = ContextVar("read_budget", default=None)


def current() -> ReadBudget | None:
    """The budget of the request being served, if any."""
    return _CURRENT.get()


@contextmanager
def reading(budget: ReadBudget) -> Iterator[ReadBudget]:
    """Charge what is read within to `budget`."""
    token = _CURRENT.set(budget)
    try:
        yield budget
    finally:
        _CURRENT.reset(token)


def sized_columns(names: Any) -> list[Any]:
    """Readers of the sized columns among result column names (one itemgetter each)."""
    return [itemgetter(index) for index, name in enumerate(names) if name in SIZED_COLUMNS]


def fetch_charged(cursor: Any, budget: ReadBudget, sql: str) -> list[Any]:
    """All rows of a sqlite3 cursor, fetched a few at a time and charged as they come: at first
    _FIRST_ROWS, then as many as the rest of the budget holds at the size of the largest row
    seen (so one fetch overshoots the budget by at most a row or two, and pages of small rows
    take one or two fetches). A fetch stopped by the budget closes its cursor: the statement
    ends (its read transaction, and what it holds in memory, with it)."""
    getters = _GETTERS.get(sql)
    if getters is None:
        if len(_GETTERS) > _MOST_SHAPES:
            _GETTERS.clear()
        getters = _GETTERS[sql] = sized_columns(column[0] for column in cursor.description or ())
    rows: list[Any] = []
    chunk: list[Any] = []
    count, largest = _FIRST_ROWS, 1
    try:
        while chunk := cursor.fetchmany(count):
            largest = max(largest, budget.charge_rows(chunk, getters))
            rows += chunk
            if len(chunk) < count:
                break  # the statement is done
            count = max(1, min(_MOST_ROWS, (budget.limit - budget.used) // largest))
    except BaseException:
        cursor.close()
        rows.clear()  # the traceback keeps this frame: not the rows
        chunk.clear()
        raise
    return rows
