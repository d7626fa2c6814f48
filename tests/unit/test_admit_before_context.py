"""Admission before the context stage: a caller over its rate limit is refused before its body is
scanned for PII or its tokens counted; each rate limit is counted once per call (a budget hold
follows the limits, it does not count them again); cache hits are rate-limited too; a task's own
provider calls (`within_task`) skip the request limits but not the token limit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

import aigw.context.builder as builder
from aigw.breaker import CircuitBreaker
from aigw.cache import MemoryCache, ResponseCache
from aigw.client import AIClient
from aigw.config import GatewayConfig
from aigw.errors import RateLimitError
from aigw.observability.metrics import GatewayMetrics
from aigw.observability.tracing import Trace
from aigw.orchestrator import Orchestrator
from aigw.policy.admission import LocalAdmission
from aigw.policy.alerts import BudgetAlerts
from aigw.policy.budget import InProcessBudgetLedger
from aigw.policy.caller import Caller
from aigw.policy.config import PolicyConfig
from aigw.policy.cost_control import CostControl
from aigw.policy.engine import PolicyEngine
from aigw.policy.keys import KeyRecord
from aigw.policy.ratelimit import InProcessRateLimiter
from aigw.retry import RetryPolicy
from aigw.routing import Router
from aigw.types import CallInfo, ChatRequest
from tests.unit.fakes import ScriptedProvider

MIB = 1024 * 1024


class Counted:
    """Counts the calls into a function of the context stage, and passes them on."""

    def __init__(self, inner: Callable[..., Any]) -> None:
        self.inner = inner
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.inner(*args, **kwargs)


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counted]:
    counted = Counted(builder.apply_to_chat)
    monkeypatch.setattr(builder, "apply_to_chat", counted)
    yield counted


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counted]:
    counted = Counted(builder.fit_messages)
    monkeypatch.setattr(builder, "fit_messages", counted)
    yield counted


def gateway(policy: PolicyConfig, *, cache: bool = False) -> tuple[Orchestrator, ScriptedProvider]:
    provider = ScriptedProvider("primary")
    metrics = GatewayMetrics(enabled=True)
    config = GatewayConfig(providers=(provider.config,), models={}, fallback_order=("primary",))
    clients = {"primary": AIClient(provider, RetryPolicy(max_retries=0), CircuitBreaker(), metrics)}
    router = Router(config, {"primary": provider.get_capabilities()})
    costs = CostControl(InProcessBudgetLedger(), lambda: policy, metrics, BudgetAlerts(metrics, lambda: None))
    engine = PolicyEngine(LocalAdmission(InProcessRateLimiter(), costs.ledger), lambda: policy, costs)
    responses = ResponseCache(MemoryCache(100), metrics) if cache else None
    return Orchestrator(router, clients, metrics, policy=engine, costs=costs, cache=responses), provider


def caller(**limits: Any) -> Caller:
    return Caller("k1", is_admin=False, key=KeyRecord("k1", "sk-k1", **limits))


PII_TEXT = "call me at alice@example.com or +1 415 555 0100; "


def big_chat(size: int = MIB, text: str = PII_TEXT, **params: Any) -> ChatRequest:
    content = (text * (size // len(text) + 1))[:size]
    return ChatRequest("gpt-4o", [{"role": "user", "content": content}], dict(params))


async def test_a_caller_over_its_rate_limit_is_refused_before_pii_scanning_or_token_counting(
    scans: Counted, counts: Counted
) -> None:
    orchestrator, provider = gateway(PolicyConfig())
    limited = caller(rpm=1)
    await orchestrator.chat(big_chat(1000), limited, Trace("first"), CallInfo())
    assert (scans.calls, counts.calls, len(provider.calls)) == (1, 0, 1)  # within the context window: not counted

    started = time.perf_counter()
    for i in range(5):
        with pytest.raises(RateLimitError) as refused:
            await orchestrator.chat(big_chat(), limited, Trace(f"over-{i}"), CallInfo())
        assert refused.value.code == "rate_limit_exceeded"
    elapsed = time.perf_counter() - started
    # prepared, each would have been scanned and counted (1 MiB is past gpt-4o's context window)
    assert (scans.calls, counts.calls, len(provider.calls)) == (1, 0, 1)
    assert elapsed < 0.5, f"five refusals of 1 MiB bodies took {elapsed:.2f}s"  # a scan of one takes seconds


async def test_a_token_limit_refuses_a_huge_body_before_the_scan(scans: Counted) -> None:
    orchestrator, _ = gateway(PolicyConfig())
    thrifty = caller(tpm=10_000)
    await orchestrator.chat(big_chat(20_000), thrifty, Trace("fits"), CallInfo())  # ~5,000 tokens
    with pytest.raises(RateLimitError):
        await orchestrator.chat(big_chat(), thrifty, Trace("too-many-tokens"), CallInfo())
    assert scans.calls == 1


async def test_a_templated_body_counts_its_variables_against_the_token_limit(scans: Counted) -> None:
    orchestrator, _ = gateway(PolicyConfig())
    thrifty = caller(tpm=1_000)

    def templated() -> ChatRequest:
        return ChatRequest("gpt-4o", [], template="summarize", variables={"text": "lorem ipsum " * 10_000})

    await orchestrator.chat(templated(), thrifty, Trace("first"), CallInfo())  # a cost past the limit fits once
    with pytest.raises(RateLimitError):  # 120 kB of variables is ~30,000 tokens: not 1,000 more this minute
        await orchestrator.chat(templated(), thrifty, Trace("second"), CallInfo())
    assert scans.calls == 1


# A small body is prepared, then admitted in one round trip; a larger one is admitted against its rate
# limits first (see the orchestrator's docstring): both paths count each limit once.
SIZES = pytest.mark.parametrize(("size", "scanned_when_refused"), [(1000, 1), (8000, 0)], ids=["small", "large"])


@SIZES
async def test_rate_limits_are_counted_once_when_a_budget_hold_follows(
    scans: Counted, size: int, scanned_when_refused: int
) -> None:
    orchestrator, provider = gateway(PolicyConfig(budget_daily=100.0))
    limited = caller(rpm=3, budget_daily=Decimal(50))
    for i in range(3):  # counted twice, the second call would already be refused
        await orchestrator.chat(big_chat(size), limited, Trace(f"ok-{i}"), CallInfo())
    with pytest.raises(RateLimitError):
        await orchestrator.chat(big_chat(size), limited, Trace("fourth"), CallInfo())
    assert (len(provider.calls), scans.calls) == (3, 3 + scanned_when_refused)


@SIZES
async def test_a_budget_refusal_holds_nothing(size: int, scanned_when_refused: int) -> None:
    orchestrator, provider = gateway(PolicyConfig(budget_daily=0.000001))
    with pytest.raises(RateLimitError) as refused:
        await orchestrator.chat(big_chat(size), caller(rpm=10), Trace("poor"), CallInfo())
    assert refused.value.code == "budget_exceeded"
    assert provider.calls == []


@SIZES
async def test_cache_hits_are_rate_limited_too(scans: Counted, size: int, scanned_when_refused: int) -> None:
    orchestrator, provider = gateway(PolicyConfig(budget_daily=100.0), cache=True)
    limited = caller(rpm=2)
    first, second = CallInfo(), CallInfo()
    await orchestrator.chat(big_chat(size, temperature=0), limited, Trace("miss"), first)
    await asyncio.sleep(0.01)  # the cache is written in the background
    await orchestrator.chat(big_chat(size, temperature=0), limited, Trace("hit"), second)
    assert (first.headers["x-aigw-cache"], second.headers["x-aigw-cache"]) == ("miss", "hit")
    assert second.headers["x-ratelimit-remaining-requests"] == "0"
    with pytest.raises(RateLimitError):
        await orchestrator.chat(big_chat(size, temperature=0), limited, Trace("over"), CallInfo())
    assert (len(provider.calls), scans.calls) == (1, 2 + scanned_when_refused)


async def test_a_tasks_own_calls_skip_the_request_limits_but_count_tokens() -> None:
    orchestrator, provider = gateway(PolicyConfig(rate_limit_per_user=1))
    one_request = caller(rpm=1, tpm=3000)

    def step() -> ChatRequest:
        return big_chat(3600, text="lorem ipsum ")  # ~900 tokens and a few for the message

    for i in range(3):  # the task call counted its request once; its steps are not counted again
        await orchestrator.chat(step(), one_request, Trace(f"step-{i}"), CallInfo(), within_task=True)
    with pytest.raises(RateLimitError):  # the fourth step passes 3,000 tokens per minute
        await orchestrator.chat(step(), one_request, Trace("step-3"), CallInfo(), within_task=True)
    assert len(provider.calls) == 3
