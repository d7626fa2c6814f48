"""RedisBudgetLedger against a real Redis (127.0.0.1:6379, db 14, flushed around every test), with
two clients standing for two gateway replicas: strict caps under concurrency, atomic multi-scope
reservations, idempotent settle, expiry, rollover, TTLs, seeding and once-only threshold alerts."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from aigw.policy.budget import (
    BudgetExceeded,
    BudgetLedger,
    BudgetScope,
    ThresholdCrossed,
)
from aigw.policy.budget_redis import RedisBudgetLedger
from aigw.store.redis import connect_redis
from tests.support.services import require_service
from tests.unit.fakes import FakeClock
from tests.unit.test_budget import CALLS, CAP_USD, WORST_MICROS, at, check_outcome, global_scope, run_calls

pytestmark = pytest.mark.integration

REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 14
PREFIX = "aigw:budget:"


def connect(**options: Any) -> Redis:
    if options:
        return Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, socket_connect_timeout=2, **options)
    return connect_redis(f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}")  # the gateway's own pool


@pytest.fixture
async def replicas() -> AsyncIterator[tuple[Redis, Redis]]:
    """Two independent clients (two replicas) on an empty db 14."""
    a, b = connect(), connect()
    try:
        await a.ping()
    except (RedisConnectionError, OSError) as exc:
        await a.aclose()
        await b.aclose()
        require_service("Redis", f"{REDIS_HOST}:{REDIS_PORT} is unreachable ({exc})")
    await a.flushdb()
    yield a, b
    await a.flushdb()
    await a.aclose()
    await b.aclose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at("2026-11-25T12:00:00"))


@pytest.fixture
def ledgers(replicas: tuple[Redis, Redis], clock: FakeClock) -> tuple[RedisBudgetLedger, RedisBudgetLedger]:
    a, b = replicas
    return RedisBudgetLedger(a, clock=clock), RedisBudgetLedger(b, clock=clock)


async def raw(client: Redis, name: str, period_key: str) -> dict[str, int]:
    fields = await client.hgetall(f"{PREFIX}{name}:{period_key}")
    return {k.decode(): int(v) for k, v in fields.items()}


# Concurrency across replicas -------------------------------------------------------------------------------


async def test_300_concurrent_calls_on_two_replicas_never_spend_past_a_daily_cap(
    ledgers: tuple[RedisBudgetLedger, RedisBudgetLedger],
) -> None:
    scope = global_scope()
    outcome = await run_calls(ledgers, lambda i: [scope], gated=True)
    assert len(outcome.admitted) == int(CAP_USD * 1_000_000) // WORST_MICROS == 100
    assert len(outcome.refused) == CALLS - 100
    assert {i % 2 for i in outcome.admitted} == {0, 1}  # both replicas admitted calls
    await check_outcome(ledgers[0], outcome, [scope])
    await check_outcome(ledgers[1], outcome, [scope])


async def test_interleaved_calls_on_two_replicas_keep_spent_plus_reserved_within_the_cap(
    ledgers: tuple[RedisBudgetLedger, RedisBudgetLedger],
) -> None:
    scope = global_scope()
    outcome = await run_calls(ledgers, lambda i: [scope], gated=False)
    assert len(outcome.admitted) >= 100
    assert outcome.refused
    await check_outcome(ledgers[1], outcome, [scope])


async def test_concurrent_calls_against_global_and_per_key_caps_on_two_replicas(
    ledgers: tuple[RedisBudgetLedger, RedisBudgetLedger],
) -> None:
    glob = global_scope()
    keys = [BudgetScope(f"key:k{n}", "daily", 0.0121) for n in range(3)]
    outcome = await run_calls(ledgers, lambda i: [glob, keys[i % 3]], gated=True)
    assert len(outcome.admitted) == 100
    assert all(outcome.admitted_by_scope[k.name] <= 40 for k in keys)
    await check_outcome(ledgers[0], outcome, [glob, *keys])

    roomy = BudgetScope("global:roomy", "daily", 1.0)
    other = [BudgetScope(f"key:other{n}", "daily", 0.0121) for n in range(3)]
    outcome = await run_calls(ledgers, lambda i: [roomy, other[i % 3]], gated=True)
    assert [outcome.admitted_by_scope[k.name] for k in other] == [40, 40, 40]
    await check_outcome(ledgers[0], outcome, [roomy, *other])


async def test_thresholds_are_reported_exactly_once_across_replicas(
    ledgers: tuple[RedisBudgetLedger, RedisBudgetLedger],
) -> None:
    scope = global_scope(0.03)
    outcome = await run_calls(ledgers, lambda i: [scope], gated=False, actual_of=lambda rng: WORST_MICROS)
    assert Counter(c.threshold for c in outcome.crossed) == {0.8: 1, 1.0: 1}
    await check_outcome(ledgers[0], outcome, [scope])


async def test_a_first_refusal_reports_the_full_threshold_once_across_replicas(
    ledgers: tuple[RedisBudgetLedger, RedisBudgetLedger],
) -> None:
    a, b = ledgers
    scope = global_scope(0.001)
    await a.reserve([scope], 0.0007)
    with pytest.raises(BudgetExceeded) as refused:
        await b.reserve([scope], 0.0007)
    assert refused.value.crossed == (ThresholdCrossed(scope, 1.0, 0.0, 0.001),)
    with pytest.raises(BudgetExceeded) as refused:
        await a.reserve([scope], 0.0007)
    assert refused.value.crossed == ()


async def test_settle_reports_each_threshold_once_per_period(
    ledgers: tuple[RedisBudgetLedger, RedisBudgetLedger], clock: FakeClock
) -> None:
    a, b = ledgers
    scope = global_scope(0.001)
    assert await a.settle(await a.reserve([scope], 0.0005), 0.0005) == ()
    assert await b.settle(await b.reserve([scope], 0.0003), 0.0003) == (ThresholdCrossed(scope, 0.8, 0.0008, 0.001),)
    assert await a.settle(await a.reserve([scope], 0.0001), 0.0001) == ()
    assert await b.settle(await b.reserve([scope], 0.0001), 0.0001) == (ThresholdCrossed(scope, 1.0, 0.001, 0.001),)
    clock.advance(86_400)
    crossed = await a.settle(await a.reserve([scope], 0.0009), 0.0009)
    assert [c.threshold for c in crossed] == [0.8]


async def test_custom_thresholds_in_several_scopes(replicas: tuple[Redis, Redis], clock: FakeClock) -> None:
    ledger = RedisBudgetLedger(replicas[0], clock=clock, thresholds=(0.5, 0.75, 0.9))
    glob = global_scope(0.002)
    key = BudgetScope("key:abc", "daily", 0.001)
    crossed = await ledger.settle(await ledger.reserve([glob, key], 0.001), 0.0008)
    assert [(c.scope.name, c.threshold) for c in crossed] == [("key:abc", 0.5), ("key:abc", 0.75)]
    crossed = await ledger.settle(await ledger.reserve([glob, key], 0.0002), 0.0002)
    assert [(c.scope.name, c.threshold, c.spent_usd) for c in crossed] == [
        ("global", 0.5, 0.001),
        ("key:abc", 0.9, 0.001),
    ]
    with pytest.raises(BudgetExceeded) as refused:
        await ledger.reserve([key], 0.000001)
    assert refused.value.crossed == ()


# Atomicity, settle, release ------------------------------------------------------------------------------------


async def test_a_refusal_in_one_scope_changes_no_scope(
    ledgers: tuple[RedisBudgetLedger, RedisBudgetLedger], replicas: tuple[Redis, Redis], clock: FakeClock
) -> None:
    a, b = ledgers
    glob = global_scope(1.0)
    key = BudgetScope("key:abc", "daily", 0.001)
    user = BudgetScope("user:alice", "monthly", 1.0)
    held = await a.reserve([glob, key, user], 0.0008)
    before = {s.name: await raw(replicas[0], s.name, s.period_key(clock.now)) for s in (glob, key, user)}
    with pytest.raises(BudgetExceeded) as refused:
        await b.reserve([glob, key, user], 0.0003)
    exc = refused.value
    assert exc.scope == key and exc.period_key == "daily:2026-11-25"
    assert (exc.cap_usd, exc.committed_usd, exc.requested_usd) == (0.001, 0.0008, 0.0003)
    for scope in (glob, user):
        assert await raw(replicas[0], scope.name, scope.period_key(clock.now)) == before[scope.name]
        assert await replicas[0].zcard(f"{PREFIX}{scope.name}:{scope.period_key(clock.now)}:holds") == 1
    with pytest.raises(BudgetExceeded):
        await b.reserve([key, glob], 0.0003)
    assert (await a.usage(glob)).reserved_micros == 800
    await b.settle(held, 0.0005)  # settled by the other replica
    for scope in (glob, key, user):
        usage = await a.usage(scope)
        assert (usage.spent_micros, usage.reserved_micros) == (500, 0)


async def test_settle_is_idempotent_across_replicas(ledgers: tuple[RedisBudgetLedger, RedisBudgetLedger]) -> None:
    a, b = ledgers
    scope = global_scope()
    reservation = await a.reserve([scope], 0.001)
    await a.settle(reservation, 0.0007)
    assert await b.settle(reservation, 0.0007) == ()
    await a.settle(reservation, 0.0009)
    await b.release(reservation)
    usage = await b.usage(scope)
    assert (usage.spent_micros, usage.reserved_micros) == (700, 0)


async def test_settle_many_settles_a_batch_in_one_call_once(
    ledgers: tuple[RedisBudgetLedger, RedisBudgetLedger],
) -> None:
    a, b = ledgers
    glob, key = global_scope(0.002), BudgetScope("key:abc", "daily", 0.0007)
    held = [await a.reserve([glob, key], 0.0003), await a.reserve([glob], 0.0004), await a.reserve([key], 0.0003)]
    batch = [(held[0], 300), (held[1], 0), (held[2], 300)]  # the second is released
    crossed = await b.settle_many(batch)
    assert [(c.scope.name, c.threshold, c.spent_usd) for c in crossed] == [("key:abc", 0.8, 0.0006)]  # 600 of 700
    assert await b.settle_many(batch) == ()  # settled already: nothing changes
    usage = await a.usage(glob), await a.usage(key)
    assert [(u.spent_micros, u.reserved_micros) for u in usage] == [(300, 0), (600, 0)]


async def test_concurrent_settles_of_one_reservation_count_once(
    ledgers: tuple[RedisBudgetLedger, RedisBudgetLedger],
) -> None:
    a, b = ledgers
    scope = global_scope()
    reservation = await a.reserve([scope], 0.001)
    await asyncio.gather(*(ledger.settle(reservation, 0.0006) for ledger in (a, b) * 10))
    usage = await a.usage(scope)
    assert (usage.spent_micros, usage.reserved_micros) == (600, 0)


async def test_release_frees_the_hold_and_spends_nothing(
    ledgers: tuple[RedisBudgetLedger, RedisBudgetLedger], replicas: tuple[Redis, Redis]
) -> None:
    a, b = ledgers
    scope = global_scope(0.001)
    reservation = await a.reserve([scope], 0.001)
    with pytest.raises(BudgetExceeded):
        await b.reserve([scope], 0.000001)
    await b.release(reservation)
    await a.settle(reservation, 0.001)
    usage = await a.usage(scope)
    assert (usage.spent_micros, usage.reserved_micros) == (0, 0)
    assert "spent" not in await raw(replicas[0], "global", "daily:2026-11-25")  # nothing recorded: seedable
    await b.reserve([scope], 0.001)


# Expiry, periods, TTLs ------------------------------------------------------------------------------------------


async def test_stale_reservations_of_a_crashed_replica_expire_lazily(
    replicas: tuple[Redis, Redis], clock: FakeClock
) -> None:
    crashed = RedisBudgetLedger(replicas[0], clock=clock, reservation_ttl=600)
    alive = RedisBudgetLedger(replicas[1], clock=clock, reservation_ttl=600)
    scope = global_scope(0.001)
    await crashed.reserve([scope], 0.0008)
    clock.advance(599)
    assert (await alive.usage(scope)).reserved_micros == 800
    with pytest.raises(BudgetExceeded):
        await alive.reserve([scope], 0.0005)
    clock.advance(1)
    fresh = await alive.reserve([scope], 0.0005)  # the reserve itself dropped the expired hold
    assert (await alive.usage(scope)).reserved_micros == 500
    assert await replicas[1].zcard(f"{PREFIX}global:daily:2026-11-25:holds") == 1
    clock.advance(300)
    assert (await alive.usage(scope)).reserved_micros == 500
    await alive.settle(fresh, 0.0002)
    assert (await alive.usage(scope)).reserved_micros == 0


async def test_a_call_settled_after_its_reservation_expired_is_still_charged_once(
    replicas: tuple[Redis, Redis], clock: FakeClock
) -> None:
    ledger = RedisBudgetLedger(replicas[0], clock=clock, reservation_ttl=60)
    scope = global_scope()
    slow = await ledger.reserve([scope], 0.001)
    clock.advance(120)
    other = await ledger.reserve([scope], 0.002)
    await ledger.settle(slow, 0.0009)
    await ledger.settle(slow, 0.0009)
    usage = await ledger.usage(scope)
    assert (usage.spent_micros, usage.reserved_micros) == (900, 2000)
    await ledger.release(other)
    assert (await ledger.usage(scope)).reserved_micros == 0


async def test_daily_rollover_and_keys_carry_the_period_and_a_ttl(
    ledgers: tuple[RedisBudgetLedger, RedisBudgetLedger], replicas: tuple[Redis, Redis], clock: FakeClock
) -> None:
    a, b = ledgers
    clock.now = at("2026-11-25T23:59:50")
    daily = global_scope(0.001)
    monthly = BudgetScope("global", "monthly", 1.0)
    await a.settle(await a.reserve([daily, monthly], 0.0009), 0.0009)
    late = await b.reserve([daily, monthly], 0.0001)
    with pytest.raises(BudgetExceeded):
        await a.reserve([daily], 0.0001)
    clock.advance(10)
    assert (await a.usage(daily)).period_key == "daily:2026-11-26"
    assert (await a.usage(daily)).spent_micros == 0
    await a.reserve([daily], 0.001)
    await b.settle(late, 0.0001)
    yesterday = await a.usage(daily, "daily:2026-11-25")
    assert (yesterday.spent_micros, yesterday.reserved_micros) == (1000, 0)
    assert (await b.usage(monthly)).spent_micros == 1000

    redis = replicas[0]
    keys = sorted(k.decode() for k in await redis.keys("*"))
    assert keys == [
        f"{PREFIX}global:daily:2026-11-25",
        f"{PREFIX}global:daily:2026-11-26",
        f"{PREFIX}global:daily:2026-11-26:holds",
        f"{PREFIX}global:monthly:2026-11",
    ] + [k for k in keys if k.startswith(f"{PREFIX}reservation:")]
    # Keys outlive their period by the retention grace (1 h), measured from the ledger's clock.
    now = clock.now
    expected = {
        f"{PREFIX}global:daily:2026-11-25": at("2026-11-26T01:00:00") - now,
        f"{PREFIX}global:daily:2026-11-26": at("2026-11-27T01:00:00") - now,
        f"{PREFIX}global:monthly:2026-11": at("2026-12-01T01:00:00") - now,
    }
    for key, seconds in expected.items():
        assert abs(await redis.pttl(key) / 1000 - seconds) < 5, key
    for key in keys:
        assert await redis.pttl(key) > 0, key  # nothing lives forever


async def test_monthly_rollover(ledgers: tuple[RedisBudgetLedger, RedisBudgetLedger], clock: FakeClock) -> None:
    a, b = ledgers
    clock.now = at("2026-12-31T23:00:00")
    monthly = BudgetScope("key:abc", "monthly", 0.001)
    await a.settle(await a.reserve([monthly], 0.001), 0.001)
    with pytest.raises(BudgetExceeded) as refused:
        await b.reserve([monthly], 0.000001)
    assert refused.value.period_key == "monthly:2026-12"
    clock.advance(3600)
    assert (await b.usage(monthly)).period_key == "monthly:2027-01"
    await b.reserve([monthly], 0.001)


# Seeding --------------------------------------------------------------------------------------------------------


async def test_seed_sets_spend_only_when_nothing_is_recorded(
    ledgers: tuple[RedisBudgetLedger, RedisBudgetLedger],
) -> None:
    a, b = ledgers
    scope = global_scope(0.01)
    results = await asyncio.gather(a.seed(scope, 0.008), b.seed(scope, 0.002), a.seed(scope, 0.003))
    assert sorted(results) == [False, False, True]
    assert (await b.usage(scope)).spent_micros == 8000  # the first one won
    with pytest.raises(BudgetExceeded):
        await b.reserve([scope], 0.0021)
    await a.settle(await a.reserve([scope], 0.002), 0.001)
    assert not await b.seed(scope, 0.0)
    assert (await b.usage(scope)).spent_micros == 9000

    held = BudgetScope("key:b", "daily", 1.0)
    await a.reserve([held], 0.001)  # a hold is not recorded spend
    assert await b.seed(held, 0.25)
    usage = await a.usage(held)
    assert (usage.spent_micros, usage.reserved_micros) == (250_000, 1000)


# The wire --------------------------------------------------------------------------------------------------------


async def test_one_round_trip_per_reserve_and_per_settle(
    replicas: tuple[Redis, Redis], clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = replicas[0]
    ledger = RedisBudgetLedger(client, clock=clock)
    scopes = [global_scope(), BudgetScope("key:abc", "daily", 1.0), BudgetScope("user:alice", "monthly", 1.0)]
    await ledger.settle(await ledger.reserve(scopes, 0.001), 0.001)  # warm up: the scripts get loaded
    commands: list[str] = []
    original = client.execute_command

    async def counting(*args: Any, **options: Any) -> Any:
        commands.append(str(args[0]))
        return await original(*args, **options)

    monkeypatch.setattr(client, "execute_command", counting)
    reservation = await ledger.reserve(scopes, 0.001)
    assert commands == ["EVALSHA"]
    await ledger.settle(reservation, 0.0005)
    assert commands == ["EVALSHA", "EVALSHA"]
    with pytest.raises(BudgetExceeded):
        await ledger.reserve(scopes, 10.0)
    assert commands == ["EVALSHA"] * 3


async def test_custom_prefix_and_a_decoding_client(clock: FakeClock, replicas: tuple[Redis, Redis]) -> None:
    client = connect(decode_responses=True)
    ledger: BudgetLedger = RedisBudgetLedger(client, clock=clock, prefix="test:spend:", close_client=True)
    scope = global_scope(0.001)
    await ledger.settle(await ledger.reserve([scope], 0.0009), 0.0009)
    with pytest.raises(BudgetExceeded) as refused:
        await ledger.reserve([scope], 0.0002)
    assert [c.threshold for c in refused.value.crossed] == [1.0]
    assert (await ledger.usage(scope)).spent_micros == 900
    assert await replicas[0].exists("test:spend:global:daily:2026-11-25")
    assert not await replicas[0].keys(f"{PREFIX}*")
    await ledger.close()  # closes the client it was given to own
    assert isinstance(ledger, RedisBudgetLedger)
