"""Run the benchmark: `python bench/run.py` (README.md says what it measures).

Generates the data, starts every target as its own process pinned to core 0 (each on its own
copy of the database), checks one answer per target and query against the database, then
loads them with wrk on core 1 in rounds (each round visits every query and target, in a
rotated order, so drift hits all of them alike) and writes bench/out/results.json and
bench/out/results.md.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import generate
import postgres
import procs
import report
from targets import QUERIES, TARGETS, Target, expected, extract, fill

DEFAULT_OUT = procs.BENCH / "out"
Servers = dict[str, list[tuple[procs.Server, int]]]  # per target: its processes and ports


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark this server against its peers.")
    parser.add_argument("--duration", type=int, default=10, help="measured seconds per run")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up seconds per run (0: none)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--bots", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=50, help="KV entries per bot")
    parser.add_argument("--targets", help="comma-separated (default: all)")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also run this server on PostgreSQL, 1 and 2 processes (targets ours_pg, "
        "ours_pg2), each on a database boternity_bench_<target> re-created on that server",
    )
    parser.add_argument("--queries", default=",".join(QUERIES), help="comma-separated")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--quick", action="store_true", help="1 round of 1 s, no warm-up")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup, args.rounds = 1, 0, 1
    names = (
        [name for name in TARGETS if args.postgres or not TARGETS[name].postgres]
        if args.targets is None
        else [name for name in args.targets.split(",") if name]
    )
    if not args.postgres and any(TARGETS[name].postgres for name in names if name in TARGETS):
        parser.error("the ours_pg targets need --postgres URL")
    args.queries = [query for query in args.queries.split(",") if query]
    for given, known in ((names, TARGETS), (args.queries, QUERIES)):
        unknown = set(given) - set(known)
        if unknown:
            parser.error(f"unknown {sorted(unknown)}; choose from {', '.join(known)}")
    args.targets = [TARGETS[name] for name in names]
    return args


def machine(args: argparse.Namespace, wrk: str, pinned: bool) -> dict[str, Any]:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    wrk_version = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "wrk": (wrk_version.stdout or wrk_version.stderr).split(" Copyright")[0].strip(),
        "pinning": "servers on core 0, wrk on core 1 (taskset)" if pinned else "no CPU pinning",
        "load_start": round(os.getloadavg()[0], 2),
        **{k: getattr(args, k) for k in ("bots", "entries", "connections", "rounds")},
        **{k: getattr(args, k) for k in ("duration", "warmup")},
    }


def start(
    targets: list[Target],
    run_dir: Path,
    base_db: Path,
    peer_python: str,
    pin: list[str],
    postgres_url: str | None,
) -> Servers:
    servers: Servers = {}
    for target in targets:
        servers[target.name] = []
        database = None
        if target.postgres and postgres_url is not None:
            database = postgres.prepare(postgres_url, str(base_db), target.name)
        for process in range(target.processes):
            db = target.data_file(run_dir, process)
            db.parent.mkdir(parents=True, exist_ok=True)
            env = target.env(db)
            if database is not None:
                env["BOTERNITY_DATABASE_URL"] = database
            else:
                shutil.copyfile(base_db, db)
            port = procs.free_port()
            argv = target.command(sys.executable, peer_python, db, port)
            suffix = f"-{process}" if target.processes > 1 else ""
            log = run_dir / f"{target.name}{suffix}.log"
            servers[target.name].append((procs.Server(argv, env, log, pin), port))
    return servers


def verify(target: Target, url: str, query: str, base_db: Path, bot_id: str) -> str:
    """'ok', or what is wrong with the target's answer to one request."""
    status, body = procs.post(url, fill(target.body(query), bot_id))
    try:
        payload = json.loads(body)
        if status == 200 and "errors" not in payload:
            got = extract(query, payload["data"], target.datasette)
            if got == expected(base_db, query, bot_id):
                return "ok"
            return f"wrong answer: {json.dumps(got)[:300]}"
    except (ValueError, KeyError, TypeError):
        pass
    return f"HTTP {status}: {body[:300].decode(errors='replace')}"


def verify_all(target: Target, urls: list[str], query: str, base_db: Path, bot_id: str) -> str:
    """'ok' when every process of the target answers right, else the first problem."""
    for url in urls:
        problem = verify(target, url + target.paths[query], query, base_db, bot_id)
        if problem != "ok":
            return problem
    return "ok"


def measure(
    args: argparse.Namespace,
    servers: Servers,
    plan: list[tuple[Target, str]],
    files: dict[str, Path],
) -> list[dict[str, Any]]:
    runs = []
    wrk_pin = procs.pinning()[1]
    for round_index in range(args.rounds):
        shift = round_index % max(len(args.targets), 1)
        order = args.targets[shift:] + args.targets[:shift]
        for query in args.queries:
            for target in order:
                if (target, query) not in plan:
                    continue
                urls = [
                    f"http://127.0.0.1:{port}{target.paths[query]}"
                    for _, port in servers[target.name]
                ]
                body = files[f"{target.name}-{query}"]
                load = (args.wrk, wrk_pin, urls, files["ids"], body)
                if args.warmup:
                    procs.run_wrk(*load, args.warmup, args.connections)
                run = procs.run_wrk(*load, args.duration, args.connections)
                run.update(target=target.name, query=query, round=round_index + 1)
                rate = run["requests"] / (run["duration_us"] / 1e6)
                print(f"round {round_index + 1} {query:8} {target.name:11} {rate:9,.0f} req/s "
                      f"p99 {run['p99_us'] / 1000:6.1f} ms errors "
                      f"{report.errors_of(run)}", flush=True)  # fmt: skip
                runs.append(run)
    return runs


def write_bodies(targets: list[Target], run_dir: Path) -> dict[str, Path]:
    """The request body template of every target and query, as files for load.lua."""
    files = {}
    for target in targets:
        for query in target.paths:
            files[f"{target.name}-{query}"] = run_dir / f"{target.name}-{query}.json"
            files[f"{target.name}-{query}"].write_text(target.body(query))
    return files


def check_answers(
    args: argparse.Namespace, servers: Servers, base_db: Path, bot_id: str, results: dict[str, Any]
) -> list[tuple[Target, str]]:
    """Wait for every target, check one answer per query; the (target, query) pairs to load."""
    plan = []
    for target in args.targets:
        urls = [f"http://127.0.0.1:{port}" for _, port in servers[target.name]]
        for (server, _), url in zip(servers[target.name], urls, strict=True):
            try:
                ready = url + target.paths["one_bot"]
                server.wait_ready(ready, fill(target.body("one_bot"), bot_id))
            except RuntimeError as error:
                raise SystemExit(f"{target.name} did not start: {error}") from None
        queries = [q for q in args.queries if q in target.paths]
        # query by query on every process, so set_kv's write comes after every read's check
        checked = {q: verify_all(target, urls, q, base_db, bot_id) for q in queries}
        results["verify"][target.name] = checked
        plan += [(target, q) for q in queries if checked[q] == "ok"]
    return plan


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    args.wrk = procs.ensure_wrk()
    server_pin, wrk_pin = procs.pinning()
    results: dict[str, Any] = {"meta": machine(args, args.wrk, bool(wrk_pin)), "verify": {}}
    base_db = generate.generate(args.out / "data", args.bots, args.entries, seed=7)
    ids_file = args.out / "data" / "bot_ids.txt"
    bot_id = ids_file.read_text().split()[0]
    peer_python = sys.executable
    if any(target.needs_peer_venv for target in args.targets):
        peer_python = procs.ensure_peer_venv()
    run_dir = args.out / "run"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    files = {"ids": ids_file, **write_bodies(args.targets, run_dir)}
    servers = start(args.targets, run_dir, base_db, peer_python, server_pin, args.postgres)
    try:
        plan = check_answers(args, servers, base_db, bot_id, results)
        results["runs"] = measure(args, servers, plan, files)
        results["meta"]["load_end"] = round(os.getloadavg()[0], 2)
        results["rss_mb"] = {
            name: round(max(rss), 1)
            for name, processes in servers.items()
            if (rss := [mb for server, _ in processes if (mb := server.rss_mb()) is not None])
        }
    finally:
        for processes in servers.values():
            for server, _ in processes:
                server.stop()
    print(report.write(results, args.out))
    print(f"\nwritten: {args.out / 'results.md'} and {args.out / 'results.json'}")
    if results["checks"][-1]["pass"] is False:
        return 2  # a wrong answer or an error: the figures mean nothing
    missed = any(check["pass"] is False for check in results["checks"])
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
