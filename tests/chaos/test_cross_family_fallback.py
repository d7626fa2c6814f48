"""The OpenAI upstream killed mid-run: the alias `gpt-4o` (OpenAI first, then Anthropic) keeps
answering from the Anthropic mock, in both ingress formats, and says so (`x-aigw-fallback-from`).

300 calls from 6 threads, alternating OpenAI's chat completions and Anthropic's messages, every
fourth one streamed; the OpenAI mock process is SIGKILLed once 100 have been answered. At least
99 % must be answered (a stream already relaying when the upstream dies can only end in an error
event), and every call begun after the kill must be served by Claude with the fallback headers.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import MASTER_KEY, GatewayFactory
from tests.support.cross_family import ANTHROPIC_KEY, cross_family_env
from tests.support.mock_anthropic import MockAnthropic
from tests.support.processes import start_mock

pytestmark = pytest.mark.chaos
CALLS, KILL_AFTER, WORKERS = 300, 100, 6
HEADERS = {"authorization": f"Bearer {MASTER_KEY}", "anthropic-version": "2023-06-01"}
PROMPT = [{"role": "user", "content": "are you there?"}]


@dataclass
class Outcome:
    answered: bool
    provider: str | None
    fallback_from: str | None
    began_after_kill: bool


def _call(client: httpx.Client, index: int) -> tuple[bool, httpx.Headers]:
    stream = index % 4 == 3
    if index % 2:
        url, body = "/v1/messages", {"model": "gpt-4o", "max_tokens": 32, "messages": PROMPT, "stream": stream}
        done = b"event: message_stop" if stream else b'"type":"message"'
    else:
        url, body = "/v1/chat/completions", {"model": "gpt-4o", "messages": PROMPT, "stream": stream}
        done = b"data: [DONE]" if stream else b'"chat.completion"'
    response = client.post(url, json=body, headers=HEADERS)
    failed_in_stream = b"event: error" in response.content or b'data: {"error"' in response.content
    return response.status_code == 200 and done in response.content and not failed_in_stream, response.headers


def test_the_alias_falls_back_to_anthropic_when_openai_dies(gateway_factory: GatewayFactory, tmp_path: Path) -> None:
    openai_mock = start_mock()
    claude = MockAnthropic(api_key=ANTHROPIC_KEY)
    claude.start()
    try:
        gateway = gateway_factory(cross_family_env(tmp_path, f"{openai_mock.url}/v1", claude.url))
        killed = threading.Event()
        answered = 0
        lock = threading.Lock()

        def run(index: int) -> Outcome:
            nonlocal answered
            began_after_kill = killed.is_set()
            with httpx.Client(base_url=gateway.url, timeout=30) as client:
                ok, headers = _call(client, index)
            with lock:
                answered += ok
                if answered == KILL_AFTER and not killed.is_set():
                    os.killpg(openai_mock.proc.pid, signal.SIGKILL)  # mid-run, no goodbye
                    killed.set()
            return Outcome(ok, headers.get("x-aigw-provider"), headers.get("x-aigw-fallback-from"), began_after_kill)

        started = time.monotonic()
        with ThreadPoolExecutor(WORKERS) as pool:
            outcomes = list(pool.map(run, range(CALLS)))
        elapsed = time.monotonic() - started
    finally:
        openai_mock.stop()
        claude.stop()

    assert killed.is_set()
    share = sum(o.answered for o in outcomes) / CALLS
    assert share >= 0.99, f"{share:.1%} answered"
    before = [o for o in outcomes[:KILL_AFTER] if o.answered]
    assert before and all(o.provider == "openai" for o in before[: KILL_AFTER // 2])
    after = [o for o in outcomes if o.began_after_kill]
    assert len(after) >= CALLS - KILL_AFTER - 2 * WORKERS
    assert all(o.provider == "claude" and o.fallback_from == "openai" for o in after if o.answered)
    assert len(claude.requests) >= len(after)
    assert elapsed < 60
