"""Running the Node scripts of tests/js (clients this project did not write) from a test.

They need Node and the packages of tests/js/package.json installed by `npm ci` there (.ci/run
does it); a test skips, saying which is missing, when they are not there.
"""

import asyncio
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

JS = Path(__file__).parents[1] / "js"
README = Path(__file__).parents[2] / "README.md"
TIMEOUT_S = 120.0


def require_node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node is not installed: the client tests run the clients in Node")
    if not (JS / "node_modules" / "graphql-http").is_dir():
        pytest.skip("the Node packages are not installed: run `npm ci` in tests/js")
    return node


async def run_node(script: str, *args: str, env: dict[str, str] | None = None) -> Any:
    """Run tests/js/<script> with Node; its stdout, one JSON value."""
    node = require_node()
    process = await asyncio.create_subprocess_exec(
        node,
        str(JS / script),
        *args,
        cwd=JS,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(TIMEOUT_S):
        out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return json.loads(out)


def readme_snippets() -> dict[str, str]:
    """The README's client snippets: file name -> code (the blocks starting `// file: `)."""
    blocks = re.findall(r"```js\n// file: (\S+)\n(.*?)```", README.read_text(), flags=re.DOTALL)
    return dict(blocks)


def write_snippets(url: str, key: str) -> None:
    """The README's snippets into tests/js/readme/, pointed at this server with this key."""
    folder = JS / "readme"
    folder.mkdir(exist_ok=True)
    ws_url = url.replace("http://", "ws://")
    for name, code in readme_snippets().items():
        code = code.replace("http://localhost:8000/graphql", f"{url}/graphql")
        code = code.replace("ws://localhost:8000/graphql", f"{ws_url}/graphql")
        (folder / name).write_text(code.replace("<key>", key))
