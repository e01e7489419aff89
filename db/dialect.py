"""What differs between SQLite and PostgreSQL, in one place.

Repository SQL is written once, with :name binds, and runs on both. The differences:
- binds: asyncpg takes $1, $2 ...; `numbered` translates a text once (cached) and names the
  parameters in order. `::casts`, string literals, quoted identifiers and comments are left alone.
  PostgreSQL infers a parameter's type from where it is used, and `:x IS NULL` gives it none
  (`(:x IS NULL OR col = :x)` fails to prepare), so a null test of a bind becomes a boolean
  parameter of its own, bound to whether the value is None.
- text order: UTF-8 byte order everywhere. SQLite's BINARY collation is byte order; on
  PostgreSQL every TEXT column of a migration is declared COLLATE "C" (`migration_ddl`), so its
  comparisons, ORDER BY and indexes are byte order whatever the database's locale.
- row locks (`locking`), the catalogue (`TABLE_EXISTS`) and the lock that serialises
  migrations run by several processes at once (`MIGRATION_LOCK`).
"""

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

SQLITE = "sqlite"
POSTGRESQL = "postgresql"

_BIND_OR_SKIPPED = re.compile(
    r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/|::"""
    r"""|:([A-Za-z_][A-Za-z0-9_]*)(\s+IS\s+(?:(NOT)\s+)?NULL\b)?""",
    re.DOTALL | re.IGNORECASE,
)
VALUE, IS_NULL, IS_NOT_NULL = "value", "null", "not null"
Parameter = tuple[str, str]  # (bind name, VALUE / IS_NULL / IS_NOT_NULL)
_TEXT_TYPE = re.compile(r"\bTEXT\b")

TABLE_EXISTS = {
    SQLITE: "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = :name",
    POSTGRESQL: (
        "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = :name"
    ),
}
# SQLite's single writer (BEGIN IMMEDIATE) already serialises migrations; PostgreSQL takes a
# transaction-scoped advisory lock (an arbitrary constant key: "boternity migrations").
MIGRATION_LOCK = {SQLITE: None, POSTGRESQL: "SELECT pg_advisory_xact_lock(7242411910)"}
# Migrations run without the statement time limit (SQLite: Database.without_time_limit).
UNLIMITED = {SQLITE: None, POSTGRESQL: "SET LOCAL statement_timeout = 0"}


@lru_cache(maxsize=4096)
def numbered(sql: str) -> tuple[str, tuple[Parameter, ...]]:
    """`sql` with each :name bind as $n (a name used twice keeps its number) and each
    `:name IS [NOT] NULL` as a boolean $n, and what each parameter is, in order."""
    numbers: dict[Parameter, int] = {}

    def number(match: re.Match[str]) -> str:
        name = match[1]
        if name is None:
            return match[0]
        kind = VALUE if match[2] is None else IS_NOT_NULL if match[3] else IS_NULL
        position = numbers.setdefault((name, kind), len(numbers) + 1)
        return f"${position}" if kind == VALUE else f"${position}::boolean"

    return _BIND_OR_SKIPPED.sub(number, sql), tuple(numbers)


def bound(parameter: Parameter, params: Mapping[str, Any]) -> Any:
    """The argument for one parameter `numbered` named."""
    name, kind = parameter
    value = params[name]
    if kind == VALUE:
        return value
    return (value is None) == (kind == IS_NULL)


def migration_ddl(statement: str, dialect: str) -> str:
    """A migration statement as it runs on `dialect`: on PostgreSQL, TEXT columns sort in byte
    order (COLLATE "C")."""
    if dialect == POSTGRESQL:
        return _TEXT_TYPE.sub('TEXT COLLATE "C"', statement)
    return statement


def locking(sql: str, dialect: str, strength: str = "UPDATE") -> str:
    """A SELECT that, on PostgreSQL, locks its rows until the transaction ends (FOR UPDATE,
    FOR SHARE or FOR KEY SHARE); SQLite's single writer needs no row locks."""
    return f"{sql} FOR {strength}" if dialect == POSTGRESQL else sql


def locking_variants(sql: str, strength: str = "UPDATE") -> dict[str, str]:
    """`locking(sql)` for each dialect, to keep as a module constant."""
    return {dialect: locking(sql, dialect, strength) for dialect in (SQLITE, POSTGRESQL)}
