"""Time to first token added by a proxy at a fixed rate: the shared mock (direct), the floor proxy
and aigw (plain, 2 workers) measured in rounds, the order rotated each round, with benchlib/ttft.py
(open loop, `stream: true`, the mock's default chunks); the added time is the median over rounds of
(proxy - direct) in the same round."""

from __future__ import annotations

from pathlib import Path

from benchlib.common import GATEWAY_WORKERS, Result, free_ports, gateway_env, log, med
from benchlib.fixedrate import WARM_SECONDS, measure, paired_added, ttft_client
from benchlib.processes import Processes, start_aigw, start_floor, start_shared_mock

TTFT_RATE = 200
TARGETS = ("direct", "floor", "aigw")


def ttft_phase(rounds: int, duration: float, bdir: Path, tmp: Path, procs: Processes) -> Result:
    up_port, floor_port, gw_port = free_ports(3)
    upstream = f"http://127.0.0.1:{up_port}"
    log(f"\n=== time to first token at {TTFT_RATE} req/s: direct, floor, aigw ({rounds} rounds of {duration:g} s)")
    mock = start_shared_mock(procs, bdir, up_port)
    floor = gw = None
    try:
        floor = start_floor(procs, bdir, floor_port, upstream)
        gw = start_aigw(procs, gw_port, gateway_env(tmp / "state-ttft", upstream), tmp / "ttft-gateway.log",
                        GATEWAY_WORKERS, tmp)  # fmt: skip
        ports = {"direct": up_port, "floor": floor_port, "aigw": gw_port}
        pids = {"direct": None, "floor": floor.pid, "aigw": gw.pid}
        for target in ("floor", "aigw"):  # not counted: the first calls of a fresh process import and connect
            url = f"http://127.0.0.1:{ports[target]}/v1/chat/completions"
            measure(ttft_client(url, TTFT_RATE, WARM_SECONDS), TTFT_RATE, WARM_SECONDS, None, f"warm-up {target}")
        results: list[Result] = []
        for rnd in range(rounds):
            order = TARGETS[rnd % 3 :] + TARGETS[: rnd % 3]
            row: Result = {}
            for target in order:
                url = f"http://127.0.0.1:{ports[target]}/v1/chat/completions"
                cmd = ttft_client(url, TTFT_RATE, duration)
                row[target] = measure(cmd, TTFT_RATE, duration, pids[target], f"round {rnd + 1} {target}")
            results.append(row)
    finally:
        for p in (gw, floor, mock):
            if p is not None:
                procs.stop(p)
    out: Result = {"rate": TTFT_RATE, "rounds": rounds, "duration": duration, "runs": results}
    for target in ("floor", "aigw"):
        runs = [r[target] for r in results]
        out[target] = {
            "added_ttft": {q: paired_added(results, target, "direct", "ttft_ms", q) for q in ("p50", "p95", "p99")},
            "ttft": {q: med(r["ttft_ms"][q] for r in runs) for q in ("p50", "p95", "p99")},
            "errors": sum(r["errors"] for r in runs),
            "ok_rps": med(r["ok_rps"] for r in runs),
            "cpu_us": med(r.get("cpu_us_per_req") for r in runs),
        }
    out["direct"] = {"ttft": {q: med(r["direct"]["ttft_ms"][q] for r in results) for q in ("p50", "p95", "p99")}}
    log(f"time to first token: { {k: v for k, v in out.items() if k != 'runs'} }")
    return out
