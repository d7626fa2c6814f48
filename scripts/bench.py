#!/usr/bin/env python3
"""Benchmark aigw against the mock upstream (direct) and the thin floor proxy, side by side, in one
run; writes docs/benchmarks.md (the part `make bench-peers` wrote is kept).

Run with `make bench` (= `.venv/bin/python scripts/bench.py`); `--quick` or BENCH_QUICK=1 for a
short run that checks the harness (figures not representative). Uses the neutral harness in
../shared/bench (override with AIGW_BENCH_DIR), never a copy of it. The phases, each in
scripts/benchlib/:

1. compare.py A/B runs, alternating floor, aigw, aigw-policy, floor-stream, aigw-stream: direct mock
   vs. proxy interleaved, closed loop c=50 (wrk; streams: load.py) and open loop 500 req/s
   (load.py; not for streams). aigw: 2 workers, master key. aigw-policy: the full policy on Redis
   (benchlib/policy.py). The *-stream systems send `stream: true`.
2. Time to first token at 200 req/s: direct, floor proxy, aigw (benchlib/streaming.py, ttft.py).
3. Translation CPU: OpenAI passthrough vs the Anthropic and Gemini adapters (benchlib/translation.py).
4. PII scan per KiB, local semantic search, persisted traces (benchlib/phases.py, scripts/bench_*.py).
5. Memory: supervisor and each worker of `aigw serve --workers 2`, idle and over 100k calls.
6. docs/benchmarks.md: results, targets (issues 12 and 14) pass/FAIL as measured, details.

Every port is a free ephemeral one; everything started here is stopped again (by process group),
also on errors and Ctrl-C. Exit status is non-zero when a phase failed to produce results; a missed
target is reported in the targets table, not through the exit status.
"""

from __future__ import annotations

import argparse
import datetime
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib.common import DOC, BenchError, Terminated, aigw_bin, bench_dir, log, on_sigterm, quick_mode
from benchlib.compare_runs import STREAM_SYSTEMS, RunShape, run_compare
from benchlib.docfile import write_bench
from benchlib.memory import memory_phase
from benchlib.phases import pii_phase, search_phase, tracing_phase
from benchlib.policy import POLICY
from benchlib.processes import Processes
from benchlib.report import Report, summarize_raw
from benchlib.streaming import ttft_phase
from benchlib.translation import translation_phase

PHASES = ("policy", "streaming", "translation", "extras", "memory")


@dataclass
class Config:
    quick: bool
    doc: Path | None
    skip: frozenset[str]  # phases left out: policy, streaming, translation, extras, memory
    runs: int = 2  # compare.py runs per system, alternating
    rounds: int = 2  # A/B rounds inside each compare.py run; rounds of the fixed-rate phases: rounds + 1
    duration: float = 5.0  # seconds measured per measurement
    memory_calls: int = 100_000

    @classmethod
    def from_args(cls, argv: Sequence[str] | None) -> Config:
        ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
        ap.add_argument("--quick", action="store_true", help="short run (also BENCH_QUICK=1): 1 run, 1 round of 2 s")
        for phase in PHASES:
            ap.add_argument(f"--skip-{phase}", action="store_true", help=f"leave out the {phase} phase")
        ap.add_argument("--runs", type=int, help="compare.py runs per system (default 2; quick 1)")
        ap.add_argument("--rounds", type=int, help="A/B rounds per compare.py run (default 2; quick 1)")
        ap.add_argument("--duration", type=float, help="seconds per measurement (default 5; quick 2)")
        ap.add_argument("--memory-calls", type=int, help="calls in the memory phase (default 100000; quick 10000)")
        ap.add_argument("--doc", default=str(DOC), help="markdown report to write (default docs/benchmarks.md)")
        ap.add_argument("--no-doc", action="store_true", help="print the tables only, write no markdown")
        a = ap.parse_args(argv)
        quick = a.quick or quick_mode()
        skip = frozenset(p for p in PHASES if getattr(a, f"skip_{p}"))
        cfg = cls(quick=quick, doc=None if a.no_doc else Path(a.doc).resolve(), skip=skip)
        if quick:
            cfg.runs, cfg.rounds, cfg.duration, cfg.memory_calls = 1, 1, 2.0, 10_000
        cfg.runs = a.runs or cfg.runs
        cfg.rounds = a.rounds or cfg.rounds
        cfg.duration = a.duration or cfg.duration
        cfg.memory_calls = a.memory_calls or cfg.memory_calls
        return cfg

    @property
    def kinds(self) -> tuple[str, ...]:
        """The proxies measured with compare.py, in the order they alternate."""
        kinds = ["floor", "aigw"] + ([] if "policy" in self.skip else [POLICY])
        return (*kinds, *([] if "streaming" in self.skip else STREAM_SYSTEMS))

    def flags(self) -> str:
        out = ["--quick"] if self.quick else []
        out += [f"--skip-{p}" for p in sorted(self.skip)]
        return " ".join(out)


def attempt(report: Report, what: str, phase: Callable[[], object], attr: str) -> None:
    """Run one phase; a phase that fails is recorded as failed and the others go on."""
    t0 = time.monotonic()
    try:
        setattr(report, attr, phase())
    except BenchError as e:
        log(f"ERROR: {what}: {e}")
        report.failures.append(f"{what}: {e}")
    log(f"--- {what}: {time.monotonic() - t0:.0f} s")


def run_all(cfg: Config, report: Report, tmp: Path, procs: Processes) -> None:
    bdir = bench_dir()
    aigw_bin()
    shape = RunShape(rounds=cfg.rounds, duration=cfg.duration)
    fixed_rounds = 1 if cfg.quick else cfg.rounds + 1
    for idx in range(cfg.runs):
        for kind in cfg.kinds:
            try:
                report.results.setdefault(kind, []).append(run_compare(kind, idx, cfg.runs, shape, bdir, tmp, procs))
                report.files.append(tmp / f"{kind}-{idx}.json")
            except BenchError as e:
                log(f"ERROR: {e}")
                report.failures.append(str(e))
    report.raw = summarize_raw(bdir, report.files)
    if "streaming" not in cfg.skip:
        attempt(report, "time to first token", lambda: ttft_phase(fixed_rounds, cfg.duration, bdir, tmp, procs), "ttft")
    if "translation" not in cfg.skip:
        translation_rounds = 1 if cfg.quick else 2 * fixed_rounds  # a ratio of close figures: more rounds
        run = lambda: translation_phase(translation_rounds, cfg.duration, bdir, tmp, procs)  # noqa: E731
        attempt(report, "translation", run, "translation")
    if "extras" not in cfg.skip:
        attempt(report, "PII benchmark", pii_phase, "pii")
        attempt(report, "search benchmark", lambda: search_phase(cfg.quick), "search")
        attempt(report, "tracing benchmark", lambda: tracing_phase(cfg.quick), "tracing")
    if "memory" not in cfg.skip:
        attempt(report, "memory phase", lambda: memory_phase(cfg.memory_calls, bdir, tmp, procs), "mem")


def main(argv: Sequence[str] | None = None) -> int:
    cfg = Config.from_args(argv)
    signal.signal(signal.SIGTERM, on_sigterm)
    # A handler (not SIG_IGN, which `cmd &` in a script sets) so that children start with SIGINT at its
    # default: compare.py must turn the SIGINT sent by Processes.stop into KeyboardInterrupt and clean up.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    shape = f"{cfg.runs} runs each, {cfg.rounds} A/B rounds per run, {cfg.duration:g} s measured + 1 s warm-up"
    report = Report(cfg.kinds, cfg.flags(), cfg.quick, shape, datetime.datetime.now().astimezone(), os.getloadavg())
    log(f"nproc {len(os.sched_getaffinity(0))}, load average {os.getloadavg()}; {shape}")
    ignored = sorted(k for k in os.environ if k.upper().startswith("AI_"))
    if ignored:
        log(f"ignoring inherited {', '.join(ignored)} for the benchmarked gateways")
    procs = Processes()
    t0 = time.monotonic()
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
    log(f"total {time.monotonic() - t0:.0f} s")
    if not any(report.results.values()):
        log("no results")
        return 1
    print("\n" + "\n".join(report.tables()))
    if cfg.doc:
        write_bench(cfg.doc, report.markdown())
        log(f"\nwrote {cfg.doc}")
    for f in report.failures:
        log(f"FAILED: {f}")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
