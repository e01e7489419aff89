"""Writers are not slowed by subscribers (issue 14 item 6): the time to acknowledge a setKv,
with no subscriber and with 5,000 kvChanged subscriptions of one read key (250 sockets of 20),
against a real server on 127.0.0.1, in one run.

    . .venv/bin/activate
    python bench/ws_fanout.py                      # 5,000 subscribers, 200 writes at 5/s
    python bench/ws_fanout.py --subscribers 500 --writes 50   # a quick look

The subscribers run in a process of their own (this script with --role subscribers) and read
every event; the writer sends one setKv at a time at a fixed rate (so each phase asks the same
of the server) and times each acknowledgement. The server's per-key caps are raised to hold
the subscribers (BOTERNITY_MAX_SUBSCRIPTIONS_PER_KEY, BOTERNITY_MAX_WEBSOCKETS_PER_KEY). It
prints p50 and p99 of both phases, their ratio, and how many events reached the subscribers.
"""

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

SCRIPT = Path(sys.executable).parent / "boternity-graphql"
PER_SOCKET = 20
KEY_MARK = '"kvChanged":{"key":"'
KV_CHANGED = "subscription($b: ID!) { kvChanged(botId: $b) { key entry { value } } }"
SET_KV = "mutation($b: ID!, $k: String!, $v: JSON) { setKv(botId: $b, key: $k, value: $v) { key } }"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(SCRIPT), *args], env=env, capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.strip().splitlines()[-1]


async def subscribers(url: str, key: str, bot: str, count: int) -> None:
    """Open count / 20 sockets of 20 subscriptions, say "ready", then count events by key and
    print each key's count once every subscriber has it."""
    received: dict[str, int] = {}

    async def one_socket(sockets_ready: asyncio.Queue[None]) -> None:
        async with connect(
            url, subprotocols=[Subprotocol("graphql-transport-ws")], max_queue=None
        ) as ws:
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}
            await ws.send(json.dumps(init))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            for n in range(PER_SOCKET):
                payload = {"query": KV_CHANGED, "variables": {"b": bot}}
                await ws.send(json.dumps({"id": str(n), "type": "subscribe", "payload": payload}))
            await sockets_ready.put(None)
            async for frame in ws:  # the key found without decoding the frame: cheap
                assert isinstance(frame, str)
                assert '"type":"next"' in frame, frame
                start = frame.index(KEY_MARK) + len(KEY_MARK)
                event_key = frame[start : frame.index('"', start)]
                received[event_key] = received.get(event_key, 0) + 1
                if received[event_key] == count:
                    print(f"all {event_key} {time.monotonic()}", flush=True)

    ready: asyncio.Queue[None] = asyncio.Queue()
    tasks = [asyncio.create_task(one_socket(ready)) for _ in range(count // PER_SOCKET)]
    for _ in tasks:
        await ready.get()
    print("ready", flush=True)
    await asyncio.gather(*tasks)


ACKED: dict[str, float] = {}  # key -> when its setKv was acknowledged (time.monotonic)


async def acknowledgements(
    http: httpx.AsyncClient, bot: str, prefix: str, writes: int, rate: float
) -> list[float]:
    """Seconds to acknowledge each of `writes` setKv sent at `rate` per second."""
    seconds = []
    for n in range(writes):
        started = time.perf_counter()
        body = {"query": SET_KV, "variables": {"b": bot, "k": f"{prefix}{n}", "v": n}}
        response = await http.post("/graphql", json=body)
        seconds.append(time.perf_counter() - started)
        ACKED[f"{prefix}{n}"] = time.monotonic()
        assert "errors" not in response.json(), response.text
        await asyncio.sleep(max(0.0, 1 / rate - seconds[-1]))
    return seconds


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], fraction: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(fraction * 100) - 1]


async def wait_for(lines: asyncio.StreamReader, wanted: str) -> float:
    """Read lines until one starts with `wanted`; the time it carries (0.0: none)."""
    while True:
        line = (await lines.readline()).decode().strip()
        if line == wanted or line.startswith(f"{wanted} "):
            return float(line.rpartition(" ")[2]) if " " in line[len(wanted) :] else 0.0


async def measure(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="ws-fanout-")) / "data"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOTERNITY_")}
    env.update(
        BOTERNITY_DATA_DIR=str(data_dir),
        BOTERNITY_PORT=str(port),
        BOTERNITY_LOG_LEVEL="warning",
        BOTERNITY_MAX_SUBSCRIPTIONS_PER_KEY=str(args.subscribers),
        BOTERNITY_MAX_WEBSOCKETS_PER_KEY=str(args.subscribers // PER_SOCKET),
    )
    cli(env, "migrate")
    read_key = cli(env, "api-key", "create", "--name", "read", "--scope", "read")
    write_key = cli(env, "api-key", "create", "--name", "write", "--scope", "write")
    server = await asyncio.create_subprocess_exec(str(SCRIPT), "serve", env=env)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {write_key}"}
    try:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
            for _ in range(300):
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            created = await http.post(
                "/graphql", json={"query": 'mutation { createBot(input: {name: "b"}) { id } }'}
            )
            bot = created.json()["data"]["createBot"]["id"]
            await acknowledgements(http, bot, "warm", 20, args.rate)
            cpu = cpu_seconds(server.pid)
            alone = await acknowledgements(http, bot, "alone", args.writes, args.rate)
            cpu_alone = cpu_seconds(server.pid) - cpu
            child = await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--role", "subscribers", "--url",
                base.replace("http", "ws") + "/graphql", "--key", read_key, "--bot", bot,
                "--subscribers", str(args.subscribers),
                stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
            assert child.stdout is not None
            async with asyncio.timeout(120):
                await wait_for(child.stdout, "ready")
            for attempt in range(100):  # every subscription is live once a probe reaches all
                await acknowledgements(http, bot, f"probe{attempt}-", 1, args.rate)
                try:
                    async with asyncio.timeout(2):
                        await wait_for(child.stdout, f"all probe{attempt}-0")
                    break
                except TimeoutError:
                    continue
            cpu = cpu_seconds(server.pid)
            loaded = await acknowledgements(http, bot, "loaded", args.writes, args.rate)
            delivered: list[float] = []  # seconds from acknowledgement to the last subscriber
            try:
                for n in range(args.writes):
                    async with asyncio.timeout(30):
                        at = await wait_for(child.stdout, f"all loaded{n}")
                    delivered.append(at - ACKED[f"loaded{n}"])
            except TimeoutError:
                pass
            cpu_loaded = cpu_seconds(server.pid) - cpu
            child.kill()
            await child.wait()
    finally:
        server.terminate()
        await server.wait()
    report(args, alone, loaded, delivered)
    print(
        f"  server CPU per write: {cpu_alone / args.writes * 1000:.1f} ms alone,"
        f" {cpu_loaded / args.writes * 1000:.1f} ms with the subscribers"
    )


def report(
    args: argparse.Namespace, alone: list[float], loaded: list[float], delivered: list[float]
) -> None:
    p50_alone, p99_alone = percentile(alone, 0.5), percentile(alone, 0.99)
    p50_loaded, p99_loaded = percentile(loaded, 0.5), percentile(loaded, 0.99)
    print(f"setKv acknowledgement, {args.writes} writes at {args.rate}/s each phase:")
    print(f"  no subscriber:        p50 {p50_alone * 1000:.1f} ms, p99 {p99_alone * 1000:.1f} ms")
    print(
        f"  {args.subscribers} subscribers: p50 {p50_loaded * 1000:.1f} ms,"
        f" p99 {p99_loaded * 1000:.1f} ms"
    )
    print(f"  p99 ratio {p99_loaded / p99_alone:.2f}x")
    print(
        f"  writes whose event reached all {args.subscribers} subscribers:"
        f" {len(delivered)}/{args.writes}; from acknowledgement to the last subscriber:"
        f" p50 {percentile(delivered, 0.5) * 1000:.0f} ms,"
        f" p99 {percentile(delivered, 0.99) * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--rate", type=float, default=5.0, help="setKv per second")
    parser.add_argument("--role", default="writer", choices=("writer", "subscribers"))
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--key", help=argparse.SUPPRESS)
    parser.add_argument("--bot", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "subscribers":
        asyncio.run(subscribers(args.url, args.key, args.bot, args.subscribers))
    else:
        asyncio.run(measure(args))


if __name__ == "__main__":
    main()
