"""Shared fixtures: a fresh temp-file database per test, the app inside its lifespan, an httpx
client on the ASGI app, an injectable clock, and the gql / gql_errors helpers."""

from collections.abc import AsyncIterator
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


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
async def app(settings: Settings, clock: FakeClock) -> AsyncIterator[Starlette]:
    application = create_app(settings, clock=clock)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
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
