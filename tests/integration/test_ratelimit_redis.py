"""RedisRateLimiter against a real Redis (127.0.0.1:6379, db 13, flushed before and after each test)."""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.connection import Connection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from aigw.policy.ratelimit import RateLimit, RateLimiterUnavailable, RedisRateLimiter, rate_limit_headers
from tests.support.services import require_service

pytestmark = pytest.mark.integration

HOST, PORT, DB = "127.0.0.1", 6379, 13
ClientFactory = Callable[..., Redis]


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    """A client on db 13, which is flushed before and after the test; `require_service` without a Redis."""
    client = Redis(host=HOST, port=PORT, db=DB, socket_connect_timeout=2, decode_responses=True)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        require_service("Redis", f"{HOST}:{PORT} is unreachable ({exc})")
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


@pytest.fixture
async def new_client(redis: Redis) -> AsyncIterator[ClientFactory]:
    """More clients on db 13, each with its own connection pool (as separate gateway processes would have)."""
    clients: list[Redis] = []

    def make(**kwargs: Any) -> Redis:
        client = Redis(host=HOST, port=PORT, db=DB, socket_connect_timeout=2, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
def limiter(new_client: ClientFactory) -> RedisRateLimiter:
    return RedisRateLimiter(new_client())


def rpm(limit: int = 20, *, name: str = "key:abc:rpm", window: float = 60.0) -> RateLimit:
    return RateLimit(name, limit, window)


async def allowed_count(limiter: RedisRateLimiter, limits: Iterable[RateLimit], times: int) -> int:
    decisions = await asyncio.gather(*(limiter.check(list(limits)) for _ in range(times)))
    return sum(decision.allowed for decision in decisions)


async def test_exactly_the_limit_under_concurrency_from_two_clients(new_client: ClientFactory) -> None:
    first = RedisRateLimiter(new_client())
    second = RedisRateLimiter(new_client(decode_responses=True))
    limit = rpm(20, window=1.0)
    for _ in range(2):  # two windows: exactly 20 each time
        decisions = await asyncio.gather(*(limiter.check([limit]) for _ in range(100) for limiter in (first, second)))
        assert sum(decision.allowed for decision in decisions) == 20
        assert sorted(d.remaining for d in decisions if d.allowed) == list(range(20))
        assert all(d.remaining == 0 and d.retry_after > 0 for d in decisions if not d.allowed)
        await asyncio.sleep(1.3)


_CHILD = r"""
import asyncio, sys
from redis.asyncio import Redis
from aigw.policy.ratelimit import RateLimit, RedisRateLimiter

async def main() -> None:
    client = Redis(host="127.0.0.1", port=6379, db=13)
    limiter = RedisRateLimiter(client)
    await asyncio.gather(*(client.ping() for _ in range(50)))  # connections open before the start signal
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    limit = RateLimit("key:shared:rpm", 20, 60.0)
    decisions = await asyncio.gather(*(limiter.check([limit]) for _ in range(100)))
    print(sum(decision.allowed for decision in decisions), flush=True)
    await client.aclose()

asyncio.run(main())
"""


async def test_exactly_the_limit_across_two_processes(redis: Redis) -> None:
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", _CHILD, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        for _ in range(2)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert (await asyncio.wait_for(child.stdout.readline(), 30)).strip() == b"ready"
        for child in children:
            assert child.stdin is not None
            child.stdin.write(b"go\n")
            await child.stdin.drain()
        counts = [int((await asyncio.wait_for(child.communicate(), 30))[0]) for child in children]
    finally:
        for child in children:
            if child.returncode is None:
                child.kill()
                await child.wait()
    assert sum(counts) == 20
    assert all(child.returncode == 0 for child in children)
    assert await redis.get("aigw:rl:key:shared:rpm:sum") == "20"


async def test_the_window_slides(limiter: RedisRateLimiter) -> None:
    limit = rpm(4, window=1.0)
    assert await allowed_count(limiter, [limit], 2) == 2  # t = 0
    await asyncio.sleep(0.5)
    assert await allowed_count(limiter, [limit], 2) == 2  # t = 0.5
    refused = await limiter.check([limit])
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(0.5, abs=0.1)
    await asyncio.sleep(refused.retry_after + 0.05)  # t = 1.05: the first two have left, the last two not
    assert await allowed_count(limiter, [limit], 3) == 2
    refused = await limiter.check([limit])
    assert refused.retry_after == pytest.approx(0.45, abs=0.1)


async def test_retry_after_is_when_the_oldest_entry_leaves(limiter: RedisRateLimiter) -> None:
    limit = rpm(3, window=2.0)
    started = time.monotonic()
    for _ in range(3):
        assert (await limiter.check([limit])).allowed
        await asyncio.sleep(0.2)
    refused = await limiter.check([limit])
    elapsed = time.monotonic() - started
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(2.0 - elapsed, abs=0.05)
    assert refused.reset_after == pytest.approx(2.0 - elapsed + 0.4, abs=0.05)
    await asyncio.sleep(refused.retry_after - 0.1)
    assert not (await limiter.check([limit])).allowed  # still 100 ms early
    await asyncio.sleep(0.15)
    assert (await limiter.check([limit])).allowed


async def test_weighted_costs_and_a_cost_above_the_limit(redis: Redis, limiter: RedisRateLimiter) -> None:
    def tokens(cost: int) -> RateLimit:
        return RateLimit("key:abc:tpm", 100, 60.0, cost=cost)

    assert (await limiter.check([tokens(60)])).remaining == 40
    refused = await limiter.check([tokens(50)])
    assert (refused.allowed, refused.remaining) == (False, 0)
    assert refused.retry_after == pytest.approx(60.0, abs=0.1)  # the 60 must leave
    assert (await limiter.check([tokens(40)])).remaining == 0
    too_big = await limiter.check([tokens(101)])
    assert (too_big.allowed, too_big.retry_after) == (False, 60.0)
    assert too_big.reset_after == pytest.approx(60.0, abs=0.1)
    assert await redis.get("aigw:rl:key:abc:tpm:sum") == "100"
    members = await redis.zrange("aigw:rl:key:abc:tpm:log", 0, -1)
    assert [member.rsplit(":", 1)[1] for member in members] == ["60", "40"]


async def test_all_or_nothing_across_limits(redis: Redis, limiter: RedisRateLimiter) -> None:
    limits = [rpm(5), RateLimit("key:abc:tpm", 100, 60.0, cost=40)]
    assert await allowed_count(limiter, limits, 2) == 2
    refused = await limiter.check(limits)
    assert (refused.allowed, refused.limit) == (False, limits[1])
    assert await redis.get("aigw:rl:key:abc:rpm:sum") == "2"  # the refused request was recorded nowhere
    assert await redis.zcard("aigw:rl:key:abc:rpm:log") == 2
    assert await redis.get("aigw:rl:key:abc:tpm:sum") == "80"
    refused = await limiter.check([rpm(2), RateLimit("key:abc:tpm", 100, 60.0, cost=10)])  # now the first refuses
    assert (refused.allowed, refused.limit) == (False, rpm(2))
    assert await redis.get("aigw:rl:key:abc:tpm:sum") == "80"


async def test_expired_entries_are_trimmed_and_subtracted(redis: Redis, limiter: RedisRateLimiter) -> None:
    def cost(units: int) -> RateLimit:
        return RateLimit("key:abc:tpm", 100, 1.0, cost=units)

    assert (await limiter.check([cost(5)])).allowed
    await asyncio.sleep(0.6)
    assert (await limiter.check([cost(7)])).allowed
    await asyncio.sleep(0.5)  # the 5 has left the window, the 7 has not
    assert (await limiter.check([cost(11)])).remaining == 100 - 7 - 11
    assert await redis.get("aigw:rl:key:abc:tpm:sum") == "18"
    members = await redis.zrange("aigw:rl:key:abc:tpm:log", 0, -1, withscores=True)
    assert [member.rsplit(":", 1)[1] for member, _ in members] == ["7", "11"]
    for member, score in members:  # "<time in µs>:<tag>:<cost>", scored by its time
        assert member.split(":")[0] == str(int(score))


async def test_keys_expire_with_the_window(redis: Redis, limiter: RedisRateLimiter) -> None:
    limit = rpm(1, window=0.3)
    assert (await limiter.check([limit])).allowed
    keys = ["aigw:rl:key:abc:rpm:log", "aigw:rl:key:abc:rpm:sum"]
    for key in keys:
        assert 0 < await redis.pttl(key) <= 300
    await asyncio.sleep(0.45)
    assert await redis.exists(*keys) == 0
    assert (await limiter.check([limit])).allowed


async def test_one_round_trip_per_check(limiter: RedisRateLimiter, monkeypatch: pytest.MonkeyPatch) -> None:
    limits = [rpm(100), rpm(100, name="ip:1.2.3.4:rpm"), RateLimit("key:abc:tpm", 10_000, cost=10)]
    await limiter.check(limits)  # opens the connection and loads the script
    sent: list[bytes] = []
    original = Connection.send_packed_command

    async def counting(self: Connection, command: Any, check_health: bool = True) -> None:
        packed = command if isinstance(command, bytes | str) else b"".join(command)
        packed = packed.encode() if isinstance(packed, str) else packed
        sent.append(packed.split(b"\r\n")[2].upper())  # "*<n>", "$<len>", then the command's name
        await original(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counting)
    for _ in range(10):
        await limiter.check(limits)
    await limiter.check([rpm(1, name="key:full:rpm")])
    refused = await limiter.check([rpm(1, name="key:full:rpm")])  # a refusal is one round trip too
    assert not refused.allowed
    assert sent == [b"EVALSHA"] * 12


async def test_a_missing_total_is_rebuilt_from_the_log(redis: Redis, limiter: RedisRateLimiter) -> None:
    limit = rpm(3)
    assert await allowed_count(limiter, [limit], 3) == 3
    await redis.delete("aigw:rl:key:abc:rpm:sum")  # e.g. evicted
    refused = await limiter.check([limit])
    assert not refused.allowed  # not reopened by the lost total
    assert refused.retry_after == pytest.approx(60.0, abs=0.1)


async def test_a_total_larger_than_its_log_is_corrected(redis: Redis, limiter: RedisRateLimiter) -> None:
    limit = rpm(3)
    assert (await limiter.check([limit])).allowed
    await redis.set("aigw:rl:key:abc:rpm:sum", "1000", keepttl=True)
    decision = await limiter.check([limit])
    assert (decision.allowed, decision.remaining) == (True, 1)
    assert await redis.get("aigw:rl:key:abc:rpm:sum") == "2"


async def test_the_prefix_is_configurable(redis: Redis, new_client: ClientFactory) -> None:
    default = RedisRateLimiter(new_client())
    tenant = RedisRateLimiter(new_client(), prefix="tenant-1:{rl}:")
    assert (await default.check([rpm(1)])).allowed
    assert (await tenant.check([rpm(1)])).allowed  # same name, separate keys
    assert not (await tenant.check([rpm(1)])).allowed
    assert tenant.keys("key:abc:rpm") == ("tenant-1:{rl}:key:abc:rpm:log", "tenant-1:{rl}:key:abc:rpm:sum")
    assert sorted(await redis.keys("*")) == sorted([*default.keys("key:abc:rpm"), *tenant.keys("key:abc:rpm")])


async def test_headers_from_a_redis_decision(limiter: RedisRateLimiter) -> None:
    limits = [rpm(1, window=2.0), RateLimit("key:abc:tpm", 1000, 2.0, cost=300)]
    allowed = rate_limit_headers(await limiter.check(limits))
    assert allowed == {  # both sets, as OpenAI sends them
        "x-ratelimit-limit-requests": "1",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "2s",
        "x-ratelimit-limit-tokens": "1000",
        "x-ratelimit-remaining-tokens": "700",
        "x-ratelimit-reset-tokens": "2s",
    }
    await asyncio.sleep(0.05)
    refused = rate_limit_headers(await limiter.check(limits[1:] + limits[:1]))
    assert refused["retry-after"] == "2"  # 1.99... s rounded up
    assert refused["x-ratelimit-remaining-requests"] == "0"
    assert refused["x-ratelimit-reset-requests"].startswith("1.9")


async def test_no_limits_needs_no_redis(limiter: RedisRateLimiter) -> None:
    decision = await limiter.check([])
    assert (decision.allowed, decision.remaining) == (True, -1)


async def test_unreachable_redis_raises_rate_limiter_unavailable() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind((HOST, 0))
        port = probe.getsockname()[1]
    client = Redis(host=HOST, port=port, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
    limiter = RedisRateLimiter(client, owns_client=True)
    try:
        with pytest.raises(RateLimiterUnavailable) as caught:
            await limiter.check([rpm()])
        assert isinstance(caught.value.__cause__, RedisConnectionError)
    finally:
        await limiter.close()
