"""Batched statements for DataLoaders: one statement carries many parents' arguments as VALUES
rows (portable to PostgreSQL, unlike json_each), split only past SQLite's bound-variable limit."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from db.connection import Conn, Row

# Rows per statement: a few binds each stays far below SQLite's 32,766 bound variables.
BATCH_ROWS = 1000


def values_rows(count: int, row: str) -> str:
    """`count` VALUES rows; `row` spells one, with {n} for its number (0, 1, ...), e.g.
    "({n}, :bot{n})" binds bot0, bot1, ..."""
    return ", ".join(row.format(n=n) for n in range(count))


async def fetch_batched(
    conn: Conn,
    make_sql: Callable[[int], str],
    items: Sequence[Mapping[str, Any]],
    shared: Mapping[str, Any] | None = None,
    rows: int = BATCH_ROWS,
    slow: bool = False,
) -> list[tuple[int, Row]]:
    """Run make_sql(n) once per `rows` items (n <= rows), binding item n's values as <name><n>
    (plus the shared binds; `slow`: statements that may take longer than a page run off the
    event loop, see db/connection.py). Returns (item offset of the statement, row) pairs, so a
    row that names its item number n belongs to items[offset + n]."""
    found: list[tuple[int, Row]] = []
    for start in range(0, len(items), rows):
        chunk = items[start : start + rows]
        params = dict(shared or {})
        for n, item in enumerate(chunk):
            params.update({f"{name}{n}": value for name, value in item.items()})
        found += [
            (start, row) for row in await conn.fetch_all(make_sql(len(chunk)), params, slow=slow)
        ]
    return found
