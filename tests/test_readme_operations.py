"""The README's Operations commands run as written: backup, verify, restore, verify on a
deployment with files, and the /metrics curl against a real server with a metrics token."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.upload_helpers import create_bot, serving, uploaded
from tests.conftest import FakeClock, make_settings
from tests.server import started_server

README = (Path(__file__).parents[1] / "README.md").read_text()
OPERATIONS = README[README.index("## Operations") : README.index("## Layout")]
BLOCKS = re.findall(r"```sh\n(.*?)```", OPERATIONS, flags=re.DOTALL)


def shell(line: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("BOTERNITY")}
    environ["PATH"] = f"{Path(sys.executable).parent}:{environ['PATH']}"
    environ.update(env)
    return subprocess.run(
        ["bash", "-c", line],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_backup_verify_restore_verify_as_the_readme_says(
    tmp_path: Path, clock: FakeClock
) -> None:
    data_dir = tmp_path / "data"
    async with serving(make_settings(data_dir), clock) as client:
        bot = await create_bot(client)
        await uploaded(client, bot, "a.txt", b"alpha")
        await uploaded(client, bot, "b.txt", b"beta")
    lines = BLOCKS[0].strip().splitlines()
    assert [line.split()[1] for line in lines] == ["backup", "verify", "restore", "verify"]
    outputs = []
    for line in lines:
        done = shell(line, tmp_path, BOTERNITY_DATA_DIR=str(data_dir))
        assert done.returncode == 0, (line, done.stdout, done.stderr)
        outputs.append(done.stdout)
    assert re.fullmatch(
        rf"backed up \d+ rows, 2 files, 9 bytes in \d+\.\d s to {tmp_path}/backup-2026-12-06\n",
        outputs[0],
    )
    assert outputs[1].startswith(f"verify: ok ({data_dir}/boternity.db: integrity ok; 2 files")
    assert outputs[2].startswith("restored ")
    assert outputs[3].startswith(f"verify: ok ({tmp_path}/restored/boternity.db:")


@pytest.mark.server
async def test_the_metrics_curl_with_the_metrics_token(tmp_path: Path) -> None:
    (line,) = BLOCKS[1].strip().splitlines()
    env = {"BOTERNITY_AUTH": "required", "BOTERNITY_METRICS_TOKEN": "scrape-me"}
    async with started_server(tmp_path / "data", env) as server:
        command = line.replace("http://127.0.0.1:8000", server.url)
        done = shell(command, tmp_path, BOTERNITY_METRICS_TOKEN="scrape-me")
        refused = shell(command, tmp_path, BOTERNITY_METRICS_TOKEN="wrong")
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 7  # one sample line per metric at least
    assert refused.stdout == "0\n"  # 401: no metrics
