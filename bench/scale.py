"""Scale benchmark (issue 15): every operation of the table below at 1k, 100k and 1M rows per
table, on SQLite and PostgreSQL, with the growth factor from the smallest to the largest size.

    python bench/scale.py                                   # SQLite, 1k / 100k / 1M
    python bench/scale.py --postgres postgresql://postgres@127.0.0.1:5432/postgres
    python bench/scale.py --sizes 1000,10000 --repeat 5     # a quick look

For each size: a freshly migrated database (`boternity-graphql migrate`) is filled with bulk SQL
(one INSERT ... SELECT per table over a generated series, so a million rows take seconds, and
the kept counts are filled by the same triggers as the API's writes); one bot holds the N KV
entries, audit entries and files, one file the N versions, the bots table N bots. Then a real
server (`boternity-graphql serve`) answers each operation `--repeat` times in turn (median ms,
each answer checked for errors), then the two deletes once, then the stall check: one client
repeats the most expensive read while another asks `bot(id) { id }` (its p50 and p99).
Results go to <out>/scale.json and are printed as a table.
"""

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import asyncpg
import databases
import httpx
from generate import server_command
from procs import clean_environ

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from db.backend import open_database  # after the project is on the path
from db.settings import Settings
from schema.pagination import encode_cursor

BOT, FILE = "01900000-0000-7000-8000-00000000b0b0", "01900000-0000-7000-8000-00000000f11e"
T0 = "2026-01-05T09:30:00.000000+00:00"
DRAFT_STATE_BYTES = 100 * 1024
PROVIDER_LIMIT = 200  # the max_providers default: what can exist
STALL_SAMPLES = 400

# the series 1..N, then per table one INSERT ... SELECT over it (:n binds N)
SERIES = {
    "sqlite": "WITH RECURSIVE s (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n)",
    "postgresql": "WITH s (i) AS (SELECT generate_series(1, CAST(:n AS INTEGER)))",
}
PAD = {"sqlite": "printf('%09d', i)", "postgresql": "lpad(CAST(i AS VARCHAR), 9, '0')"}
TIME = {  # T0 plus i milliseconds, fixed-width UTC text
    "sqlite": "strftime('%Y-%m-%dT%H:%M:%f000+00:00', '2026-01-05 09:30:00', "
    "'+' || (i / 1000.0) || ' seconds')",
    "postgresql": "to_char(TIMESTAMP '2026-01-05 09:30:00' + i * INTERVAL '1 millisecond', "
    '\'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"\')',
}
ID = "'01900000-0000-7000-8000-' || {pad}"  # 12 hex digits: '000' || 9-digit number
ZEROS = "0" * 53  # after 2 letters and 9 digits: a 64-digit hex sha256


def fill_statements(dialect: str) -> list[tuple[str, str]]:
    """(table, SQL) per table: N rows each, with one rare row for the filters to find."""
    series, pad, moment = SERIES[dialect], PAD[dialect], TIME[dialect]
    row_id = ID.format(pad=f"'000' || {pad}")
    return [
        (
            "bots",
            f"""{series} INSERT INTO bots (id, slug, name, description, status, category, tags,
                created_at, updated_at, last_active_at)
            SELECT {row_id}, 'bot-' || {pad}, 'Bot ' || {pad}, '',
                CASE WHEN i = 7 THEN 'archived' ELSE 'active' END,
                CASE i % 4 WHEN 0 THEN 'assistant' WHEN 1 THEN 'creative'
                    WHEN 2 THEN 'research' ELSE 'utility' END, '[]', {moment}, {moment},
                CASE WHEN i % 2 = 0 THEN {moment} END
            FROM s""",  # noqa: S608 (constant text)
        ),
        (
            "kv_entries",
            f"""{series} INSERT INTO kv_entries (bot_id, key, value, created_at, updated_at)
            SELECT '{BOT}', CASE WHEN i = 7 THEN 'a:' ELSE 'k:' END || {pad}, '1', '{T0}',
                '{T0}' FROM s""",  # noqa: S608 (constant text)
        ),
        (
            "memory_audit_entries",
            f"""{series} INSERT INTO memory_audit_entries (id, bot_id, memory_id, action, actor,
                details, created_at)
            SELECT {row_id}, '{BOT}', '{FILE}', CASE WHEN i = 7 THEN 'merge' ELSE 'add' END,
                CASE WHEN i = 11 THEN 'rare' ELSE 'user' END, NULL, {moment} FROM s""",  # noqa: S608 (constant text)
        ),
        (
            "bot_files",
            f"""{series} INSERT INTO bot_files (id, bot_id, filename, mime_type, size_bytes,
                version, sha256, is_indexed, created_at, updated_at)
            SELECT CASE WHEN i = 1 THEN '{FILE}' ELSE {row_id} END, '{BOT}',
                'file-' || {pad} || '.txt', 'text/plain', 1, 1, 'ab' || {pad} || '{ZEROS}',
                FALSE, '{T0}', '{T0}' FROM s""",  # noqa: S608 (constant text)
        ),
        (
            "bot_file_versions",
            f"""{series} INSERT INTO bot_file_versions (id, file_id, version, size_bytes, sha256,
                created_at)
            SELECT {row_id}, '{FILE}', i, 1, 'cd' || {pad} || '{ZEROS}', '{T0}' FROM s""",  # noqa: S608 (constant text)
        ),
        (
            "provider_health",
            f"""{series} INSERT INTO provider_health (name, priority, updated_at)
            SELECT 'provider-' || {pad}, i % 10, '{T0}' FROM s WHERE i <= {PROVIDER_LIMIT}""",  # noqa: S608 (constant text)
        ),
    ]


def operations(n: int) -> list[tuple[str, str]]:
    """(label, query) per measured read."""
    deep_file = encode_cursor("file", f"file-{n - 60:09d}.txt", "x")
    deep_version = encode_cursor("fileVersion", 60, "x")
    last_bot = encode_cursor(
        "bot", "last_active_at", True, None, "01900000-0000-7000-8000-000000000060"
    )
    since = "2026-01-05T09:30:00Z" if n <= 10_000 else f"{_plus_ms(n - 10_000)}"
    return [
        ("bots(first: 50) (reference: flat)", "{ bots(first: 50) { nodes { id } } }"),
        ("bots(first: 50) { totalCount }", "{ bots(first: 50) { totalCount } }"),
        ("bots(status: ARCHIVED), 1 match", "{ bots(status: ARCHIVED) { nodes { id } } }"),
        (
            "bots(orderBy: LAST_ACTIVE_AT) first page",
            "{ bots(orderBy: {field: LAST_ACTIVE_AT}) { nodes { id } } }",
        ),
        (
            "bots(orderBy: LAST_ACTIVE_AT) last page by cursor",
            "{ bots(orderBy: {field: LAST_ACTIVE_AT}, "
            f'after: "{last_bot}") {{ nodes {{ id }} }} }}',
        ),
        (
            "kvEntries(first: 50) { totalCount }",
            f'{{ kvEntries(botId: "{BOT}") {{ totalCount }} }}',
        ),
        (
            'kvEntries(prefix: "a:"), 1 match',
            f'{{ kvEntries(botId: "{BOT}", prefix: "a:") {{ nodes {{ key }} totalCount }} }}',
        ),
        (
            "auditLog(actions: [MERGE]), 1 match",
            f'{{ auditLog(botId: "{BOT}", filter: {{actions: [MERGE]}}) {{ nodes {{ id }} }} }}',
        ),
        (
            'auditLog(actor: "rare"), 1 match',
            f'{{ auditLog(botId: "{BOT}", filter: {{actor: "rare"}}) {{ nodes {{ id }} }} }}',
        ),
        (
            "auditLog(since: newest 10 s)",
            f'{{ auditLog(botId: "{BOT}", filter: {{since: "{since}"}}) {{ nodes {{ id }} }} }}',
        ),
        (
            "auditLog { totalCount }",
            f'{{ auditLog(botId: "{BOT}") {{ totalCount }} }}',
        ),
        (
            "bot(id) { auditLog(first: 10) } (nested)",
            f'{{ bot(id: "{BOT}") {{ auditLog(first: 10) {{ nodes {{ id }} totalCount }} }} }}',
        ),
        (
            "bots(first: 50) { files(first: 10) } (nested)",
            "{ bots(first: 50) { nodes { files(first: 10) { nodes { id } totalCount } } } }",
        ),
        (
            "files { versions(first: 5) } (nested)",
            f'{{ files(botId: "{BOT}", first: 5) {{ nodes {{ versions(first: 5) '
            "{ nodes { version } totalCount } } } }",
        ),
        (
            "files: deep page by cursor",
            f'{{ files(botId: "{BOT}", after: "{deep_file}") {{ nodes {{ id }} }} }}',
        ),
        (
            "fileVersions: deep page by cursor",
            f'{{ file(botId: "{BOT}", filename: "file-000000001.txt") {{ '
            f'versions(after: "{deep_version}") {{ nodes {{ version }} }} }} }}',
        ),
        (
            "builderDrafts(first: 50), 100 KB states",
            "{ builderDrafts(first: 50) { nodes { sessionId phase } } }",
        ),
        (
            "builderDrafts(first: 500)",
            "{ builderDrafts(first: 500) { nodes { sessionId phase } } }",
        ),
        (f"providers (at most {PROVIDER_LIMIT} exist)", "{ providers { name } }"),
    ]


def _plus_ms(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    minutes, seconds = divmod(seconds + 30 * 60, 60)
    hours, minutes = divmod(minutes, 60)
    return f"2026-01-05T{9 + hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}Z"


def _expensive() -> str:
    """29 aliases (the limit is 30), each a total with a filter that matches nearly all N rows
    (distinct arguments, so no two share a count)."""
    kv = [
        f'k{j}: kvEntries(botId: "{BOT}", prefix: "k:{"0" * j}") {{ totalCount }}' for j in range(9)
    ]
    audit = [
        f'a{j}: auditLog(botId: "{BOT}", filter: {{since: "{_plus_ms(j)}"}}) {{ totalCount }}'
        for j in range(20)
    ]
    return "{ " + " ".join(kv + audit) + " }"


EXPENSIVE = ("29 aliases of filtered totals over N rows (KV prefixes, audit since)", _expensive())


class Target:
    """One backend at one size: its data dir and database URL."""

    def __init__(self, root: Path, dialect: str, postgres: str | None, n: int) -> None:
        self.dialect, self.n = dialect, n
        self.data_dir = root / f"{dialect}-{n}"
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.data_dir.mkdir(parents=True)
        if dialect == "sqlite":
            self.url = f"sqlite:///{self.data_dir / 'boternity.db'}"
        else:
            assert postgres is not None
            database = f"boternity_scale_{n}"
            asyncio.run(_recreate(postgres, database))
            self.url = str(databases.DatabaseURL(postgres).replace(database=database))

    def env(self) -> dict[str, str]:
        return {
            **clean_environ(),
            "BOTERNITY_DATA_DIR": str(self.data_dir),
            "BOTERNITY_DATABASE_URL": self.url,
            "BOTERNITY_AUTH": "disabled",
            "BOTERNITY_LOG_LEVEL": "warning",
        }


async def _recreate(url: str, database: str) -> None:
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()


def fill(target: Target) -> float:
    """Migrate and fill; returns the seconds the fill took."""
    subprocess.run(
        [str(server_command()), "migrate"], env=target.env(), check=True, capture_output=True
    )
    started = time.perf_counter()
    asyncio.run(_fill(target))
    return time.perf_counter() - started


async def _fill(target: Target) -> None:
    settings = Settings(data_dir=target.data_dir, database_url=target.url, statement_timeout_ms=0)
    db = open_database(settings)
    await db.connect()
    try:
        async with db.write() as conn:
            await conn.execute(
                "INSERT INTO bots (id, slug, name, created_at, updated_at) "
                "VALUES (:id, 'scale-bot', 'Scale Bot', :t, :t)",
                {"id": BOT, "t": T0},
            )
            for _, sql in fill_statements(target.dialect):
                await conn.execute(sql, {"n": target.n})
            state = json.dumps(
                {"initial_description": "d", "phase": "model", "notes": "x" * DRAFT_STATE_BYTES}
            )
            await conn.execute_many(
                "INSERT INTO builder_drafts (session_id, state, schema_version, revision, "
                "created_at, updated_at, initial_description, phase) "
                "VALUES (:id, :state, 1, 1, :t, :t, 'd', 'model')",
                [
                    {"id": f"01900000-0000-7000-8000-{n:012d}", "state": state, "t": T0}
                    for n in range(500)
                ],
            )
    finally:
        await db.disconnect()


class Server:
    def __init__(self, target: Target, port: int) -> None:
        env = target.env() | {"BOTERNITY_PORT": str(port)}
        self.log = (target.data_dir / "server.log").open("w")
        self.process = subprocess.Popen(
            [str(server_command()), "serve"], env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        self.url = f"http://127.0.0.1:{port}/graphql"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise SystemExit(f"the server did not start: see {target.data_dir / 'server.log'}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def ask(client: httpx.Client, url: str, query: str) -> float:
    started = time.perf_counter()
    response = client.post(url, json={"query": query})
    elapsed = (time.perf_counter() - started) * 1000
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise SystemExit(f"{query[:120]}\n-> {response.status_code} {str(body)[:400]}")
    return elapsed


def once(client: httpx.Client, url: str, query: str) -> tuple[float, str | None]:
    """A write timed once: (ms, None), or (ms, its error code) when it was refused (past the
    statement time limit, say): reported, not fatal."""
    started = time.perf_counter()
    body = client.post(url, json={"query": query}).json()
    elapsed = (time.perf_counter() - started) * 1000
    errors = body.get("errors")
    return elapsed, None if not errors else errors[0]["extensions"]["code"]


def median_ms(client: httpx.Client, url: str, query: str, repeat: int) -> float:
    ask(client, url, query)  # warm: the document cache and the statement caches
    return statistics.median(ask(client, url, query) for _ in range(repeat))


def stall(url: str) -> dict[str, float]:
    """While one client repeats the most expensive read, another's `bot(id) { id }`."""
    stop = threading.Event()
    heavy: list[float] = []

    def hammer() -> None:
        with httpx.Client(timeout=120) as client:
            while not stop.is_set():
                heavy.append(ask(client, url, EXPENSIVE[1]))

    thread = threading.Thread(target=hammer)
    thread.start()
    time.sleep(0.5)
    light = f'{{ bot(id: "{BOT}") {{ id }} }}'
    with httpx.Client(timeout=120) as client:
        samples = sorted(ask(client, url, light) for _ in range(STALL_SAMPLES))
    stop.set()
    thread.join()
    return {
        "heavy_median_ms": statistics.median(heavy),
        "heavy_requests": len(heavy),
        "light_p50_ms": samples[len(samples) // 2],
        "light_p99_ms": samples[int(len(samples) * 0.99) - 1],
    }


def run_target(target: Target, repeat: int, port: int, with_stall: bool) -> dict[str, Any]:
    seconds = fill(target)
    print(f"  {target.dialect} N={target.n:,}: filled in {seconds:.1f} s", flush=True)
    server = Server(target, port)
    try:
        results: dict[str, Any] = {"fill_seconds": seconds, "ms": {}}
        with httpx.Client(timeout=300) as client:
            for label, query in operations(target.n):
                results["ms"][label] = median_ms(client, server.url, query, repeat)
            if with_stall:
                results["stall"] = stall(server.url)
            for label, query in (
                (
                    "deleteFile of a file with N versions",
                    f'mutation {{ deleteFile(botId: "{BOT}", filename: "file-000000001.txt") }}',
                ),
                (
                    "deleteBot of a bot with N KV entries and N files",
                    f'mutation {{ deleteBot(id: "{BOT}") }}',
                ),
            ):
                results["ms"][label], code = once(client, server.url, query)
                if code is not None:
                    results.setdefault("refused", {})[label] = code
        return results
    finally:
        server.stop()


def table(dialect: str, sizes: list[int], found: dict[int, dict[str, Any]]) -> str:
    labels = list(found[sizes[0]]["ms"])
    head = " | ".join(f"N = {size:,}" for size in sizes)
    lines = [f"| operation ({dialect}, median ms) | {head} | {sizes[0]:,} -> {sizes[-1]:,} |"]
    lines.append("| --- |" + " ---: |" * (len(sizes) + 1))
    for label in labels:
        values = [found[size]["ms"][label] for size in sizes]
        growth = values[-1] / values[0] if values[0] else float("inf")
        cells = " | ".join(
            f"{value:.2f}"
            + (" (refused: timed out)" if label in found[size].get("refused", {}) else "")
            for size, value in zip(sizes, values, strict=True)
        )
        lines.append(f"| {label} | {cells} | {growth:.1f}x |")
    for size in sizes:
        if "stall" in found[size]:
            s = found[size]["stall"]
            lines.append(
                f"\nStall at N = {size:,}: while one client repeated {EXPENSIVE[0]} "
                f"({s['heavy_requests']} requests, median {s['heavy_median_ms']:.1f} ms), "
                f"`bot(id) {{ id }}` took p50 {s['light_p50_ms']:.2f} ms, "
                f"p99 {s['light_p99_ms']:.2f} ms ({STALL_SAMPLES} requests)."
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=25)
    parser.add_argument("--postgres", help="a PostgreSQL server URL: run that backend too")
    parser.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    dialects = (["sqlite"] if args.sqlite else []) + (["postgresql"] if args.postgres else [])
    args.out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="scale-", dir=os.environ.get("TMPDIR")) as scratch:
        for dialect in dialects:
            found = {}
            for size in sizes:
                target = Target(Path(scratch), dialect, args.postgres, size)
                found[size] = run_target(target, args.repeat, args.port, size == sizes[-1])
                shutil.rmtree(target.data_dir, ignore_errors=True)
                if dialect == "postgresql":
                    asyncio.run(_recreate(args.postgres, f"boternity_scale_{size}"))
            report[dialect] = {str(size): result for size, result in found.items()}
            print("\n" + table(dialect, sizes, found) + "\n", flush=True)
    (args.out / "scale.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
