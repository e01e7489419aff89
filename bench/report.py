"""The report: per target and query the median over rounds, every target's req/s ratio to the
others, and the issue's targets as pass/fail. Written as results.json and results.md.

A ratio is taken within each round (the two runs are at most a minute apart) and the median of
those is reported, so load that comes and goes on a shared machine cancels out as far as it can.
"""

import json
from pathlib import Path
from statistics import median
from typing import Any

from targets import QUERIES, TARGETS

# (query, ours over whom, at least, what the issue asks)
RATIO_CHECKS = (
    ("one_bot", "ariadne", 1.0, "one-bot req/s >= 1.0x hand-written Ariadne"),
    ("kv_page", "ariadne", 1.0, "50-entry KV page req/s >= 1.0x hand-written Ariadne"),
    ("one_bot", "datasette", 10.0, "one-bot req/s >= 10x datasette-graphql"),
    ("kv_page", "datasette", 10.0, "KV page req/s >= 10x datasette-graphql"),
    ("nested", "strawberry", 2.0, "nested page req/s >= 2x the naive per-bot query loop"),
    ("set_kv", "ceiling", 0.5, "setKv req/s >= 0.5x bare Starlette + sqlite3 upsert"),
)
MAX_P99_MS = 50.0
MAX_RSS_MB = 150.0
BUSY_LOAD_BEFORE, BUSY_LOAD_AFTER = 1.0, 3.0


def errors_of(run: dict[str, Any]) -> int:
    keys = ("bad_status", "graphql_errors", "socket_errors", "timeouts")
    return sum(int(run[key]) for key in keys)


def rate(run: dict[str, Any]) -> float:
    """Good answers per second."""
    seconds = float(run["duration_us"]) / 1e6
    return (int(run["requests"]) - errors_of(run)) / seconds


def cell_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median over rounds; req/s counts only good answers."""
    rates = [rate(r) for r in runs]
    return {
        "req_s": round(median(rates), 1),
        "req_s_min": round(min(rates), 1),
        "req_s_max": round(max(rates), 1),
        "p50_ms": round(median(r["p50_us"] for r in runs) / 1000, 2),
        "p99_ms": round(median(r["p99_us"] for r in runs) / 1000, 2),
        "requests": sum(r["requests"] for r in runs),
        "errors": sum(errors_of(r) for r in runs),
        "locked": sum(int(r["locked"]) for r in runs),
        "rounds": len(runs),
    }


def summarise(results: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    cells: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for run in results["runs"]:
        cells.setdefault(run["query"], {}).setdefault(run["target"], []).append(run)
    return {
        query: {target: cell_summary(runs) for target, runs in by_target.items()}
        for query, by_target in cells.items()
    }


def ratios(results: dict[str, Any]) -> dict[str, dict[str, dict[str, float]]]:
    """{query: {row: {column: median over rounds of row req/s / column req/s}}}."""
    rates: dict[str, dict[str, dict[int, float]]] = {}
    for run in results["runs"]:
        rates.setdefault(run["query"], {}).setdefault(run["target"], {})[run["round"]] = rate(run)
    found: dict[str, dict[str, dict[str, float]]] = {}
    for query, by_target in rates.items():
        for row, row_rates in by_target.items():
            for column, column_rates in by_target.items():
                shared = [r for r in row_rates if column_rates.get(r)]
                if shared:
                    value = median(row_rates[r] / column_rates[r] for r in shared)
                    found.setdefault(query, {}).setdefault(row, {})[column] = round(value, 2)
    return found


def _check(name: str, value: float | None, limit: float, passed: bool | None) -> dict[str, Any]:
    return {"check": name, "value": value, "limit": limit, "pass": passed}


def checks(summary: dict[str, dict[str, dict[str, Any]]], results: dict[str, Any]) -> list[Any]:
    found = []
    for query, other, least, name in RATIO_CHECKS:
        ratio = results["ratios"].get(query, {}).get("ours", {}).get(other)
        found.append(_check(name, ratio, least, None if ratio is None else ratio >= least))
    one_bot = summary.get("one_bot", {}).get("ours")
    p99 = None if one_bot is None else one_bot["p99_ms"]
    found.append(_check("one-bot p99 ms at the run's connections", p99, MAX_P99_MS,
                        None if p99 is None else p99 <= MAX_P99_MS))  # fmt: skip
    writes = summary.get("set_kv", {}).get("ours")
    write_errors = None if writes is None else writes["errors"] + writes["locked"]
    found.append(_check("setKv errors (database is locked included)", write_errors, 0,
                        None if write_errors is None else write_errors == 0))  # fmt: skip
    rss = results["rss_mb"].get("ours")
    found.append(_check("server RSS MB after the run", rss, MAX_RSS_MB,
                        None if rss is None else rss < MAX_RSS_MB))  # fmt: skip
    bad = [f"{t}/{q}" for q, cells in summary.items() for t, c in cells.items() if c["errors"]]
    bad += [f"{t}/{q}: {why}" for t, by_q in results["verify"].items()
            for q, why in by_q.items() if why != "ok"]  # fmt: skip
    found.append(_check("every target answered correctly, without errors", len(bad), 0, not bad))
    found[-1]["details"] = bad
    return found


def _busy(meta: dict[str, Any]) -> str:
    """A warning when something else kept the machine busy: before the run it should be idle;
    at the end wrk and one server make about 2."""
    if meta["load_start"] <= BUSY_LOAD_BEFORE and meta["load_end"] <= BUSY_LOAD_AFTER:
        return ""
    return " (**the machine was busy before or during the run: the figures may be noisy**)"


def _mark(passed: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: "n/a"}[passed]


def _lines_for_query(
    query: str, cells: dict[str, dict[str, Any]], matrix: dict[str, dict[str, float]]
) -> list[str]:
    names = [t for t in TARGETS if t in cells]
    lines = [
        f"### {query}",
        "",
        "| target | req/s | p50 ms | p99 ms | errors | req/s per round (min-max) |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for name in names:
        c = cells[name]
        lines.append(
            f"| {name} ({TARGETS[name].label}) | {c['req_s']:,.0f} | {c['p50_ms']} | "
            f"{c['p99_ms']} | {c['errors']} | {c['req_s_min']:,.0f}-{c['req_s_max']:,.0f} |"
        )
    lines += ["", "req/s ratio, row / column (median of per-round ratios):", ""]
    lines += ["| | " + " | ".join(names) + " |", "| --- |" + " ---: |" * len(names)]
    for row in names:
        values = [matrix.get(row, {}).get(column) for column in names]
        shown = ["-" if value is None else f"{value:.2f}x" for value in values]
        lines.append(f"| {row} | " + " | ".join(shown) + " |")
    return [*lines, ""]


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    lines = [
        "# Benchmark results",
        "",
        f"- date: {meta['date']}; machine: {meta['nproc']} cores, {meta['cpu']}; "
        f"Python {meta['python']}; {meta['wrk']}",
        f"- data: {meta['bots']} bots x {meta['entries']} KV entries; {meta['connections']} "
        f"connections; {meta['rounds']} round(s) of {meta['warmup']} s warm-up + "
        f"{meta['duration']} s measured per target per query, targets interleaved; "
        f"{meta['pinning']}",
        "- figures are medians over rounds; req/s counts good answers only",
        f"- load average (1 min) before / after the run: {meta['load_start']} / "
        f"{meta['load_end']}{_busy(meta)}",
        "",
        "## Targets",
        "",
        "| check | measured | needed | result |",
        "| --- | ---: | ---: | --- |",
    ]
    for check in results["checks"]:
        value = "-" if check["value"] is None else check["value"]
        lines.append(f"| {check['check']} | {value} | {check['limit']} | {_mark(check['pass'])} |")
    lines += ["", f"Server RSS after the run (MB): {json.dumps(results['rss_mb'])}", ""]
    lines += ["## Throughput and latency", ""]
    for query in QUERIES:
        if query in results["summary"]:
            lines += _lines_for_query(
                query, results["summary"][query], results["ratios"].get(query, {})
            )
    return "\n".join(lines)


def write(results: dict[str, Any], out: Path) -> str:
    results["summary"] = summarise(results)
    results["ratios"] = ratios(results)
    results["checks"] = checks(results["summary"], results)
    (out / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    text = markdown(results)
    (out / "results.md").write_text(text + "\n", encoding="utf-8")
    return text
