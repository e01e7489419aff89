"""Issue 16, item 3: CSRF as Apollo's csrfPrevention, against a real uvicorn.

Before: a POST with no Content-Type ran, mutations included, with no preflight header; any web
page can send one (`fetch(url, {method: "POST", mode: "no-cors", body: new Blob([...])})`)."""

from pathlib import Path

import httpx
import pytest

from tests.server import running_server

pytestmark = pytest.mark.server
CREATE = b'{"query": "mutation { createBot(input: {name: \\"Forged\\"}) { slug } }"}'
COUNT = {"query": "{ bots { totalCount } }"}


async def test_cross_site_posts_write_nothing(tmp_path: Path) -> None:
    async with (
        running_server(tmp_path / "data") as url,
        httpx.AsyncClient(base_url=url, timeout=10.0) as http,
    ):
        for content_type in (None, "text/plain", "application/x-www-form-urlencoded"):
            headers = {} if content_type is None else {"content-type": content_type}
            response = await http.post("/graphql", content=CREATE, headers=headers)
            assert response.status_code == 415, content_type
            assert response.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}
        form = await http.post(
            "/graphql",
            files={"operations": (None, CREATE), "map": (None, b"{}")},
        )
        assert form.status_code == 400
        assert "CSRF" in form.json()["errors"][0]["message"]
        forged_get = await http.get("/graphql", params=COUNT)
        assert forged_get.status_code == 400
        assert (await http.post("/graphql", json=COUNT)).json() == {
            "data": {"bots": {"totalCount": 0}}
        }
