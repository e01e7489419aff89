"""A real server with authentication required and one key per scope (tests/server.py), plus a
look at what its database holds.

    async with keyed_server(tmp_path) as server:
        server.keys["read"]   # the secret of a read key
        server.row_counts()   # rows per table, API keys and migrations left out
"""

import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.server import running_server

_SCRIPT = Path(sys.executable).parent / "boternity-graphql"
SCOPES = ("read", "write", "admin")


@dataclass(frozen=True)
class KeyedServer:
    url: str
    data_dir: Path
    keys: dict[str, str]

    def bearer(self, scope: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[scope]}"}

    def row_counts(self) -> dict[str, int]:
        with sqlite3.connect(self.data_dir / "boternity.db") as conn:
            tables = [
                name
                for (name,) in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE"
                    " 'sqlite_%' AND name NOT IN ('api_keys', 'schema_migrations')"
                )
            ]
            return {
                table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608
                for table in tables
            }


def cli(data_dir: Path, *args: str) -> str:
    """Run `boternity-graphql` on the data dir: its stdout."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("BOTERNITY_")}
    environ["BOTERNITY_DATA_DIR"] = str(data_dir)
    done = subprocess.run(
        [str(_SCRIPT), *args],
        env=environ,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def create_key(data_dir: Path, scope: str) -> str:
    """`boternity-graphql api-key create`: the key (the last line of stdout)."""
    return cli(data_dir, "api-key", "create", "--name", scope, "--scope", scope).splitlines()[-1]


@asynccontextmanager
async def keyed_server(
    tmp_path: Path, env: dict[str, str] | None = None
) -> AsyncIterator[KeyedServer]:
    data_dir = tmp_path / "data"
    cli(data_dir, "migrate")
    keys = {scope: create_key(data_dir, scope) for scope in SCOPES}
    async with running_server(data_dir, {"BOTERNITY_AUTH": "required", **(env or {})}) as url:
        yield KeyedServer(url, data_dir, keys)
