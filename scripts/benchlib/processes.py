"""Starting and stopping what a run needs (mock upstreams, floor proxy, gateways), and reading
their CPU time and memory from /proc. Every process gets its own session and is stopped by process
group, also on errors and Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchlib.common import BenchError, aigw_bin, clean_env, http_get, log, venv_python

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Processes:
    """Everything started here, each in its own session; stopped by process group."""

    def __init__(self) -> None:
        self.procs: list[tuple[subprocess.Popen[Any], int]] = []

    def start(self, cmd: Sequence[str], first_signal: int = signal.SIGTERM, **kw: Any) -> subprocess.Popen[Any]:
        p = subprocess.Popen(list(cmd), start_new_session=True, **kw)
        self.procs.append((p, first_signal))
        return p

    def stop(self, p: subprocess.Popen[Any]) -> None:
        sig = next((s for q, s in self.procs if q is p), signal.SIGTERM)
        self.procs = [(q, s) for q, s in self.procs if q is not p]
        if p.poll() is not None:
            return
        try:
            # SIGINT goes to compare.py alone, which then stops its own mock and gateway;
            # everything else gets SIGTERM on its whole process group.
            os.kill(p.pid, sig) if sig == signal.SIGINT else os.killpg(p.pid, sig)
            p.wait(timeout=60 if sig == signal.SIGINT else 20)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            log(f"pid {p.pid} did not stop: SIGKILL to its process group")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)

    def stop_all(self) -> None:
        for p, _ in reversed(list(self.procs)):
            self.stop(p)


def wait_ready(url: str, proc: subprocess.Popen[Any], what: str, timeout: float = 120.0) -> None:
    t_end = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < t_end:
        if proc.poll() is not None:
            raise BenchError(f"{what} exited early with code {proc.returncode}")
        try:
            status, _ = http_get(url, timeout=2)
            if status == 200:
                return
            last = f"HTTP {status}"
        except OSError as e:
            last = e
        time.sleep(0.2)
    raise BenchError(f"{what} not ready after {timeout:g}s: {url} ({last})")


def log_tail(path: Path, lines: int = 20) -> None:
    if path.is_file():
        log(f"{path.name} tail:\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:]))


# ---------------------------------------------------------------- /proc


def children(pid: int) -> list[int]:
    """Direct children of pid."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def tree(pid: int) -> list[int]:
    out, stack = [], [pid]
    while stack:
        p = stack.pop()
        out.append(p)
        stack += children(p)
    return out


def cpu_seconds(pid: int) -> float:
    """User + system time of one process (its exited children's too: cutime, cstime)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(x) for x in fields[11:15]) / CLOCK_TICKS


def tree_cpu_seconds(pid: int) -> float:
    return sum(cpu_seconds(p) for p in tree(pid))


def rss_kib(pid: int) -> dict[str, int]:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1])
    return out


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


@dataclass
class GatewayProcs:
    """An `aigw serve --workers N` tree: the supervisor, its workers and any helper process."""

    supervisor: int
    workers: list[int]
    helpers: list[int]


def gateway_procs(pid: int) -> GatewayProcs:
    """uvicorn's workers are spawned children running multiprocessing.spawn; a resource tracker is a helper."""
    workers: list[int] = []
    helpers: list[int] = []
    for child in children(pid):
        line = cmdline(child)
        (workers if "spawn_main" in line and "resource_tracker" not in line else helpers).append(child)
    return GatewayProcs(pid, sorted(workers), sorted(helpers))


# ---------------------------------------------------------------- starting things


def start_shared_mock(procs: Processes, bdir: Path, port: int) -> subprocess.Popen[Any]:
    cmd = [sys.executable, str(bdir / "mock_upstream.py"), "--port", str(port)]
    mock = procs.start(cmd, cwd=bdir, env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(f"http://127.0.0.1:{port}/health", mock, "mock upstream", timeout=20)
    return mock


def start_floor(procs: Processes, bdir: Path, port: int, upstream: str) -> subprocess.Popen[Any]:
    cmd = [sys.executable, str(bdir / "floor_proxy.py"), "--port", str(port), "--upstream", upstream]
    p = procs.start(cmd, cwd=bdir, env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # the floor proxy has no health route: any HTTP answer will do
        if p.poll() is not None:
            raise BenchError(f"floor proxy exited early with code {p.returncode}")
        with contextlib.suppress(OSError):
            http_get(f"http://127.0.0.1:{port}/v1/models", timeout=2)
            return p
        time.sleep(0.2)
    raise BenchError("floor proxy not ready after 20 s")


def start_aigw(
    procs: Processes, port: int, env: dict[str, str], log_path: Path, workers: int, cwd: Path
) -> subprocess.Popen[Any]:
    cmd = [str(aigw_bin()), "serve", "--port", str(port), "--workers", str(workers)]
    with log_path.open("wb") as fh:
        gw = procs.start(cmd, cwd=cwd, env=clean_env() | env, stdout=subprocess.DEVNULL, stderr=fh)
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", gw, "gateway", timeout=180)
    except BenchError:
        log_tail(log_path)
        raise
    return gw


def start_family_mock(procs: Processes, family: str, port: int, api_key: str, log_path: Path) -> subprocess.Popen[Any]:
    """tests/support's mock of an OpenAI, Anthropic or Gemini API as a process of its own (benchlib/family_mock.py)."""
    here = Path(__file__).resolve().parent
    cmd = [str(venv_python()), str(here / "family_mock.py"), family, "--port", str(port), "--api-key", api_key]
    with log_path.open("wb") as fh:
        p = procs.start(cmd, env=clean_env(), stdout=fh, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if p.poll() is not None:
            log_tail(log_path)
            raise BenchError(f"{family} mock exited early with code {p.returncode}")
        if "ready" in log_path.read_text(errors="replace"):
            return p
        time.sleep(0.2)
    raise BenchError(f"{family} mock not ready after 30 s")
