"""Bounded load over loopback: thousands of requests, plain and streamed, with no error, one log
line each, traces capped at their capacity and memory that does not keep growing.

Speed itself is measured by `make bench`, not here."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import httpx
import pytest

from tests.conftest import MASTER_KEY, GatewayFactory, openai_env
from tests.support.processes import MockUpstream

pytestmark = pytest.mark.integration
REQUESTS = 3000
STREAMS = 300
CONCURRENCY = 20


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def blast(url: str, count: int, stream: bool) -> list[int]:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "load"}], "stream": stream}
    headers = {"authorization": f"Bearer {MASTER_KEY}"}
    statuses: list[int] = []
    queue = iter(range(count))

    async def worker(session: aiohttp.ClientSession) -> None:
        for _ in queue:
            async with session.post(url, json=body, headers=headers) as response:
                payload = await response.read()
                ok = response.status == 200 and (not stream or payload.endswith(b"data: [DONE]\n\n"))
                statuses.append(response.status if ok else -1)

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(worker(session) for _ in range(CONCURRENCY)))
    return statuses


def test_sustained_load(upstream: MockUpstream, gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory(openai_env(upstream, AI_TRACE_QUEUE_SIZE="500"))
    url = f"{gateway.url}/v1/chat/completions"
    warm = asyncio.run(blast(url, 1000, stream=False))
    after_warmup = rss_mb(gateway.proc.pid)
    plain = asyncio.run(blast(url, REQUESTS, stream=False))
    streamed = asyncio.run(blast(url, STREAMS, stream=True))
    after_load = rss_mb(gateway.proc.pid)

    assert warm.count(200) == 1000
    assert plain.count(200) == REQUESTS, f"non-200 answers: {[s for s in plain if s != 200][:5]}"
    assert streamed.count(200) == STREAMS
    assert after_load - after_warmup < 15, f"RSS grew {after_warmup:.1f} -> {after_load:.1f} MiB"

    metrics = httpx.get(f"{gateway.url}/metrics", headers={"authorization": f"Bearer {MASTER_KEY}"}).text
    queued = next(line for line in metrics.splitlines() if line.startswith("aigw_trace_queue "))
    assert float(queued.split()[1]) <= 500  # finished traces wait in a bounded queue, written in the background
    gateway.stop()
    chat_lines = [line for line in gateway.log_lines() if line.get("path") == "/v1/chat/completions"]
    assert len(chat_lines) == 1000 + REQUESTS + STREAMS
