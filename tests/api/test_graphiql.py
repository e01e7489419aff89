"""GraphiQL is served from the package: a page naming no other origin, with a strict
Content-Security-Policy and no framing, its vendored assets matching their manifest, and an
UNAUTHENTICATED answer that says how to make a key. (tests/api/test_graphiql_browser.py runs
it in Chromium.)"""

import hashlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.graphiql import ASSETS
from app.main import create_app
from tests.conftest import make_settings

HTML = {"Accept": "text/html"}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


async def serving(tmp_path: Path, **environ: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(tmp_path / "data", **environ))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            yield client


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for client in serving(tmp_path):
        yield client


def references(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]*)"', html)


async def test_page_names_no_other_origin_and_forbids_framing(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    html = response.text
    assert "//" not in html.replace("<!doctype html>", "")  # no URL with a host, any scheme
    assert "<script>" not in html  # nothing inline
    assert "style=" not in html
    assert references(html) == [
        "data:,",
        "graphiql/graphiql.min.css",
        "graphiql/plugin-explorer.css",
        "graphiql/boternity-graphiql.css",
        "graphiql/react.production.min.js",
        "graphiql/react-dom.production.min.js",
        "graphiql/graphiql.min.js",
        "graphiql/plugin-explorer.umd.js",
        "graphiql/boternity-graphiql.js",
    ]
    assert 'data-persist-headers="false"' in html


async def test_every_asset_the_page_names_is_served_from_the_package(
    client: httpx.AsyncClient,
) -> None:
    html = (await client.get("/graphql", headers=HTML)).text
    for reference in references(html)[1:]:
        response = await client.get(f"/{reference}")
        assert response.status_code == 200, reference
        assert response.content == (ASSETS / reference.removeprefix("graphiql/")).read_bytes()
        kind = "text/css" if reference.endswith(".css") else "text/javascript"
        assert response.headers["content-type"].startswith(kind), reference
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"


def test_vendored_assets_match_their_manifest_with_their_licenses() -> None:
    manifest = json.loads((ASSETS / "manifest.json").read_text())
    for name, entry in manifest["files"].items():
        digest = hashlib.sha256((ASSETS / name).read_bytes()).hexdigest()
        assert digest == entry["sha256"], name
        assert manifest["packages"][entry["package"]]["version"] == entry["version"]
    ours = {"manifest.json", "boternity-graphiql.js", "boternity-graphiql.css"}
    on_disk = {path.name for path in ASSETS.iterdir()}
    assert on_disk - ours == set(manifest["files"])
    assert {name for name in manifest["files"] if name.startswith("LICENSE.")} == {
        "LICENSE.react",
        "LICENSE.react-dom",
        "LICENSE.graphiql",
        "LICENSE.graphiql-explorer",
    }
    assert {package: entry["version"] for package, entry in manifest["packages"].items()} == {
        "react": "18.2.0",
        "react-dom": "18.2.0",
        "graphiql": "3.8.3",
        "@graphiql/plugin-explorer": "1.0.2",
        "graphiql-explorer": "0.9.0",
    }


async def test_persisting_headers_is_a_setting(tmp_path: Path) -> None:
    async for client in serving(tmp_path, graphiql_persist_headers="true"):
        html = (await client.get("/graphql", headers=HTML)).text
        assert 'data-persist-headers="true"' in html


async def test_graphiql_off_serves_neither_the_page_nor_its_assets(tmp_path: Path) -> None:
    async for client in serving(tmp_path, graphiql="false"):
        page = await client.get("/graphql", headers=HTML)
        assert page.status_code == 404
        assert page.json()["errors"][0]["message"] == "GraphiQL is switched off on this server"
        assert (await client.get("/graphiql/graphiql.min.js")).status_code == 404


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (
            None,
            "an API key is required: send the header Authorization: Bearer <key>; make one with "
            "boternity-graphql api-key create --name NAME --scope read",
        ),
        (
            "Bearer not-a-key",
            "the API key is not valid (unknown or revoked); make one with "
            "boternity-graphql api-key create --name NAME --scope read",
        ),
    ],
)
async def test_unauthenticated_says_how_to_make_a_key(
    tmp_path: Path, authorization: str | None, message: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    async for client in serving(tmp_path, auth="required"):
        response = await client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
        assert response.status_code == 401
        error = response.json()["errors"][0]
        assert (error["message"], error["extensions"]["code"]) == (message, "UNAUTHENTICATED")
