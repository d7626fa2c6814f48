"""CPU per call of the upstream HTTP client alone: `HttpTransport` against the shared mock, no gateway.

    .venv/bin/python scripts/perf/transport.py [--mode plain|stream] [--seconds 5] [--rounds 1]

One process, uvloop, 50 concurrent callers of `post_json` (plain) or `open_sse` read to the end
(stream) for --seconds after a warm-up; prints the process CPU µs per call and calls per second of
each round as one JSON line. Far less noisy than a loaded gateway, so a change to the client can be
compared A/B: run it with PYTHONPATH=<other tree>/src for the other side, alternating rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import uvloop
from yarl import URL

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import BENCH, MODEL, free_port, wait_ready

from aigw.providers.http_transport import HttpTransport, TransportLimits

CALLERS = 50
HEADERS = {"content-type": "application/json", "accept": "application/json", "authorization": "Bearer sk-upstream"}


async def measure(port: int, seconds: float, stream: bool) -> dict[str, float]:
    transport = HttpTransport("openai", TransportLimits(timeout=30), HEADERS)
    await transport.start()
    url = URL(f"http://127.0.0.1:{port}/v1/chat/completions")
    body: dict[str, Any] = {"model": MODEL, "messages": [{"role": "user", "content": "ping"}], "max_tokens": 8}
    if stream:
        body["stream"] = True
    calls = 0
    running = True

    async def call() -> None:
        if stream:
            opened = await transport.open_sse(url, body)
            async for _ in opened.events():
                pass
        else:
            await transport.post_json(url, body)

    async def caller() -> None:
        nonlocal calls
        while running:
            await call()
            calls += 1

    for _ in range(200):  # warm-up: connections, caches
        await call()
    tasks = [asyncio.create_task(caller()) for _ in range(CALLERS)]
    await asyncio.sleep(1)
    calls_before, cpu_before, wall_before = calls, time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    done, cpu, wall = calls - calls_before, time.process_time() - cpu_before, time.monotonic() - wall_before
    running = False
    await asyncio.gather(*tasks)
    await transport.close()
    return {"cpu_us_per_call": round(cpu / done * 1e6, 1), "calls_per_s": round(done / wall)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mode", choices=("plain", "stream"), default="plain")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    port = free_port()
    mock = subprocess.Popen(
        [sys.executable, str(BENCH / "mock_upstream.py"), "--port", str(port)], stdout=subprocess.DEVNULL
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/health", mock, 20)
        for _ in range(args.rounds):
            print(json.dumps(uvloop.run(measure(port, args.seconds, args.mode == "stream"))), flush=True)
    finally:
        mock.terminate()
        mock.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
