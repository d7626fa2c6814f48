"""Budget settles reach the Redis counters even when Redis goes away while they are on their way:
a failed settle batch is kept and retried, and settles carried by an admission whose script call
fails go back to the queue. Real Redis (db 11, keys under a prefix unique to the test) behind a TCP
proxy the test cuts and restores; the gateway's own client (`connect_redis`)."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from aigw.observability.metrics import GatewayMetrics
from aigw.observability.tracing import Trace
from aigw.policy.admission import RedisAdmission
from aigw.policy.alerts import BudgetAlerts
from aigw.policy.budget import BudgetScope
from aigw.policy.budget_redis import RedisBudgetLedger
from aigw.policy.caller import Caller
from aigw.policy.config import PolicyConfig
from aigw.policy.cost_control import CostControl, Hold
from aigw.policy.engine import PolicyEngine
from aigw.policy.pricing import micros_to_usd
from aigw.policy.ratelimit import RedisRateLimiter
from aigw.store.redis import connect_redis
from aigw.types import ChatRequest, Usage
from tests.support.services import require_service
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration

HOST, PORT, DB = "127.0.0.1", 6379, 11
POLICY = PolicyConfig(budget_daily=5.0)
MASTER = Caller("master", is_admin=True)
USAGE = Usage(1000, 200, 1200)
BOUND_S = 10.0


@dataclass
class Stores:
    prefix: str
    proxy: TcpProxy
    direct: Redis  # the truth, never cut
    costs: CostControl
    engine: PolicyEngine

    async def spent_and_reserved(self) -> tuple[int, int]:
        truth = RedisBudgetLedger(self.direct, prefix=f"{self.prefix}budget:")
        usage = await truth.usage(BudgetScope("global", "daily", 5.0))
        return usage.spent_micros, usage.reserved_micros


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy(HOST, PORT)
    proxy.start()
    yield proxy
    proxy.close()


@pytest.fixture
async def stores(proxy: TcpProxy) -> AsyncIterator[Stores]:
    direct = Redis(host=HOST, port=PORT, db=DB, socket_connect_timeout=2)
    try:
        await direct.ping()
    except (RedisError, OSError) as exc:
        await direct.aclose()
        require_service("Redis", f"{HOST}:{PORT} is unreachable ({exc})")
    prefix = f"aigw-test-settle-{secrets.token_hex(4)}:"
    proxied = connect_redis(f"redis://127.0.0.1:{proxy.port}/{DB}")
    ledger = RedisBudgetLedger(proxied, prefix=f"{prefix}budget:")
    metrics = GatewayMetrics(enabled=True)
    costs = CostControl(ledger, lambda: POLICY, metrics, BudgetAlerts(metrics, lambda: None))
    admission = RedisAdmission(RedisRateLimiter(proxied, prefix=f"{prefix}rl:"), ledger)
    yield Stores(prefix, proxy, direct, costs, PolicyEngine(admission, lambda: POLICY, costs))
    proxy.start()
    await costs.close()
    keys = [key async for key in direct.scan_iter(match=f"{prefix}*")]
    if keys:
        await direct.delete(*keys)
    await proxied.aclose()
    await direct.aclose()


def request(text: str = "hello") -> ChatRequest:
    return ChatRequest("gpt-4o-mini", [{"role": "user", "content": text}], {"max_tokens": 500})


async def admitted_hold(stores: Stores) -> Hold:
    admission = await stores.engine.admit(MASTER, request(), ["gpt-4o-mini"], Trace("req"))
    assert admission.hold.reservation is not None, "held in Redis"
    return admission.hold


async def eventually(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + BOUND_S
    while not await condition():
        assert time.monotonic() < deadline, f"{what}: not within {BOUND_S} s"
        await asyncio.sleep(0.05)


async def test_a_settle_batch_that_failed_is_retried_until_redis_takes_it(stores: Stores) -> None:
    hold = await admitted_hold(stores)
    stores.proxy.cut()
    cost = stores.costs.settle(hold, MASTER, "req", "openai", "gpt-4o-mini", USAGE)

    async def failed_once() -> bool:
        return stores.costs.settles.failed_batches >= 1

    await eventually(failed_once, "the flusher tries while Redis is away")
    assert len(stores.costs.settles) == 1, "the failed settle is kept, not dropped"
    assert await stores.spent_and_reserved() == (0, hold.worst_micros)

    stores.proxy.start()

    async def settled() -> bool:
        return await stores.spent_and_reserved() == (int(cost * 1_000_000), 0)

    await eventually(settled, "the settle lands once Redis is back")
    assert len(stores.costs.settles) == 0

    assert hold.reservation is not None
    stores.costs.settles.put(hold.reservation, int(cost * 1_000_000))  # a retry of a settle that landed
    await stores.costs.close()
    assert await stores.spent_and_reserved() == (int(cost * 1_000_000), 0), "a settle sent twice counts once"


async def test_settles_carried_by_a_failed_admission_go_back_and_land(stores: Stores) -> None:
    hold = await admitted_hold(stores)
    stores.proxy.cut()
    # Queued, then taken at once by the next admission (before the flusher's window ends): the
    # admission's script call fails, and the settle must not go down with it.
    cost = stores.costs.settle(hold, MASTER, "req-1", "openai", "gpt-4o-mini", USAGE)
    admission = await stores.engine.admit(MASTER, request("again"), ["gpt-4o-mini"], Trace("req-2"))
    assert admission.hold.reservation is None, "Redis is away: admitted without a hold (fail open)"
    assert len(stores.costs.settles) + stores.costs.settles.failed_batches >= 1, "the settle is back in the queue"

    stores.proxy.start()
    expected = int(cost * 1_000_000)

    async def settled() -> bool:
        return await stores.spent_and_reserved() == (expected, 0)

    await eventually(settled, "the carried settle lands once Redis is back")
    assert micros_to_usd(expected) == cost > Decimal(0)
