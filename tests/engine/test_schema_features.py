"""Nothing Strawberry offers is bypassed silently over HTTP: permission classes run on every
transport, resolvers receive strawberry.Info, the schema is not changed, and what the engine
cannot run (other schema extensions, custom directives) stops start-up with the reason."""

from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import strawberry
from asgi_lifespan import LifespanManager
from graphql import GraphQLObjectType
from strawberry.directive import DirectiveLocation
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

import resolvers
from app import main
from app.engine.engine import UnsupportedSchemaError
from app.engine.strawberry_adapter import graphql_schema
from schema.scalars import SCALARS
from tests.api.ws_session import WsSession
from tests.conftest import make_settings

ran: list[str] = []


class Deny(BasePermission):
    message = "denied by the schema's permission class"
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        ran.append("permission")
        return False


@strawberry.type
class ExtraQuery:
    @strawberry.field
    def selected(self, info: strawberry.Info) -> list[str]:
        """What a resolver reading strawberry.Info sees."""
        assert isinstance(info, strawberry.Info)
        return [field.name for field in info.selected_fields]

    @strawberry.field(permission_classes=[Deny])
    def guarded(self) -> str:
        ran.append("resolver")
        return "secret"


class Audit(SchemaExtension):
    def on_execute(self) -> Any:
        yield


@strawberry.directive(locations=[DirectiveLocation.FIELD])
def shout(value: str) -> str:
    return value.upper()


def extended(**options: Any) -> strawberry.Schema:
    """The project's schema with ExtraQuery's fields, built as resolvers.build_schema builds it."""
    base = resolvers.build_schema()
    return strawberry.Schema(
        query=merge_types("Query", (resolvers.Query, ExtraQuery)),
        mutation=resolvers.Mutation,
        subscription=resolvers.SubscriptionRoot,
        extensions=[*base.extensions, *options.pop("extensions", ())],
        config=StrawberryConfig(scalar_map=SCALARS),
        **options,
    )


@pytest.mark.parametrize(
    ("options", "unsupported"),
    [
        ({"extensions": [Audit]}, "schema extension Audit"),
        ({"directives": [shout]}, "custom directive @shout"),
    ],
)
def test_what_the_engine_would_bypass_stops_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: dict[str, Any], unsupported: str
) -> None:
    monkeypatch.setattr(main, "build_schema", lambda: extended(**options))
    with pytest.raises(UnsupportedSchemaError) as refused:
        main.create_app(make_settings(tmp_path / "data"))
    assert str(refused.value) == (
        f"the execution engine (app/engine) does not support {unsupported}: it would not run "
        "on POST /graphql; remove it or run it in the engine"
    )


def test_the_projects_schema_starts_and_is_not_changed(tmp_path: Path) -> None:
    app = main.create_app(make_settings(tmp_path / "data"))
    engine = app.state.graphql.engine
    fresh = graphql_schema(resolvers.build_schema())
    served = engine.schema
    objects = [kind for kind in fresh.type_map.values() if isinstance(kind, GraphQLObjectType)]
    assert len(objects) > 20
    for kind in objects:
        name = kind.name
        for field_name, field in kind.fields.items():
            resolve = served.type_map[name].fields[field_name].resolve  # type: ignore[union-attr]
            # Strawberry's own resolver wrappers, as a fresh build makes them
            assert (resolve is None) == (field.resolve is None), (name, field_name)
            if resolve is not None:
                assert resolve.__qualname__ == field.resolve.__qualname__, (name, field_name)


DENIED = {
    "data": None,
    "errors": [
        {
            "message": "denied by the schema's permission class",
            "locations": [{"line": 1, "column": 3}],
            "path": ["guarded"],
            "extensions": {"code": "FORBIDDEN"},
        }
    ],
}


async def test_permissions_and_info_hold_on_every_transport(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(main, "build_schema", extended)
    app = main.create_app(make_settings(tmp_path / "data"))
    headers = {"apollo-require-preflight": "1"}
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            ran.clear()
            post = await http.post("/graphql", json={"query": "{ guarded }"})
            get = await http.get("/graphql", params={"query": "{ guarded }"}, headers=headers)
            batch = await http.post("/graphql", json=[{"query": "{ guarded }"}] * 2)
            assert post.json() == get.json() == DENIED
            assert batch.json() == [DENIED, DENIED]
            assert ran == ["permission"] * 4
            selected = "{ a: selected selected }"
            assert (await http.post("/graphql", json={"query": selected})).json() == {
                "data": {"a": ["selected"], "selected": ["selected"]}
            }
            reference = "query($on: Boolean!) { selected @include(if: $on) }"
            body = {"query": reference, "variables": {"on": True}}
            answer = await http.post("/graphql", json=body)
            assert answer.json() == {"data": {"selected": ["selected"]}}
        async with WsSession(app) as ws:
            await ws.init()
            await ws.subscribe("1", "{ guarded }")
            message = await ws.receive()
            await ws.completed("1")
            await ws.subscribe("2", "{ selected }")
            assert await ws.next("2") == {"selected": ["selected"]}
        assert message == {"id": "1", "type": "next", "payload": DENIED}
        assert ran == ["permission"] * 5
        fallbacks = Counter({"field extensions or permissions": 4, "directives": 1})
        assert app.state.graphql.engine.fallbacks == fallbacks
