#!/usr/bin/env python3
"""CPU cost per trace of persisted traces (aigw.store.traces), to check the `make bench` target:
the gateway with traces persisted at the default sample rate costs at most 5 % more CPU per
request than with tracing off (docs/benchmarks.md: ~460 us per request, so ~23 us per trace).

Measures process CPU time (all threads: asyncpg and SQLite run in-process) per trace for
1. the request path: `TraceWriter.submit()` (one append; sampling happens later);
2. the background flush per trace, split in "prepare" (rollup counting, sampling, rows) and
   "write" (the upsert and the INSERT), at sample rates 1.0, 0.1 and 0.0, with and without
   masked previews, on SQLite (a temporary file) and, with --postgres URL, on PostgreSQL.

Traces look like a chat call's (auth, parse, admission, budget, route, provider_attempt,
response spans and the middleware's attributes). Run:
    .venv/bin/python scripts/bench_traces.py [--traces 20000] [--postgres postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from aigw.observability.tracing import Trace
from aigw.store.database import Database
from aigw.store.migrate import upgrade
from aigw.store.traces.settings import TraceSettings
from aigw.store.traces.writer import TraceWriter

PROMPT = "Summarise the following customer message for the support queue: " + "lorem ipsum dolor " * 40
ANSWER = "The customer asks about a delayed parcel and wants a refund. " * 10
GATEWAY_US_PER_REQUEST = 460.0  # docs/benchmarks.md, gateway CPU per request at c=50


def chat_trace(index: int) -> Trace:
    trace = Trace(f"{index:032x}", method="POST", endpoint="chat")
    for name in ("auth", "parse", "admission", "budget", "route"):
        trace.span(name, scopes=2).finish()
    trace.span("provider_attempt", provider="openai", attempt=1, breaker="closed").finish()
    trace.span("response").finish()
    trace.attrs.update(
        key_id="k_0123456789abcdef",
        user="user-17",
        pii={"EMAIL": 1},
        template="support/summary@3",
        http_status=200,
        provider="openai",
        deployment="openai",
        model="gpt-4o-mini",
        attempts=1,
        stream=False,
        latency_ms=12.5,
        upstream_ms=10.1,
        prompt_tokens=180,
        completion_tokens=60,
        cost_usd=0.00012,
    )
    return trace


def submit_cost(traces: list[Trace], previews: bool) -> float:
    database = Database("sqlite:///:memory:")  # never connected: only submit() runs
    writer = TraceWriter(database, TraceSettings(queue_size=len(traces) + 1))
    prompt, answer = (PROMPT, ANSWER) if previews else (None, None)
    started = time.process_time()
    for trace in traces:
        writer.submit(trace, prompt, answer)
    return (time.process_time() - started) / len(traces) * 1e6


async def flush_cost(url: str, traces: list[Trace], rate: float, previews: bool) -> tuple[float, float]:
    database = Database(url)
    await upgrade(database)
    settings = TraceSettings(sample_rate=rate, batch_size=500, queue_size=len(traces) + 1)
    writer = TraceWriter(database, settings)
    prompt, answer = (PROMPT, ANSWER) if previews else (None, None)
    for trace in traces:
        writer.submit(trace, prompt, answer)
    prepare = 0.0
    original = writer._prepare

    async def timed_prepare(batch: list[tuple[Trace, str | None, str | None]]) -> list[dict[str, object]]:
        nonlocal prepare
        started = time.process_time()
        rows = await original(batch)
        prepare += time.process_time() - started
        return rows

    writer._prepare = timed_prepare  # type: ignore[method-assign]
    started = time.process_time()
    while writer.pending:
        await writer.flush()
    total = time.process_time() - started
    await writer.close()
    await database.close()
    count = len(traces)
    return prepare / count * 1e6, (total - prepare) / count * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=int, default=20_000)
    parser.add_argument("--postgres", help="an empty PostgreSQL database to write to (its tables are created)")
    args = parser.parse_args()
    traces = [chat_trace(i) for i in range(args.traces)]
    print(
        f"{args.traces} chat traces; gateway reference {GATEWAY_US_PER_REQUEST:.0f} us CPU/request, 5 % = "
        f"{GATEWAY_US_PER_REQUEST * 0.05:.1f} us"
    )
    for previews in (False, True):
        cost = statistics.median(submit_cost(traces, previews) for _ in range(5))
        print(f"request path  submit()  previews={'masked' if previews else 'off':6}  {cost:6.2f} us/trace")
    with tempfile.TemporaryDirectory() as directory:
        targets = [("sqlite", f"sqlite:///{Path(directory) / 'traces.db'}")]
        if args.postgres:
            targets.append(("postgresql", args.postgres))
        for name, url in targets:
            for rate in (1.0, 0.1, 0.0):
                for previews in (False, True):
                    fresh = [chat_trace(i) for i in range(args.traces)]
                    prepare, write = await flush_cost(url, fresh, rate, previews)
                    total = prepare + write
                    print(
                        f"flush {name:10} rate={rate:<4} previews={'masked' if previews else 'off':6} "
                        f"prepare {prepare:6.2f}  write {write:6.2f}  total {total:6.2f} us/trace "
                        f"({total / GATEWAY_US_PER_REQUEST:.1%} of a request)"
                    )


if __name__ == "__main__":
    asyncio.run(main())
