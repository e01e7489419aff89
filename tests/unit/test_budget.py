"""db/budget.py: what a row is charged, and a fetch that stops at the budget."""

import sqlite3
from collections.abc import Iterator
from operator import itemgetter
from pathlib import Path

import pytest

from db.budget import ROW_BYTES, ReadBudget, fetch_charged, row_sizes
from db.errors import PayloadTooLargeError


@pytest.fixture
def table(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(tmp_path / "t.db")
    conn.execute("CREATE TABLE t (id INTEGER, value TEXT, user_id TEXT)")
    conn.executemany(
        "INSERT INTO t VALUES (?, ?, ?)",
        [(n, "v" * 100, None if n % 2 else "u") for n in range(50)],
    )
    yield conn
    conn.close()


def test_rows_are_charged_their_sized_columns_and_a_fixed_allowance() -> None:
    rows = [(1, "abc", None), (2, "", "xy")]
    both = [itemgetter(1), itemgetter(2)]
    assert row_sizes(rows, both) == (2 * ROW_BYTES + 5, ROW_BYTES + 3 + 2)  # (total, bound)
    assert row_sizes(rows, [itemgetter(1)]) == (2 * ROW_BYTES + 3, ROW_BYTES + 3)
    assert row_sizes(rows, []) == (2 * ROW_BYTES, ROW_BYTES)


def test_every_row_fits_a_budget_of_exactly_their_size(table: sqlite3.Connection) -> None:
    size = 50 * (ROW_BYTES + 100) + 25  # 25 rows have user_id "u"
    budget = ReadBudget(size)
    sql = "SELECT * FROM t ORDER BY id"
    rows = fetch_charged(table.execute(sql), budget, sql)
    assert (len(rows), budget.used, budget.exceeded) == (50, size, False)


def test_a_fetch_one_byte_over_the_budget_stops_and_closes_its_cursor(
    table: sqlite3.Connection,
) -> None:
    budget = ReadBudget(50 * (ROW_BYTES + 100) + 24)
    sql = "SELECT * FROM t ORDER BY id"
    cursor = table.execute(sql)
    with pytest.raises(PayloadTooLargeError):
        fetch_charged(cursor, budget, sql)
    assert budget.exceeded
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        cursor.fetchone()
