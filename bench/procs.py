"""The runner's outside world: wrk, the peers' virtualenv, server processes and one wrk run."""

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
PEER_VENV = BENCH / ".venv-peers"
REQUIREMENTS = BENCH / "requirements-peers.txt"
LUA = BENCH / "load.lua"


def pinning() -> tuple[list[str], list[str]]:
    """taskset prefixes for the servers (core 0) and wrk (core 1); none on a one-core box."""
    if shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        return [], []
    return ["taskset", "-c", "0"], ["taskset", "-c", "1"]


def ensure_wrk() -> str:
    """wrk's path, installed from apt first when it is missing (the runner says so)."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is not installed: installing it with apt-get (apt-get install -y wrk)", flush=True)
    if os.geteuid() != 0:
        sys.exit("cannot install wrk without root: run `sudo apt-get install -y wrk` first")
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], check=True)
        subprocess.run(install, check=True)
    found = shutil.which("wrk")
    if found is None:
        sys.exit("apt-get did not install wrk")
    return found


def ensure_peer_venv() -> str:
    """bench/.venv-peers with the pinned peer requirements; its Python's path."""
    python = PEER_VENV / "bin" / "python"
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    stamp = PEER_VENV / "requirements.sha256"
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return str(python)
    print(f"creating {PEER_VENV} (pip install -r {REQUIREMENTS.name})", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(PEER_VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    done = subprocess.run([*pip, "-r", str(REQUIREMENTS)], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"pip could not install the peers' requirements:\n{done.stdout}{done.stderr}")
    stamp.write_text(digest)
    return str(python)


def clean_environ() -> dict[str, str]:
    """This environment without BOTERNITY_* settings: a target gets only the ones it is given."""
    return {key: value for key, value in os.environ.items() if not key.startswith("BOTERNITY_")}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def post(url: str, body: bytes, timeout: float = 10) -> tuple[int, bytes]:
    """One POST; (status, body), or (0, reason) when nothing answered."""
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (loopback)
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError as error:
        return 0, str(error).encode()


class Server:
    """One target's process, pinned to the server core, its output in a log file."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path, pin: list[str]) -> None:
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [*pin, *argv],
                env={**clean_environ(), **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, url: str, body: bytes, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"exited with {self.process.returncode}: {self.tail()}")
            if post(url, body, timeout=5)[0] != 0:
                return
            time.sleep(0.2)
        raise RuntimeError(f"not answering after {timeout:.0f} s: {self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-1500:]

    def rss_mb(self) -> float | None:
        """Resident memory (VmRSS) now, in MB; None once the process is gone."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def run_wrk(
    wrk: str, pin: list[str], urls: list[str], ids: Path, body: Path, seconds: int, connections: int
) -> dict[str, Any]:
    """One wrk run (one thread) per URL, all at once, the connections split between them (one
    URL per process of a target); the BENCH_RESULT lines load.lua prints, merged into one."""
    share = max(1, connections // len(urls))
    running = [
        subprocess.Popen(
            [
                *pin, wrk, "-t1", f"-c{share}", f"-d{seconds}s", "--timeout", "5s",
                "-s", str(LUA), url, "--", str(ids), str(body),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for url in urls
    ]  # fmt: skip
    return _merge([_result(*process.communicate()) for process in running])


def _result(stdout: str, stderr: str) -> dict[str, Any]:
    for line in stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            result: dict[str, Any] = json.loads(line.removeprefix("BENCH_RESULT "))
            return result
    raise RuntimeError(f"wrk printed no result: {stdout[-500:]} {stderr[-500:]}")


def _merge(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts add up; the duration is the longest; latencies are the worst of the runs."""
    if len(results) == 1:
        return results[0]
    merged = {key: sum(result[key] for result in results) for key in results[0]}
    for key in ("duration_us", "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "mean_us"):
        merged[key] = max(result[key] for result in results)
    return merged
