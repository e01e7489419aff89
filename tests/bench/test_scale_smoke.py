"""The scale benchmark works: a quick run at two small sizes fills, answers every operation
without errors, deletes, checks the stall and writes its results (bench/scale.py)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.server import free_port

ROOT = Path(__file__).parents[2]

pytestmark = pytest.mark.server


def test_quick_scale_run_reports_every_operation(tmp_path: Path) -> None:
    argv = [
        sys.executable, str(ROOT / "bench" / "scale.py"), "--sizes", "100,300", "--repeat", "1",
        "--out", str(tmp_path), "--port", str(free_port()),
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "scale.json").read_text())
    sizes = report["sqlite"]
    assert sorted(sizes) == ["100", "300"]
    assert len(sizes["100"]["ms"]) == 21
    assert all(value > 0 for value in sizes["300"]["ms"].values())
    assert sizes["300"]["stall"]["light_p99_ms"] > 0
    assert "| operation (sqlite, median ms) | N = 100 | N = 300 | 100 -> 300 |" in done.stdout
