"""Shared fixtures: a fresh temp-file database per test, the app inside its lifespan, an httpx
client on the ASGI app, an injectable clock, and the gql / gql_errors helpers.

Every test using `settings` (so `app`, `client`, `gql` ...) runs on each backend: [sqlite] and
[postgresql] (a fresh database per test, tests/postgres.py; skipped unless
BOTERNITY_TEST_POSTGRES_URL is set). A test marked `sqlite_only` runs on SQLite alone.
"""

import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette

from app.main import create_app
from app.settings import load_settings
from db.settings import Settings
from tests.postgres import ENV, NOT_SET, PostgresServer

BACKENDS = ("sqlite", "postgresql")
START = datetime(2026, 2, 12, 22, 4, 12, 123456, tzinfo=UTC)


class FakeClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def make_settings(data_dir: Path, **environ: str) -> Settings:
    env = {"BOTERNITY_DATA_DIR": str(data_dir), "BOTERNITY_AUTH": "disabled"}
    env.update({f"BOTERNITY_{name.upper()}": value for name, value in environ.items()})
    return load_settings(environ=env)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        sqlite_only = metafunc.definition.get_closest_marker("sqlite_only") is not None
        metafunc.parametrize(
            "backend",
            [
                pytest.param(backend, marks=[pytest.mark.postgres] if backend != "sqlite" else [])
                for backend in BACKENDS[: 1 if sqlite_only else None]
            ],
        )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    url = os.environ.get(ENV)
    if not url:
        pytest.skip(NOT_SET)
    server = PostgresServer(url)
    yield server
    server.close()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database of this test's own."""
    url = postgres_server.fresh_database()
    yield url
    postgres_server.drop(url)


@pytest.fixture
def settings(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Settings:
    if backend == "sqlite":
        return make_settings(tmp_path / "data")
    return make_settings(tmp_path / "data", database_url=request.getfixturevalue("postgres_url"))


@pytest.fixture
async def app(settings: Settings, clock: FakeClock) -> AsyncIterator[Starlette]:
    application = create_app(settings, clock=clock)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
        yield http


class GraphQL:
    """Posts one operation; `__call__` returns data and fails on any error, `errors` returns
    the errors (and fails when there are none)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.headers: dict[str, str] = {}

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=self.headers
        )
        body: dict[str, Any] = response.json()
        return body

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        body = await self.post(query, variables)
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def errors(self, query: str, variables: dict[str, Any] | None = None) -> list[Any]:
        body = await self.post(query, variables)
        assert body.get("errors"), f"expected errors, got {body}"
        errors: list[Any] = body["errors"]
        return errors


@pytest.fixture
def graphql(client: httpx.AsyncClient) -> GraphQL:
    return GraphQL(client)


@pytest.fixture
def gql(graphql: GraphQL) -> GraphQL:
    return graphql


@pytest.fixture
def gql_errors(graphql: GraphQL) -> Any:
    return graphql.errors


def codes(errors: list[Any]) -> list[str]:
    """The extensions.code of each error, in order."""
    return [error["extensions"]["code"] for error in errors]
