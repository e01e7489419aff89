"""Logs of a real server: JSON lines (--log-format json), a request id on every line of a
request and in the X-Request-ID header (kept when well-formed), one access line per request,
and never a key, a variable's value or a signed URL's signature."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.api.upload_helpers import PREFLIGHT, form
from tests.server import started_server

pytestmark = pytest.mark.server
BIN = Path(sys.executable).parent / "boternity-graphql"
SECRET_VALUE = "variable-value-that-must-not-be-logged"
CREATE = "mutation CreateBot($name: String!) { createBot(input: {name: $name}) { id } }"


def create_key(data_dir: Path) -> str:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("BOTERNITY")}
    environ["BOTERNITY_DATA_DIR"] = str(data_dir)
    command = ["api-key", "create", "--name", "ops", "--scope", "admin"]
    for args in (["migrate"], command):
        done = subprocess.run(
            [str(BIN), *args], env=environ, capture_output=True, text=True, timeout=60, check=True
        )
    return done.stdout.strip().splitlines()[-1]


def json_lines(log: str) -> list[dict[str, Any]]:
    """The log's JSON lines; the only other lines are the CLI's own start-up messages."""
    lines = []
    for line in log.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
        else:
            assert line.startswith(("boternity-graphql: ", "applied migration ")), line
    return lines


async def test_json_logs_with_request_ids_one_access_line_each_and_no_secrets(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    key = create_key(data_dir)
    env = {"BOTERNITY_AUTH": "required", "BOTERNITY_LOG_FORMAT": "json"}
    auth = {"Authorization": f"Bearer {key}"}
    async with (
        started_server(data_dir, env) as server,
        httpx.AsyncClient(base_url=server.url, headers=auth, timeout=30) as client,
    ):
        created = await client.post(
            "/graphql",
            json={"query": CREATE, "variables": {"name": SECRET_VALUE}},
            headers={"X-Request-ID": "client-id-1"},
        )
        assert created.headers["x-request-id"] == "client-id-1"
        bot = created.json()["data"]["createBot"]["id"]
        uploaded = await client.post(
            "/graphql",
            data=form(bot, "a.txt"),
            files={"0": ("a.txt", SECRET_VALUE.encode(), "text/plain")},
            headers={**PREFLIGHT, "X-Request-ID": "upload-1"},
        )
        url = uploaded.json()["data"]["uploadFile"]["downloadUrl"]
        signature = parse_qs(urlsplit(url).query)["sig"][0]
        downloaded = await client.get(url, headers={"Authorization": ""})
        assert downloaded.status_code == 200
        malformed = await client.get("/healthz", headers={"X-Request-ID": "no spaces allowed"})
        generated = malformed.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{16}", generated)
        refused = await client.post(
            "/graphql",
            content=b"{",
            headers={"X-Request-ID": "bad-1", "Content-Type": "application/json"},
        )
        assert refused.status_code == 400
    log = server.log.read_text()
    for secret in (key, SECRET_VALUE, signature):
        assert secret not in log
    lines = json_lines(log)
    access = {line["request_id"]: line for line in lines if line["logger"] == "boternity.access"}
    assert len(access) == len([line for line in lines if line["logger"] == "boternity.access"])
    expected = {
        "client-id-1": ("POST", "/graphql", "CreateBot", 200, "-"),
        "upload-1": ("POST", "/graphql", "(anonymous)", 200, "-"),
        generated: ("GET", "/healthz", "-", 200, "-"),
        "bad-1": ("POST", "/graphql", "-", 400, "BAD_USER_INPUT"),
    }
    for request_id, (method, path, operation, status, codes) in expected.items():
        line = access[request_id]
        fields = (line["method"], line["path"], line["operation"], line["status"])
        assert (*fields, line["error_codes"]) == (method, path, operation, status, codes)
        assert line["level"] == "info"
        assert isinstance(line["duration_ms"], float)
    downloads = [line for line in access.values() if line["path"].startswith("/files/")]
    assert [(line["method"], line["status"]) for line in downloads] == [("GET", 200)]
    assert {line["logger"] for line in lines} >= {"boternity.access", "uvicorn.error"}
