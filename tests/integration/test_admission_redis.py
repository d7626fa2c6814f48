"""RedisAdmission against a real Redis (127.0.0.1:6379, db 13, flushed around every test), with two
clients standing for two replicas: rate limits and the budget hold decided in one atomic round trip,
a refusal by either recording nothing in the other, and settles carried along."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import hiredis
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from aigw.policy.admission import AdmissionUnavailable, RedisAdmission
from aigw.policy.budget import BudgetExceeded, BudgetScope, Reservation
from aigw.policy.budget_redis import RedisBudgetLedger
from aigw.policy.ratelimit import RateLimit, RedisRateLimiter
from aigw.store.redis import connect_redis
from tests.support.services import require_service

pytestmark = pytest.mark.integration

HOST, PORT, DB = "127.0.0.1", 6379, 13
CENT = Decimal("0.01")


def connect() -> Redis:
    return connect_redis(f"redis://{HOST}:{PORT}/{DB}")  # the gateway's own pool


def admission_on(client: Redis) -> RedisAdmission:
    return RedisAdmission(RedisRateLimiter(client), RedisBudgetLedger(client))


@pytest.fixture
async def replicas() -> AsyncIterator[tuple[RedisAdmission, RedisAdmission]]:
    """Two replicas' admission stores, each with its own client, on an empty db 13."""
    a, b = connect(), connect()
    try:
        await a.ping()
    except (RedisError, OSError) as exc:
        await a.aclose()
        await b.aclose()
        require_service("Redis", f"{HOST}:{PORT} is unreachable ({exc})")
    await a.flushdb()
    yield admission_on(a), admission_on(b)
    await a.flushdb()
    await a.aclose()
    await b.aclose()


def daily(cap: float, name: str = "global") -> BudgetScope:
    return BudgetScope(name, "daily", cap)


async def reserved_and_spent(store: RedisAdmission, scope: BudgetScope) -> tuple[float, float]:
    usage = await store.ledger.usage(scope)
    return usage.reserved_usd, usage.spent_usd


async def test_admits_records_the_limits_and_holds_the_budget(
    replicas: tuple[RedisAdmission, RedisAdmission],
) -> None:
    store, _ = replicas
    limits = [RateLimit("key:a:rpm", 5), RateLimit("key:a:tpm", 1000, cost=300)]
    admitted = await store.admit(limits, [daily(1.0)], CENT)
    assert admitted.decision.allowed
    assert admitted.decision.limit.name == "key:a:tpm"  # the tightest after this request: 700 of 1000 left
    assert admitted.decision.remaining == 700
    assert admitted.reservation is not None and admitted.reservation.amount_micros == 10_000
    assert await reserved_and_spent(store, daily(1.0)) == (0.01, 0.0)
    again = await store.admit(limits, [daily(1.0)], CENT)
    assert again.decision.remaining == 400


async def test_one_round_trip_per_admission(
    replicas: tuple[RedisAdmission, RedisAdmission], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _ = replicas
    limits = [RateLimit("key:a:rpm", 100), RateLimit("user:u:user-rpm", 100)]
    first = await store.admit(limits, [daily(1.0), daily(1.0, "key:a")], CENT)  # loads the script
    assert first.reservation is not None
    sent: list[bytes] = []
    pack = hiredis.pack_command

    def counting(command: Any) -> bytes:  # every command either path sends (redis-py packs with hiredis too)
        name = command[0]
        sent.append((name.encode() if isinstance(name, str) else name).upper())
        return pack(command)

    monkeypatch.setattr(hiredis, "pack_command", counting)
    settles: list[tuple[Reservation, int]] = [(first.reservation, 5_000)]
    for _ in range(5):
        admitted = await store.admit(limits, [daily(1.0), daily(1.0, "key:a")], CENT, settles)
        assert admitted.reservation is not None
        settles = [(admitted.reservation, 5_000)]
    assert sent == [b"EVALSHA"] * 5  # limits, hold and the previous call's settle: one command each time


async def test_a_rate_limit_refusal_holds_no_money(replicas: tuple[RedisAdmission, RedisAdmission]) -> None:
    store, _ = replicas
    limits = [RateLimit("key:a:rpm", 1)]
    assert (await store.admit(limits, [daily(1.0)], CENT)).decision.allowed
    refused = await store.admit(limits, [daily(1.0)], CENT)
    assert not refused.decision.allowed
    assert refused.reservation is None
    assert 59 < refused.decision.retry_after <= 60
    assert await reserved_and_spent(store, daily(1.0)) == (0.01, 0.0)  # the first call's hold only


async def test_a_budget_refusal_uses_up_no_rate_limit(replicas: tuple[RedisAdmission, RedisAdmission]) -> None:
    store, _ = replicas
    limits = [RateLimit("key:a:rpm", 2)]
    with pytest.raises(BudgetExceeded) as refused:
        await store.admit(limits, [daily(0.005)], CENT)
    assert refused.value.scope == daily(0.005)
    assert [c.threshold for c in refused.value.crossed] == [1.0]  # the first refusal reports the cap reached
    first = await store.admit(limits, [daily(1.0, "key:b")], CENT)
    second = await store.admit(limits, [daily(1.0, "key:b")], CENT)
    assert first.decision.allowed and second.decision.allowed  # both of the 2 per minute were still there
    assert second.decision.remaining == 0


async def test_carried_settles_are_settled_once_and_report_thresholds(
    replicas: tuple[RedisAdmission, RedisAdmission],
) -> None:
    store, other = replicas
    scope = daily(0.05)
    holds = [(await store.admit([], [scope], CENT)).reservation for _ in range(4)]
    assert all(holds)
    settles = [(hold, 10_000) for hold in holds if hold is not None]
    admitted = await other.admit([RateLimit("key:a:rpm", 10)], [daily(1.0, "key:z")], CENT, settles)
    assert [(c.scope, c.threshold) for c in admitted.crossed] == [(scope, 0.8)]  # $0.04 of $0.05
    assert await reserved_and_spent(store, scope) == (0.0, 0.04)
    again = await other.admit([], [daily(1.0, "key:z")], CENT, settles)  # settled already: nothing changes
    assert again.crossed == ()
    assert await reserved_and_spent(store, scope) == (0.0, 0.04)


async def test_settles_free_money_for_the_same_call(replicas: tuple[RedisAdmission, RedisAdmission]) -> None:
    store, _ = replicas
    scope = daily(0.01)
    first = await store.admit([], [scope], CENT)
    assert first.reservation is not None
    with pytest.raises(BudgetExceeded):
        await store.admit([], [scope], CENT)
    released = await store.admit([], [scope], CENT, [(first.reservation, 0)])  # the release goes first
    assert released.reservation is not None


async def test_strict_caps_and_exact_limits_from_two_replicas(
    replicas: tuple[RedisAdmission, RedisAdmission],
) -> None:
    limits = [RateLimit("key:a:rpm", 120)]
    scope = daily(0.5)  # room for 50 holds of one cent

    async def call(i: int) -> str:
        try:
            admitted = await replicas[i % 2].admit(limits, [scope], CENT)
        except BudgetExceeded:
            return "budget"
        return "admitted" if admitted.decision.allowed else "rate"

    outcomes = await asyncio.gather(*(call(i) for i in range(300)))
    assert outcomes.count("admitted") == 50  # the cap, exactly: 50 x $0.01 = $0.50
    assert outcomes.count("admitted") + outcomes.count("rate") <= 300
    assert await reserved_and_spent(replicas[0], scope) == (0.5, 0.0)
    outcomes = await asyncio.gather(*(call(i) for i in range(10)))
    assert "admitted" not in outcomes


async def test_rate_limits_stay_exact_when_budgets_refuse_from_two_replicas(
    replicas: tuple[RedisAdmission, RedisAdmission],
) -> None:
    limits = [RateLimit("key:a:rpm", 20)]

    async def call(i: int) -> bool:
        scope = daily(0.001 if i % 3 == 0 else 1.0, f"key:{i % 3}")  # a third are refused by their budget
        try:
            return (await replicas[i % 2].admit(limits, [scope], CENT)).decision.allowed
        except BudgetExceeded:
            return False

    results = await asyncio.gather(*(call(i) for i in range(90)))
    assert sum(results) == 20  # exactly the limit: refused calls did not use any of it


async def test_the_limiter_and_ledger_must_share_a_client() -> None:
    a, b = connect(), connect()
    with pytest.raises(ValueError, match="same Redis client"):
        RedisAdmission(RedisRateLimiter(a), RedisBudgetLedger(b))
    await a.aclose()
    await b.aclose()


async def test_an_unreachable_redis_raises_admission_unavailable() -> None:
    client = Redis(host=HOST, port=1, socket_connect_timeout=0.5)  # nothing listens on port 1
    with pytest.raises(AdmissionUnavailable):
        await admission_on(client).admit([RateLimit("key:a:rpm", 5)], [daily(1.0)], CENT)
    await client.aclose()
