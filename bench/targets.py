"""The queries, the targets that answer them, and how each answer is checked.

Every target gets the same request shape per query: a JSON body {"query", "variables"} with a
random bot id in the variables (load.lua fills the __ID__, __KEY__ and __N__ placeholders).
The ceiling ignores the query text; datasette-graphql gets its own equivalent queries. A
target's answer is reduced to a canonical form (`extract`) and compared with the answer read
from the database directly (`expected`) before it is measured.
"""

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
PEERS = BENCH / "peers"
QUERIES = ("one_bot", "kv_page", "nested", "set_kv")
PAGE, NESTED_PAGE, NESTED_KV = 50, 50, 10
WRITE_VALUE = {"n": "__N__", "note": "benchmark write", "tags": ["a", "b"], "ok": True}

GRAPHQL: dict[str, tuple[str, dict[str, Any]]] = {
    "one_bot": ("query OneBot($id: ID!) { bot(id: $id) { id name slug } }", {"id": "__ID__"}),
    "kv_page": (
        "query KvPage($id: ID!) { kvEntries(botId: $id, first: 50) { nodes { key value } } }",
        {"id": "__ID__"},
    ),
    "nested": (
        "query Nested { bots(first: 50) { nodes { id kvEntries(first: 10) "
        "{ nodes { key value } } } } }",
        {},
    ),
    "set_kv": (
        "mutation SetKv($id: ID!, $key: String!, $value: JSON) "
        "{ setKv(botId: $id, key: $key, value: $value) { key value } }",
        {"id": "__ID__", "key": "__KEY__", "value": WRITE_VALUE},
    ),
}
DATASETTE: dict[str, tuple[str, dict[str, Any]]] = {
    "one_bot": (
        "query OneBot($id: String) { bots_row(id: $id) { id name slug } }",
        {"id": "__ID__"},
    ),
    "kv_page": (
        "query KvPage($id: String) { kv_entries(filter: [{bot_id: {eq: $id}}], first: 50, "
        "sort: key) { nodes { key value } } }",
        {"id": "__ID__"},
    ),
}


def template(query: str, variables: dict[str, Any]) -> str:
    """The request body with placeholders; __N__ stands unquoted where a number goes."""
    return json.dumps({"query": query, "variables": variables}).replace('"__N__"', "__N__")


def fill(body: str, bot_id: str, key: str = "~bench/verify", number: int = 42) -> bytes:
    filled = body.replace("__ID__", bot_id).replace("__KEY__", key)
    return filled.replace("__N__", str(number)).encode()


def _pairs(nodes: list[dict[str, Any]], decode: bool = False) -> list[list[Any]]:
    return [[n["key"], json.loads(n["value"]) if decode else n["value"]] for n in nodes]


def extract(query: str, data: dict[str, Any], datasette: bool = False) -> Any:
    """The canonical form of a successful answer (what `expected` returns)."""
    if datasette:
        if query == "one_bot":
            return data["bots_row"]
        return _pairs(data["kv_entries"]["nodes"], decode=True)
    if query == "one_bot":
        return data["bot"]
    if query == "kv_page":
        return _pairs(data["kvEntries"]["nodes"])
    if query == "nested":
        return [[n["id"], _pairs(n["kvEntries"]["nodes"])] for n in data["bots"]["nodes"]]
    return [data["setKv"]["key"], data["setKv"]["value"]]


def expected(db_path: Path, query: str, bot_id: str) -> Any:
    """The right answer to the verification request, read with sqlite3."""
    conn = sqlite3.connect(db_path)
    try:
        if query == "one_bot":
            row = conn.execute("SELECT id, name, slug FROM bots WHERE id = ?", (bot_id,)).fetchone()
            return {"id": row[0], "name": row[1], "slug": row[2]}
        if query == "set_kv":
            return ["~bench/verify", {**WRITE_VALUE, "n": 42}]
        sql = "SELECT key, value FROM kv_entries WHERE bot_id = ? ORDER BY key LIMIT ?"
        if query == "kv_page":
            return [[k, json.loads(v)] for k, v in conn.execute(sql, (bot_id, PAGE))]
        ids = conn.execute(
            "SELECT id FROM bots ORDER BY created_at DESC, id DESC LIMIT ?", (NESTED_PAGE,)
        ).fetchall()
        return [
            [i, [[k, json.loads(v)] for k, v in conn.execute(sql, (i, NESTED_KV))]] for (i,) in ids
        ]
    finally:
        conn.close()


@dataclass(frozen=True)
class Target:
    """One server under test: how to start it and what it answers.

    `command(python, peer_python, database, port)` gives the argv; `paths` maps each query it
    answers to the URL path; `env` is added to the environment. A `postgres` target serves the
    PostgreSQL database the runner prepares (--postgres), with `processes` servers on it."""

    name: str
    label: str
    command: Callable[[str, str, Path, int], list[str]]
    paths: dict[str, str]
    needs_peer_venv: bool = False
    datasette: bool = False
    env: Callable[[Path], dict[str, str]] = field(default=lambda _db: {})
    postgres: bool = False
    processes: int = 1

    def body(self, query: str) -> str:
        return template(*(DATASETTE if self.datasette else GRAPHQL)[query])

    def data_file(self, run_dir: Path, process: int = 0) -> Path:
        """Where this target's copy of the database lives (in its data dir, for ours)."""
        if self.postgres:
            return run_dir / self.name / str(process) / "boternity.db"  # a data dir, no file
        if self.name == "ours":
            return run_dir / "ours" / "boternity.db"
        return run_dir / f"{self.name}.db"


def _ours(python: str, peer: str, db: Path, port: int) -> list[str]:
    script = Path(python).parent / "boternity-graphql"
    return [str(script), "serve", "--host", "127.0.0.1", "--port", str(port)]


def _ours_env(db: Path) -> dict[str, str]:
    return {
        "BOTERNITY_DATA_DIR": str(db.parent),
        "BOTERNITY_AUTH": "disabled",
        "BOTERNITY_LOG_LEVEL": "warning",
    }


def _peer(script: str, venv: bool) -> Callable[[str, str, Path, int], list[str]]:
    def command(python: str, peer: str, db: Path, port: int) -> list[str]:
        return [peer if venv else python, str(PEERS / script), str(db), "--port", str(port)]

    return command


def _datasette(python: str, peer: str, db: Path, port: int) -> list[str]:
    script = Path(peer).parent / "datasette"
    return [str(script), "serve", str(db), "--host", "127.0.0.1", "--port", str(port)]


_GQL = "/graphql"
TARGETS = {
    target.name: target
    for target in (
        Target("ours", "this server", _ours, dict.fromkeys(QUERIES, _GQL), env=_ours_env),
        Target(
            "ours_pg",
            "this server on PostgreSQL, 1 process",
            _ours,
            dict.fromkeys(QUERIES, _GQL),
            env=_ours_env,
            postgres=True,
        ),
        Target(
            "ours_pg2",
            "this server on PostgreSQL, 2 processes on one database",
            _ours,
            dict.fromkeys(QUERIES, _GQL),
            env=_ours_env,
            postgres=True,
            processes=2,
        ),
        Target(
            "ceiling",
            "bare Starlette + sqlite3",
            _peer("ceiling.py", venv=False),
            {q: "/" + q.replace("_", "-") for q in QUERIES},
        ),
        Target(
            "ariadne",
            "Ariadne + aiosqlite",
            _peer("ariadne_peer.py", venv=True),
            {"one_bot": _GQL, "kv_page": _GQL, "set_kv": _GQL},
            needs_peer_venv=True,
        ),
        Target(
            "strawberry",
            "Strawberry + aiosqlite, no DataLoader (naive loop)",
            _peer("strawberry_peer.py", venv=False),
            {"one_bot": _GQL, "kv_page": _GQL, "nested": _GQL},
        ),
        Target(
            "datasette",
            "datasette-graphql",
            _datasette,
            {"one_bot": _GQL, "kv_page": _GQL},
            needs_peer_venv=True,
            datasette=True,
        ),
    )
}
