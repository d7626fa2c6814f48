"""InProcessBudgetLedger: strict caps under concurrency, atomic multi-scope reservations, idempotent
settle, release, expiry of stale reservations, period rollover, seeding and threshold alerts.

`run_calls` and `check_outcome` are also used by tests/integration/test_budget_redis.py, which runs
the same properties against Redis with several replicas.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aigw.policy.budget import (
    BudgetExceeded,
    BudgetLedger,
    BudgetScope,
    InProcessBudgetLedger,
    Reservation,
    ThresholdCrossed,
    period_end,
    period_key,
    usd_to_micros,
)
from aigw.policy.pricing import PriceTable
from tests.unit.fakes import FakeClock

# One call: gpt-4o-mini, 1000 prompt tokens, at most 250 output tokens -> 150 + 150 micro-dollars.
WORST_MICROS = PriceTable.load().worst_case_micros("gpt-4o-mini", 1000, 250)
CALLS = 300
CAP_USD = 0.0301  # three cents: room for floor(30100 / 300) = 100 worst cases, a third of the calls


def at(stamp: str) -> float:
    """Epoch seconds of an ISO time in UTC."""
    return datetime.fromisoformat(stamp).replace(tzinfo=UTC).timestamp()


def usd(micros: int) -> Decimal:
    return Decimal(micros).scaleb(-6)


# The concurrency harness ---------------------------------------------------------------------------


@dataclass
class Outcome:
    admitted: list[int] = field(default_factory=list)  # call numbers
    refused: list[BudgetExceeded] = field(default_factory=list)
    expected_spent: Counter[str] = field(default_factory=Counter)  # scope name -> micro-dollars
    admitted_by_scope: Counter[str] = field(default_factory=Counter)
    crossed: list[ThresholdCrossed] = field(default_factory=list)  # from settles and refusals
    violations: list[str] = field(default_factory=list)  # seen by the monitor


async def run_calls(  # noqa: C901 - one scenario, its steps read best together
    ledgers: Sequence[BudgetLedger],
    scopes_of: Callable[[int], list[BudgetScope]],
    *,
    calls: int = CALLS,
    worst_micros: int = WORST_MICROS,
    gated: bool,
    seed: int = 7,
    actual_of: Callable[[random.Random], int] | None = None,
) -> Outcome:
    """`calls` concurrent calls, spread over `ledgers` (replicas): reserve the worst case, wait a
    little, then settle a random actual <= the reservation (every 10th call fails and releases).

    gated: every call tries to reserve before any settles, so the number admitted is exactly what the
    caps allow. Otherwise reserves and settles interleave and a monitor checks that spent + reserved
    never passes a cap.
    """
    rng = random.Random(seed)
    actuals = [actual_of(rng) if actual_of else rng.randint(0, worst_micros) for _ in range(calls)]
    delays = [rng.uniform(0, 0.004) for _ in range(calls)]
    outcome = Outcome()
    attempted = 0
    all_attempted = asyncio.Event()
    done = asyncio.Event()

    async def try_reserve(ledger: BudgetLedger, scopes: list[BudgetScope]) -> Reservation | None:
        try:
            return await ledger.reserve(scopes, usd(worst_micros))
        except BudgetExceeded as exc:
            outcome.refused.append(exc)
            outcome.crossed.extend(exc.crossed)
            return None

    async def call(i: int) -> None:
        nonlocal attempted
        ledger = ledgers[i % len(ledgers)]
        scopes = scopes_of(i)
        try:
            reservation = await try_reserve(ledger, scopes)
        finally:  # counted even when reserve raised, so the other calls never wait forever
            attempted += 1
            if attempted == calls:
                all_attempted.set()
        if gated:
            await all_attempted.wait()
        if reservation is None:
            return
        outcome.admitted.append(i)
        await asyncio.sleep(delays[i])
        if i % 10 == 9:
            await ledger.release(reservation)
            actual = 0
        else:
            actual = actuals[i]
            outcome.crossed.extend(await ledger.settle(reservation, usd(actual)))
        for scope in scopes:
            outcome.expected_spent[scope.name] += actual
            outcome.admitted_by_scope[scope.name] += 1

    async def monitor(scopes: list[BudgetScope]) -> None:
        while not done.is_set():
            for scope in scopes:
                now = await ledgers[0].usage(scope)
                if now.spent_micros + now.reserved_micros > usd_to_micros(scope.cap_usd, round_up=False):
                    outcome.violations.append(f"{scope.name}: {now}")
            await asyncio.sleep(0.001)

    every_scope = list({s.name: s for i in range(calls) for s in scopes_of(i)}.values())
    watcher = None if gated else asyncio.create_task(monitor(every_scope))
    await asyncio.gather(*(call(i) for i in range(calls)))
    done.set()
    if watcher is not None:
        await watcher
    return outcome


async def check_outcome(ledger: BudgetLedger, outcome: Outcome, scopes: Sequence[BudgetScope]) -> None:
    """Recorded spend is exactly what the admitted calls spent and never more than a cap."""
    assert not outcome.violations, outcome.violations[:5]
    for scope in scopes:
        now = await ledger.usage(scope)
        cap = usd_to_micros(scope.cap_usd, round_up=False)
        assert now.reserved_micros == 0, scope
        assert now.spent_micros == outcome.expected_spent[scope.name], scope
        assert now.spent_micros <= cap, scope
    for exc in outcome.refused:  # every refusal was right when it was made
        committed = usd_to_micros(exc.committed_usd)
        assert committed + usd_to_micros(exc.requested_usd) > usd_to_micros(exc.cap_usd, round_up=False)


def global_scope(cap: float = CAP_USD) -> BudgetScope:
    return BudgetScope("global", "daily", cap)


# Concurrency -------------------------------------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at("2026-11-25T12:00:00"))


@pytest.fixture
def ledger(clock: FakeClock) -> InProcessBudgetLedger:
    return InProcessBudgetLedger(clock=clock)


async def test_300_concurrent_calls_never_spend_past_a_daily_cap(ledger: InProcessBudgetLedger) -> None:
    scope = global_scope()
    outcome = await run_calls([ledger], lambda i: [scope], gated=True)
    assert len(outcome.admitted) == int(CAP_USD * 1_000_000) // WORST_MICROS == 100
    assert len(outcome.refused) == CALLS - 100
    await check_outcome(ledger, outcome, [scope])
    assert outcome.expected_spent["global"] > 0


async def test_interleaved_calls_keep_spent_plus_reserved_within_the_cap(ledger: InProcessBudgetLedger) -> None:
    scope = global_scope()
    outcome = await run_calls([ledger], lambda i: [scope], gated=False)
    assert len(outcome.admitted) >= 100  # fewer would leave room for a refused worst case
    assert outcome.refused
    await check_outcome(ledger, outcome, [scope])


async def test_concurrent_calls_against_global_and_per_key_caps(ledger: InProcessBudgetLedger) -> None:
    glob = global_scope()  # 100 worst cases
    keys = [BudgetScope(f"key:k{n}", "daily", 0.0121) for n in range(3)]  # 40 each: 120 > 100, global binds
    outcome = await run_calls([ledger], lambda i: [glob, keys[i % 3]], gated=True)
    assert len(outcome.admitted) == 100
    assert all(outcome.admitted_by_scope[k.name] <= 40 for k in keys)
    await check_outcome(ledger, outcome, [glob, *keys])

    roomy = BudgetScope("global:roomy", "daily", 1.0)  # now the keys bind: exactly 40 each
    other = [BudgetScope(f"key:other{n}", "daily", 0.0121) for n in range(3)]
    outcome = await run_calls([ledger], lambda i: [roomy, other[i % 3]], gated=True)
    assert [outcome.admitted_by_scope[k.name] for k in other] == [40, 40, 40]
    await check_outcome(ledger, outcome, [roomy, *other])


async def test_reserved_returns_to_zero_and_the_cap_is_reusable_after_settling(ledger: InProcessBudgetLedger) -> None:
    scope = global_scope(0.001)  # 1000 micro-dollars
    first = await ledger.reserve([scope], 0.0006)
    with pytest.raises(BudgetExceeded):
        await ledger.reserve([scope], 0.0006)
    await ledger.settle(first, 0.0001)
    second = await ledger.reserve([scope], 0.0009)  # 100 spent + 900 == cap: admitted
    usage = await ledger.usage(scope)
    assert (usage.spent_micros, usage.reserved_micros, usage.remaining_usd) == (100, 900, 0.0)
    await ledger.settle(second, 0.0009)
    usage = await ledger.usage(scope)
    assert (usage.spent_micros, usage.reserved_micros) == (1000, 0)


# Atomicity across scopes ------------------------------------------------------------------------------------


async def test_a_refusal_in_one_scope_changes_no_scope(ledger: InProcessBudgetLedger) -> None:
    glob = global_scope(1.0)
    key = BudgetScope("key:abc", "daily", 0.001)
    user = BudgetScope("user:alice", "monthly", 1.0)
    held = await ledger.reserve([glob, key, user], 0.0008)
    with pytest.raises(BudgetExceeded) as refused:
        await ledger.reserve([glob, key, user], 0.0003)
    assert refused.value.scope == key
    for scope in (glob, key, user):
        assert (await ledger.usage(scope)).reserved_micros == 800
    # The same whichever position the binding scope has.
    with pytest.raises(BudgetExceeded):
        await ledger.reserve([key, glob], 0.0003)
    assert (await ledger.usage(glob)).reserved_micros == 800
    await ledger.settle(held, 0.0005)
    for scope in (glob, key, user):
        usage = await ledger.usage(scope)
        assert (usage.spent_micros, usage.reserved_micros) == (500, 0)


async def test_budget_exceeded_says_which_scope_its_cap_commitments_and_request(
    ledger: InProcessBudgetLedger,
) -> None:
    key = BudgetScope("key:abc", "daily", 0.001)
    first = await ledger.reserve([key], 0.0004)
    await ledger.settle(first, 0.0003)
    await ledger.reserve([key], 0.0005)
    with pytest.raises(BudgetExceeded) as refused:
        await ledger.reserve([global_scope(), key], 0.00025)
    exc = refused.value
    assert exc.scope == key and exc.period_key == "daily:2026-11-25"
    assert (exc.cap_usd, exc.spent_usd, exc.reserved_usd) == (0.001, 0.0003, 0.0005)
    assert (exc.committed_usd, exc.requested_usd) == (0.0008, 0.00025)
    assert "key:abc" in str(exc) and "0.001000" in str(exc)
    assert (await ledger.usage(global_scope())).reserved_micros == 0


async def test_a_request_bigger_than_the_cap_is_refused_on_an_empty_budget(ledger: InProcessBudgetLedger) -> None:
    with pytest.raises(BudgetExceeded):
        await ledger.reserve([global_scope(0.01)], 0.010001)
    await ledger.reserve([global_scope(0.01)], 0.01)  # exactly the cap fits


# Settle and release ------------------------------------------------------------------------------------------


async def test_settle_is_idempotent(ledger: InProcessBudgetLedger) -> None:
    scope = global_scope()
    reservation = await ledger.reserve([scope], 0.001)
    await ledger.settle(reservation, 0.0007)
    await ledger.settle(reservation, 0.0007)
    await ledger.settle(reservation, 0.0009)
    await ledger.release(reservation)
    usage = await ledger.usage(scope)
    assert (usage.spent_micros, usage.reserved_micros) == (700, 0)


async def test_release_frees_the_hold_and_spends_nothing(ledger: InProcessBudgetLedger) -> None:
    scope = global_scope(0.001)
    reservation = await ledger.reserve([scope], 0.001)
    with pytest.raises(BudgetExceeded):
        await ledger.reserve([scope], 0.000001)
    await ledger.release(reservation)
    await ledger.release(reservation)
    await ledger.settle(reservation, 0.001)  # after a release: no effect either
    usage = await ledger.usage(scope)
    assert (usage.spent_micros, usage.reserved_micros) == (0, 0)
    await ledger.reserve([scope], 0.001)


async def test_amounts_are_exact_micro_dollars(ledger: InProcessBudgetLedger) -> None:
    scope = global_scope()
    for _ in range(10):
        await ledger.settle(await ledger.reserve([scope], 0.1 + 0.2 - 0.3 + 0.0001), 0.0001)
    assert (await ledger.usage(scope)).spent_micros == 1000
    assert usd_to_micros(0.1 + 0.2) == 300_000  # float noise is not a micro-dollar
    assert usd_to_micros(0.0000001) == 1  # amounts round up
    assert usd_to_micros(0.0000019, round_up=False) == 1  # caps round down
    assert usd_to_micros(Decimal("0.000123")) == 123


async def test_no_scopes_is_a_no_op(ledger: InProcessBudgetLedger) -> None:
    reservation = await ledger.reserve([], 5.0)
    assert reservation.scopes == ()
    assert await ledger.settle(reservation, 5.0) == ()


async def test_bad_input_is_refused(ledger: InProcessBudgetLedger) -> None:
    scope = global_scope()
    with pytest.raises(ValueError):
        await ledger.reserve([scope], -0.01)
    with pytest.raises(ValueError):
        await ledger.reserve([scope, BudgetScope("global", "daily", 5.0)], 0.01)
    with pytest.raises(ValueError):
        BudgetScope("global", "weekly", 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        BudgetScope("", "daily", 1.0)
    with pytest.raises(ValueError):
        BudgetScope("global", "daily", float("nan"))
    with pytest.raises(ValueError):
        InProcessBudgetLedger(thresholds=(0.5, 1.5))
    with pytest.raises(ValueError):
        InProcessBudgetLedger(reservation_ttl=0)
    assert isinstance(InProcessBudgetLedger(), BudgetLedger)


# Expiry of stale reservations --------------------------------------------------------------------------------


async def test_stale_reservations_expire_lazily(clock: FakeClock) -> None:
    ledger = InProcessBudgetLedger(clock=clock, reservation_ttl=600)
    scope = global_scope(0.001)
    crashed = await ledger.reserve([scope], 0.0008)  # its replica dies: never settled
    assert crashed.expires_at == clock.now + 600
    clock.advance(599)
    assert (await ledger.usage(scope)).reserved_micros == 800
    with pytest.raises(BudgetExceeded):
        await ledger.reserve([scope], 0.0005)
    clock.advance(1)
    assert (await ledger.usage(scope)).reserved_micros == 0
    fresh = await ledger.reserve([scope], 0.0005)
    assert (await ledger.usage(scope)).reserved_micros == 500
    # Expiry only drops what expired: the fresh hold survives the first one's expiry.
    clock.advance(300)
    assert (await ledger.usage(scope)).reserved_micros == 500
    await ledger.settle(fresh, 0.0002)
    assert (await ledger.usage(scope)).reserved_micros == 0


async def test_a_call_settled_after_its_reservation_expired_is_still_charged_once(clock: FakeClock) -> None:
    ledger = InProcessBudgetLedger(clock=clock, reservation_ttl=60)
    scope = global_scope()
    slow = await ledger.reserve([scope], 0.001)
    clock.advance(120)
    other = await ledger.reserve([scope], 0.002)  # prunes the expired hold
    await ledger.settle(slow, 0.0009)
    await ledger.settle(slow, 0.0009)
    usage = await ledger.usage(scope)
    assert (usage.spent_micros, usage.reserved_micros) == (900, 2000)  # `other` is still held
    await ledger.release(other)
    assert (await ledger.usage(scope)).reserved_micros == 0


# Periods ------------------------------------------------------------------------------------------------------


def test_period_keys_and_ends() -> None:
    assert period_key("daily", at("2026-11-25T23:59:59")) == "daily:2026-11-25"
    assert period_key("daily", at("2026-11-26T00:00:00")) == "daily:2026-11-26"
    assert period_key("monthly", at("2026-11-30T23:59:59")) == "monthly:2026-11"
    assert period_key("monthly", at("2026-12-01T00:00:00")) == "monthly:2026-12"
    assert period_end("daily:2026-11-25") == at("2026-11-26T00:00:00")
    assert period_end("monthly:2026-12") == at("2027-01-01T00:00:00")
    assert period_end("monthly:2028-02") == at("2028-03-01T00:00:00")
    with pytest.raises(ValueError):
        period_end("weekly:2026-48")


async def test_daily_rollover_starts_an_empty_period(clock: FakeClock) -> None:
    clock.now = at("2026-11-25T23:59:50")
    ledger = InProcessBudgetLedger(clock=clock)
    daily = global_scope(0.001)
    monthly = BudgetScope("global", "monthly", 1.0)
    await ledger.settle(await ledger.reserve([daily, monthly], 0.0009), 0.0009)
    late = await ledger.reserve([daily, monthly], 0.0001)  # reserved before midnight, settled after
    with pytest.raises(BudgetExceeded):
        await ledger.reserve([daily], 0.0001)
    clock.advance(10)  # midnight UTC
    assert (await ledger.usage(daily)).period_key == "daily:2026-11-26"
    assert (await ledger.usage(daily)).spent_micros == 0
    await ledger.reserve([daily], 0.001)  # a fresh day: the whole cap again
    await ledger.settle(late, 0.0001)  # counts in the day it was reserved in
    yesterday = await ledger.usage(daily, "daily:2026-11-25")
    assert (yesterday.spent_micros, yesterday.reserved_micros) == (1000, 0)
    assert (await ledger.usage(monthly)).spent_micros == 1000  # same month


async def test_monthly_rollover(clock: FakeClock) -> None:
    clock.now = at("2026-12-31T23:00:00")
    ledger = InProcessBudgetLedger(clock=clock)
    monthly = BudgetScope("key:abc", "monthly", 0.001)
    await ledger.settle(await ledger.reserve([monthly], 0.001), 0.001)
    with pytest.raises(BudgetExceeded) as refused:
        await ledger.reserve([monthly], 0.000001)
    assert refused.value.period_key == "monthly:2026-12"
    clock.advance(3600)
    assert (await ledger.usage(monthly)).period_key == "monthly:2027-01"
    await ledger.reserve([monthly], 0.001)


async def test_past_periods_are_forgotten(clock: FakeClock) -> None:
    ledger = InProcessBudgetLedger(clock=clock, retention_grace=3600)
    scope = global_scope()
    await ledger.reserve([scope], 0.001)  # never settled
    clock.now = at("2026-11-26T00:59:59")
    await ledger.reserve([scope], 0.001)
    assert (await ledger.usage(scope, "daily:2026-11-25")).reserved_micros == 0  # expired hold
    clock.now = at("2026-11-26T01:01:00")  # past the grace, and a minute after the last sweep
    await ledger.reserve([scope], 0.001)
    assert [key for _, key in ledger._buckets] == ["daily:2026-11-26"]
    assert len(ledger._open) == 2


# Seeding -------------------------------------------------------------------------------------------------------


async def test_seed_sets_spend_only_when_nothing_is_recorded(ledger: InProcessBudgetLedger) -> None:
    scope = global_scope(0.01)
    assert await ledger.seed(scope, 0.008)
    assert not await ledger.seed(scope, 0.001)
    assert (await ledger.usage(scope)).spent_micros == 8000
    with pytest.raises(BudgetExceeded):
        await ledger.reserve([scope], 0.0021)  # the seeded spend counts against the cap
    await ledger.reserve([scope], 0.002)


async def test_seed_after_spend_is_ignored_but_a_hold_does_not_count_as_spend(ledger: InProcessBudgetLedger) -> None:
    spent = BudgetScope("key:a", "daily", 1.0)
    await ledger.settle(await ledger.reserve([spent], 0.001), 0.0005)
    assert not await ledger.seed(spent, 0.5)
    assert (await ledger.usage(spent)).spent_micros == 500

    held = BudgetScope("key:b", "daily", 1.0)
    await ledger.reserve([held], 0.001)
    assert await ledger.seed(held, 0.25)
    usage = await ledger.usage(held)
    assert (usage.spent_micros, usage.reserved_micros) == (250_000, 1000)


# Thresholds ------------------------------------------------------------------------------------------------------


async def test_thresholds_are_reported_once_per_period(clock: FakeClock) -> None:
    ledger = InProcessBudgetLedger(clock=clock)
    scope = global_scope(0.001)
    assert await ledger.settle(await ledger.reserve([scope], 0.0005), 0.0005) == ()
    crossed = await ledger.settle(await ledger.reserve([scope], 0.0003), 0.0003)
    assert crossed == (ThresholdCrossed(scope, 0.8, 0.0008, 0.001),)
    assert await ledger.settle(await ledger.reserve([scope], 0.0001), 0.0001) == ()
    crossed = await ledger.settle(await ledger.reserve([scope], 0.0001), 0.0001)
    assert crossed == (ThresholdCrossed(scope, 1.0, 0.001, 0.001),)  # spend reached the cap
    with pytest.raises(BudgetExceeded) as refused:
        await ledger.reserve([scope], 0.0001)
    assert refused.value.crossed == ()  # 1.0 was reported already this period
    clock.advance(86_400)  # the next day reports again
    crossed = await ledger.settle(await ledger.reserve([scope], 0.0009), 0.0009)
    assert [c.threshold for c in crossed] == [0.8]


async def test_a_first_refusal_reports_the_full_threshold_once(ledger: InProcessBudgetLedger) -> None:
    glob = global_scope(1.0)
    key = BudgetScope("key:abc", "daily", 0.001)
    await ledger.reserve([glob, key], 0.0007)
    with pytest.raises(BudgetExceeded) as refused:
        await ledger.reserve([glob, key], 0.0007)
    assert refused.value.crossed == (ThresholdCrossed(key, 1.0, 0.0, 0.001),)
    with pytest.raises(BudgetExceeded) as refused:
        await ledger.reserve([glob, key], 0.0007)
    assert refused.value.crossed == ()


async def test_one_settle_can_cross_several_thresholds_in_several_scopes(clock: FakeClock) -> None:
    ledger = InProcessBudgetLedger(clock=clock, thresholds=(0.5, 0.75, 0.9))
    glob = global_scope(0.002)
    key = BudgetScope("key:abc", "daily", 0.001)
    crossed = await ledger.settle(await ledger.reserve([glob, key], 0.001), 0.0008)
    assert [(c.scope.name, c.threshold) for c in crossed] == [("key:abc", 0.5), ("key:abc", 0.75)]
    crossed = await ledger.settle(await ledger.reserve([glob, key], 0.0002), 0.0002)
    assert [(c.scope.name, c.threshold) for c in crossed] == [("global", 0.5), ("key:abc", 0.9)]
    with pytest.raises(BudgetExceeded) as refused:
        await ledger.reserve([key], 0.000001)
    assert refused.value.crossed == ()  # 1.0 is not one of this ledger's thresholds


async def test_thresholds_are_reported_exactly_once_under_concurrency(ledger: InProcessBudgetLedger) -> None:
    scope = global_scope(0.03)  # exactly 100 worst cases: spend can reach 100 %
    outcome = await run_calls([ledger], lambda i: [scope], gated=False, actual_of=lambda rng: WORST_MICROS)
    counts = Counter(c.threshold for c in outcome.crossed)
    assert counts == {0.8: 1, 1.0: 1}
    await check_outcome(ledger, outcome, [scope])
