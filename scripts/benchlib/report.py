"""The tables and the markdown of `make bench` (docs/benchmarks.md), from the measurements."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from benchlib import targets as t
from benchlib.common import CONCURRENCY, GATEWAY_WORKERS, RATE, REPO, Result, fmt, med
from benchlib.compare_runs import ok_rps, pairs, system_stats
from benchlib.gatewaylog import merge_logs
from benchlib.memory import MemoryRun
from benchlib.policy import POLICY, POLICY_KEY_ARGS, POLICY_REDIS_DB, POLICY_SETTINGS, REDIS_HOST, REDIS_PORT

HIGH_OTHER_CPU = 0.25  # cores used by processes this run did not start: above this the box was noisy
LABELS = {
    "floor": "floor proxy",
    "aigw": f"aigw ({GATEWAY_WORKERS} workers, master key)",
    POLICY: "full policy on Redis (key, per-key and per-user limits, budget, PII mask, traces)",
    "floor-stream": "floor proxy, streaming",
    "aigw-stream": f"aigw ({GATEWAY_WORKERS} workers), streaming",
}
BASE = {k: "floor-stream" if k.endswith("-stream") else "floor" for k in LABELS}


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


def results_table(direct: Result | None, systems: dict[str, Result | None]) -> list[str]:
    """systems: kind -> stats (None: every run failed), in table order; ratios against BASE[kind]."""
    rows = [
        "| system | req/s at c=50 | ratio to floor | p99 added at 500 req/s (ms) "
        "| p95 added at 500 req/s (ms) | gateway CPU µs/call at c=50 | max RSS MiB (tree) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    floor = systems.get("floor")
    if direct:
        r = fmt(direct["rps"] / floor["rps"], 2) if floor and floor["rps"] and direct["rps"] else "n/a"
        rows.append(
            f"| direct (mock upstream) | {fmt(direct['rps'], 0)} | {r} "
            f"| 0 (abs. p99 {fmt(direct['p99'], 2)}) | 0 (abs. p95 {fmt(direct['p95'], 2)}) | — | — |"
        )
    for kind, s in systems.items():
        if s is None:
            rows.append(f"| {LABELS[kind]} | run failed | | | | | |")
            continue
        base = systems.get(BASE[kind])
        ratio = fmt(s["rps"] / base["rps"], 2) if base and base["rps"] and s["rps"] else "n/a"
        sat = " SATURATED" if s["saturated"] else ""
        stream = kind.endswith("-stream")
        p99 = "— (not measured)" if stream else f"{fmt(s['ovh_p99'], 2)}{sat}"
        p95 = "—" if stream else f"{fmt(s['ovh_p95'], 2)}{sat}"
        rows.append(
            f"| {LABELS[kind]} | {fmt(s['rps'], 0)} | {ratio} | {p99} | {p95} | {fmt(s['cpu_us'], 0)} "
            f"| {fmt(s['rss_max'], 1)} |"
        )
    return rows


@dataclass
class Report:
    kinds: tuple[str, ...]
    flags: str  # the command-line flags of this run, for the record
    quick: bool
    shape: str  # how long each measurement ran, for the method
    started: datetime.datetime
    load_start: tuple[float, float, float]
    results: dict[str, list[Result]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    mem: MemoryRun | None = None
    ttft: Result | None = None
    translation: Result | None = None
    pii: Result | None = None
    search: Result | None = None
    tracing: Result | None = None
    failures: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)

    def stats(self) -> tuple[Result | None, dict[str, Result | None]]:
        """Direct (over the non-streamed runs) and each measured system's stats, in the order of kinds."""
        systems: dict[str, Result | None] = {}
        for k in self.kinds:
            res = self.results.get(k) or []
            systems[k] = system_stats(res) if res else None
            if systems[k] is not None:
                systems[k]["log"] = merge_logs(r["gateway_log"] for r in res if "gateway_log" in r)  # type: ignore[index]
        plain = [r for k in self.kinds if not k.endswith("-stream") for r in self.results.get(k) or []]
        direct = None
        if plain:
            closed, rate = pairs(plain, "closed", CONCURRENCY), pairs(plain, "rate", RATE)
            direct = {
                "rps": med(ok_rps(d) for d, _ in closed),
                "p95": med(d["latency_ms"]["p95"] for d, _ in rate),
                "p99": med(d["latency_ms"]["p99"] for d, _ in rate),
            }
        return direct, systems

    def tables(self) -> list[str]:
        direct, s = self.stats()
        plain = (t.PLAIN_MIN_RATIO, t.PLAIN_MAX_P99_MS, t.PLAIN_MAX_CPU_US)
        policy = (t.POLICY_MIN_RATIO, t.POLICY_MAX_P99_MS, t.POLICY_MAX_CPU_US)
        policy_rows = (
            t.proxy_targets("full policy", s.get(POLICY), s.get("floor"), policy)
            if POLICY in self.kinds
            else [t.not_run("full policy on Redis", "not run (`--skip-policy`)")]
        )
        return [
            *results_table(direct, s),
            "",
            "### Targets",
            "",
            *t.HEADER,
            *t.proxy_targets("plain", s.get("aigw"), s.get("floor"), plain),
            *policy_rows,
            *t.streaming_targets(s.get("aigw-stream"), s.get("floor-stream"), self.ttft),
            *t.memory_targets(self.mem),
            *t.translation_targets(self.translation),
            t.pii_target(self.pii),
            *t.search_targets(self.search),
            *t.tracing_targets(self.tracing),
        ]

    def method(self) -> str:
        policy_env = ", ".join(f"{k}={v}" for k, v in POLICY_SETTINGS.items() if k != "AI_REDIS_URL")
        return (
            f"`compare.py` runs alternated {', '.join(self.kinds)} ({self.shape}), mock upstream latency 0 ms, "
            f"closed loop c={CONCURRENCY} with wrk (streams: load.py), open loop {RATE} req/s with load.py. Every "
            "number is the median over all rounds of all runs of a system; added latency is the median of paired "
            "(proxy - direct) differences, each pair measured back to back. aigw: `aigw serve --workers "
            f"{GATEWAY_WORKERS}`, master key, OpenAI provider on the mock, every other setting at its default, log "
            f"level INFO (access log to a file). {POLICY}: the same plus, on Redis ({REDIS_HOST}:{REDIS_PORT} db "
            f"{POLICY_REDIS_DB}, flushed before and after each run), {policy_env} (AI_TRACE_SAMPLE_RATE at its "
            "default), SQLite in the run's state dir; the load authenticates with a virtual key "
            f"(`aigw keys create {' '.join(POLICY_KEY_ARGS)}`), checked before measuring with one request. The "
            "load's prompt (system: 'You are a helpful assistant.', user: 'Write one short sentence about "
            "benchmarking HTTP proxies.') has no PII: the masker scans every prompt and replaces nothing. "
            "Streaming: `stream: true`, the shared mock's default 10 chunks, no delay. Time to first token: "
            "benchlib/ttft.py, open loop, the first SSE event with content. Memory: `aigw serve --workers "
            f"{GATEWAY_WORKERS}`, VmRSS of the supervisor and of each worker separately, idle and over the calls "
            "(wrk c=50). Translation: one gateway with four aliases (the OpenAI, Anthropic and Gemini adapters "
            "each on its mock of tests/support, one mock framework and the same planned answer, so the target "
            "compares translation with passthrough; and the OpenAI adapter on the shared mock, for reference), "
            "each mock its own process, the same non-streamed request at a fixed rate, CPU of the gateway's "
            "process tree only. Max RSS in the "
            f"results table is the whole tree (supervisor + {GATEWAY_WORKERS} workers)."
        )

    def details(self) -> list[str]:
        _, systems = self.stats()
        out = []
        for kind, s in systems.items():
            if s:
                noisy = " (high: noisy machine)" if (s["other"] or 0) > HIGH_OTHER_CPU else ""
                out.append(
                    f"- {LABELS[kind]}: runs {s['runs']}, A/B rounds {s['pairs']}; c={CONCURRENCY} req/s "
                    f"{fmt(s['rel_direct'], 3)} x direct (same pairs); proxy errors {s['errors']}; idle RSS "
                    f"{fmt(s['rss_idle'])} MiB; CPU of other processes median {fmt(s['other'], 2)} cores, max "
                    f"{fmt(s['other_max'], 2)}{noisy}" + log_note(s.get("log"))
                )
        checks = [r["policy_check"] for r in self.results.get(POLICY) or [] if r.get("policy_check")]
        if checks:
            notes = sorted({c["note"] for c in checks if c["note"]})
            out.append(
                f"- {POLICY} check request (virtual key, before each run): HTTP 200; headers {checks[-1]['headers']}"
                + (f"; {'; '.join(notes)}" if notes else "")
            )
        out += ttft_details(self.ttft) + translation_details(self.translation) + memory_details(self.mem)
        out += [f"- FAILED: {f}" for f in self.failures]
        return out

    def markdown(self) -> str:
        la = " / ".join(f"{x:.2f}" for x in self.load_start)
        la_end = " / ".join(f"{x:.2f}" for x in os.getloadavg())
        quick = (
            " **Quick run (`--quick` / BENCH_QUICK=1): short measurements that check the harness; the figures "
            "are provisional, not representative.**"
            if self.quick
            else ""
        )
        lines = [
            "# Benchmarks",
            "",
            "Generated by `scripts/bench.py`; do not edit by hand, rerun to refresh." + quick,
            "",
            "- Command: `make bench`" + (f" (here: `scripts/bench.py {self.flags}`)" if self.flags else ""),
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
            "proxy and aigw are measured side by side in one run, alternating, each against the same mock "
            "measured back to back, and the ratios and added latencies come from those pairs. `ratio to floor` "
            "is a system's req/s over the thin aiohttp passthrough's (streaming rows: over the floor proxy's "
            "streaming req/s); added latency is proxy minus direct at a fixed 500 req/s arrival rate (open loop, "
            "so queueing is not hidden). Gateway CPU µs/call is the steadiest number on a noisy box. SATURATED "
            "means the proxy did not keep up with the offered rate; its latency then measures queueing, not "
            "overhead.",
            "",
            "## Details",
            "",
            *self.details(),
        ]
        if self.raw:
            lines += ["", "Per-scenario medians from `../shared/bench/summarize.py` over all runs:", "", *self.raw]
        return "\n".join(lines) + "\n"


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


def ttft_details(ttft: Result | None) -> list[str]:
    if not ttft:
        return []
    d = ttft["direct"]["ttft"]
    parts = [f"direct p50/p95/p99 {fmt(d['p50'], 2)} / {fmt(d['p95'], 2)} / {fmt(d['p99'], 2)} ms"]
    for kind in ("floor", "aigw"):
        s = ttft[kind]
        a = s["added_ttft"]
        parts.append(
            f"{kind} added {fmt(a['p50'], 2)} / {fmt(a['p95'], 2)} / {fmt(a['p99'], 2)} ms, "
            f"{fmt(s['ok_rps'], 0)} req/s answered, errors {s['errors']}, CPU {fmt(s['cpu_us'], 0)} µs/call"
        )
    return [
        f"- time to first token at {ttft['rate']} req/s ({ttft['rounds']} rounds of {ttft['duration']:g} s, "
        f"medians): " + "; ".join(parts)
    ]


def translation_details(tr: Result | None) -> list[str]:
    if not tr:
        return []
    parts = [
        f"{f}: {fmt(tr[f]['cpu_us'], 0)} µs/call, p50 {fmt(tr[f]['p50_ms'], 2)} ms, errors {tr[f]['errors']}"
        for f in ("openai", "anthropic", "gemini", "openai-shared")
        if f in tr
    ]
    return [
        f"- translation at {tr['rate']} req/s ({tr['rounds']} rounds of {tr['duration']:g} s, 2 workers): "
        + "; ".join(parts)
    ]


def memory_details(m: MemoryRun | None) -> list[str]:
    if not m:
        return []
    pts = []
    for s in m.samples:
        workers = ", ".join(f"{w['rss_mib']:.1f}" for w in s["workers"])
        sup = s["supervisor"]["rss_mib"]
        pts.append(f"{s['label']} ({s['requests']:,} calls): supervisor {sup:.1f}, workers {workers}")
    helpers = m.samples[-1]["helpers"] if m.samples else []
    helper = "; other children: " + ", ".join(f"{h['rss_mib']:.1f} MiB" for h in helpers) if helpers else ""
    peak = max((w["hwm_mib"] for s in m.samples for w in s["workers"]), default=None)
    return [
        f"- memory phase ({m.seconds:.0f} s, ~{(m.total / m.seconds) if m.seconds else 0:.0f} calls/s), RSS MiB: "
        + "; ".join(pts)
        + f"; worker peak (VmHWM) {fmt(peak, 1)} MiB{helper}; wrk errors {m.wrk_errors}, non-200 answers {m.non_200}"
    ]
