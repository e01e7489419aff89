"""bench/db_paths.py (the figures of docs/adr-0001-database-seam.md) runs and reports each
SQLite path."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_db_paths_reports_each_sqlite_path() -> None:
    argv = [sys.executable, str(ROOT / "bench" / "db_paths.py"), "--count", "5"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True)
    labels = [re.sub(r": [\d,.]+ us per statement$", "", line) for line in done.stdout.split("\n")]
    assert labels == [
        "sqlite inline",
        "sqlite aiosqlite thread",
        "sqlite databases.fetch_all",
        "",
    ]
