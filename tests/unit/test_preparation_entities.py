"""The named-entity model is awaited off the event loop by the first request that wants names."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from aigw.context.builder import ContextBuilder
from aigw.context.templates import TemplateStore
from aigw.observability.metrics import GatewayMetrics
from aigw.orchestration import preparation
from aigw.orchestration.preparation import Preparation
from aigw.policy.caller import Caller
from aigw.policy.config import PolicyConfig

CALLER = Caller("master", is_admin=True)


def _preparation(policy: PolicyConfig) -> Preparation:
    return Preparation(ContextBuilder(TemplateStore()), lambda: policy, GatewayMetrics(enabled=False))


async def _largest_loop_gap(until: asyncio.Task[None]) -> float:
    """The longest the event loop went without running this coroutine while `until` ran."""
    gap, last = 0.0, time.perf_counter()
    while not until.done():
        await asyncio.sleep(0.005)
        now = time.perf_counter()
        gap, last = max(gap, now - last), now
    return gap


async def test_a_request_wanting_names_awaits_the_model_while_the_loop_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[str] = []

    def slow_load() -> None:  # what loading spaCy costs a worker, on whichever thread runs it
        loads.append(threading.current_thread().name)
        time.sleep(0.4)

    monkeypatch.setattr(preparation, "_load_entities", slow_load)
    prep = _preparation(PolicyConfig(pii_entities="all"))
    waiting = asyncio.create_task(prep.ready(CALLER))
    gap = await _largest_loop_gap(waiting)
    await waiting
    assert loads and loads[0] != threading.main_thread().name
    assert gap < 0.2, f"the loop stood still {gap:.3f} s"
    await prep.ready(CALLER)  # loaded: no second load
    assert len(loads) == 1


async def test_without_names_nothing_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preparation, "_load_entities", lambda: pytest.fail("loaded without being asked"))
    await _preparation(PolicyConfig()).ready(CALLER)
