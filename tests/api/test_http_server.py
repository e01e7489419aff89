"""Issue 16, item 6, against a real uvicorn: a field error never turns a read into a 500, and a
client going away mid-request is not an error in the log.

graphql-core 3.3 cancels the sibling fields of a field whose error nulls their parent. A
sibling awaiting a DataLoader future that another field shares used to cancel that future for
both (cancelling a task cancels the future it awaits), so CancelledError escaped the request:
HTTP 500, text/plain. The request's loaders now hand each awaiter its own shielded future."""

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.server import running_server, started_server

pytestmark = pytest.mark.server
QUERY = """
query($id: ID!) {
  bots(first: 2) {
    nodes { name kvEntries(first: 1) { nodes { key } } files(first: 2) { nodes { filename } } }
  }
  bot(id: $id) { kvEntries(first: 0) { nodes { key } } files(first: 2) { nodes { filename } } }
}
"""
CREATE = "mutation($n: String!) { createBot(input: {name: $n}) { id } }"
SET_KV = 'mutation($b: ID!) { setKv(botId: $b, key: "k", value: 1) { key } }'
UPLOAD = (
    '{"query": "mutation($b: ID!, $f: Upload!) { uploadFile(botId: $b, filename: \\"a.txt\\", '
    'file: $f) { id } }", "variables": {"b": "%s", "f": null}}'
)


async def post(http: httpx.AsyncClient, query: str, variables: dict[str, str]) -> dict:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    body: dict = response.json()
    assert "errors" not in body, body
    return body["data"]


async def test_sibling_cancelled_by_a_field_error_answers_data_and_the_error(
    tmp_path: Path,
) -> None:
    async with (
        running_server(tmp_path / "data") as url,
        httpx.AsyncClient(base_url=url, timeout=10.0) as http,
    ):
        ids = [(await post(http, CREATE, {"n": name}))["createBot"]["id"] for name in "AB"]
        for bot_id in ids:
            await post(http, SET_KV, {"b": bot_id})
            uploaded = await http.post(
                "/graphql",
                data={"operations": UPLOAD % bot_id, "map": '{"0": ["variables.f"]}'},
                files={"0": ("a.txt", b"hello", "text/plain")},
                headers={"GraphQL-Require-Preflight": "1"},
            )
            assert "errors" not in uploaded.json(), uploaded.json()
        for _ in range(3):  # the same answer each time (the loaders are per request)
            response = await http.post(
                "/graphql", json={"query": QUERY, "variables": {"id": ids[0]}}
            )
            assert response.status_code == 200, response.text
            body = response.json()
            nodes = sorted(body["data"]["bots"]["nodes"], key=lambda node: node["name"])
            assert nodes == [
                {
                    "name": name,
                    "kvEntries": {"nodes": [{"key": "k"}]},
                    "files": {"nodes": [{"filename": "a.txt"}]},
                }
                for name in "AB"
            ]
            assert body["data"]["bot"] is None
            assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
                (["bot", "kvEntries"], "BAD_USER_INPUT")
            ]


async def test_client_gone_mid_json_body_is_not_logged_as_an_error(tmp_path: Path) -> None:
    """Before: the ClientDisconnect escaped the endpoint and uvicorn logged its traceback."""
    async with started_server(tmp_path / "data") as server:
        port = int(server.url.rsplit(":", 1)[1])
        for _ in range(3):
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                b'{"query": "{ bo'
            )
            await writer.drain()
            await asyncio.sleep(0.1)  # the request is being read when the client goes
            writer.close()
            await writer.wait_closed()
        async with httpx.AsyncClient(base_url=server.url) as http:
            answer = await http.post("/graphql", json={"query": "{ __typename }"})
            assert answer.json() == {"data": {"__typename": "Query"}}
    # the server has stopped: uvicorn waited for every request task, so the log is complete
    log = server.log.read_text()
    assert "Traceback" not in log, log
    assert "ERROR" not in log, log
