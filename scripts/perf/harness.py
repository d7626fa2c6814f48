"""Processes for the performance scripts: the shared mock upstream, `aigw serve`, wrk, /proc readings.

Small on purpose: the scripts in scripts/perf/ measure one thing each (memory, CPU per call, a
profile) on a gateway started here the way `make bench` starts it (master key, OpenAI provider
pointed at ../shared/bench/mock_upstream.py, log level INFO to a file).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO.parent / "shared" / "bench"
AIGW = REPO / ".venv" / "bin" / "aigw"
MASTER_KEY = "sk-bench-master-key-0123456789abcdef"
MODEL = "gpt-3.5-turbo"
REDIS_DB = 13
POLICY_KEY_ARGS = ("--user", "bench", "--rpm", "100000000", "--tpm", "1000000000", "--budget-daily", "1000000")
POLICY_SETTINGS = {
    "AI_REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
    "AI_BUDGET_DAILY": "1000000",
    "AI_RATE_LIMIT_PER_USER": "100000000",
}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(url: str, body: bytes | None = None, key: str = MASTER_KEY, timeout: float = 10) -> tuple[int, bytes]:
    headers = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers), timeout=timeout) as r:
            return int(r.status), r.read()
    except urllib.error.HTTPError as e:
        return int(e.code), e.read()


def wait_ready(url: str, proc: subprocess.Popen[Any], timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        with contextlib.suppress(OSError):
            if http(url, timeout=2)[0] == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout} s")


def redis_flush(db: int = REDIS_DB) -> None:
    request = f"*2\r\n$6\r\nSELECT\r\n${len(str(db))}\r\n{db}\r\n*1\r\n$7\r\nFLUSHDB\r\n".encode()
    with socket.create_connection(("127.0.0.1", 6379), timeout=5) as s:
        s.sendall(request)
        answer = b""
        while answer.count(b"\r\n") < 2:
            answer += s.recv(4096)
    if answer != b"+OK\r\n+OK\r\n":
        raise RuntimeError(f"Redis FLUSHDB answered {answer!r}")


def status_kib(pid: int) -> dict[str, int]:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:", "RssAnon:", "RssFile:")):
                out[line.split(":")[0]] = int(line.split()[1])
    return out


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found += [int(p) for p in (task / "children").read_text().split()]
    return found


def shared_objects(pid: int) -> list[str]:
    """Names of the extension modules and libraries mapped into the process (what it imported natively)."""
    names = set()
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            path = line.split()[-1]
            if ".so" in path and "site-packages" in path:
                names.add(path.split("site-packages/")[1].split("/")[0])
    return sorted(names)


@dataclass
class Gateway:
    """A running `aigw serve`, its mock upstream and the folder of its state and log."""

    workdir: Path
    workers: int = 2
    policy: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)
    procs: list[subprocess.Popen[Any]] = field(default_factory=list)
    base: str = ""
    upstream: str = ""
    key: str = MASTER_KEY

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("AI_")}
        env |= {
            "AI_STATE_DIR": str(self.workdir / "state"),
            "AI_MASTER_KEY": MASTER_KEY,
            "AI_OPENAI_API_KEY": "sk-upstream",
            "AI_OPENAI_BASE_URL": self.upstream + "/v1",
            "AI_LOG_LEVEL": "INFO",
        }
        if self.policy:
            env |= POLICY_SETTINGS
        return env | self.extra_env

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        up, gw = free_port(), free_port()
        self.upstream, self.base = f"http://127.0.0.1:{up}", f"http://127.0.0.1:{gw}"
        mock = [sys.executable, str(BENCH / "mock_upstream.py"), "--port", str(up)]
        self.procs.append(subprocess.Popen(mock, start_new_session=True, stdout=subprocess.DEVNULL))
        wait_ready(self.upstream + "/health", self.procs[0], 20)
        if self.policy:
            redis_flush()
            subprocess.run([str(AIGW), "migrate"], env=self.env(), check=True, capture_output=True)
            made = subprocess.run(
                [str(AIGW), "keys", "create", *POLICY_KEY_ARGS, "--json"],
                env=self.env(),
                check=True,
                capture_output=True,
                text=True,
            )
            self.key = json.loads(made.stdout)["key"]
        cmd = [str(AIGW), "serve", "--port", str(gw), "--workers", str(self.workers)]
        with (self.workdir / "gateway.log").open("wb") as log:
            self.procs.append(subprocess.Popen(cmd, env=self.env(), stderr=log, start_new_session=True))
        wait_ready(self.base + "/readyz", self.procs[1])
        deadline = time.monotonic() + 30
        while len(self.worker_pids()) < max(self.workers, 1) and time.monotonic() < deadline:
            time.sleep(0.2)

    @property
    def pid(self) -> int:
        return self.procs[1].pid

    def worker_pids(self) -> list[int]:
        if self.workers <= 1:
            return [self.pid]
        # uvicorn's supervisor also starts multiprocessing's resource tracker: workers answer HTTP
        return [p for p in children(self.pid) if "resource_tracker" not in Path(f"/proc/{p}/cmdline").read_text()]

    def chat(self, stream: bool = False) -> tuple[int, bytes]:
        body = {"model": MODEL, "messages": [{"role": "user", "content": "ping"}], "max_tokens": 8, "stream": stream}
        return http(self.base + "/v1/chat/completions", json.dumps(body).encode(), self.key)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(10)
        if self.policy:
            redis_flush()


@contextlib.contextmanager
def gateway(workdir: Path, **kw: Any) -> Iterator[Gateway]:
    gw = Gateway(workdir, **kw)
    try:
        gw.start()
        yield gw
    finally:
        gw.stop()


def wrk(url: str, seconds: float, key: str, stream: bool = False, connections: int = 50) -> dict[str, Any]:
    """Closed-loop load with the shared harness's wrk script; its JSON summary."""
    script = BENCH / "wrk" / "chat.lua"
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", str(script), url, "--", MODEL, key]
    cmd.append("1" if stream else "0")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=False)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("WRK_JSON ")]
    if not line:
        raise RuntimeError(f"wrk failed: {out.stdout[-400:]} {out.stderr[-400:]}")
    result: dict[str, Any] = json.loads(line[0][len("WRK_JSON ") :])
    return result
