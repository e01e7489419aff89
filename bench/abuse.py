"""Abuse under load against a real uvicorn: 4 clients send the worst documents we can build within
the limits while a fifth sends one-row queries; the server's peak RSS and the fifth's latency.

    python bench/abuse.py                       # this checkout, 30 s
    python bench/abuse.py --tree /tmp/before    # the same against another checkout (before/after)

The server runs `serve` from --tree (the project's venv supplies the libraries) on 127.0.0.1 with
authentication off, under an address-space limit (--memory-mib, default 3,072) so a server
that balloons fails instead of taking the machine. One bot holds 10 keys with 1 MB string
values. The attacks, each sent in turn by every attacking client:

- loop: bot -> kvEntries(first: 10) -> nodes -> bot -> ... three levels (1,000 values);
- fragments: one fragment holding 16 aliases of kvEntries(first: 10) { nodes { value } };
- batch: 10 operations of 30 aliases each selecting one 1 MB value (300 values);
- bomb: fragments spreading the next one 3 times over 15 levels (exponential to walk);
- enums: a variable of 1.2 M enum values (6.9 MB) for auditLog's actions filter.

It prints one JSON object: per attack the answers (HTTP status and first error code) and their
mean time, the peak RSS (VmHWM) and the one-row client's p50 / p99 / max latency in ms.
"""

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIG = "x" * 1_000_000
ONE_ROW = "query($b: ID!) { bot(id: $b) { id name } }"


def attacks(bot: str) -> dict[str, bytes]:
    """name -> the JSON body of the request, encoded once."""
    page = "kvEntries(first: 10) { nodes { %s } }"
    inner = page % "key value"
    for _ in range(2):
        inner = page % f"bot {{ {inner} }}"
    aliases = " ".join(f"a{n}: kvEntries(first: 10) {{ nodes {{ value }} }}" for n in range(16))
    entry = " ".join(f'a{n}: kvEntry(botId: $b, key: "k{n % 10}") {{ value }}' for n in range(30))
    bomb = [f"fragment F{n} on Bot {{ id ...F{n + 1} ...F{n + 1} ...F{n + 1} }}" for n in range(14)]
    bomb.append("fragment F14 on Bot { id }")
    bodies = {
        "loop": {
            "query": f"query($b: ID!) {{ bot(id: $b) {{ {inner} }} }}",
            "variables": {"b": bot},
        },
        "fragments": {
            "query": "query($b: ID!) { bot(id: $b) { ...F } } "
            f"fragment F on Bot {{ {aliases} }}",
            "variables": {"b": bot},
        },
        "batch": [{"query": f"query($b: ID!) {{ {entry} }}", "variables": {"b": bot}}] * 10,
        "bomb": {
            "query": "query($b: ID!) { bot(id: $b) { ...F0 } } " + " ".join(bomb),
            "variables": {"b": bot},
        },
        "enums": {
            "query": "query($b: ID!, $a: [AuditAction!]) "
            "{ auditLog(botId: $b, filter: {actions: $a}) { totalCount } }",
            "variables": {"b": bot, "a": ["ADD"] * 1_200_000},  # 6.9 MiB
        },
    }
    return {name: json.dumps(body, separators=(",", ":")).encode() for name, body in bodies.items()}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def rss_peak_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def start(tree: Path, data: Path, memory_mib: int) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOTERNITY_")}
    env.update(
        BOTERNITY_AUTH="disabled",
        BOTERNITY_DATA_DIR=str(data),
        BOTERNITY_PORT=str(port),
        BOTERNITY_LOG_LEVEL="warning",
    )
    code = (
        f"import sys; sys.path.insert(0, {str(tree)!r}); "
        "sys.argv = ['boternity-graphql', 'serve']; from app.cli import main; main()"
    )

    def limit() -> None:
        size = memory_mib * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, env=env, preexec_fn=limit, stdout=asyncio.subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url) as client:
        for _ in range(300):
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return process, url
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the server did not start")


async def seed(url: str) -> str:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        made = await client.post(
            "/graphql", json={"query": 'mutation { createBot(input: {name: "Victim"}) { id } }'}
        )
        bot: str = made.json()["data"]["createBot"]["id"]
        for n in range(10):
            query = (
                "mutation($b: ID!, $k: String!, $v: JSON) "
                "{ setKv(botId: $b, key: $k, value: $v) { key } }"
            )
            body = {"query": query, "variables": {"b": bot, "k": f"k{n}", "v": BIG}}
            assert "errors" not in (await client.post("/graphql", json=body)).json()
        return bot


async def outcome(client: httpx.AsyncClient, body: bytes) -> str:
    """HTTP status, the first error code (or "data") and the size, without holding the body."""
    headers = {"content-type": "application/json"}
    async with client.stream("POST", "/graphql", content=body, headers=headers) as response:
        head, size = b"", 0
        async for chunk in response.aiter_raw():
            size += len(chunk)
            head = head if len(head) > 4096 else head + chunk[:4096]
    found = re.search(rb'"code":"([A-Z_]+)"', head)
    code = found.group(1).decode() if found else "data"
    return f"{response.status_code} {code} ({size / 1e6:.1f} MB)"


async def attacker(url: str, bodies: dict[str, bytes], until: float, seen: dict[str, Any]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        while time.monotonic() < until:
            for name, body in bodies.items():
                start = time.monotonic()
                try:
                    result = await outcome(client, body)
                except httpx.HTTPError as error:
                    result = type(error).__name__
                seen[name].append((result, time.monotonic() - start))
                if time.monotonic() >= until:
                    return


async def probe(url: str, bot: str, seconds: float) -> None:
    """The fifth client (its own process, so the attackers' work never delays it): one-row
    queries every 50 ms; prints the latencies in ms as JSON."""
    body = {"query": ONE_ROW, "variables": {"b": bot}}
    latencies = []
    until = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        while time.monotonic() < until:
            start = time.monotonic()
            with contextlib.suppress(httpx.HTTPError):
                await client.post("/graphql", json=body)
            latencies.append((time.monotonic() - start) * 1000)
            await asyncio.sleep(0.05)
    print(json.dumps(latencies))


async def one_row(url: str, bot: str, seconds: float) -> list[float]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--probe", url, bot, str(seconds), stdout=asyncio.subprocess.PIPE
    )
    output, _ = await process.communicate()
    latencies: list[float] = json.loads(output)
    return latencies


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", type=Path, default=ROOT)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--memory-mib", type=int, default=3072)
    parser.add_argument("--attacks", default="", help="comma-separated names (default: all)")
    parser.add_argument(
        "--probe", nargs=3, metavar=("URL", "BOT", "SECONDS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.probe:
        await probe(args.probe[0], args.probe[1], float(args.probe[2]))
        return
    with tempfile.TemporaryDirectory() as scratch:
        process, url = await start(args.tree, Path(scratch), args.memory_mib)
        try:
            bot = await seed(url)
            bodies = attacks(bot)
            if args.attacks:
                bodies = {name: bodies[name] for name in args.attacks.split(",")}
            seen: dict[str, list[Any]] = {name: [] for name in bodies}
            until = time.monotonic() + args.seconds
            clients = [attacker(url, bodies, until, seen) for _ in range(4)]
            *_, latencies = await asyncio.wait_for(
                asyncio.gather(*clients, one_row(url, bot, args.seconds)), args.seconds + 240
            )
            peak = rss_peak_mib(process.pid) if process.returncode is None else float("nan")
            ordered = sorted(latencies)
            report = {
                "tree": str(args.tree),
                "server_alive": process.returncode is None,
                "peak_rss_mib": round(peak, 1),
                "one_row_ms": {
                    "count": len(ordered),
                    "p50": round(statistics.median(ordered), 1),
                    "p99": round(ordered[int(len(ordered) * 0.99) - 1], 1),
                    "max": round(ordered[-1], 1),
                },
                "attacks": {
                    name: {
                        "answers": sorted({result for result, _ in results}),
                        "count": len(results),
                        "mean_s": round(statistics.mean(t for _, t in results), 2)
                        if results
                        else None,
                    }
                    for name, results in seen.items()
                },
            }
            print(json.dumps(report, indent=2))
        finally:
            if process.returncode is None:
                process.kill()
            await process.wait()


if __name__ == "__main__":
    asyncio.run(main())
