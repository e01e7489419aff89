"""GET / points to GraphiQL, /healthz, /readyz and the README; GET /readme serves the README."""

import re
from pathlib import Path

from tests.api.test_graphiql import HTML, serving


async def test_home_page_points_to_graphiql_health_and_the_readme(tmp_path: Path) -> None:
    async for client in serving(tmp_path):
        response = await client.get("/", headers=HTML)
        assert response.status_code == 200
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["content-security-policy"] == (
            "default-src 'none'; frame-ancestors 'none'"
        )
        links = re.findall(r'href="([^"]*)"', response.text)
        assert links == ["graphql", "healthz", "readyz", "readme"]
        for link in links[1:]:
            assert (await client.get(f"/{link}")).status_code == 200, link
        readme = await client.get("/readme")
        assert readme.headers["content-type"] == "text/markdown; charset=utf-8"
        assert readme.text.startswith("# Boternity storage API\n")
        assert "## Settings" in readme.text


async def test_home_page_without_graphiql_says_it_is_off(tmp_path: Path) -> None:
    async for client in serving(tmp_path, graphiql="false"):
        response = await client.get("/")
        assert re.findall(r'href="([^"]*)"', response.text) == ["healthz", "readyz", "readme"]
        assert "GraphiQL is switched off on this server" in response.text
