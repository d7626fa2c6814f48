"""Shared fixtures: a real mock upstream and real gateway processes on free loopback ports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.processes import GatewayProcess, MockUpstream, start_gateway, start_mock

pytest_plugins = ["tests.support.services"]  # under CI=true a skipped test fails

MASTER_KEY = "sk-test-master-4f1c9a7e2b5d8c0f3a6e9b1d4c7f0a2e"  # AI_MASTER_KEY needs 32+ characters
UPSTREAM_KEY = "sk-upstream-secret-77aa01"


@pytest.fixture(scope="module")
def mock_upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockUpstream]:
    record = tmp_path_factory.mktemp("mock") / "requests.jsonl"
    mock = start_mock(record)
    yield mock
    mock.stop()


@pytest.fixture
def upstream(mock_upstream: MockUpstream) -> Iterator[MockUpstream]:
    """The module's mock upstream, with fault injection reset before and after the test."""
    mock_upstream.reset()
    yield mock_upstream
    mock_upstream.reset()


GatewayFactory = Callable[..., GatewayProcess]


@pytest.fixture
def gateway_factory(tmp_path: Path) -> Iterator[GatewayFactory]:
    started: list[GatewayProcess] = []

    def start(env: dict[str, str] | None = None, *args: str, **kwargs: str) -> GatewayProcess:
        gateway = start_gateway(tmp_path, env or {}, *args, **kwargs)
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.stop()


def openai_env(upstream: MockUpstream, **extra: str) -> dict[str, str]:
    """Environment for a gateway in front of the mock upstream, with auth on."""
    return {
        "AI_MASTER_KEY": MASTER_KEY,
        "AI_OPENAI_API_KEY": UPSTREAM_KEY,
        "AI_OPENAI_BASE_URL": f"{upstream.url}/v1",
        "AI_OPENAI_MAX_RETRIES": "0",
        "AI_OPENAI_TIMEOUT": "5",
        **extra,
    }
