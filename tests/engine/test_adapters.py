"""Contract tests of the adapters: each checks what one library's internals must still be for
its adapter to work, and fails naming the installed version of that library when an upgrade
changes it (app/engine/graphql_core_adapter.py, app/engine/strawberry_adapter.py,
db/aiosqlite_adapter.py, db/databases_adapter.py)."""

import inspect
import sqlite3
from collections.abc import AsyncGenerator
from contextlib import AsyncExitStack
from enum import Enum
from pathlib import Path
from typing import Any

import aiosqlite
import databases
import pytest
import strawberry
from graphql import (
    ExecutionResult,
    GraphQLEnumType,
    GraphQLObjectType,
    GraphQLSchema,
    OperationType,
    execute,
    parse,
)

from app.engine import graphql_core_adapter as core
from app.engine import strawberry_adapter
from db import aiosqlite_adapter, databases_adapter


def names(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


GRAPHQL_CORE = f"graphql-core {core.GRAPHQL_CORE_VERSION} changed what the adapter relies on"
STRAWBERRY = f"strawberry-graphql {strawberry_adapter.STRAWBERRY_VERSION} changed what "
STRAWBERRY += "the adapter relies on"


def test_graphql_core_signatures_are_the_ones_the_engine_calls() -> None:
    expected = {
        core.collect_fields: ["schema", "fragments", "variable_values", "runtime_type"],
        core.collect_subfields: [
            "schema",
            "fragments",
            "variable_values",
            "operation",
            "return_type",
            "field_details_list",
        ],
        core.coerce_argument: [
            "coerced_values",
            "node",
            "arg_name",
            "arg_def",
            "argument_node",
            "variable_values",
            "fragment_variable_values",
        ],
        core.get_variable_signature: ["schema", "var_def_node"],
        core.Executor.execute_fields: [
            "self",
            "parent_type",
            "source_value",
            "path",
            "grouped_field_set",
            "position_context",
        ],
        core.Executor.complete_list_value: [
            "self",
            "return_type",
            "field_details_list",
            "info",
            "path",
            "result",
            "position_context",
        ],
        core.Executor.collect_subfields: ["self", "return_type", "field_details_list"],
    }
    for function, parameters in expected.items():
        found = names(function)[: len(parameters)]
        assert found == parameters, f"{GRAPHQL_CORE}: {function.__qualname__}{found}"
    assert core.FieldDetails._fields[:1] == ("node",), GRAPHQL_CORE
    assert core.GraphQLVariableSignature._fields[:3] == ("name", "type", "default"), GRAPHQL_CORE
    assert core.VariableValueSource._fields == ("signature", "value"), GRAPHQL_CORE


@strawberry.enum
class Color(Enum):
    RED = "red"


@strawberry.type
class Item:
    name: str

    @strawberry.field
    def shade(self, info: strawberry.Info, color_choice: Color) -> str:
        return f"{color_choice.value} {[field.name for field in info.selected_fields]}"


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return [Item(name="a"), Item(name="b")]


def test_the_hooks_are_reached_by_graphql_cores_execution() -> None:
    calls: list[str] = []

    class Recording(core.HookedExecutor):
        def complete_object(self, parent_type: Any, grouped: Any, source: Any) -> Any:
            calls.append(f"object {parent_type.name}")
            return None

        def complete_objects(self, item_type: Any, grouped: Any, items: Any, info: Any) -> Any:
            calls.append(f"objects {item_type.name} {len(items)} {list(grouped)}")
            return [{"name": "shortcut"} for _ in items]

    schema = strawberry_adapter.graphql_schema(strawberry.Schema(query=Query))
    result = execute(schema, parse("{ items { name } }"), executor_class=Recording)
    assert result.errors is None, result.errors
    assert result.data == {"items": [{"name": "shortcut"}, {"name": "shortcut"}]}, GRAPHQL_CORE
    assert calls == ["objects Item 2 ['name']"], GRAPHQL_CORE


def test_strawberry_definitions_and_info_are_reachable() -> None:
    schema = strawberry.Schema(query=Query)
    built = strawberry_adapter.graphql_schema(schema)
    assert isinstance(built, GraphQLSchema), STRAWBERRY
    item = built.type_map["Item"]
    assert isinstance(item, GraphQLObjectType)
    shade = item.fields["shade"]
    definition = strawberry_adapter.field_definition(shade)
    assert definition is not None, STRAWBERRY
    assert definition.python_name == "shade", STRAWBERRY
    assert strawberry_adapter.field_definition(item.fields["name"]) is not None, STRAWBERRY
    assert strawberry_adapter.argument_python_name(shade.args["colorChoice"]) == "color_choice"
    color = built.type_map["Color"]
    assert isinstance(color, GraphQLEnumType)
    assert strawberry_adapter.enum_class(color) is Color, STRAWBERRY
    document = parse("{ items { shade(colorChoice: RED) } }")
    raw_infos: list[Any] = []
    original = shade.resolve

    def spy(source: Any, info: Any, **args: Any) -> Any:
        raw_infos.append(info)
        return original(source, info, **args)  # type: ignore[misc]

    shade.resolve = spy
    result = execute(built, document)
    assert result.errors is None, result.errors
    info = strawberry_adapter.make_info(schema, raw_infos[0], definition)
    assert isinstance(info, strawberry.Info), STRAWBERRY
    assert [field.name for field in info.selected_fields] == ["shade"], STRAWBERRY
    assert info.operation.operation is OperationType.QUERY, STRAWBERRY
    assert info.path.key == "shade", STRAWBERRY


async def test_aiosqlite_runs_statements_on_the_driver_connection(tmp_path: Path) -> None:
    message = f"aiosqlite {aiosqlite_adapter.AIOSQLITE_VERSION} changed what the adapter uses"
    async with aiosqlite.connect(tmp_path / "a.db", check_same_thread=False) as connection:
        driver = aiosqlite_adapter.driver_connection(connection)
        assert isinstance(driver, sqlite3.Connection), message
        await connection.execute("CREATE TABLE t (x)")
        driver.execute("INSERT INTO t VALUES (7)")
        rows = await connection.execute_fetchall("SELECT x FROM t")
        assert [tuple(row) for row in rows] == [(7,)], message


async def test_databases_holds_connections_of_their_own(tmp_path: Path) -> None:
    message = f"databases {databases_adapter.DATABASES_VERSION} changed what the adapter uses"
    database = databases.Database(f"sqlite:///{tmp_path / 'd.db'}", check_same_thread=False)
    await database.connect()
    try:
        async with AsyncExitStack() as held:
            first = await databases_adapter.hold_connection(database, held)
            second = await databases_adapter.hold_connection(database, held)
            assert isinstance(first, aiosqlite.Connection), message
            assert first is not second, message
            await first.execute("CREATE TABLE t (x)")
            await first.commit()
            assert list(await second.execute_fetchall("SELECT count(*) FROM t")) == [(0,)]
        with pytest.raises(ValueError, match="no active connection"):
            aiosqlite_adapter.driver_connection(first)  # closed with the stack
    finally:
        await database.disconnect()
    unconnected = databases.Database("postgresql://nobody@127.0.0.1:1/none")
    assert databases_adapter.asyncpg_pool(unconnected) is None, message


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def ticks(self) -> AsyncGenerator[int, None]:
        yield 1


async def test_strawberry_says_when_an_operation_never_ran() -> None:
    schema = strawberry.Schema(query=Query, subscription=Subscription)
    invalid = await schema.subscribe("subscription { nope }")
    assert not isinstance(invalid, ExecutionResult), STRAWBERRY
    assert strawberry_adapter.never_ran(await anext(invalid)), STRAWBERRY  # type: ignore[arg-type]
    results = await schema.subscribe("subscription { ticks }")
    first = await anext(results)  # type: ignore[arg-type]
    assert not strawberry_adapter.never_ran(first), STRAWBERRY
    assert first.data == {"ticks": 1}, STRAWBERRY
