#!/usr/bin/env python3
"""Benchmark aigw (plain, and with the full policy on Redis) against the mock upstream (direct) and the thin
floor proxy; writes docs/benchmarks.md.

Run with `make bench` (= `.venv/bin/python scripts/bench.py`). Uses the neutral harness in
../shared/bench (override with AIGW_BENCH_DIR), never a copy of it:

1. compare.py A/B runs (direct mock vs. proxy, interleaved), alternating floor proxy, aigw and
   aigw-policy (floor, aigw, aigw-policy, floor, ...), each run: upstream latency 0 ms, closed loop c=50
   (wrk) and open loop 500 req/s (load.py), 2 rounds of 5 s. aigw runs with 2 workers and auth on
   (master key). aigw-policy (`--skip-policy` leaves it out) is the same plus the full policy on Redis
   (127.0.0.1:6379, db 12, flushed before and after each run): a global daily budget (every call holds
   and settles in Redis), a per-user rate limit, and the load authenticates with a virtual key created
   with `aigw keys create` in the run's SQLite database and checked with one request before measuring.
   Each gateway's stderr (JSON logs) goes to a file in the temporary directory, scanned for
   warnings, errors and non-200 answers after the run.
2. Memory phase: aigw with 1 worker, 100,000 chat requests sent with wrk; the worker's RSS
   (/proc/PID/status VmRSS) after ~20k, 50k and 100k requests, counted by the gateway's own
   aigw_requests_total{endpoint="chat",status="200"}.
3. docs/benchmarks.md: results table (medians over all rounds) and targets with pass/fail; the same
   tables go to stdout, progress to stderr.

Every port is a free ephemeral one; everything started here is stopped again (by PID / process
group), also on errors and Ctrl-C. Exit status is non-zero only when a run produced no results;
a missed target is reported in the targets table, not through the exit status.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import platform
import re
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "benchmarks.md"
MASTER_KEY = "sk-bench-master-key-0123456789abcdef"  # AI_MASTER_KEY needs 32+ characters
MODEL = "gpt-3.5-turbo"
CONCURRENCY = 50
RATE = 500
GATEWAY_WORKERS = 2
MB = 1_000_000
MIB = 1024 * 1024

# Targets (see docs/benchmarks.md).
MIN_RATIO_TO_FLOOR = 0.5
MAX_P99_OVERHEAD_MS = 2.0
MAX_CPU_US_PER_REQ = 600.0
MAX_WORKER_RSS_MB = 150.0
MAX_RSS_GROWTH_MB = 5.0
MAX_POLICY_P95_OVERHEAD_MS = 3.0
MAX_PII_P95_MS_PER_KIB = 0.2
MAX_LOCAL_SEARCH_P95_MS = 30.0
SEARCH_ITEMS, SEARCH_QUERIES = 10_000, 300
PII_PROMPT_KIB, PII_ROUNDS = 4, 300
HIGH_OTHER_CPU = 0.25  # cores used by processes this run did not start: above this the box was noisy

# The full-policy system: Redis db 12 is not used by the tests (they use 9, 13, 14).
POLICY = "aigw-policy"
REDIS_HOST, REDIS_PORT, POLICY_REDIS_DB = "127.0.0.1", 6379, 12
POLICY_SETTINGS = {
    "AI_REDIS_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{POLICY_REDIS_DB}",
    "AI_BUDGET_DAILY": "1000000",  # global daily budget: every call holds and settles in Redis
    "AI_RATE_LIMIT_PER_USER": "100000000",
}
POLICY_KEY_ARGS = ("--user", "bench", "--rpm", "100000000", "--tpm", "1000000000", "--budget-daily", "1000000")
# The check request must carry the cost header and a rate-limit header. aigw sends the x-ratelimit-* headers of
# the tightest limit only: with the key's tpm the tokens one, so "-requests" is expected but only warned about.
POLICY_COST_HEADER = "x-aigw-cost-usd"
POLICY_RATE_HEADERS = ("x-ratelimit-remaining-requests", "x-ratelimit-remaining-tokens")
LABELS = {
    "floor": "floor proxy",
    "aigw": f"aigw ({GATEWAY_WORKERS} workers, auth on)",
    POLICY: "full policy (key + rate limit + budget) on Redis",
}

REQUESTS_TOTAL = re.compile(r"^aigw_requests_total\{([^}]*)\}\s+([0-9.eE+-]+)\s*$", re.MULTILINE)

Result = dict[str, Any]


class BenchError(Exception):
    """A run that could not produce results."""


class Terminated(Exception):
    """SIGTERM received: unwind and stop what was started."""


@dataclass
class Config:
    quick: bool
    skip_memory: bool
    doc: Path | None
    skip_policy: bool = False
    outer_rounds: int = 2  # alternations floor, aigw, aigw-policy
    rounds: int = 2  # A/B rounds inside each compare.py run
    duration: int = 5  # seconds measured per compare.py run
    memory_requests: int = 100_000

    @classmethod
    def from_args(cls, argv: Sequence[str] | None) -> Config:
        ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
        ap.add_argument("--quick", action="store_true", help="smoke run: 1 round of 3 s, 20k requests for memory")
        ap.add_argument("--skip-memory", action="store_true", help="skip the 100k-request memory phase")
        ap.add_argument("--skip-policy", action="store_true", help="leave out aigw-policy (full policy on Redis)")
        ap.add_argument("--doc", default=str(DOC), help="markdown report to write (default docs/benchmarks.md)")
        ap.add_argument("--no-doc", action="store_true", help="print the tables only, write no markdown")
        a = ap.parse_args(argv)
        doc = None if a.no_doc else Path(a.doc).resolve()
        cfg = cls(quick=a.quick, skip_memory=a.skip_memory, doc=doc, skip_policy=a.skip_policy)
        if a.quick:
            cfg.outer_rounds, cfg.rounds, cfg.duration, cfg.memory_requests = 1, 1, 3, 20_000
        return cfg

    @property
    def kinds(self) -> tuple[str, ...]:
        """The proxies measured, in the order they alternate."""
        return ("floor", "aigw") if self.skip_policy else ("floor", "aigw", POLICY)


# ---------------------------------------------------------------- helpers


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def bench_dir() -> Path:
    d = Path(os.environ.get("AIGW_BENCH_DIR") or REPO.parent / "shared" / "bench").resolve()
    for name in ("compare.py", "floor_proxy.py", "mock_upstream.py", "summarize.py", "wrk/chat.lua"):
        if not (d / name).is_file():
            raise BenchError(f"benchmark harness not found: {d / name} (set AIGW_BENCH_DIR)")
    return d


def aigw_bin() -> Path:
    exe = REPO / ".venv" / "bin" / "aigw"
    if not exe.exists():
        raise BenchError(f"{exe} not found: run `make install` first")
    return exe


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
    dropped = sorted(k for k in os.environ if k.upper().startswith("AI_"))
    if dropped:
        log(f"ignoring inherited {', '.join(dropped)} for the benchmarked gateway")
    return {k: v for k, v in os.environ.items() if not k.upper().startswith("AI_")}


def gateway_env(state_dir: Path, upstream: str) -> dict[str, str]:
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


def chat_request(url: str, api_key: str = MASTER_KEY) -> tuple[int, dict[str, str], bytes]:
    """One chat request: status, headers (lower-case names), body."""
    body = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "ping"}], "max_tokens": 8}).encode()
    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + api_key}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers), timeout=10) as r:
            return int(r.status), {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return int(e.code), {k.lower(): v for k, v in e.headers.items()}, e.read()


def http_chat(url: str) -> int:
    return chat_request(url)[0]


def wait_ready(url: str, proc: subprocess.Popen[bytes], what: str, timeout: float = 120.0) -> None:
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


def rss_kib(pid: int) -> dict[str, int]:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1])
    return out


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


# ---------------------------------------------------------------- full policy on Redis


def redis_flush(db: int = POLICY_REDIS_DB) -> None:
    """FLUSHDB on the bench's own Redis db (plain RESP over a socket: no client library needed)."""
    request = f"*2\r\n$6\r\nSELECT\r\n${len(str(db))}\r\n{db}\r\n*1\r\n$7\r\nFLUSHDB\r\n".encode()
    answer = b""
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=5) as s:
            s.sendall(request)
            while answer.count(b"\r\n") < 2:
                chunk = s.recv(4096)
                if not chunk:
                    break
                answer += chunk
    except OSError as e:
        raise BenchError(f"Redis at {REDIS_HOST}:{REDIS_PORT} not reachable ({e}): {POLICY} needs it") from e
    if answer != b"+OK\r\n+OK\r\n":
        raise BenchError(f"Redis SELECT {db} + FLUSHDB answered {answer[:200]!r}")


def policy_env(state_dir: Path, upstream: str) -> dict[str, str]:
    """The aigw environment plus the full policy on Redis; AI_DATABASE_URL unset: SQLite in state_dir."""
    return gateway_env(state_dir, upstream) | POLICY_SETTINGS


def aigw_cli(args: Sequence[str], env: dict[str, str]) -> str:
    cmd = [str(aigw_bin()), *args]
    try:
        out = subprocess.run(cmd, env=clean_env() | env, capture_output=True, text=True, timeout=120, check=False)
    except subprocess.TimeoutExpired as e:
        raise BenchError(f"`aigw {shlex.join(args)}` still running after 120s") from e
    if out.returncode != 0:
        raise BenchError(f"`aigw {shlex.join(args)}` failed (exit {out.returncode}): {out.stderr.strip()[-500:]}")
    return out.stdout


def create_policy_key(env: dict[str, str]) -> str:
    """Migrate the run's SQLite database and create the virtual key the load authenticates with."""
    aigw_cli(["migrate"], env)
    out = aigw_cli(["keys", "create", *POLICY_KEY_ARGS, "--json"], env)
    try:
        key = json.loads(out)["key"]
    except (ValueError, KeyError, TypeError) as e:
        raise BenchError(f"`aigw keys create --json` printed no key: {out[:300]!r}") from e
    if not isinstance(key, str) or not key or key == MASTER_KEY:
        raise BenchError(f"`aigw keys create --json` printed an unusable key: {key!r}")
    log(f"virtual key {key[:14]}... created (user bench) in {env['AI_STATE_DIR']}")
    return key


def check_policy_key(base: str, key: str, proc: subprocess.Popen[Any]) -> Result:
    """Once the gateway is ready: one chat request with the virtual key must pass the whole policy.

    Returns the check's outcome for the report: status, the policy headers, and a note when the
    x-ratelimit-remaining-requests header is missing.
    """
    wait_ready(base + "/readyz", proc, f"{POLICY} gateway (via compare.py)", timeout=180)
    t_end = time.monotonic() + 10  # a key the gateway has not loaded yet shows up within its poll interval
    while True:
        status, headers, body = chat_request(base + "/v1/chat/completions", key)
        if status == 200 or time.monotonic() > t_end or proc.poll() is not None:
            break
        time.sleep(0.5)
    policy_headers = {k: v for k, v in headers.items() if k.startswith(("x-aigw", "x-ratelimit"))}
    missing = [POLICY_COST_HEADER] if POLICY_COST_HEADER not in headers else []
    if not any(h in headers for h in POLICY_RATE_HEADERS):
        missing.append(" or ".join(POLICY_RATE_HEADERS))
    if status != 200 or missing:
        what = f"HTTP {status}" + (f", missing header(s) {', '.join(missing)}" if missing else "")
        raise BenchError(
            f"{POLICY}: the check request with the virtual key failed ({what}); body {body[:300]!r}; "
            f"policy headers {policy_headers}"
        )
    note = None
    if POLICY_RATE_HEADERS[0] not in headers:
        note = (
            f"no {POLICY_RATE_HEADERS[0]} header (aigw sends the x-ratelimit-* headers of the tightest limit "
            f"only, here {', '.join(h for h in POLICY_RATE_HEADERS if h in headers)})"
        )
        log(f"WARNING: {POLICY} check request: {note}")
    log(f"{POLICY}: virtual key checked: HTTP 200, {policy_headers}")
    return {"status": status, "headers": policy_headers, "note": note}


# ---------------------------------------------------------------- gateway logs


def _log_line(line: str, summary: Result) -> None:
    try:
        rec = json.loads(line)
    except ValueError:
        rec = None
    if not isinstance(rec, dict):  # plain text: aigw's start-up lines, or a crash
        summary["text"] += 1
        if not line.startswith("aigw: serving on") and len(summary["samples"]) < 5:
            summary["samples"].append(line[:300])
        return
    if rec.get("logger") == "aigw.access":
        status = str(rec.get("status"))
        summary["access"] += 1
        if status != "200":
            summary["non_200"][status] = summary["non_200"].get(status, 0) + 1
        return
    level = str(rec.get("level"))
    if level in ("warning", "error", "critical"):
        summary[level if level != "critical" else "error"] += 1
        if len(summary["samples"]) < 5:
            summary["samples"].append(f"{level}: {rec.get('logger')}: {str(rec.get('msg'))[:200]}")


def log_tail(path: Path, lines: int = 20) -> None:
    if path.is_file():
        log(f"{path.name} tail:\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:]))


def gateway_log_summary(path: Path) -> Result:
    """Counts from a gateway's JSON log: access-log lines and their non-200 statuses, warnings, errors."""
    summary: Result = {"access": 0, "non_200": {}, "warning": 0, "error": 0, "text": 0, "samples": []}
    if path.is_file():
        for line in path.read_text(errors="replace").splitlines():
            if line.strip():
                _log_line(line.strip(), summary)
    return summary


def merge_logs(summaries: Iterable[Result]) -> Result | None:
    out: Result | None = None
    for s in summaries:
        if out is None:
            out = {"access": 0, "non_200": {}, "warning": 0, "error": 0, "text": 0, "samples": []}
        for k in ("access", "warning", "error", "text"):
            out[k] += s[k]
        for status, n in s["non_200"].items():
            out["non_200"][status] = out["non_200"].get(status, 0) + n
        out["samples"] += [x for x in s["samples"] if x not in out["samples"]][: 5 - len(out["samples"])]
    return out


# ---------------------------------------------------------------- compare.py runs


def gateway_command(kind: str, idx: int, tmp: Path, up_port: int, gw_port: int) -> tuple[str, str]:
    """compare.py's --gateway-cmd for one run, and the API key the load sends."""
    if kind == "floor":
        return f"{{python}} floor_proxy.py --port {gw_port} --upstream {{upstream}}", MASTER_KEY
    state = tmp / f"state-{kind}-{idx}"
    key = MASTER_KEY
    if kind == POLICY:
        redis_flush()
        key = create_policy_key(policy_env(state, f"http://127.0.0.1:{up_port}"))
        env = policy_env(state, "{upstream}")
    else:
        env = gateway_env(state, "{upstream}")
    return " ".join(
        [f"{k}={shlex.quote(v)}" for k, v in env.items()]
        + [shlex.quote(str(aigw_bin())), "serve", "--port", str(gw_port), "--workers", str(GATEWAY_WORKERS)]
        + ["2>" + shlex.quote(str(tmp / f"{kind}-{idx}-gateway.log"))]
    ), key


def run_compare(kind: str, idx: int, cfg: Config, bdir: Path, tmp: Path, procs: Processes) -> Result:
    up_port, gw_port = free_ports(2)
    gw_cmd, api_key = gateway_command(kind, idx, tmp, up_port, gw_port)
    out = tmp / f"{kind}-{idx}.json"
    cmd = [
        sys.executable, str(bdir / "compare.py"), "--name", kind,
        "--gateway", f"http://127.0.0.1:{gw_port}", "--gateway-cmd", gw_cmd,
        "--upstream-port", str(up_port), "--api-key", api_key,
        "--latencies", "0", "--concurrency", str(CONCURRENCY), "--rates", str(RATE),
        "--duration", str(cfg.duration), "--rounds", str(cfg.rounds), "--out", str(out),
    ]  # fmt: skip
    log(f"\n=== compare.py {kind} run {idx + 1}/{cfg.outer_rounds}: {shlex.join(cmd[1:])}")
    p = procs.start(cmd, first_signal=signal.SIGINT, cwd=bdir, env=clean_env(), stdout=subprocess.PIPE, text=True)
    limit = 600 + 4 * cfg.rounds * (cfg.duration + 20)
    gw_log = tmp / f"{kind}-{idx}-gateway.log"
    try:
        check = None
        if kind == POLICY:  # compare.py measures direct first: the gateway is checked before its turn
            check = check_policy_key(f"http://127.0.0.1:{gw_port}", api_key, p)
        stdout, _ = p.communicate(timeout=limit)
    except subprocess.TimeoutExpired as e:
        raise BenchError(f"compare.py {kind} run {idx + 1} still running after {limit}s") from e
    except BenchError:
        log_tail(gw_log)
        raise
    finally:
        procs.stop(p)
        if kind == POLICY:
            try:
                redis_flush()
            except BenchError as e:
                log(f"warning: {e}")
    log(stdout.rstrip())
    if p.returncode != 0 or not out.is_file():
        log_tail(gw_log)
        raise BenchError(f"compare.py {kind} run {idx + 1} failed (exit {p.returncode})")
    res: Result = json.loads(out.read_text())
    if not res.get("runs"):
        raise BenchError(f"compare.py {kind} run {idx + 1} produced no runs")
    if check is not None:
        res["policy_check"] = check
    if kind != "floor":
        res["gateway_log"] = gateway_log_summary(gw_log)
        log(f"{kind} gateway log: {res['gateway_log']}")
    return res


def pairs(results: list[Result], mode: str, value: float) -> list[tuple[Result, Result]]:
    """(direct, gateway) run pairs of one scenario over all compare.py runs and rounds."""
    out = []
    for res in results:
        sel = [r for r in res["runs"] if r["mode"] == mode and r["value"] == value]
        d = {r["round"]: r for r in sel if r["target"] == "direct"}
        g = {r["round"]: r for r in sel if r["target"] == "gateway"}
        out += [(d[i], g[i]) for i in sorted(set(d) & set(g))]
    return out


def ok_rps(r: Result) -> float:
    return float(r["ok_rps"] if "ok_rps" in r else r["rps"])


def overhead(ps: list[tuple[Result, Result]], q: str) -> float | None:
    lat = [(d["latency_ms"][q], g["latency_ms"][q]) for d, g in ps]
    return med(float(b - a) for a, b in lat if a is not None and b is not None)


def system_stats(results: list[Result]) -> Result:
    closed, rate = pairs(results, "closed", CONCURRENCY), pairs(results, "rate", RATE)
    everything = [r for res in results for r in res["runs"]]
    gw_rate_rps = med(g["rps"] for _, g in rate)
    rate_errors = sum(g["errors"] for _, g in rate)
    ovh_p50 = overhead(rate, "p50")
    return {
        "runs": len(results),
        "pairs": len(closed),
        "rps": med(ok_rps(g) for _, g in closed),
        "direct_rps": med(ok_rps(d) for d, _ in closed),
        "rel_direct": med(ok_rps(g) / ok_rps(d) for d, g in closed if ok_rps(d)),
        "ovh_p99": overhead(rate, "p99"),
        "ovh_p95": overhead(rate, "p95"),
        "gw_p99": med(g["latency_ms"]["p99"] for _, g in rate),
        "direct_p95": med(d["latency_ms"]["p95"] for d, _ in rate),
        "direct_p99": med(d["latency_ms"]["p99"] for d, _ in rate),
        "cpu_us": med(g.get("gw_cpu_us_per_req") for _, g in closed),
        "rss_max": max((res.get("rss_max_mb") or 0 for res in results), default=None) or None,
        "rss_idle": med(res["rss_mb"][0][1] for res in results if res.get("rss_mb")),
        "errors": sum(g["errors"] for _, g in closed + rate),
        "saturated": bool(rate) and ((gw_rate_rps or 0) < 0.95 * RATE or rate_errors > 0 or (ovh_p50 or 0) > 100),
        "other": med(r["cpu_cores"]["other"] for r in everything if "cpu_cores" in r),
        "other_max": max((r["cpu_cores"]["other"] for r in everything if "cpu_cores" in r), default=None),
    }


# ---------------------------------------------------------------- memory phase


def chat_counts(base: str) -> tuple[int, int]:
    """(chat requests answered 200, chat requests answered otherwise) from the gateway's /metrics."""
    status, body = http_get(base + "/metrics")
    if status != 200:
        raise BenchError(f"GET {base}/metrics answered {status}")
    ok = other = 0
    for labels, value in REQUESTS_TOTAL.findall(body.decode()):
        lab = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        if lab.get("endpoint") == "chat":
            if lab.get("status") == "200":
                ok += int(float(value))
            else:
                other += int(float(value))
    return ok, other


def run_wrk(bdir: Path, url: str, seconds: int) -> Result:
    cmd = ["wrk", "-t1", f"-c{CONCURRENCY}", f"-d{seconds}s", "-s", str(bdir / "wrk" / "chat.lua"), url, "--"]
    cmd += [MODEL, MASTER_KEY, "0"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=False)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("WRK_JSON ")]
    if out.returncode != 0 or not line:
        raise BenchError(f"wrk failed (exit {out.returncode}): {out.stdout[-500:]} {out.stderr[-500:]}")
    res: Result = json.loads(line[0][len("WRK_JSON ") :])
    return res


@dataclass
class MemoryRun:
    total: int
    samples: list[Result] = field(default_factory=list)  # label, requests, rss_mib, hwm_mib
    wrk_errors: int = 0
    non_200: int = 0
    seconds: float = 0.0

    def at(self, label: str) -> Result | None:
        return next((s for s in self.samples if s["label"] == label), None)

    def growth_mib(self) -> float | None:
        mid, end = self.at("50%"), self.at("100%")
        return end["rss_mib"] - mid["rss_mib"] if mid and end else None


def sample(run: MemoryRun, pid: int, label: str, requests: int) -> None:
    kib = rss_kib(pid)
    run.samples.append(
        {"label": label, "requests": requests, "rss_mib": kib["VmRSS"] / 1024, "hwm_mib": kib["VmHWM"] / 1024}
    )
    log(f"  {requests:>7,} chat requests: worker RSS {kib['VmRSS'] / 1024:.1f} MiB (peak {kib['VmHWM'] / 1024:.1f})")


def drive(run: MemoryRun, bdir: Path, base: str, pid: int) -> None:
    """wrk runs until the gateway counted run.total chat requests; RSS at 20%, 50% and 100% of them."""
    pending = [("20%", run.total // 5), ("50%", run.total // 2), ("100%", run.total)]
    count, _ = chat_counts(base)
    rate: float | None = None
    t_start = time.monotonic()
    while pending:
        remaining = pending[0][1] - count
        seconds = 2 if rate is None else max(1, min(30, math.ceil(remaining / rate)))
        t0 = time.monotonic()
        res = run_wrk(bdir, base + "/v1/chat/completions", seconds)
        run.wrk_errors += int(res["errors"])
        new, run.non_200 = chat_counts(base)
        if new <= count:
            raise BenchError(f"gateway counted no chat request during a {seconds}s wrk run: {res}")
        rate, count = (new - count) / (time.monotonic() - t0), new
        while pending and count >= pending[0][1]:
            sample(run, pid, pending.pop(0)[0], count)
        if time.monotonic() - t_start > 1800:
            raise BenchError(f"memory phase: only {count} requests after 30 minutes")
    run.seconds = time.monotonic() - t_start


def memory_phase(cfg: Config, bdir: Path, tmp: Path, procs: Processes) -> MemoryRun:
    up_port, gw_port = free_ports(2)
    upstream, base = f"http://127.0.0.1:{up_port}", f"http://127.0.0.1:{gw_port}"
    log(f"\n=== memory phase: aigw --workers 1, {cfg.memory_requests:,} chat requests with wrk")
    env = clean_env()
    mock_cmd = [sys.executable, str(bdir / "mock_upstream.py"), "--port", str(up_port)]
    mock = procs.start(mock_cmd, cwd=bdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    gw = None
    gw_log = tmp / "memory-gateway.log"
    try:
        wait_ready(upstream + "/health", mock, "mock upstream", timeout=20)
        gw_cmd = [str(aigw_bin()), "serve", "--port", str(gw_port), "--workers", "1"]
        with gw_log.open("wb") as fh:
            genv = env | gateway_env(tmp / "state-memory", upstream)
            gw = procs.start(gw_cmd, cwd=tmp, env=genv, stdout=subprocess.DEVNULL, stderr=fh)
        log(f"gateway pid {gw.pid} on {base}, mock upstream pid {mock.pid} on {upstream}")
        wait_ready(base + "/readyz", gw, "gateway")
        status = http_chat(base + "/v1/chat/completions")
        if status != 200:
            raise BenchError(f"gateway answered a chat request with {status}: see {gw_log}")
        run = MemoryRun(total=cfg.memory_requests)
        sample(run, gw.pid, "startup", chat_counts(base)[0])
        drive(run, bdir, base, gw.pid)
        return run
    except BenchError:
        if gw_log.exists():
            log("gateway log tail:\n" + "\n".join(gw_log.read_text(errors="replace").splitlines()[-20:]))
        raise
    finally:
        if gw is not None:
            procs.stop(gw)
        procs.stop(mock)


# ---------------------------------------------------------------- report


def fmt(v: float | None, nd: int = 1, suffix: str = "") -> str:
    return "n/a" if v is None else f"{v:,.{nd}f}{suffix}"


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**pass**" if ok else "**FAIL**")


def results_table(direct: Result | None, systems: dict[str, Result | None]) -> list[str]:
    """systems: kind -> stats (None: every run failed), in table order."""
    floor = systems.get("floor")
    floor_rps = floor["rps"] if floor else None

    def ratio(rps: float | None) -> str:
        return fmt(rps / floor_rps, 2) if rps and floor_rps else "n/a"

    rows = [
        "| system | req/s at c=50 | ratio to floor | p99 overhead at 500 req/s (ms) "
        "| p95 overhead at 500 req/s (ms) | gateway CPU µs/request at c=50 | max RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    if direct:
        rows.append(
            f"| direct (mock upstream) | {fmt(direct['rps'], 0)} | {ratio(direct['rps'])} "
            f"| 0 (abs. p99 {fmt(direct['p99'], 2)}) | 0 (abs. p95 {fmt(direct['p95'], 2)}) | — | — |"
        )
    for label, s in ((LABELS[kind], s) for kind, s in systems.items()):
        if s is None:
            rows.append(f"| {label} | run failed | | | | | |")
            continue
        sat = " SATURATED" if s["saturated"] else ""
        rows.append(
            f"| {label} | {fmt(s['rps'], 0)} | {ratio(s['rps'])} | {fmt(s['ovh_p99'], 2)}{sat} "
            f"| {fmt(s['ovh_p95'], 2)}{sat} | {fmt(s['cpu_us'], 0)} | {fmt(s['rss_max'], 1)} |"
        )
    return rows


def policy_target(policy: Result | None, skipped: bool) -> str:
    label = f"full policy on Redis: p95 added latency at {RATE} req/s ≤ {MAX_POLICY_P95_OVERHEAD_MS:g} ms"
    if skipped:
        return f"| {label} | not run (`--skip-policy`) | n/a |"
    p95 = policy["ovh_p95"] if policy else None
    ok = None if p95 is None or policy is None else (p95 <= MAX_POLICY_P95_OVERHEAD_MS and not policy["saturated"])
    sat = " (SATURATED)" if policy and policy["saturated"] else ""
    return f"| {label} | {fmt(p95, 2, ' ms')}{sat} | {verdict(ok)} |"


def targets_table(
    floor: Result | None, aigw: Result | None, mem: MemoryRun | None, policy: str | None = None
) -> list[str]:
    """policy: the full-policy target row (policy_target), after aigw's own targets."""
    rows = ["| target | measured | result |", "|---|---:|---|"]
    ratio = aigw["rps"] / floor["rps"] if aigw and floor and aigw["rps"] and floor["rps"] else None
    rows.append(
        f"| throughput ≥ {MIN_RATIO_TO_FLOOR} x floor (c=50) | {fmt(ratio, 2)} x floor "
        f"| {verdict(None if ratio is None else ratio >= MIN_RATIO_TO_FLOOR)} |"
    )
    p99 = aigw["ovh_p99"] if aigw else None
    p99_ok = None if p99 is None or aigw is None else (p99 <= MAX_P99_OVERHEAD_MS and not aigw["saturated"])
    sat = " (SATURATED)" if aigw and aigw["saturated"] else ""
    rows.append(
        f"| p99 added latency at {RATE} req/s ≤ {MAX_P99_OVERHEAD_MS:g} ms "
        f"| {fmt(p99, 2, ' ms')}{sat} | {verdict(p99_ok)} |"
    )
    cpu = aigw["cpu_us"] if aigw else None
    rows.append(
        f"| gateway CPU per request ≤ {MAX_CPU_US_PER_REQ:g} µs | {fmt(cpu, 0, ' µs')} "
        f"| {verdict(None if cpu is None else cpu <= MAX_CPU_US_PER_REQ)} |"
    )
    if policy is not None:
        rows.append(policy)
    if mem is None:
        rows += [
            f"| RSS of one worker after 100k requests ≤ {MAX_WORKER_RSS_MB:g} MB | not run | n/a |",
            f"| RSS not growing: 50k→100k growth < ~{MAX_RSS_GROWTH_MB:g} MB | not run | n/a |",
        ]
        return rows
    end, g = mem.at("100%"), mem.growth_mib()
    n, half = f"{mem.total // 1000}k", f"{mem.total // 2000}k"
    rss_mb = end["rss_mib"] * MIB / MB if end else None
    g_mb = g * MIB / MB if g is not None else None
    rows.append(
        f"| RSS of one worker after {n} requests ≤ {MAX_WORKER_RSS_MB:g} MB "
        f"| {fmt(end['rss_mib'] if end else None, 1, ' MiB')} ({fmt(rss_mb, 1, ' MB')}) "
        f"| {verdict(None if rss_mb is None else rss_mb <= MAX_WORKER_RSS_MB)} |"
    )
    rows.append(
        f"| RSS not growing: {half}→{n} growth < ~{MAX_RSS_GROWTH_MB:g} MB "
        f"| {fmt(g, 1, ' MiB')} ({fmt(g_mb, 1, ' MB')}) "
        f"| {verdict(None if g_mb is None else g_mb < MAX_RSS_GROWTH_MB)} |"
    )
    return rows


def pii_target(pii: Result | None) -> str:
    label = f"PII scan and mask: p95 ≤ {MAX_PII_P95_MS_PER_KIB:g} ms per KiB ({PII_PROMPT_KIB} KiB prompts)"
    if pii is None:
        return f"| {label} | not run | n/a |"
    p95 = pii["p95_ms_per_kib"]
    return (
        f"| {label} | {p95:.3f} ms/KiB (p50 {pii['p50_ms_per_kib']:.3f}) | {verdict(p95 <= MAX_PII_P95_MS_PER_KIB)} |"
    )


def search_targets(search: Result | None) -> list[str]:
    label = f"local (fallback) semantic_search over {SEARCH_ITEMS:,} items: p95 ≤ {MAX_LOCAL_SEARCH_P95_MS:g} ms"
    if search is None:
        return [f"| {label} | not run | n/a |"]
    rows = []
    for path, result in (("local embeddings", search), ("fuzzy", search["fuzzy_while_building"])):
        p95 = result["p95_ms"]
        measured = f"{path}: {p95:.1f} ms (p50 {result['p50_ms']:.1f}; HTTP, one at a time)"
        rows.append(f"| {label}, {path} path | {measured} | {verdict(p95 <= MAX_LOCAL_SEARCH_P95_MS)} |")
    return rows


def tracing_targets(tracing: Result | None) -> list[str]:
    cpu_label = "gateway CPU per request, traces persisted at the default sample rate vs tracing off: ≤ +5 %"
    browse_label = "an operator paging /admin/api/traces under load: chat p99 unchanged (≤ +1 ms or 10 %)"
    if tracing is None:
        return [f"| {cpu_label} | not run | n/a |", f"| {browse_label} | not run | n/a |"]
    cpu = (
        f"{tracing['cpu_us_default']:.0f} vs {tracing['cpu_us_off']:.0f} us/request "
        f"({100 * tracing['cpu_overhead']:+.1f} %; 1 worker, {tracing['rate']:g} req/s)"
    )
    browse = (
        f"p99 {tracing['p99_browsing_ms']:.1f} vs {tracing['p99_quiet_ms']:.1f} ms "
        f"({tracing['p99_added_by_browsing_ms']:+.1f} ms; {tracing['pages_browsed']} pages read)"
    )
    return [
        f"| {cpu_label} | {cpu} | {verdict(tracing['cpu_ok'])} |",
        f"| {browse_label} | {browse} | {verdict(tracing['browsing_ok'])} |",
    ]


def search_phase() -> Result:
    """scripts/bench_search.py in the gateway's venv: a 10,000-item catalog searched with the kill switch on."""
    cmd = [str(aigw_bin().parent / "python"), str(REPO / "scripts" / "bench_search.py")]
    cmd += ["--items", str(SEARCH_ITEMS), "--queries", str(SEARCH_QUERIES)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        raise BenchError(f"search benchmark failed: {out.stderr.strip()[-300:]}")
    result: Result = json.loads(out.stdout.strip().splitlines()[-1])
    log(f"local search: {result}")
    return result


def tracing_phase() -> Result:
    """scripts/bench_tracing.py in the gateway's venv: tracing off vs persisted at the defaults, and browsing."""
    cmd = [str(aigw_bin().parent / "python"), str(REPO / "scripts" / "bench_tracing.py")]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        raise BenchError(f"tracing benchmark failed: {out.stderr.strip()[-300:]}")
    result: Result = json.loads(out.stdout.strip().splitlines()[-1])
    log(f"persisted traces: { {k: v for k, v in result.items() if k != 'runs'} }")
    return result


def pii_phase() -> Result:
    """Time PII scanning and masking (`aigw.context.pii.benchmark`) in a fresh process of the gateway's venv."""
    code = (
        "import json; from aigw.context.pii import benchmark; "
        f"print(json.dumps(benchmark({PII_PROMPT_KIB}, {PII_ROUNDS})))"
    )
    out = subprocess.run([str(aigw_bin().parent / "python"), "-c", code], capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise BenchError(f"PII benchmark failed: {out.stderr.strip()[-300:]}")
    result: Result = json.loads(out.stdout)
    log(f"PII scan: {result}")
    return result


def log_note(summary: Result | None) -> str:
    """What a gateway's own log says about its runs (floor proxy: no log)."""
    if not summary:
        return ""
    non_200 = ", ".join(f"{n} x {status}" for status, n in sorted(summary["non_200"].items())) or "none"
    first = f" (first: {'; '.join(summary['samples'])})" if summary["samples"] else ""
    return (
        f"; gateway log: {summary['access']:,} requests logged, non-200 {non_200}, warnings {summary['warning']}, "
        f"errors {summary['error']}{first}"
    )


def git_rev() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True)
    except OSError:
        return "unknown"
    return rev.stdout.strip() + (" + uncommitted changes" if dirty.stdout.strip() else "")


def machine() -> str:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "")
    except OSError:
        pass
    return f"{len(os.sched_getaffinity(0))} CPUs (nproc){', ' + model if model else ''}, {platform.system()} " + (
        f"{platform.release()}, Python {platform.python_version()}"
    )


def summarize_raw(bdir: Path, files: list[Path]) -> list[str]:
    if not files:
        return []
    out = subprocess.run(
        [sys.executable, str(bdir / "summarize.py"), *map(str, files)], capture_output=True, text=True, check=False
    )
    return out.stdout.rstrip().splitlines() if out.returncode == 0 else [f"(summarize.py failed: {out.stderr})"]


@dataclass
class Report:
    cfg: Config
    started: datetime.datetime
    load_start: tuple[float, float, float]
    results: dict[str, list[Result]] = field(default_factory=lambda: {"floor": [], "aigw": [], POLICY: []})
    files: list[Path] = field(default_factory=list)
    mem: MemoryRun | None = None
    pii: Result | None = None  # aigw.context.pii.benchmark() in a process of its own
    search: Result | None = None  # scripts/bench_search.py: local semantic_search over HTTP
    tracing: Result | None = None  # scripts/bench_tracing.py: persisted traces' CPU, browsing under load
    failures: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)

    def stats(self) -> tuple[Result | None, dict[str, Result | None]]:
        """Direct (over every run) and each measured system's stats, in the order of cfg.kinds."""
        systems = {k: system_stats(self.results[k]) if self.results[k] else None for k in self.cfg.kinds}
        for k, s in systems.items():
            if s is not None:
                s["log"] = merge_logs(r["gateway_log"] for r in self.results[k] if "gateway_log" in r)
        all_results = [r for k in self.cfg.kinds for r in self.results[k]]
        direct = None
        if all_results:
            closed, rate = pairs(all_results, "closed", CONCURRENCY), pairs(all_results, "rate", RATE)
            direct = {
                "rps": med(ok_rps(d) for d, _ in closed),
                "p95": med(d["latency_ms"]["p95"] for d, _ in rate),
                "p99": med(d["latency_ms"]["p99"] for d, _ in rate),
            }
        return direct, systems

    def tables(self) -> list[str]:
        direct, systems = self.stats()
        policy = policy_target(systems.get(POLICY), self.cfg.skip_policy)
        return [
            *results_table(direct, systems),
            "",
            "### Targets",
            "",
            *targets_table(systems["floor"], systems["aigw"], self.mem, policy),
            pii_target(self.pii),
            *search_targets(self.search),
            *tracing_targets(self.tracing),
        ]

    def method(self) -> str:
        c = self.cfg
        mem = "skipped (`--skip-memory`)" if c.skip_memory else f"{c.memory_requests:,} chat requests"
        policy = (
            f"{POLICY} (the full policy row): the same `aigw serve --workers {GATEWAY_WORKERS}` plus the policy "
            f"on Redis ({REDIS_HOST}:{REDIS_PORT} db {POLICY_REDIS_DB}, flushed before and after each run): "
            f"AI_BUDGET_DAILY={POLICY_SETTINGS['AI_BUDGET_DAILY']} (a global daily budget, so every call holds "
            f"and settles in Redis), AI_RATE_LIMIT_PER_USER={POLICY_SETTINGS['AI_RATE_LIMIT_PER_USER']}, "
            f"AI_DATABASE_URL unset (SQLite in the run's state dir); the load authenticates with a virtual key "
            f"(`aigw keys create {' '.join(POLICY_KEY_ARGS)}`: key lookup, per-key rpm/tpm and daily budget, "
            f"per-user rate limit, global daily budget), checked before measuring with one request (HTTP 200 "
            f"with {POLICY_COST_HEADER} and x-ratelimit-remaining-*). "
            if POLICY in c.kinds
            else f"{POLICY} (full policy on Redis) skipped (`--skip-policy`). "
        )
        return (
            f"`compare.py` runs alternated {', '.join(c.kinds)} ({c.outer_rounds} runs each, {c.rounds} A/B "
            f"rounds per run, "
            f"{c.duration} s measured + 1 s warm-up per measurement), mock upstream latency 0 ms, closed loop "
            f"c={CONCURRENCY} with wrk, open loop {RATE} req/s with load.py. Every number is the median over all "
            f"rounds of all runs of a system; overheads are medians of paired (proxy - direct) differences, "
            f"each pair measured back to back. aigw: `aigw serve --workers {GATEWAY_WORKERS}`, master key set "
            f"(every request authenticated), OpenAI provider pointed at the mock, log level INFO (access log on, "
            f"to a file). {policy}"
            f"Max RSS is the whole process tree (aigw: supervisor + {GATEWAY_WORKERS} workers). "
            f"Memory phase: {mem} to `aigw serve --workers 1` (wrk, c={CONCURRENCY}), RSS of that one process."
        )

    def details(self) -> list[str]:
        _, systems = self.stats()
        floor, aigw, policy = systems.get("floor"), systems.get("aigw"), systems.get(POLICY)
        out = []
        names = {"floor": "floor proxy", "aigw": "aigw", POLICY: f"{POLICY} (full policy on Redis)"}
        for kind, s in systems.items():
            if s:
                noisy = " (high: noisy machine)" if (s["other"] or 0) > HIGH_OTHER_CPU else ""
                out.append(
                    f"- {names[kind]}: runs {s['runs']}, A/B rounds {s['pairs']}; c={CONCURRENCY} req/s "
                    f"{fmt(s['rel_direct'], 3)} x direct (same pairs); proxy errors {s['errors']}; idle RSS "
                    f"{fmt(s['rss_idle'])} MiB; absolute p99 at {RATE} req/s {fmt(s['gw_p99'], 2)} ms; CPU of "
                    f"other processes median {fmt(s['other'], 2)} cores, max {fmt(s['other_max'], 2)}{noisy}"
                    + log_note(s.get("log"))
                )
        checks = [r["policy_check"] for r in self.results[POLICY] if r.get("policy_check")]
        if checks:
            notes = sorted({c["note"] for c in checks if c["note"]})
            out.append(
                f"- {POLICY} check request (virtual key, before each run): HTTP 200; headers {checks[-1]['headers']}"
                + (f"; {'; '.join(notes)}" if notes else "")
            )
        if self.mem:
            m = self.mem
            pts = ", ".join(
                f"{s['requests']:,} req: {s['rss_mib']:.1f} MiB"
                + (" (after 1 request)" if s["label"] == "startup" else "")
                for s in m.samples
            )
            peak = max(s["hwm_mib"] for s in m.samples)
            out.append(
                f"- memory phase ({m.seconds:.0f} s, ~{(m.total / m.seconds) if m.seconds else 0:.0f} req/s): "
                f"worker RSS {pts}; peak (VmHWM) {peak:.1f} MiB; wrk errors {m.wrk_errors}, "
                f"non-200 chat answers {m.non_200}"
            )
        if floor and aigw and floor["rel_direct"] and aigw["rel_direct"]:
            out.append(
                f"- cross-check of `ratio to floor` with each proxy normalised by the direct run it was paired with: "
                f"{aigw['rel_direct'] / floor['rel_direct']:.2f}"
                + (
                    f" (aigw), {policy['rel_direct'] / floor['rel_direct']:.2f} ({POLICY})"
                    if policy and policy["rel_direct"]
                    else ""
                )
            )
        out += [f"- FAILED: {f}" for f in self.failures]
        return out

    def markdown(self) -> str:
        c = self.cfg
        la = " / ".join(f"{x:.2f}" for x in self.load_start)
        la_end = " / ".join(f"{x:.2f}" for x in os.getloadavg())
        quick = " **Quick smoke run (`--quick`): not representative.**" if c.quick else ""
        lines = [
            "# Benchmarks",
            "",
            "Generated by `scripts/bench.py`; do not edit by hand, rerun to refresh." + quick,
            "",
            "- Command: `make bench`" + (f" (here: `scripts/bench.py {self.flags()}`)" if self.flags() else ""),
            f"- Date: {self.started.strftime('%Y-%m-%d %H:%M %Z')}",
            f"- Machine: {machine()}; load average at start {la} (1/5/15 min), at end {la_end}",
            f"- Code: git {git_rev()}",
            f"- Method: {self.method()}",
            "",
            "## Results",
            "",
            *self.tables(),
            "",
            "## How to read",
            "",
            "Load generator, mock upstream and proxy share 2 cores (and possibly the machine with other jobs), so "
            "absolute req/s and latencies move by 10-20% between runs. Compare within this file only: the floor "
            "proxy and aigw (plain, and with the full policy on Redis) are measured side by side in one run, "
            "alternating, each against the same mock measured "
            "back to back, and the ratios and overheads come from those pairs. `ratio to floor` is aigw req/s over "
            "the thin aiohttp passthrough's req/s (what a plain Python proxy costs); overhead is proxy minus "
            "direct latency at a fixed 500 req/s arrival rate (open loop, so queueing is not hidden). Gateway CPU "
            "µs/request is the steadiest number on a noisy box. SATURATED means the proxy did not keep up "
            "with the offered rate; its latency then measures queueing, not overhead. The full policy row is what a "
            "virtual key, its rate limits and the budget hold/settle in Redis add on top of plain aigw.",
            "",
            "## Details",
            "",
            *self.details(),
        ]
        if self.raw:
            lines += ["", "Per-scenario medians from `../shared/bench/summarize.py` over all runs:", "", *self.raw]
        return "\n".join(lines) + "\n"

    def flags(self) -> str:
        c = self.cfg
        flags = (("--quick", c.quick), ("--skip-memory", c.skip_memory), ("--skip-policy", c.skip_policy))
        return " ".join(f for f, on in flags if on)


# ---------------------------------------------------------------- main


def run_all(cfg: Config, report: Report, tmp: Path, procs: Processes) -> None:
    bdir = bench_dir()
    aigw_bin()
    for idx in range(cfg.outer_rounds):
        for kind in cfg.kinds:
            try:
                res = run_compare(kind, idx, cfg, bdir, tmp, procs)
                report.results[kind].append(res)
                report.files.append(tmp / f"{kind}-{idx}.json")
            except BenchError as e:
                log(f"ERROR: {e}")
                report.failures.append(str(e))
    report.raw = summarize_raw(bdir, report.files)
    for phase, attr in ((pii_phase, "pii"), (search_phase, "search"), (tracing_phase, "tracing")):
        try:
            setattr(report, attr, phase())
        except BenchError as e:
            log(f"ERROR: {e}")
            report.failures.append(str(e))
    if not cfg.skip_memory:
        try:
            report.mem = memory_phase(cfg, bdir, tmp, procs)
        except BenchError as e:
            log(f"ERROR: {e}")
            report.failures.append(f"memory phase: {e}")


def on_sigterm(signum: int, frame: object) -> None:
    raise Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    cfg = Config.from_args(argv)
    signal.signal(signal.SIGTERM, on_sigterm)
    # A handler (not SIG_IGN, which `cmd &` in a script sets) so that children start with SIGINT at its
    # default: compare.py must turn the SIGINT sent by Processes.stop into KeyboardInterrupt and clean up.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    report = Report(cfg, datetime.datetime.now().astimezone(), os.getloadavg())
    log(f"nproc {len(os.sched_getaffinity(0))}, load average {os.getloadavg()}")
    procs = Processes()
    try:
        with tempfile.TemporaryDirectory(prefix="aigw-bench-") as tmp:
            try:
                run_all(cfg, report, Path(tmp), procs)
            finally:
                procs.stop_all()  # before the temporary directory (gateway state) goes away
    except BenchError as e:
        log(f"ERROR: {e}")
        return 1
    except (KeyboardInterrupt, Terminated):
        log("interrupted: stopped everything started here")
        return 130
    if not any(report.results.values()):
        log("no results")
        return 1
    print("\n" + "\n".join(report.tables()))
    if cfg.doc:
        cfg.doc.parent.mkdir(parents=True, exist_ok=True)
        cfg.doc.write_text(report.markdown())
        log(f"\nwrote {cfg.doc}")
    for f in report.failures:
        log(f"FAILED: {f}")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
