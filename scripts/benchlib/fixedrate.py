"""One open-loop load run at a fixed rate against one target, with the gateway's CPU per request.

The load (load.py, or benchlib/ttft.py for streams) runs in a process of its own; the gateway's
CPU is its whole process tree's user + system time over the run (warm-up included) divided by the
requests sent in that time, which at a fixed rate with no errors is rate x (warm-up + duration)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchlib.common import MASTER_KEY, BenchError, Result, log, med, venv_python
from benchlib.processes import tree_cpu_seconds

WARMUP = 1.0  # seconds sent before each measurement, not counted
WARM_SECONDS = 3.0  # a pass per target after start, not counted
TTFT_CLIENT = Path(__file__).resolve().parent / "ttft.py"


def load_py(bdir: Path, url: str, rate: float, duration: float, model: str, api_key: str = MASTER_KEY) -> list[str]:
    return [
        sys.executable, str(bdir / "load.py"), url, "--rate", f"{rate:g}", "-d", f"{duration:g}",
        "-w", f"{WARMUP:g}", "--model", model, "--api-key", api_key, "--json",
    ]  # fmt: skip


def ttft_client(url: str, rate: float, duration: float, api_key: str = MASTER_KEY) -> list[str]:
    return [
        str(venv_python()), str(TTFT_CLIENT), url, "--rate", f"{rate:g}", "--duration", f"{duration:g}",
        "--warmup", f"{WARMUP:g}", "--api-key", api_key,
    ]  # fmt: skip


def measure(cmd: list[str], rate: float, duration: float, gw_pid: int | None, what: str) -> Result:
    """Run one load command; add cpu_us_per_req when gw_pid is given."""
    before = tree_cpu_seconds(gw_pid) if gw_pid else 0.0
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + WARMUP + 120, check=False)
    if out.returncode != 0 or not out.stdout.strip():
        raise BenchError(f"{what}: load failed (exit {out.returncode}): {out.stderr.strip()[-300:]}")

    res: Result = json.loads(out.stdout.strip().splitlines()[-1])
    if gw_pid:
        res["cpu_us_per_req"] = 1e6 * (tree_cpu_seconds(gw_pid) - before) / (rate * (duration + WARMUP))
    lat = res.get("ttft_ms") or res["latency_ms"]
    cpu = f", gateway CPU {res['cpu_us_per_req']:.0f} µs/req" if gw_pid else ""
    log(f"  {what}: p50 {lat['p50']} p95 {lat['p95']} p99 {lat['p99']} ms, errors {res['errors']}{cpu}")
    return res


def paired_added(rounds: list[Result], target: str, base: str, key: str, q: str) -> float | None:
    """Median over rounds of (target - base) for one percentile of one latency kind."""
    diffs = []
    for r in rounds:
        a, b = r.get(base), r.get(target)
        if a and b and a[key][q] is not None and b[key][q] is not None:
            diffs.append(b[key][q] - a[key][q])
    return med(diffs)
