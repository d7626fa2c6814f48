"""RSS of `aigw serve` (supervisor and each worker) idle and after N chat calls, and CPU per call.

Usage: .venv/bin/python scripts/perf/memory.py [--workers 2] [--requests 5000] [--policy] [--stream]
Prints one JSON object. Workers' CPU per call is (user + system time of supervisor and workers
during the load) / calls answered, so it includes the access log, metrics and traces.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Gateway, cpu_seconds, gateway, shared_objects, status_kib, wrk

MIB = 1024


def rss(gw: Gateway) -> dict[str, Any]:
    sup = status_kib(gw.pid)
    out: dict[str, Any] = {"supervisor_mib": round(sup["VmRSS"] / MIB, 1)} if gw.workers > 1 else {}
    out["workers_mib"] = [round(status_kib(p)["VmRSS"] / MIB, 1) for p in gw.worker_pids()]
    out["workers_anon_mib"] = [round(status_kib(p)["RssAnon"] / MIB, 1) for p in gw.worker_pids()]
    return out


def load(gw: Gateway, requests: int, stream: bool) -> dict[str, Any]:
    pids = [gw.pid, *gw.worker_pids()] if gw.workers > 1 else [gw.pid]
    cpu0 = sum(cpu_seconds(p) for p in pids)
    done, errors, t0 = 0, 0, time.monotonic()
    while done < requests:
        seconds = 3 if done == 0 else max(1, min(20, (requests - done) / max(done / (time.monotonic() - t0), 1)))
        res = wrk(gw.base + "/v1/chat/completions", seconds, gw.key, stream=stream)
        done += int(res["requests"])
        errors += int(res["errors"])
    elapsed = time.monotonic() - t0
    cpu = sum(cpu_seconds(p) for p in pids) - cpu0
    return {
        "requests": done,
        "errors": errors,
        "req_per_s": round(done / elapsed),
        "gateway_cpu_us_per_call": round(cpu / done * 1e6),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--policy", action="store_true", help="virtual key, rate limits and daily budget on Redis db 13")
    ap.add_argument("--stream", action="store_true", help="streamed chat (the mock's default chunks)")
    args = ap.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="aigw-perf-") as tmp,
        gateway(Path(tmp), workers=args.workers, policy=args.policy) as gw,
    ):
        time.sleep(2)
        report: dict[str, Any] = {"idle": rss(gw)}
        status, body = gw.chat(stream=args.stream)
        if status != 200:
            raise SystemExit(f"chat answered {status}: {body[:300]!r}")
        report["after_1_call"] = rss(gw)
        report["load"] = load(gw, args.requests, args.stream)
        report[f"after_{report['load']['requests']}_calls"] = rss(gw)
        report["worker_native_packages"] = shared_objects(gw.worker_pids()[0])
        report["supervisor_native_packages"] = shared_objects(gw.pid)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
