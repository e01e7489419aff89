"""The benchmark harness works: one quick run (1 s per target and query, a 20 x 5 dataset) of
this server and the ceiling gives a results file with answers checked, req/s and no errors.
The benchmark itself is not part of the test run (bench/README.md)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
QUERIES = {"one_bot", "kv_page", "nested", "set_kv"}

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(
        shutil.which("wrk") is None,
        reason="wrk is not installed (apt-get install -y wrk); bench/run.py installs it itself",
    ),
]


def test_quick_run_of_ours_and_ceiling_reports_rates_without_errors(tmp_path: Path) -> None:
    argv = [
        sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--bots", "20",
        "--entries", "5", "--targets", "ours,ceiling", "--out", str(tmp_path),
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["verify"] == {name: dict.fromkeys(QUERIES, "ok") for name in ("ours", "ceiling")}
    assert set(results["summary"]) == QUERIES
    cells = [cell for by_target in results["summary"].values() for cell in by_target.values()]
    assert len(cells) == 8
    assert all(cell["req_s"] > 0 and cell["errors"] == 0 for cell in cells)
    assert results["rss_mb"]["ours"] > 0
    assert (tmp_path / "results.md").read_text().startswith("# Benchmark results")


def test_cpu_per_request_runs_every_query(tmp_path: Path) -> None:
    data = tmp_path / "data"
    make = [sys.executable, str(ROOT / "bench" / "generate.py"), "--out", str(data)]
    subprocess.run([*make, "--bots", "20", "--entries", "5"], check=True, timeout=120)
    argv = [
        sys.executable, str(ROOT / "bench" / "cpu.py"), *sorted(QUERIES), "--requests", "10",
        "--data", str(data), "--profile", "3",
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    lines = [line for line in done.stdout.splitlines() if "us CPU per request" in line]
    assert [line.split(":")[0] for line in lines] == sorted(QUERIES)
    assert all(float(line.split()[1].replace(",", "")) > 0 for line in lines)
    assert done.stdout.count("ncalls") == len(QUERIES)  # a profile per query
