"""Memory phase: `aigw serve --workers 2`, the RSS of the supervisor and of each worker, measured
separately (/proc/PID/status VmRSS), idle and after ~20 %, 50 % and 100 % of N chat requests sent
with wrk (c=50), counted by the gateway's own aigw_requests_total{endpoint="chat",status="200"}."""

from __future__ import annotations

import json
import math
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchlib.common import (
    CONCURRENCY,
    GATEWAY_WORKERS,
    MASTER_KEY,
    MODEL,
    BenchError,
    Result,
    chat_request,
    free_ports,
    gateway_env,
    http_get,
    log,
)
from benchlib.processes import GatewayProcs, Processes, gateway_procs, log_tail, rss_kib, start_aigw, start_shared_mock

REQUESTS_TOTAL = re.compile(r"^aigw_requests_total\{([^}]*)\}\s+([0-9.eE+-]+)\s*$", re.MULTILINE)


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
    procs: GatewayProcs | None = None
    samples: list[Result] = field(default_factory=list)  # label, requests, supervisor, workers: [{rss, hwm}]
    wrk_errors: int = 0
    non_200: int = 0
    seconds: float = 0.0

    def at(self, label: str) -> Result | None:
        return next((s for s in self.samples if s["label"] == label), None)

    def worker_max(self, label: str) -> float | None:
        s = self.at(label)
        return max(w["rss_mib"] for w in s["workers"]) if s and s["workers"] else None

    def supervisor(self, label: str) -> float | None:
        s = self.at(label)
        return s["supervisor"]["rss_mib"] if s else None

    def growth_mib(self) -> float | None:
        """The largest growth of one worker between 50 % and 100 % of the requests."""
        mid, end = self.at("50%"), self.at("100%")
        if not mid or not end or len(mid["workers"]) != len(end["workers"]):
            return None
        return max(float(b["rss_mib"] - a["rss_mib"]) for a, b in zip(mid["workers"], end["workers"], strict=True))


def _mib(pid: int) -> Result:
    kib = rss_kib(pid)
    return {"pid": pid, "rss_mib": kib["VmRSS"] / 1024, "hwm_mib": kib["VmHWM"] / 1024}


def sample(run: MemoryRun, label: str, requests: int) -> None:
    assert run.procs is not None
    s: Result = {
        "label": label,
        "requests": requests,
        "supervisor": _mib(run.procs.supervisor),
        "workers": [_mib(w) for w in run.procs.workers],
        "helpers": [_mib(h) for h in run.procs.helpers],
    }
    run.samples.append(s)
    workers = ", ".join(f"{w['rss_mib']:.1f}" for w in s["workers"])
    log(f"  {requests:>7,} chat requests: supervisor {s['supervisor']['rss_mib']:.1f} MiB, workers {workers} MiB")


def drive(run: MemoryRun, bdir: Path, base: str) -> None:
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
            sample(run, pending.pop(0)[0], count)
        if time.monotonic() - t_start > 1800:
            raise BenchError(f"memory phase: only {count} requests after 30 minutes")
    run.seconds = time.monotonic() - t_start


def all_workers(pid: int, timeout: float = 60.0) -> GatewayProcs:
    """The gateway's processes once all its workers run (the first one may answer /readyz alone)."""
    deadline = time.monotonic() + timeout
    while True:
        found = gateway_procs(pid)
        if len(found.workers) == GATEWAY_WORKERS:
            return found
        if time.monotonic() > deadline:
            raise BenchError(f"expected {GATEWAY_WORKERS} worker processes under pid {pid}, found {found}")
        time.sleep(0.5)


def settle_rss(tree: GatewayProcs, timeout: float = 30.0) -> None:
    """Wait until no process of the gateway changed its RSS by more than 0.5 MiB over a second."""
    pids = [tree.supervisor, *tree.workers]
    last = [rss_kib(p)["VmRSS"] for p in pids]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = [rss_kib(p)["VmRSS"] for p in pids]
        if all(abs(a - b) <= 512 for a, b in zip(last, now, strict=True)):
            return
        last = now
    log("  RSS still changing after 30 s; measuring anyway")


def memory_phase(total: int, bdir: Path, tmp: Path, procs: Processes) -> MemoryRun:
    up_port, gw_port = free_ports(2)
    upstream, base = f"http://127.0.0.1:{up_port}", f"http://127.0.0.1:{gw_port}"
    log(f"\n=== memory phase: aigw --workers {GATEWAY_WORKERS}, {total:,} chat requests with wrk")
    mock = start_shared_mock(procs, bdir, up_port)
    gw = None
    gw_log = tmp / "memory-gateway.log"
    try:
        env = gateway_env(tmp / "state-memory", upstream)
        gw = start_aigw(procs, gw_port, env, gw_log, GATEWAY_WORKERS, tmp)
        tree = all_workers(gw.pid)
        run = MemoryRun(total=total, procs=tree)
        log(f"gateway pid {gw.pid} on {base}: workers {tree.workers}, other children {tree.helpers}")
        settle_rss(tree)  # idle: every worker started and done importing, no request yet
        sample(run, "idle", 0)
        for _ in range(4 * GATEWAY_WORKERS):  # a few requests, so that each worker most likely answered one
            status = chat_request(base + "/v1/chat/completions")[0]
            if status != 200:
                raise BenchError(f"gateway answered a chat request with {status}: see {gw_log}")
        sample(run, "startup", chat_counts(base)[0])
        drive(run, bdir, base)
        return run
    except BenchError:
        log_tail(gw_log)
        raise
    finally:
        if gw is not None:
            procs.stop(gw)
        procs.stop(mock)
