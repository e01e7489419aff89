"""GraphiQL in a real browser: Debian's headless Chromium (driven by Playwright) against a
real uvicorn with authentication on, every request to anything but loopback blocked.

Steps, each asserted: the page loads from the server alone and, with no key yet, says how to
make one; a key typed once into the Headers tab makes the schema load (the Docs pane shows the
root types) and a query return its exact result; a subscription receives the event of a
mutation made from Python; the key is not in localStorage; no request left loopback and the
Content-Security-Policy blocked nothing.
"""

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.server import started_server

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed at /usr/bin/chromium (.ci/run installs it)",
    ),
]
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
CLI = Path(sys.executable).parent / "boternity-graphql"
WAIT_MS = 15_000
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
SET_KV = 'mutation($b: ID!, $v: JSON) { setKv(botId: $b, key: "theme", value: $v) { key } }'
RECORD_CSP_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""
RESULT = "document.querySelector('.result-window .CodeMirror').CodeMirror.getValue()"


def create_key(data_dir: Path) -> str:
    import subprocess

    environ = {key: value for key, value in os.environ.items() if not key.startswith("BOTERNITY_")}
    environ["BOTERNITY_DATA_DIR"] = str(data_dir)
    created = subprocess.run(
        [str(CLI), "api-key", "create", "--name", "browser", "--scope", "write"],
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
        check=True,
    )
    return created.stdout.splitlines()[-1]


async def post(http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    body = (await http.post("/graphql", json={"query": query, "variables": variables})).json()
    assert "errors" not in body, body
    return body["data"]


@pytest.fixture
async def page_and_log() -> AsyncIterator[tuple[Any, dict[str, list[str]]]]:
    from playwright.async_api import Route, async_playwright

    log: dict[str, list[str]] = {"blocked": [], "requests": [], "sockets": [], "errors": []}

    async def loopback_only(route: Route) -> None:
        url = route.request.url
        log["requests"].append(url)
        if urlsplit(url).hostname in LOOPBACK:
            await route.continue_()
        else:
            log["blocked"].append(url)
            await route.abort()

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        try:
            context = await browser.new_context()
            await context.route("**/*", loopback_only)
            page = await context.new_page()
            page.set_default_timeout(WAIT_MS)
            await page.add_init_script(RECORD_CSP_VIOLATIONS)
            page.on("websocket", lambda socket: log["sockets"].append(socket.url))
            page.on("pageerror", lambda error: log["errors"].append(str(error)))
            yield page, log
        finally:
            await browser.close()


async def set_editor(page: Any, selector: str, text: str) -> None:
    """Type into a GraphiQL editor as a person would: click, select all, type."""
    await page.locator(f"{selector} .CodeMirror").first.click()
    await page.keyboard.press("Control+A")
    await page.keyboard.insert_text(text)


async def set_query(page: Any, text: str) -> None:
    """Type the query, then wait until GraphiQL has parsed it (it does so 100 ms after the last
    change; it picks HTTP or WebSocket from the parsed document)."""
    await set_editor(page, ".graphiql-query-editor", text)
    await page.wait_for_function(
        "(text) => { const editor = document.querySelector('.graphiql-query-editor .CodeMirror')"
        ".CodeMirror; return Boolean(editor.documentAST) && "
        "editor.documentAST.loc.source.body === text }",
        arg=text,
    )


async def wait_result(page: Any, expected: Any) -> None:
    await page.wait_for_function(
        f"(expected) => {{ try {{ return JSON.stringify(JSON.parse({RESULT})) === expected }} "
        "catch (e) { return false } }",
        arg=json.dumps(expected, separators=(",", ":")),
    )


async def test_graphiql_offline_with_a_key_runs_a_query_the_docs_and_a_subscription(
    tmp_path: Path, page_and_log: tuple[Any, dict[str, list[str]]]
) -> None:
    from playwright.async_api import expect

    page, log = page_and_log
    data_dir = tmp_path / "data"
    async with started_server(data_dir, {"BOTERNITY_AUTH": "required"}) as server:
        key = await asyncio.to_thread(create_key, data_dir)
        auth = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=server.url, headers=auth, timeout=30) as http:
            created = await post(
                http, 'mutation { createBot(input: {name: "Browser Bot"}) { id } }', {}
            )
            bot_id = created["createBot"]["id"]

            await page.goto(f"{server.url}/graphql")
            hint = page.locator("#auth-hint")
            await expect(hint).to_be_visible()  # the schema fetch without a key was refused
            await expect(hint).to_contain_text(
                "boternity-graphql api-key create --name NAME --scope read"
            )

            await page.get_by_text("Headers", exact=True).click()
            await set_editor(
                page, ".graphiql-editor-tool .graphiql-editor:not(.hidden)", json.dumps(auth)
            )
            await expect(hint).to_be_hidden()  # the schema was fetched again, with the key
            await page.get_by_label("Show Documentation Explorer").click()
            docs = page.locator(".graphiql-doc-explorer")
            await expect(docs).to_contain_text("Root Types")
            await expect(docs).to_contain_text("subscription: Subscription")
            await page.get_by_text("Query", exact=True).last.click()
            await expect(docs).to_contain_text("bots")

            await set_query(page, "{ bots(first: 5) { totalCount nodes { slug } } }")
            await page.locator(".graphiql-execute-button").click()
            await wait_result(
                page, {"data": {"bots": {"totalCount": 1, "nodes": [{"slug": "browser-bot"}]}}}
            )

            subscription = (
                f'subscription {{ kvChanged(botId: "{bot_id}") {{ key entry {{ value }} }} }}'
            )
            await set_query(page, subscription)
            await page.locator(".graphiql-execute-button").click()
            for attempt in range(50):  # the server registers a subscription after its message
                await post(http, SET_KV, {"b": bot_id, "v": attempt})
                if '"theme"' in await page.evaluate(RESULT):
                    break
                await asyncio.sleep(0.2)
            await post(http, SET_KV, {"b": bot_id, "v": "dark"})
            await wait_result(
                page, {"data": {"kvChanged": {"key": "theme", "entry": {"value": "dark"}}}}
            )

            stored = await page.evaluate("JSON.stringify(Object.assign({}, localStorage))")
            assert key not in stored
            assert "graphiql:tabState" in stored  # GraphiQL stored its tabs and history,
            assert "kvChanged" in json.loads(stored)["graphiql:queries"]  # without headers
            violations = await page.evaluate("window.cspViolations")
    assert violations == []
    assert log["errors"] == []
    assert log["blocked"] == []
    assert {urlsplit(url).hostname for url in log["requests"]} == {"127.0.0.1"}
    assert log["sockets"] == [f"{server.url.replace('http', 'ws')}/graphql"]
