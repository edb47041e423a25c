"""Start and stop the processes the benchmarks run: gunicorn instances and workers.

Every process gets an explicit PORTAL_ENV, SECRET_KEY and FILES_ENCRYPTION_KEY (unset
PORTAL_ENV means production), and is stopped by its own process group.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TEST_KEY = "S94iyThVroT39sPvUrcYkUWCj9WMMcZuQOPWqHtL3XU"  # benchmarks only, never a real deployment


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def portal_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PORTAL_", "SMTP_"))}
    env.update({"PORTAL_ENV": "production", "SECRET_KEY": "benchmark-secret-key-not-for-production",
                "FILES_ENCRYPTION_KEY": TEST_KEY, "DATABASE_URL": database_url,
                "PORTAL_BASE_URL": "http://127.0.0.1", "PYTHONPATH": str(ROOT),
                # production requires it; one benchmark process counts on its own unless told
                "RATELIMIT_STORAGE_URI": "memory://"})
    env.update(extra)
    return env


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    handle = log.open("ab")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                            start_new_session=True)


def gunicorn(app: str, port: int, env: dict[str, str], log: Path, workers: int = 1,
             chdir: Path | None = None) -> subprocess.Popen:
    command = [PYTHON, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
               "--access-logfile", "-" if os.environ.get("BENCH_ACCESS_LOG") else "/dev/null"]
    if chdir:
        command += ["--chdir", str(chdir)]
    return start(command + [app], env, log)


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} did not start:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s:\n{log.read_text()[-3000:]}")


def stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def cpu_seconds(process: subprocess.Popen) -> float:
    """User + system CPU of a process and its children (gunicorn's workers), from /proc."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in [process.pid, *_children(process.pid)]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def _children(pid: int) -> list[int]:
    found = []
    for path in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = path.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(path.parent.name))
            found += _children(int(path.parent.name))
    return found
