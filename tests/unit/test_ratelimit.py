"""InProcessRateLimiter (an exact sliding window, driven by a fake clock), the headers, RedisRateLimiter's wiring."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Awaitable, Callable

import pytest
from redis.exceptions import TimeoutError as RedisTimeoutError

from aigw.policy.ratelimit import (
    UNLIMITED,
    InProcessRateLimiter,
    RateLimit,
    RateLimitDecision,
    RateLimiter,
    RateLimiterUnavailable,
    RedisRateLimiter,
    format_duration,
    rate_limit_headers,
    retry_after_seconds,
)
from tests.unit.fakes import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1000.0)


@pytest.fixture
def limiter(clock: FakeClock) -> InProcessRateLimiter:
    return InProcessRateLimiter(clock=clock)


def rpm(limit: int = 20, *, name: str = "key:abc:rpm", window: float = 60.0) -> RateLimit:
    return RateLimit(name, limit, window)


def tpm(tokens: int, limit: int = 100, *, name: str = "key:abc:tpm", window: float = 60.0) -> RateLimit:
    return RateLimit(name, limit, window, cost=tokens)


async def test_satisfies_the_rate_limiter_protocol(limiter: InProcessRateLimiter) -> None:
    as_protocol: RateLimiter = limiter
    assert (await as_protocol.check([rpm()])).allowed
    await as_protocol.close()
    assert len(limiter) == 0


async def test_twenty_allowed_then_the_twenty_first_refused(limiter: InProcessRateLimiter) -> None:
    for expected_remaining in range(19, -1, -1):
        decision = await limiter.check([rpm(20)])
        each = ((rpm(20), expected_remaining, 60.0),)
        assert decision == RateLimitDecision(True, rpm(20), expected_remaining, 60.0, 0.0, each)
    refused = await limiter.check([rpm(20)])
    assert not refused.allowed
    assert refused.remaining == 0
    assert refused.retry_after == 60.0  # all 20 were admitted at the same instant
    assert refused.reset_after == 60.0


async def test_allowed_again_exactly_when_the_oldest_entry_leaves_the_window(
    limiter: InProcessRateLimiter, clock: FakeClock
) -> None:
    limit = rpm(3)
    for _ in range(3):  # at 1000, 1010, 1020
        assert (await limiter.check([limit])).allowed
        clock.advance(10.0)
    refused = await limiter.check([limit])  # at 1030: the entry of 1000 leaves at 1060
    assert not refused.allowed
    assert refused.retry_after == 30.0
    assert refused.reset_after == 50.0  # the newest (1020) leaves at 1080
    clock.now = 1059.999
    assert not (await limiter.check([limit])).allowed
    clock.now = 1060.0
    again = await limiter.check([limit])
    assert again.allowed
    assert again.remaining == 0
    # Sliding, not fixed: only the one slot came back; the next one frees at 1070 (the entry of 1010).
    refused = await limiter.check([limit])
    assert not refused.allowed
    assert refused.retry_after == 10.0
    clock.advance(refused.retry_after)
    assert (await limiter.check([limit])).allowed


async def test_refusals_use_up_nothing(limiter: InProcessRateLimiter, clock: FakeClock) -> None:
    limit = rpm(2, window=10.0)
    assert (await limiter.check([limit])).allowed
    assert (await limiter.check([limit])).allowed
    for _ in range(9):  # a refused caller hammering once a second does not push its window further out
        clock.advance(1.0)
        assert not (await limiter.check([limit])).allowed
    clock.advance(1.0)  # t = 1010: both admissions have left
    assert (await limiter.check([limit])).remaining == 1


async def test_weighted_costs(limiter: InProcessRateLimiter, clock: FakeClock) -> None:
    assert (await limiter.check([tpm(60)])).remaining == 40  # at 1000
    clock.advance(10.0)
    assert (await limiter.check([tpm(30)])).remaining == 10  # at 1010
    clock.advance(10.0)
    refused = await limiter.check([tpm(20)])  # at 1020: 110 > 100; 10 units must leave: the 60 of 1000 does
    assert (refused.allowed, refused.remaining, refused.retry_after) == (False, 0, 40.0)
    assert (await limiter.check([tpm(10)])).remaining == 0  # fits exactly
    refused = await limiter.check([tpm(85)])  # 85 must leave: the 60 (at 1060) and the 30 (at 1070)
    assert refused.retry_after == 50.0
    refused = await limiter.check([tpm(95)])  # 95 must leave: the 10 of 1020 too (at 1080)
    assert refused.retry_after == 60.0
    clock.now = 1061.0  # the 60 has left: 30 + 10 in the window
    refused = await limiter.check([tpm(70)])  # 10 must leave: the 30 of 1010, at 1070
    assert (refused.allowed, refused.retry_after) == (False, 9.0)
    assert (await limiter.check([tpm(60)])).remaining == 0


async def test_a_cost_above_the_limit_is_refused_for_a_window_and_records_nothing(
    limiter: InProcessRateLimiter,
) -> None:
    refused = await limiter.check([tpm(101)])
    assert (refused.allowed, refused.remaining, refused.retry_after, refused.reset_after) == (False, 0, 60.0, 0.0)
    assert (await limiter.check([tpm(100)])).remaining == 0


async def test_zero_cost_is_checked_but_not_recorded(limiter: InProcessRateLimiter) -> None:
    assert (await limiter.check([tpm(0)])).remaining == 100
    assert (await limiter.check([tpm(100)])).allowed
    assert (await limiter.check([tpm(0)])).allowed
    # The limit was lowered below what the window already holds: even a query is refused until 50 leave.
    lowered = await limiter.check([tpm(0, limit=50)])
    assert (lowered.allowed, lowered.retry_after) == (False, 60.0)


async def test_all_or_nothing_when_the_second_limit_refuses(limiter: InProcessRateLimiter) -> None:
    assert (await limiter.check([rpm(5), tpm(40)])).allowed
    assert (await limiter.check([rpm(5), tpm(40)])).allowed
    refused = await limiter.check([rpm(5), tpm(40)])  # 120 tokens > 100
    assert not refused.allowed
    assert refused.limit == tpm(40)
    # The refused request was not counted against the request limit either: 2 used, this makes 3.
    assert (await limiter.check([rpm(5)])).remaining == 2
    assert (await limiter.check([tpm(20)])).remaining == 0


async def test_all_or_nothing_when_the_first_limit_refuses(limiter: InProcessRateLimiter) -> None:
    assert (await limiter.check([rpm(1), tpm(10)])).allowed
    refused = await limiter.check([rpm(1), tpm(10)])
    assert (refused.allowed, refused.limit) == (False, rpm(1))
    assert (await limiter.check([tpm(80)])).remaining == 10  # only the first 10 tokens were recorded


async def test_refusal_names_the_first_refuser_and_waits_for_the_last(
    limiter: InProcessRateLimiter, clock: FakeClock
) -> None:
    short, long = rpm(1, name="ip:1.2.3.4:rpm", window=10.0), rpm(1, name="key:abc:rpm", window=60.0)
    assert (await limiter.check([short, long])).allowed
    clock.advance(5.0)
    refused = await limiter.check([short, long])
    assert refused.limit == short
    assert refused.reset_after == 5.0
    assert refused.retry_after == 55.0  # the request as a whole fits only once the 60 s limit has room


async def test_allowed_decision_names_the_tightest_limit(limiter: InProcessRateLimiter) -> None:
    decision = await limiter.check([rpm(10), tpm(70)])  # 9/10 requests left, 30/100 tokens left
    assert (decision.limit, decision.remaining) == (tpm(70), 30)
    decision = await limiter.check([rpm(10), tpm(5)])  # 8/10 requests, 25/100 tokens
    assert decision.limit == tpm(5)
    decision = await limiter.check([rpm(1, name="ip:1.2.3.4:rpm"), tpm(1)])  # 0/1 requests, 24/100 tokens
    assert (decision.limit, decision.remaining) == (rpm(1, name="ip:1.2.3.4:rpm"), 0)


async def test_no_limits_is_allowed_with_remaining_minus_one(limiter: InProcessRateLimiter) -> None:
    decision = await limiter.check([])
    assert decision == RateLimitDecision(True, UNLIMITED, -1, 0.0, 0.0)
    assert rate_limit_headers(decision) == {}
    assert len(limiter) == 0


async def test_idle_limits_are_dropped_after_their_window(limiter: InProcessRateLimiter, clock: FakeClock) -> None:
    for i in range(1000):
        await limiter.check([rpm(5, name=f"key:{i}:rpm", window=60.0)])
    await limiter.check([rpm(5, name="ip:short:rpm", window=1.0)])
    assert len(limiter) == 1001
    clock.advance(30.0)  # the 1 s limit has been idle for its window; the 60 s ones not yet
    await limiter.check([rpm(5, name="key:0:rpm")])  # key:0 is used again: it stays
    assert len(limiter) == 1000
    clock.advance(30.0)  # 60 s after their last use, key:1 .. key:999 go
    await limiter.check([rpm(5, name="key:new:rpm")])
    assert len(limiter) == 2
    decision = await limiter.check([rpm(5, name="key:1:rpm")])  # starts afresh
    assert decision.remaining == 4


async def test_a_log_stays_bounded_under_steady_traffic(limiter: InProcessRateLimiter, clock: FakeClock) -> None:
    limit = rpm(10, window=1.0)
    admitted = 0
    for _ in range(20_000):
        admitted += (await limiter.check([limit])).allowed
        clock.advance(0.0625)
    assert admitted == 10 * 1250  # 10 per second, exactly, over 1250 s
    log = limiter._logs[limit.name]
    assert len(log.times) <= 2 * 64 + 10  # the expired head is compacted away, not kept forever


async def test_a_clock_going_back_does_not_reopen_the_window(limiter: InProcessRateLimiter, clock: FakeClock) -> None:
    assert (await limiter.check([rpm(1)])).allowed
    clock.now = 900.0
    refused = await limiter.check([rpm(1)])
    assert (refused.allowed, refused.retry_after) == (False, 60.0)


async def test_a_reconfigured_window_keeps_the_entries(limiter: InProcessRateLimiter, clock: FakeClock) -> None:
    assert (await limiter.check([rpm(1, window=60.0)])).allowed
    clock.advance(20.0)
    assert not (await limiter.check([rpm(1, window=30.0)])).allowed
    clock.advance(10.0)  # 30 s after the admission: gone under the new window
    assert (await limiter.check([rpm(1, window=30.0)])).allowed


async def test_matches_a_brute_force_oracle_on_random_traffic(clock: FakeClock) -> None:
    rng = random.Random(1234)
    limiter = InProcessRateLimiter(clock=clock)
    admitted: dict[str, list[tuple[float, int]]] = defaultdict(list)

    def used(name: str, window: float, at: float) -> int:
        return sum(cost for t, cost in admitted[name] if at - t < window)

    def oracle_retry(limit: RateLimit, now: float) -> float:
        if limit.cost > limit.limit:
            return limit.window
        candidates = sorted(t + limit.window - now for t, _ in admitted[limit.name] if t + limit.window > now)
        return next(d for d in candidates if used(limit.name, limit.window, now + d) + limit.cost <= limit.limit)

    for _ in range(3000):
        clock.advance(rng.choice([0.0, 0.25, 0.5, 1.0, 2.0]))
        pool = [
            RateLimit("a:rpm", 5, 10.0),
            RateLimit("b:tpm", 50, 8.0, cost=rng.randint(0, 30)),
            RateLimit("c:tpm", 40, 4.0, cost=rng.randint(1, 45)),
        ]
        limits = rng.sample(pool, rng.randint(1, 3))
        now = clock.now
        fits = [used(lim.name, lim.window, now) + lim.cost <= lim.limit for lim in limits]
        decision = await limiter.check(limits)
        assert decision.allowed == all(fits)
        if decision.allowed:
            for lim in limits:
                admitted[lim.name].append((now, lim.cost))
            left = decision.limit.limit - used(decision.limit.name, decision.limit.window, now)
            assert decision.remaining == left
        else:
            assert decision.limit == limits[fits.index(False)]
            refusers = [lim for lim, fit in zip(limits, fits, strict=True) if not fit]
            assert decision.retry_after == max(oracle_retry(lim, now) for lim in refusers)


def test_rate_limit_validates_its_values() -> None:
    with pytest.raises(ValueError, match="limit and cost"):
        RateLimit("x", -1)
    with pytest.raises(ValueError, match="limit and cost"):
        RateLimit("x", 1, cost=-1)
    with pytest.raises(ValueError, match="window"):
        RateLimit("x", 1, window=0.0)


async def test_limits_checked_together_need_distinct_names(limiter: InProcessRateLimiter) -> None:
    with pytest.raises(ValueError, match="distinct"):
        await limiter.check([rpm(5), rpm(10)])


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "0s"),
        (-1.0, "0s"),
        (0.0004, "1ms"),
        (0.25, "250ms"),
        (1.0, "1s"),
        (1.5, "1.5s"),
        (1.25, "1.25s"),
        (59.999, "59.999s"),
        (60.0, "1m0s"),
        (360.0, "6m0s"),
        (90.5, "1m30.5s"),
        (3600.0, "1h0m0s"),
        (3723.0, "1h2m3s"),
        (0.1 + 0.2, "300ms"),  # float noise does not round 300 ms up to 301 ms
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(("seconds", "header"), [(0.0, 1), (0.2, 1), (1.0, 1), (1.01, 2), (59.5, 60), (60.0, 60)])
def test_retry_after_rounds_up_to_at_least_one_second(seconds: float, header: int) -> None:
    assert retry_after_seconds(seconds) == header


def test_headers_for_an_allowed_request_limit() -> None:
    decision = RateLimitDecision(True, RateLimit("key:abc:rpm", 20), 19, 60.0, 0.0)
    assert rate_limit_headers(decision) == {
        "x-ratelimit-limit-requests": "20",
        "x-ratelimit-remaining-requests": "19",
        "x-ratelimit-reset-requests": "1m0s",
    }


def test_headers_for_a_refused_token_limit() -> None:
    decision = RateLimitDecision(False, RateLimit("key:abc:tpm", 10_000, cost=500), 0, 1.5, 0.2)
    assert rate_limit_headers(decision) == {
        "x-ratelimit-limit-tokens": "10000",
        "x-ratelimit-remaining-tokens": "0",
        "x-ratelimit-reset-tokens": "1.5s",
        "retry-after": "1",
    }


def test_only_a_tpm_suffix_means_tokens() -> None:
    decision = RateLimitDecision(True, RateLimit("ip:tpm.example:rpm", 5), 4, 6.0, 0.0)
    assert set(rate_limit_headers(decision)) == {
        "x-ratelimit-limit-requests",
        "x-ratelimit-remaining-requests",
        "x-ratelimit-reset-requests",
    }


async def test_headers_from_a_real_refusal(limiter: InProcessRateLimiter, clock: FakeClock) -> None:
    await limiter.check([rpm(1)])
    clock.advance(59.5)
    headers = rate_limit_headers(await limiter.check([rpm(1)]))
    assert headers["retry-after"] == "1"
    assert headers["x-ratelimit-reset-requests"] == "500ms"
    assert headers["x-ratelimit-remaining-requests"] == "0"


class _FakeRedis:
    """Just enough of redis.asyncio.Redis for RedisRateLimiter's wiring: its script fails with `error`."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.closed = False

    def register_script(self, script: str) -> Callable[..., Awaitable[object]]:
        async def run(**kwargs: object) -> object:
            raise self.error

        return run

    async def aclose(self) -> None:
        self.closed = True


async def test_redis_failures_become_rate_limiter_unavailable() -> None:
    cause = RedisTimeoutError("Timeout reading from socket")
    limiter = RedisRateLimiter(_FakeRedis(cause))  # type: ignore[arg-type]
    with pytest.raises(RateLimiterUnavailable, match="Timeout reading") as caught:
        await limiter.check([rpm()])
    assert caught.value.__cause__ is cause


@pytest.mark.parametrize("owns_client", [False, True])
async def test_close_closes_the_client_only_when_it_owns_it(owns_client: bool) -> None:
    client = _FakeRedis(RuntimeError("unused"))
    await RedisRateLimiter(client, owns_client=owns_client).close()  # type: ignore[arg-type]
    assert client.closed is owns_client
