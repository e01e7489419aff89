"""Authentication and authorization: API keys, scopes, and every root field checked without a
key, with a revoked key and with a read key (generated from the schema, so no field skips it)."""

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)
from starlette.applications import Starlette

from app.main import create_app
from db import api_keys
from db.codec import new_id
from db.settings import Settings
from resolvers import build_schema
from tests.conftest import FakeClock, make_settings
from tests.input_samples import sample

SCHEMA = build_schema()._schema


def operation(kind: str, name: str, field: GraphQLField) -> tuple[str, dict[str, Any]]:
    """A valid operation selecting only this root field (required arguments as variables)."""
    required = {
        arg_name: arg
        for arg_name, arg in field.args.items()
        if isinstance(arg.type, GraphQLNonNull)
    }
    if name == "bot":
        required = {"id": field.args["id"]}
    declarations = ", ".join(f"${arg_name}: {arg.type}" for arg_name, arg in required.items())
    arguments = ", ".join(f"{arg_name}: ${arg_name}" for arg_name in required)
    selection = "" if _is_leaf(field) else " { __typename }"
    text = (
        f"{kind} Op{f'({declarations})' if declarations else ''} "
        f"{{ {name}{f'({arguments})' if arguments else ''}{selection} }}"
    )
    variables = {arg_name: sample(arg.type) for arg_name, arg in required.items()}
    return text, variables


def _is_leaf(field: GraphQLField) -> bool:
    kind = field.type
    while isinstance(kind, GraphQLNonNull | GraphQLList):
        kind = kind.of_type
    return isinstance(kind, GraphQLScalarType | GraphQLEnumType)


QUERIES = sorted(SCHEMA.query_type.fields.items()) if SCHEMA.query_type else []
MUTATIONS = sorted(SCHEMA.mutation_type.fields.items()) if SCHEMA.mutation_type else []


@pytest.fixture
async def secured(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Starlette]:
    settings = make_settings(tmp_path / "data", auth="required", auth_cache_ms="0")
    application = create_app(settings, clock=clock)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def keys(secured: Starlette) -> dict[str, str]:
    """One key per scope, plus a revoked one: name -> secret."""
    secrets = {name: api_keys.new_secret() for name in ("read", "write", "admin", "revoked")}
    async with secured.state.db.write() as conn:
        for name, secret in secrets.items():
            scope = "read" if name == "revoked" else name
            await api_keys.create_api_key(
                conn,
                id=new_id(),
                name=name,
                scope=scope,
                secret=secret,
                now="2026-01-01T00:00:00.000000+00:00",
            )
        await api_keys.revoke_api_key(conn, name="revoked", now="2026-01-02T00:00:00.000000+00:00")
    return secrets


@pytest.fixture
async def http(secured: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=secured)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        yield client


async def row_counts(app: Starlette) -> dict[str, int]:
    conn = app.state.db.read()
    tables = await conn.fetch_all(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " AND name NOT IN ('api_keys', 'schema_migrations')"
    )
    counts = {}
    for row in tables:
        counts[row["name"]] = await conn.fetch_val(f'SELECT count(*) FROM "{row["name"]}"')  # noqa: S608
    return counts


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize(
    ("name", "field"), QUERIES + MUTATIONS, ids=[n for n, _ in QUERIES + MUTATIONS]
)
@pytest.mark.parametrize("who", ["nobody", "wrong", "revoked"])
async def test_every_root_field_without_valid_key_is_unauthenticated(
    http: httpx.AsyncClient,
    keys: dict[str, str],
    secured: Starlette,
    name: str,
    field: GraphQLField,
    who: str,
) -> None:
    kind = "mutation" if (name, field) in MUTATIONS else "query"
    text, variables = operation(kind, name, field)
    headers = {"nobody": {}, "wrong": bearer("not-a-key"), "revoked": bearer(keys["revoked"])}[who]
    before = await row_counts(secured)
    response = await http.post(
        "/graphql", json={"query": text, "variables": variables}, headers=headers
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert [error["extensions"]["code"] for error in response.json()["errors"]] == [
        "UNAUTHENTICATED"
    ]
    assert await row_counts(secured) == before


@pytest.mark.parametrize(("name", "field"), MUTATIONS, ids=[n for n, _ in MUTATIONS])
async def test_every_mutation_with_read_key_is_forbidden_and_writes_nothing(
    http: httpx.AsyncClient,
    keys: dict[str, str],
    secured: Starlette,
    name: str,
    field: GraphQLField,
) -> None:
    text, variables = operation("mutation", name, field)
    before = await row_counts(secured)
    response = await http.post(
        "/graphql", json={"query": text, "variables": variables}, headers=bearer(keys["read"])
    )
    assert response.status_code == 403
    assert [error["extensions"]["code"] for error in response.json()["errors"]] == ["FORBIDDEN"]
    assert await row_counts(secured) == before


@pytest.mark.parametrize(("name", "field"), QUERIES, ids=[n for n, _ in QUERIES])
async def test_every_query_with_read_key_runs(
    http: httpx.AsyncClient, keys: dict[str, str], name: str, field: GraphQLField
) -> None:
    text, variables = operation("query", name, field)
    response = await http.post(
        "/graphql", json={"query": text, "variables": variables}, headers=bearer(keys["read"])
    )
    assert response.status_code in (200, 400)
    codes = [error["extensions"]["code"] for error in response.json().get("errors", [])]
    assert "UNAUTHENTICATED" not in codes
    assert "FORBIDDEN" not in codes


async def test_write_key_runs_mutations(http: httpx.AsyncClient, keys: dict[str, str]) -> None:
    response = await http.post(
        "/graphql",
        json={"query": 'mutation { createBot(input: {name: "Keyed"}) { slug } }'},
        headers=bearer(keys["write"]),
    )
    assert response.json() == {"data": {"createBot": {"slug": "keyed"}}}


async def test_batch_with_one_mutation_and_read_key_runs_nothing(
    http: httpx.AsyncClient, keys: dict[str, str], secured: Starlette
) -> None:
    batch = [
        {"query": "{ bots { totalCount } }"},
        {"query": 'mutation { createBot(input: {name: "Sneaky"}) { slug } }'},
    ]
    response = await http.post("/graphql", json=batch, headers=bearer(keys["read"]))
    assert response.status_code == 403
    assert (await row_counts(secured))["bots"] == 0


async def test_malformed_authorization_header_is_unauthenticated(
    http: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    for header in (f"Basic {keys['admin']}", "Bearer", "Bearer  ", keys["admin"]):
        response = await http.post(
            "/graphql", json={"query": "{ bots { totalCount } }"}, headers={"Authorization": header}
        )
        assert response.status_code == 401, header


async def test_key_use_records_last_used_time(
    http: httpx.AsyncClient, keys: dict[str, str], secured: Starlette
) -> None:
    await http.post(
        "/graphql", json={"query": "{ bots { totalCount } }"}, headers=bearer(keys["read"])
    )
    listed = {key.name: key for key in await api_keys.list_api_keys(secured.state.db.read())}
    assert listed["read"].last_used_at == "2026-02-12T22:04:12.123456+00:00"
    assert listed["write"].last_used_at is None


async def test_revoked_key_stops_working(
    http: httpx.AsyncClient, keys: dict[str, str], secured: Starlette
) -> None:
    query = {"query": "{ bots { totalCount } }"}
    assert (
        await http.post("/graphql", json=query, headers=bearer(keys["admin"]))
    ).status_code == 200
    async with secured.state.db.write() as conn:
        await api_keys.revoke_api_key(conn, name="admin", now="2026-03-01T00:00:00.000000+00:00")
    assert (
        await http.post("/graphql", json=query, headers=bearer(keys["admin"]))
    ).status_code == 401


async def test_a_revoked_keys_name_makes_a_new_key_and_the_old_one_stays_revoked(
    settings: Settings, clock: FakeClock
) -> None:
    """On both backends: a name is unique among keys that are not revoked (migration 0015)."""
    secured_settings = replace(settings, auth="required", auth_cache_ms=0)
    application = create_app(secured_settings, clock=clock)
    query = {"query": "{ bots { totalCount } }"}
    old, new = api_keys.new_secret(), api_keys.new_secret()
    async with LifespanManager(application):
        async with application.state.db.write() as conn:
            for secret, scope in ((old, "read"), (new, "write")):
                await api_keys.revoke_api_key(conn, name="ci", now="2026-03-01")
                made = await api_keys.create_api_key(
                    conn, id=new_id(), name="ci", scope=scope, secret=secret, now="2026-03-01"
                )
                assert made is not None
                assert (made.name, made.scope, made.revoked_at) == ("ci", scope, None)
            taken = await api_keys.create_api_key(
                conn, id=new_id(), name="ci", scope="read", secret="x", now="2026-03-02"
            )
        assert taken is None
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            refused = await http.post("/graphql", json=query, headers=bearer(old))
            served = await http.post("/graphql", json=query, headers=bearer(new))
    assert (refused.status_code, served.status_code) == (401, 200)


async def test_health_routes_need_no_key(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).status_code == 200
    assert (await http.get("/readyz")).status_code == 200


def test_stored_keys_are_hashes(tmp_path: Path) -> None:
    secret = api_keys.new_secret()
    assert len(secret) == 43
    assert api_keys.hash_secret(secret) != secret
    assert len(api_keys.hash_secret(secret)) == 64
