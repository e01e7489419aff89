"""The SQLite / PostgreSQL differences: :name binds as $n, null tests of binds as boolean
parameters, byte-order DDL, row locks."""

import pytest

from db.dialect import (
    IS_NOT_NULL,
    IS_NULL,
    POSTGRESQL,
    SQLITE,
    VALUE,
    bound,
    locking,
    migration_ddl,
    numbered,
)


def test_numbered_gives_each_name_one_number_in_order_of_first_use() -> None:
    query, parameters = numbered("SELECT :b, :a, :b, :a_1 FROM t LIMIT :limit")
    assert query == "SELECT $1, $2, $1, $3 FROM t LIMIT $4"
    assert parameters == (("b", VALUE), ("a", VALUE), ("a_1", VALUE), ("limit", VALUE))


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT x::text, y :: int FROM t",
        "SELECT ':not_a_bind', 'it''s :no' FROM t",
        'SELECT "odd:name" FROM t',
        "SELECT 1 -- :comment\nFROM t",
        "SELECT 1 /* :comment\n :more */ FROM t",
    ],
)
def test_numbered_leaves_casts_literals_identifiers_and_comments_alone(sql: str) -> None:
    assert numbered(sql) == (sql, ())


def test_numbered_turns_null_tests_of_binds_into_boolean_parameters() -> None:
    query, parameters = numbered(
        "SELECT 1 WHERE (:after IS NULL OR key > :after) AND :hi is  not\nnull AND :hi IS NULLS"
    )
    assert query == "SELECT 1 WHERE ($1::boolean OR key > $2) AND $3::boolean AND $4 IS NULLS"
    assert parameters == (("after", IS_NULL), ("after", VALUE), ("hi", IS_NOT_NULL), ("hi", VALUE))


@pytest.mark.parametrize(
    ("parameter", "value", "argument"),
    [
        (("x", VALUE), 7, 7),
        (("x", IS_NULL), None, True),
        (("x", IS_NULL), "", False),
        (("x", IS_NOT_NULL), None, False),
        (("x", IS_NOT_NULL), 0, True),
    ],
)
def test_bound_gives_the_value_or_its_null_test(
    parameter: tuple[str, str], value: object, argument: object
) -> None:
    assert bound(parameter, {"x": value}) == argument


def test_migration_ddl_declares_text_columns_byte_order_on_postgresql_only() -> None:
    ddl = "CREATE TABLE t (id TEXT PRIMARY KEY, context_text TEXT NOT NULL, n BIGINT)"
    assert migration_ddl(ddl, SQLITE) == ddl
    assert migration_ddl(ddl, POSTGRESQL) == (
        'CREATE TABLE t (id TEXT COLLATE "C" PRIMARY KEY, context_text TEXT COLLATE "C" NOT NULL, '
        "n BIGINT)"
    )


def test_locking_adds_the_lock_clause_on_postgresql_only() -> None:
    sql = "SELECT 1 FROM bots WHERE id = :id"
    assert locking(sql, SQLITE, "KEY SHARE") == sql
    assert locking(sql, POSTGRESQL, "KEY SHARE") == f"{sql} FOR KEY SHARE"
