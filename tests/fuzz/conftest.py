"""The fuzzed gateway: a real `aigw serve` (uvicorn) on a free loopback port, stub provider, auth on.

One gateway per module: fuzzing is many small requests, and a process that has taken them all and still answers
`/healthz` is part of what is checked.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.processes import GatewayProcess, start_gateway

FUZZ_MASTER_KEY = "sk-fuzz-master-7c1e5b9a2d4f6081e3a5c7b9d1f3e5a7"  # 48 characters
FUZZ_AUTH = {"authorization": f"Bearer {FUZZ_MASTER_KEY}"}


@pytest.fixture(scope="module")
def fuzz_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """No AI_OPENAI_API_KEY: the deterministic stub provider answers, nothing leaves the machine."""
    gateway = start_gateway(tmp_path_factory.mktemp("fuzz-gateway"), {"AI_MASTER_KEY": FUZZ_MASTER_KEY})
    yield gateway
    gateway.stop()
