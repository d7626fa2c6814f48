"""LocalAdmission: the budget hold and the rate limits of one process decided together, a refusal by
either recording nothing in the other."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pytest

from aigw.policy.admission import AdmissionUnavailable, LocalAdmission
from aigw.policy.budget import BudgetExceeded, BudgetScope, InProcessBudgetLedger
from aigw.policy.ratelimit import InProcessRateLimiter, RateLimit, RateLimitDecision, RateLimiterUnavailable

CENT = Decimal("0.01")


class DownLimiter:
    async def check(self, limits: Sequence[RateLimit]) -> RateLimitDecision:
        raise RateLimiterUnavailable("down") from ConnectionError("refused")

    async def close(self) -> None:
        pass


def daily(cap: float, name: str = "global") -> BudgetScope:
    return BudgetScope(name, "daily", cap)


async def test_admits_with_a_hold_and_a_recorded_limit() -> None:
    store = LocalAdmission(InProcessRateLimiter(), InProcessBudgetLedger())
    admitted = await store.admit([RateLimit("key:a:rpm", 2)], [daily(1.0)], CENT)
    assert admitted.decision.allowed and admitted.decision.remaining == 1
    assert admitted.reservation is not None
    assert (await store.ledger.usage(daily(1.0))).reserved_usd == 0.01


async def test_a_rate_limit_refusal_releases_its_hold() -> None:
    store = LocalAdmission(InProcessRateLimiter(), InProcessBudgetLedger())
    limits = [RateLimit("key:a:rpm", 1)]
    await store.admit(limits, [daily(1.0)], CENT)
    refused = await store.admit(limits, [daily(1.0)], CENT)
    assert not refused.decision.allowed and refused.reservation is None
    assert (await store.ledger.usage(daily(1.0))).reserved_usd == 0.01  # the first call's hold only


async def test_a_budget_refusal_uses_up_no_rate_limit() -> None:
    store = LocalAdmission(InProcessRateLimiter(), InProcessBudgetLedger())
    limits = [RateLimit("key:a:rpm", 1)]
    with pytest.raises(BudgetExceeded):
        await store.admit(limits, [daily(0.001)], CENT)
    assert (await store.admit(limits, [daily(1.0, "key:b")], CENT)).decision.allowed


async def test_a_limiter_that_is_down_releases_the_hold_and_says_so() -> None:
    store = LocalAdmission(DownLimiter(), InProcessBudgetLedger())
    with pytest.raises(AdmissionUnavailable) as raised:
        await store.admit([RateLimit("key:a:rpm", 1)], [daily(1.0)], CENT)
    assert isinstance(raised.value.__cause__, ConnectionError)
    assert (await store.ledger.usage(daily(1.0))).reserved_usd == 0.0
