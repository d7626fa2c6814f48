"""A stored `routing` entry that fails to apply for a passing reason (a provider's start() raised) is
retried with backoff until it applies or the entry changes; an invalid one is logged once and
never retried. A real gateway in this process, on a SQLite database; the fault is injected into
the stub provider's start()."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from aigw.embedded import started
from aigw.gateway import Gateway
from aigw.providers.stub import StubProvider
from aigw.store import settings_store

pytestmark = pytest.mark.integration
BOUND_S = 10.0


class FlakyStarts:
    """Makes start() of the stub providers named in `failures` raise that many times first."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, **failures: int) -> None:
        self.failures = failures
        self.calls: dict[str, int] = {}
        original = StubProvider.start

        async def start(provider: StubProvider) -> None:
            self.calls[provider.name] = self.calls.get(provider.name, 0) + 1
            if self.failures.get(provider.name, 0) > 0:
                self.failures[provider.name] -= 1
                raise ConnectionError("upstream not reachable yet")
            await original(provider)

        monkeypatch.setattr(StubProvider, "start", start)


@pytest.fixture
async def gateway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Gateway]:
    for name in [k for k in os.environ if k.upper().startswith("AI_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AI_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("AI_CONFIG_POLL_INTERVAL", "0.2")
    gateway = await started(Gateway.from_environment(), migrate=True)
    try:
        yield gateway
    finally:
        await gateway.close()


def stub_routing(*names: str) -> dict[str, Any]:
    return {"providers": [{"name": name, "type": "stub"} for name in names]}


async def set_routing(gateway: Gateway, value: dict[str, Any]) -> None:
    await gateway.plane.set_config("routing", value, "test", gateway.settings)
    await gateway.sync.refresh()


async def wait_for_providers(gateway: Gateway, names: list[str]) -> None:
    async with asyncio.timeout(BOUND_S):
        while list(gateway.clients) != names:
            await asyncio.sleep(0.05)


async def test_a_swap_whose_provider_fails_to_start_is_retried_until_it_applies(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    flaky = FlakyStarts(monkeypatch, fresh=2)
    await set_routing(gateway, stub_routing("fresh"))
    await wait_for_providers(gateway, ["fresh"])
    assert flaky.calls["fresh"] == 3, "two failed starts, then the one that worked"
    assert [p["name"] for p in gateway.orchestrator.provider_status()] == ["fresh"]


async def test_retries_stop_when_the_entry_changes(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    flaky = FlakyStarts(monkeypatch, broken=1_000)
    await set_routing(gateway, stub_routing("broken"))
    async with asyncio.timeout(BOUND_S):
        while flaky.calls.get("broken", 0) < 2:
            await asyncio.sleep(0.05)
    await set_routing(gateway, stub_routing("working"))
    await wait_for_providers(gateway, ["working"])
    tried = flaky.calls["broken"]
    await asyncio.sleep(2.5)  # longer than the next backoff steps (at most 0.5, 1, 2 s)
    assert flaky.calls["broken"] <= tried + 1, "at most a retry already asleep wakes up, sees the change and stops"
    assert list(gateway.clients) == ["working"]


async def test_an_invalid_entry_is_logged_once_and_not_retried(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    flaky = FlakyStarts(monkeypatch)
    before = list(gateway.clients)
    caplog.set_level(logging.INFO, logger="aigw")
    # Stored past the admin API's validation, as an older version or a hand-edited row could.
    await settings_store.set_config_entry(gateway.database, "routing", {"providers": [{"type": "nope"}]}, "test")
    await gateway.sync.refresh()
    await asyncio.sleep(1.5)  # several polls (0.2 s)
    refused = [r for r in caplog.records if r.getMessage().startswith("routing configuration refused")]
    assert len(refused) == 1
    assert list(gateway.clients) == before and flaky.calls == {}
