#!/usr/bin/env python3
"""What persisted traces cost the gateway, measured side by side in one run (`make bench` runs it
through scripts/bench.py; alone: `.venv/bin/python scripts/bench_tracing.py [--seconds 10]`).

1. CPU per request: one gateway process (1 worker, auth on, SQLite in a temporary state dir)
   with tracing off (`AI_TRACING_ENABLED=false`) and one with the defaults (persisted traces at
   `AI_TRACE_SAMPLE_RATE=0.1`, masked previews), run alternately, `--rounds` times each, under the
   same open-loop load (`--rate` chat requests per second for `--seconds`, prompts carrying an
   e-mail address so previews are masked). CPU is the gateway's process tree's user + system time
   over the run plus 1.5 s after it (the writer's last flush), divided by the requests answered.
2. Browsing under load: the defaults again, the same load, with and without a second client
   paging through `/admin/api/traces` (50 traces a page, following `next_cursor`, and the detail
   of the page's first trace, ~5 pages a second, as an operator clicking through): the p99 latency
   of the chat requests with and without the browsing client, and their difference.

The last stdout line is the result as JSON; progress goes to stderr. Everything started here is
stopped again (process groups), on errors too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import aiohttp
import psutil

REPO = Path(__file__).resolve().parents[1]
BENCH_DIR = Path(os.environ.get("AIGW_BENCH_DIR", REPO.parent / "shared" / "bench"))
AIGW = Path(sys.executable).with_name("aigw")
MASTER_KEY = "sk-bench-tracing-" + "5e" * 16
AUTH = {"authorization": f"Bearer {MASTER_KEY}"}
PROMPT = "Please summarise the ticket from jane.doe@example.com about order 4411 and its late delivery."
MAX_CPU_OVERHEAD = 0.05  # traces persisted at the defaults cost at most 5 % more CPU per request
MAX_BROWSING_P99_MS = 1.0  # browsing may add at most this much to the chat requests' p99 (or 10 %)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(cmd: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as out:
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


async def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"process exited ({proc.returncode}) before {url} answered")
            with suppress(aiohttp.ClientError, OSError):
                async with session.get(url) as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (uvicorn may run the app in a child)."""
    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        with suppress(psutil.NoSuchProcess):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


async def open_loop(url: str, rate: float, seconds: float) -> list[float]:
    """Chat requests at a fixed rate; the latency (ms) of each one answered 200."""
    latencies: list[float] = []
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": PROMPT}]}
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(connector=connector, headers=AUTH) as session:

        async def one() -> None:
            started = time.perf_counter()
            async with session.post(f"{url}/v1/chat/completions", json=body) as resp:
                await resp.read()
                if resp.status == 200:
                    latencies.append((time.perf_counter() - started) * 1000)

        tasks = []
        began = time.perf_counter()
        for index in range(int(rate * seconds)):
            delay = began + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks, return_exceptions=True)
    return latencies


async def browse(url: str, stop_at: float) -> int:
    """An operator paging through traces until `stop_at`; returns the pages read."""
    pages = 0
    cursor: str | None = None
    async with aiohttp.ClientSession(headers=AUTH) as session:
        while time.monotonic() < stop_at:
            params = {"limit": "50", **({"cursor": cursor} if cursor else {})}
            async with session.get(f"{url}/admin/api/traces", params=params) as resp:
                page = await resp.json()
            pages += 1
            cursor = page.get("next_cursor")
            if page.get("data"):
                first = page["data"][0]["request_id"]
                async with session.get(f"{url}/admin/api/traces/{first}") as resp:
                    await resp.read()
            await asyncio.sleep(0.2)
    return pages


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Gateway:
    def __init__(self, tmp: Path, upstream: str, name: str, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        base = {k: v for k, v in os.environ.items() if not k.startswith(("AI_", "OTEL_"))}
        base.update(
            AI_GATEWAY_PORT=str(self.port),
            AI_STATE_DIR=str(tmp / f"state-{name}"),
            AI_MASTER_KEY=MASTER_KEY,
            AI_OPENAI_API_KEY="sk-upstream",
            AI_OPENAI_BASE_URL=upstream + "/v1",
            AI_LOG_LEVEL="WARNING",
            AI_CACHE_ENABLED="false",
            **env,
        )
        self.proc = start([str(AIGW), "serve"], base, tmp / f"gateway-{name}.log")

    async def run(self, rate: float, seconds: float, browsing: bool = False) -> dict[str, Any]:
        await wait_ready(self.url + "/readyz", self.proc)
        await open_loop(self.url, rate, 1.0)  # warm up
        await asyncio.sleep(1.5)
        cpu_before = cpu_seconds(self.proc.pid)
        stop_at = time.monotonic() + seconds
        browser = asyncio.create_task(browse(self.url, stop_at)) if browsing else None
        latencies = await open_loop(self.url, rate, seconds)
        pages = await browser if browser is not None else 0
        await asyncio.sleep(1.5)  # the writer's last flush of this load is counted
        cpu = cpu_seconds(self.proc.pid) - cpu_before
        return {
            "requests": len(latencies),
            "cpu_us_per_request": cpu / max(len(latencies), 1) * 1e6,
            "p50_ms": percentile(latencies, 0.5),
            "p99_ms": percentile(latencies, 0.99),
            "pages_browsed": pages,
        }

    def stop(self) -> None:
        stop(self.proc)


async def measure(args: argparse.Namespace, tmp: Path, upstream: str) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {"off": [], "default": [], "quiet": [], "browsing": []}
    for round_number in range(args.rounds):
        for name, env in (("off", {"AI_TRACING_ENABLED": "false"}), ("default", {})):
            gateway = Gateway(tmp, upstream, f"{name}-{round_number}", **env)
            try:
                result = await gateway.run(args.rate, args.seconds)
            finally:
                gateway.stop()
            log(f"{name} round {round_number + 1}: {result}")
            runs[name].append(result)
    gateway = Gateway(tmp, upstream, "browsing")
    try:
        for round_number in range(args.rounds):
            for name in ("quiet", "browsing"):
                result = await gateway.run(args.rate, args.seconds, browsing=name == "browsing")
                log(f"{name} round {round_number + 1}: {result}")
                runs[name].append(result)
    finally:
        gateway.stop()
    return summarize(runs, args)


def summarize(runs: dict[str, list[dict[str, Any]]], args: argparse.Namespace) -> dict[str, Any]:
    def med(name: str, key: str) -> float:
        return float(statistics.median(run[key] for run in runs[name] if run[key] is not None))

    off, default = med("off", "cpu_us_per_request"), med("default", "cpu_us_per_request")
    quiet_p99, browsing_p99 = med("quiet", "p99_ms"), med("browsing", "p99_ms")
    overhead = default / off - 1 if off else None
    added = browsing_p99 - quiet_p99
    return {
        "rate": args.rate,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "cpu_us_off": round(off, 1),
        "cpu_us_default": round(default, 1),
        "cpu_overhead": None if overhead is None else round(overhead, 4),
        "cpu_ok": overhead is not None and overhead <= MAX_CPU_OVERHEAD,
        "p99_quiet_ms": round(quiet_p99, 2),
        "p99_browsing_ms": round(browsing_p99, 2),
        "p99_added_by_browsing_ms": round(added, 2),
        "pages_browsed": sum(run["pages_browsed"] for run in runs["browsing"]),
        "browsing_ok": added <= max(MAX_BROWSING_P99_MS, 0.1 * quiet_p99),
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=200.0, help="chat requests per second (open loop)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of one measured run")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each configuration, alternating")
    args = parser.parse_args(argv)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="aigw-bench-tracing-") as name:
        tmp = Path(name)
        mock = start(
            [sys.executable, str(BENCH_DIR / "mock_upstream.py"), "--port", str(port)],
            dict(os.environ),
            tmp / "mock.log",
        )
        try:
            asyncio.run(wait_ready(f"http://127.0.0.1:{port}/health", mock))
            result = asyncio.run(measure(args, tmp, f"http://127.0.0.1:{port}"))
        finally:
            stop(mock)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
