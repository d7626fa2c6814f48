#!/usr/bin/env python3
"""LiteLLM and the Portkey gateway beside the floor proxy and aigw: the same mock upstream, rates and
harness (../shared/bench/compare.py), alternating, in one run; writes the peers table into
docs/benchmarks.md between its markers and keeps `make bench`'s part.

Run with `make bench-peers` (= `.venv/bin/python scripts/bench_peers.py`). The first run installs
the pinned peers under .peers/ (git-ignored; benchlib/peers.py), later runs reuse them. Each system
gets compare.py runs of: closed loop c=50 (wrk) and open loop 50, 200 and 500 req/s (load.py),
direct mock vs. system interleaved; the table has req/s at c=50, p50/p95/p99 added at each rate
(SATURATED where the system did not keep up), gateway CPU per call at c=50 and RSS of its process
tree. `--quick` or BENCH_QUICK=1: 1 run, 1 round of 2 s (checks the harness, figures not
representative). `--install-only` installs and stops.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import peers
from benchlib.common import (
    CONCURRENCY,
    DOC,
    GATEWAY_WORKERS,
    BenchError,
    Result,
    Terminated,
    aigw_bin,
    bench_dir,
    clean_env,
    fmt,
    free_ports,
    log,
    on_sigterm,
    quick_mode,
)
from benchlib.compare_runs import RunShape, compare_command, gateway_command, rate_stats, system_stats
from benchlib.docfile import write_peers
from benchlib.processes import Processes
from benchlib.report import git_rev, machine

RATES = (50, 200, 500)
SYSTEMS = ("floor", "aigw", "litellm", "portkey")


def system_command(name: str, idx: int, tmp: Path, up_port: int, gw_port: int) -> peers.Peer:
    if name in ("floor", "aigw"):
        cmd, key = gateway_command(name, idx, tmp, up_port, gw_port)
        label = (
            "floor proxy (../shared/bench/floor_proxy.py)"
            if name == "floor"
            else (f"aigw (`aigw serve --workers {GATEWAY_WORKERS}`, master key)")
        )
        return peers.Peer(name, label, cmd, key)
    return peers.litellm(up_port, gw_port, tmp) if name == "litellm" else peers.portkey(up_port, gw_port, tmp)


def run_one(
    name: str, idx: int, of: int, shape: RunShape, bdir: Path, tmp: Path, procs: Processes
) -> tuple[Result, str]:
    up_port, gw_port = free_ports(2)
    peer = system_command(name, idx, tmp, up_port, gw_port)
    out = tmp / f"peers-{name}-{idx}.json"
    rates = ",".join(str(r) for r in RATES)
    cmd = compare_command(bdir, name, gw_port, up_port, shape, out, peer.api_key, gateway_cmd=peer.command,
                          rates=rates, headers="\n".join(peer.headers))  # fmt: skip
    log(f"\n=== compare.py {name} run {idx + 1}/{of}: {shlex.join(cmd[1:])}")
    p = procs.start(cmd, first_signal=signal.SIGINT, cwd=bdir, env=clean_env(), stdout=subprocess.PIPE, text=True)
    limit = 900 + 8 * shape.rounds * (shape.duration + 20)
    try:
        stdout, _ = p.communicate(timeout=limit)
    except subprocess.TimeoutExpired as e:
        raise BenchError(f"compare.py {name} run {idx + 1} still running after {limit:g}s") from e
    finally:
        procs.stop(p)
    log(stdout.rstrip())
    if p.returncode != 0 or not out.is_file():
        for f in tmp.glob(f"{name}*.log"):
            log(f"{f.name}: {f.read_text(errors='replace')[-1500:]}")
        raise BenchError(f"compare.py {name} run {idx + 1} failed (exit {p.returncode})")
    return json.loads(out.read_text()), peer.label


def added(s: Result) -> str:
    if not s["pairs"]:
        return "n/a"
    text = f"{fmt(s['p50'], 2)} / {fmt(s['p95'], 2)} / {fmt(s['p99'], 2)}"
    return f"SATURATED ({text})" if s["saturated"] else text


def table(results: dict[str, list[Result]], labels: dict[str, str]) -> list[str]:
    head = " | ".join(f"added p50 / p95 / p99 at {r} req/s (ms)" for r in RATES)
    rows = [
        f"| system | req/s at c={CONCURRENCY} | ratio to floor | {head} | CPU µs/call at c={CONCURRENCY} "
        "| RSS MiB idle / max (tree) |",
        "|---|---:|---:|" + "---:|" * len(RATES) + "---:|---:|",
    ]
    floor = system_stats(results["floor"]) if results.get("floor") else None
    for name in SYSTEMS:
        res = results.get(name)
        if not res:
            rows.append(f"| {labels.get(name, name)} | run failed |" + " |" * (len(RATES) + 3))
            continue
        s = system_stats(res)
        ratio = fmt(s["rps"] / floor["rps"], 2) if floor and floor["rps"] and s["rps"] else "n/a"
        per_rate = " | ".join(added(rate_stats(res, r)) for r in RATES)
        rows.append(
            f"| {labels[name]} | {fmt(s['rps'], 0)} | {ratio} | {per_rate} | {fmt(s['cpu_us'], 0)} "
            f"| {fmt(s['rss_idle'], 1)} / {fmt(s['rss_max'], 1)} |"
        )
    return rows


def section(results: dict[str, list[Result]], labels: dict[str, str], shape: RunShape, runs: int, quick: bool,
            started: datetime.datetime, failures: list[str]) -> str:  # fmt: skip
    note = (
        " **Quick run (`--quick` / BENCH_QUICK=1): short measurements that check the harness; the figures are "
        "provisional, not representative.**"
        if quick
        else ""
    )
    lines = [
        "## Peers",
        "",
        "Generated by `scripts/bench_peers.py` (`make bench-peers`); rerun to refresh." + note,
        "",
        f"- Date: {started.strftime('%Y-%m-%d %H:%M %Z')}; machine: {machine()}; code: git {git_rev()}",
        f"- Method: `compare.py` runs alternated {', '.join(SYSTEMS)} ({runs} runs each, {shape.rounds} A/B rounds "
        f"per run, {shape.duration:g} s measured + 1 s warm-up per measurement), the shared mock upstream at 0 ms, "
        f"closed loop c={CONCURRENCY} with wrk, open loop {', '.join(map(str, RATES))} req/s with load.py; added "
        "latency is the median of paired (system - direct) differences; SATURATED: fewer than 95 % of the "
        "offered rate answered, errors, or p50 added above 100 ms (the latency then measures queueing). CPU "
        "per call is the system's process tree at c=50; RSS is the whole tree. Portkey is routed by the "
        "`x-portkey-provider: openai` and `x-portkey-custom-host` headers (sent to the direct mock too).",
        "",
        *table(results, labels),
    ]
    lines += [f"- FAILED: {f}" for f in failures]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short run (also BENCH_QUICK=1)")
    ap.add_argument("--install-only", action="store_true", help="install the pinned peers and stop")
    ap.add_argument("--runs", type=int, help="compare.py runs per system (default 2; quick 1)")
    ap.add_argument("--rounds", type=int, help="A/B rounds per run (default 2; quick 1)")
    ap.add_argument("--duration", type=float, help="seconds per measurement (default 5; quick 2)")
    ap.add_argument("--doc", default=str(DOC), help="markdown file to write the peers table into")
    ap.add_argument("--no-doc", action="store_true")
    a = ap.parse_args(argv)
    quick = a.quick or quick_mode()
    runs = a.runs or (1 if quick else 2)
    shape = RunShape(rounds=a.rounds or (1 if quick else 2), duration=a.duration or (2.0 if quick else 5.0))
    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        peers.install_litellm()
        peers.install_portkey()
    except BenchError as e:
        log(f"ERROR: {e}")
        return 1
    if a.install_only:
        return 0
    bdir, started, t0 = bench_dir(), datetime.datetime.now().astimezone(), time.monotonic()
    aigw_bin()
    results: dict[str, list[Result]] = {}
    labels: dict[str, str] = {}
    failures: list[str] = []
    procs = Processes()
    try:
        with tempfile.TemporaryDirectory(prefix="aigw-peers-") as tmp:
            try:
                for idx in range(runs):
                    for name in SYSTEMS:
                        try:
                            res, labels[name] = run_one(name, idx, runs, shape, bdir, Path(tmp), procs)
                            results.setdefault(name, []).append(res)
                        except BenchError as e:
                            log(f"ERROR: {e}")
                            failures.append(str(e))
            finally:
                procs.stop_all()
    except (KeyboardInterrupt, Terminated):
        log("interrupted: stopped everything started here")
        return 130
    log(f"total {time.monotonic() - t0:.0f} s")
    text = section(results, labels, shape, runs, quick, started, failures)
    print("\n" + text)
    if not a.no_doc:
        write_peers(Path(a.doc).resolve(), text)
        log(f"wrote the peers table into {a.doc}")
    return 1 if failures or not results else 0


if __name__ == "__main__":
    sys.exit(main())
