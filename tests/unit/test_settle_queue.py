"""SettleQueue and the admission's carried settles, with ledgers that fail on cue: a failed batch is
retried with backoff until it lands, settles lent to an admission come back when it fails or is
cancelled (not when the store answered, even with a refusal), and `close` gives up after its
timeout, counting what it could not send."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal

import pytest

from aigw.errors import RateLimitError
from aigw.observability.metrics import GatewayMetrics
from aigw.observability.tracing import Trace
from aigw.policy.admission import Admitted
from aigw.policy.alerts import BudgetAlerts
from aigw.policy.budget import BudgetExceeded, BudgetScope, InProcessBudgetLedger, Reservation, ThresholdCrossed
from aigw.policy.caller import Caller
from aigw.policy.config import PolicyConfig
from aigw.policy.cost_control import CostControl
from aigw.policy.engine import PolicyEngine
from aigw.policy.ratelimit import NO_LIMITS, RateLimit
from aigw.policy.settles import SettleQueue
from aigw.types import ChatRequest

SCOPE = BudgetScope("global", "daily", 10.0)
POLICY = PolicyConfig(budget_daily=10.0)
MASTER = Caller("master", is_admin=True)


class FlakyLedger(InProcessBudgetLedger):
    """An in-process ledger whose batch settles fail `failures` times first."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.calls = 0

    async def settle_many(self, settles: Sequence[tuple[Reservation, int]]) -> tuple[ThresholdCrossed, ...]:
        self.calls += 1
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("store away")
        return await super().settle_many(settles)


def queue_on(ledger: InProcessBudgetLedger) -> tuple[SettleQueue, list[BaseException]]:
    failures: list[BaseException] = []
    metrics = GatewayMetrics(enabled=True)
    return SettleQueue(ledger, BudgetAlerts(metrics, lambda: None), failures.append), failures


async def spent(ledger: InProcessBudgetLedger) -> int:
    return (await ledger.usage(SCOPE)).spent_micros


async def test_a_failed_batch_is_retried_until_it_lands() -> None:
    ledger = FlakyLedger(failures=3)
    queue, failures = queue_on(ledger)
    reservation = await ledger.reserve([SCOPE], Decimal("0.01"))
    queue.put(reservation, 7000)
    await queue.close(timeout=10)
    assert await spent(ledger) == 7000, "the spend reached the ledger"
    assert (queue.failed_batches, len(failures), ledger.calls) == (3, 3, 4)
    assert (len(queue), queue.abandoned) == (0, 0)


async def test_close_gives_up_after_its_timeout_and_counts_what_is_left() -> None:
    ledger = FlakyLedger(failures=10_000)
    queue, _ = queue_on(ledger)
    reservation = await ledger.reserve([SCOPE], Decimal("0.01"))
    queue.put(reservation, 7000)
    await queue.close(timeout=0.3)
    assert (queue.abandoned, len(queue)) == (1, 0)
    assert await spent(ledger) == 0


class BlockedStore:
    """An admission store that carries settles and never answers (or refuses), on cue."""

    carries_settles = True

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.carried: list[tuple[Reservation, int]] = []
        self.entered = asyncio.Event()

    async def admit(
        self,
        limits: Sequence[RateLimit],
        scopes: Sequence[BudgetScope],
        amount_usd: Decimal,
        settles: Sequence[tuple[Reservation, int]] = (),
    ) -> Admitted:
        self.carried = list(settles)
        self.entered.set()
        if self.refuse:  # the store answered: it settled what it carried, then refused the hold
            raise BudgetExceeded(SCOPE, period_key="daily:2026-01-01", spent_usd=10, reserved_usd=0, requested_usd=1)
        await asyncio.Event().wait()
        return Admitted(NO_LIMITS)


def engine_with(store: BlockedStore) -> tuple[PolicyEngine, CostControl, InProcessBudgetLedger]:
    ledger = InProcessBudgetLedger()
    metrics = GatewayMetrics(enabled=True)
    costs = CostControl(ledger, lambda: POLICY, metrics, BudgetAlerts(metrics, lambda: None))
    return PolicyEngine(store, lambda: POLICY, costs), costs, ledger


def chat() -> ChatRequest:
    return ChatRequest("gpt-4o-mini", [{"role": "user", "content": "hi"}], {"max_tokens": 10})


async def test_settles_carried_by_a_cancelled_admission_go_back_to_the_queue() -> None:
    store = BlockedStore()
    engine, costs, ledger = engine_with(store)
    reservation = await ledger.reserve([SCOPE], Decimal("0.01"))
    costs.settles.put(reservation, 5000)
    admitting = asyncio.create_task(engine.admit(MASTER, chat(), ["gpt-4o-mini"], Trace("r")))
    await store.entered.wait()
    assert store.carried == [(reservation, 5000)] and len(costs.settles) == 0, "lent to the admission"
    admitting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await admitting
    assert len(costs.settles) == 1, "the caller went away: the settle is back"
    await costs.close()
    assert await spent(ledger) == 5000


async def test_settles_carried_by_an_admission_the_store_refused_are_not_sent_twice() -> None:
    store = BlockedStore(refuse=True)
    engine, costs, ledger = engine_with(store)
    reservation = await ledger.reserve([SCOPE], Decimal("0.01"))
    costs.settles.put(reservation, 5000)
    with pytest.raises(RateLimitError, match="Budget"):
        await engine.admit(MASTER, chat(), ["gpt-4o-mini"], Trace("r"))
    assert store.carried == [(reservation, 5000)]
    assert len(costs.settles) == 0, "the store answered: it settled them"
    await costs.close()
