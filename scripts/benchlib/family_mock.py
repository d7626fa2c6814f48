"""Serve one of tests/support's vendor mocks (OpenAI Chat Completions, Anthropic Messages API, Gemini)
as a process of its own.

`python scripts/benchlib/family_mock.py anthropic --port P --api-key K` runs
`tests.support.mock_anthropic.MockAnthropic` unchanged on 127.0.0.1:P until SIGTERM; the benchmark
measures the gateway's CPU, so the mock must not share its process. Prints `ready` when listening.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.mock_family import MockServer


def build(family: str, api_key: str) -> MockServer:
    if family == "anthropic":
        from tests.support.mock_anthropic import MockAnthropic

        return MockAnthropic(api_key)
    if family == "openai":
        from tests.support.mock_openai_family import MockOpenAI

        return MockOpenAI(api_key)
    from tests.support.mock_gemini import MockGemini

    return MockGemini(api_key=api_key, access_token=api_key)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("family", choices=["openai", "anthropic", "gemini"])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--api-key", required=True)
    a = ap.parse_args()
    server = build(a.family, a.api_key)
    server.port = a.port  # the mock picked a free port of its own; the benchmark chose this one
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server.start()
    print(f"{a.family} mock ready on {server.url}", flush=True)
    while not stop.wait(1.0):
        server.requests.clear()  # the mock records every request; a benchmark sends hundreds of thousands
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
