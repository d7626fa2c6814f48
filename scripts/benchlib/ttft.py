"""Time to first token of streamed chat completions, open loop (a fixed arrival rate).

`python scripts/benchlib/ttft.py URL --rate 200 --duration 5 [--api-key K]` sends `stream: true`
chat requests on a fixed schedule (no coordinated omission: a request is timed from when it was
due, so a proxy that falls behind shows its queueing) and prints one JSON line: time to first
token (the first SSE `data:` event whose `choices[0].delta.content` is not empty; the role-only
first chunk does not count, which is why load.py's time to first byte is not used), total
latency, requests answered and errors. The first `--warmup` seconds are sent but not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from typing import Any

import aiohttp

BODY = {
    "model": "gpt-3.5-turbo",
    "messages": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Write one short sentence about benchmarking HTTP proxies."},
    ],
    "max_tokens": 64,
    "temperature": 0.2,
    "stream": True,
}


def first_token(line: bytes) -> bool:
    if not line.startswith(b"data:") or b'"content"' not in line:
        return False
    try:
        choices = json.loads(line[5:]).get("choices") or []
    except ValueError:
        return False
    return any((c.get("delta") or {}).get("content") for c in choices if isinstance(c, dict))


class Stats:
    def __init__(self) -> None:
        self.ttft: list[float] = []
        self.total: list[float] = []
        self.errors: Counter[str] = Counter()
        self.sent = 0


async def one(session: aiohttp.ClientSession, url: str, body: bytes, due: float, stats: Stats | None) -> None:
    first = None
    try:
        async with session.post(url, data=body) as r:
            if r.status != 200:
                await r.read()
                if stats:
                    stats.errors[f"http_{r.status}"] += 1
                return
            async for line in r.content:
                if first is None and first_token(line):
                    first = time.perf_counter()
    except (TimeoutError, aiohttp.ClientError) as e:
        if stats:
            stats.errors[type(e).__name__] += 1
        return
    done = time.perf_counter()
    if stats is None:
        return
    if first is None:
        stats.errors["no_token"] += 1
        return
    stats.ttft.append(first - due)
    stats.total.append(done - due)


async def run(url: str, rate: float, duration: float, warmup: float, api_key: str, timeout: float) -> Stats:
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    body = json.dumps(BODY).encode()
    stats = Stats()
    connector = aiohttp.TCPConnector(limit=512, force_close=False)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(connector=connector, headers=headers, timeout=client_timeout) as session:
        tasks: set[asyncio.Task[None]] = set()
        start = time.perf_counter()
        n_warm, n_all = int(warmup * rate), int((warmup + duration) * rate)
        for i in range(n_all):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            counted = stats if i >= n_warm else None
            stats.sent += counted is not None
            task = asyncio.create_task(one(session, url, body, due, counted))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks)
    return stats


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(p / 100.0 * len(s) + 0.5) - 1))
    return round(s[k] * 1000.0, 3)


def summary(stats: Stats, rate: float, duration: float) -> dict[str, Any]:
    return {
        "rate": rate,
        "duration_s": duration,
        "sent": stats.sent,
        "ok": len(stats.ttft),
        "ok_rps": round(len(stats.ttft) / duration, 1),
        "errors": sum(stats.errors.values()),
        "error_kinds": dict(stats.errors),
        "ttft_ms": {q: pct(stats.ttft, float(q[1:])) for q in ("p50", "p95", "p99")},
        "latency_ms": {q: pct(stats.total, float(q[1:])) for q in ("p50", "p95", "p99")},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("url")
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--api-key", default="sk-bench")
    ap.add_argument("--timeout", type=float, default=10.0)
    a = ap.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    stats = asyncio.run(run(a.url, a.rate, a.duration, a.warmup, a.api_key, a.timeout))
    print(json.dumps(summary(stats, a.rate, a.duration)))


if __name__ == "__main__":
    main()
