"""Constants, paths and small helpers shared by every benchmark phase."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "benchmarks.md"
MASTER_KEY = "sk-bench-master-key-0123456789abcdef"  # AI_MASTER_KEY needs 32+ characters
MODEL = "gpt-3.5-turbo"
CONCURRENCY = 50
RATE = 500
GATEWAY_WORKERS = 2
MB = 1_000_000
MIB = 1024 * 1024

Result = dict[str, Any]


class BenchError(Exception):
    """A run that could not produce results."""


class Terminated(Exception):
    """SIGTERM received: unwind and stop what was started."""


def on_sigterm(signum: int, frame: object) -> None:
    raise Terminated()


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def quick_mode() -> bool:
    """BENCH_QUICK=1 (or --quick): short runs that check the harness, not the gateway."""
    return os.environ.get("BENCH_QUICK", "").strip().lower() in ("1", "true", "yes")


def bench_dir() -> Path:
    d = Path(os.environ.get("AIGW_BENCH_DIR") or REPO.parent / "shared" / "bench").resolve()
    for name in ("compare.py", "floor_proxy.py", "mock_upstream.py", "summarize.py", "load.py", "wrk/chat.lua"):
        if not (d / name).is_file():
            raise BenchError(f"benchmark harness not found: {d / name} (set AIGW_BENCH_DIR)")
    return d


def aigw_bin() -> Path:
    exe = REPO / ".venv" / "bin" / "aigw"
    if not exe.exists():
        raise BenchError(f"{exe} not found: run `make install` first")
    return exe


def venv_python() -> Path:
    return aigw_bin().parent / "python"


def free_ports(n: int) -> list[int]:
    """n distinct free ports on 127.0.0.1 (bound together, so the kernel hands out different ones)."""
    socks: list[socket.socket] = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def clean_env() -> dict[str, str]:
    """This environment without AI_* variables, so the gateway sees exactly the settings given here."""
    return {k: v for k, v in os.environ.items() if not k.upper().startswith("AI_")}


def gateway_env(state_dir: Path, upstream: str) -> dict[str, str]:
    """Plain aigw: master key, the OpenAI provider on `upstream`, everything else at its default."""
    return {
        "AI_STATE_DIR": str(state_dir),
        "AI_MASTER_KEY": MASTER_KEY,
        "AI_OPENAI_API_KEY": "sk-upstream",
        "AI_OPENAI_BASE_URL": upstream + "/v1",
        "AI_LOG_LEVEL": "INFO",
    }


def med(xs: Iterable[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return statistics.median(vals) if vals else None


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": "Bearer " + MASTER_KEY})  # /metrics needs it
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def chat_request(
    url: str, api_key: str = MASTER_KEY, model: str = MODEL, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One chat request: status, headers (lower-case names), body."""
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "ping"}], "max_tokens": 8}).encode()
    hdrs = {"Content-Type": "application/json", "Authorization": "Bearer " + api_key, **(headers or {})}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=hdrs), timeout=30) as r:
            return int(r.status), {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return int(e.code), {k.lower(): v for k, v in e.headers.items()}, e.read()


def run_json(cmd: list[str], what: str, timeout: float, cwd: Path | None = None) -> Result:
    """Run a benchmark script whose last stdout line is its result as JSON."""
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd, check=False)
    if out.returncode != 0 or not out.stdout.strip():
        raise BenchError(f"{what} failed (exit {out.returncode}): {out.stderr.strip()[-300:]}")
    result: Result = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def fmt(v: float | None, nd: int = 1, suffix: str = "") -> str:
    return "n/a" if v is None else f"{v:,.{nd}f}{suffix}"


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**pass**" if ok else "**FAIL**")
