"""Where a worker's CPU goes, per pipeline stage, from py-spy's collapsed stacks (`--format raw`).

Each sample is given to one stage: the innermost frame that a rule names (our modules, and the
libraries only one stage uses: aiohttp for the upstream, prometheus_client for metrics, uvicorn and
Starlette for the HTTP server...). Samples in general-purpose code (json, pydantic, asyncio) go to
the stage that called it; what no stage called is the event loop's.
A stage's share of the samples times the measured CPU per call is its cost in µs per call.

Usage: .venv/bin/python scripts/perf/stages.py STACKS.txt [--cpu-us N]
"""

from __future__ import annotations

import argparse
import collections
import re
from collections.abc import Iterable
from pathlib import Path

# (stage, pattern on "function (file:line)"). A sample goes to the innermost frame that a rule names;
# general-purpose libraries (json, pydantic, asyncio) name no stage, so their time goes to the
# stage that called them, and the event loop gets only what no stage called.
RULES: tuple[tuple[str, str], ...] = (
    ("access log", r"aigw/observability/(logging|redact)\.py|\(logging/"),
    ("metrics", r"\(prometheus_client/|aigw/observability/metrics\.py"),
    ("traces", r"aigw/observability/(tracing|otel|propagation)\.py|aigw/store/traces/|aigw/telemetry\.py"),
    ("PII", r"aigw/context/pii/|\(phonenumbers/|\(stdnum/"),
    ("context (template, token bound)", r"aigw/context/"),
    ("auth (keys)", r"aigw/api/auth\.py|aigw/policy/keys\.py|aigw/control/"),
    ("settle / spend", r"aigw/policy/settles\.py|aigw/orchestration/accounting\.py|aigw/store/spend"),
    ("policy admission (rate limits, budget)", r"aigw/policy/|\(redis/|hiredis"),
    ("routing", r"aigw/routing\.py"),
    ("response cache", r"aigw/cache/"),
    (
        "upstream client (provider, aiohttp)",
        r"aigw/providers/|aigw/client\.py|aigw/breaker\.py|aigw/retry\.py|\(aiohttp/|\(yarl/|\(multidict/",
    ),
    ("response build (normalize, headers)", r"aigw/normalize/|aigw/api/openai\.py|aigw/ingress/"),
    ("JSON parse and validation", r"aigw/api/(json_body|bodies)\.py"),
    ("edge guard", r"aigw/api/(edge|client_address)\.py"),
    ("request middleware (ids, log fields, trace)", r"aigw/api/(middleware|fastpath|gateway_route|errors|deps)\.py"),
    ("orchestrator glue", r"aigw/orchestrator\.py|aigw/orchestration/|aigw/gateway\.py|aigw/types\.py"),
    ("HTTP server (uvicorn, httptools) and ASGI", r"\(uvicorn/|\(starlette/|\(fastapi/|httptools"),
)
EVENT_LOOP = "event loop (asyncio, uvloop: callbacks, polling, socket I/O)"
# A thread blocked in a C call can be sampled as active (py-spy's idle test fails in some VMs):
# samples whose innermost frame is one of these waits are idle, not CPU, and are left out.
IDLE = re.compile(
    r"^_worker \(concurrent/futures/thread\.py:81\)|^_connection_worker_thread \(aiosqlite/core\.py:59\)"
    r"|^(\w+\.)?wait \(threading\.py|^(\w+\.)?get \(queue\.py|^(\w+\.)?select \(selectors\.py"
)
IDLE_STAGE = "idle (blocked threads, left out)"
COMPILED = [(stage, re.compile(p)) for stage, p in RULES]


def stage_of(frames: list[str]) -> str:
    if IDLE.search(frames[-1]):
        return IDLE_STAGE
    # Frames outside the event loop (uvicorn.run, asyncio.run) hold every sample: not a stage.
    starts = [i for i, frame in enumerate(frames) if frame.startswith("Runner.run (asyncio/runners.py")]
    for frame in reversed(frames[starts[-1] + 1 :] if starts else frames):  # innermost first
        for stage, pattern in COMPILED:
            if pattern.search(frame):
                return stage
    return EVENT_LOOP


def read_stacks(lines: Iterable[str]) -> collections.Counter[str]:
    """Samples per stage from py-spy's raw output ("frame;frame;... count", outermost frame first)."""
    counts: collections.Counter[str] = collections.Counter()
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if stack and count.isdigit():
            counts[stage_of(stack.split(";"))] += int(count)
    return counts


def table(counts: collections.Counter[str], cpu_us: float | None) -> list[str]:
    idle = counts.pop(IDLE_STAGE, 0)
    total = sum(counts.values()) or 1
    head = "| stage | share of CPU samples |" + (" µs per call |" if cpu_us else "")
    rows = [head, "|---|---:|" + ("---:|" if cpu_us else "")]
    for stage, n in counts.most_common():
        row = f"| {stage} | {100 * n / total:.1f} % |"
        rows.append(row + (f" {cpu_us * n / total:.0f} |" if cpu_us else ""))
    rows.append(f"| total ({total} samples; {idle} idle left out) | 100 % |" + (f" {cpu_us:.0f} |" if cpu_us else ""))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("stacks", type=Path)
    ap.add_argument("--cpu-us", type=float, help="measured CPU µs per call, to turn shares into µs")
    args = ap.parse_args()
    print("\n".join(table(read_stacks(args.stacks.read_text().splitlines()), args.cpu_us)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
