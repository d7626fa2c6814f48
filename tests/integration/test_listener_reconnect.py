"""The change listeners survive losing their connection: after PostgreSQL terminates the LISTEN
backend, or Redis kills the subscriber, they reconnect, tell the receiver to resync, and later
notifications arrive again. A receiver that raises does not stop them either."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from redis.asyncio import Redis
from sqlalchemy.engine import make_url

from aigw.store.changes import RESYNC, ChangeBus, reconnect_delay
from aigw.store.database import Database
from tests.support.databases import postgres_database, redis_db

pytestmark = pytest.mark.integration
REDIS_DB = 13
BOUND_S = 10.0  # the first reconnection waits at most 0.5 s; the old listener took 30 s or died


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


@pytest.fixture
def redis_url() -> Iterator[str]:
    with redis_db(REDIS_DB) as url:
        yield url


class Received:
    def __init__(self, fail_on: str | None = None) -> None:
        self.kinds: asyncio.Queue[str] = asyncio.Queue()
        self.fail_on = fail_on

    async def __call__(self, kind: str) -> None:
        self.kinds.put_nowait(kind)
        if kind == self.fail_on:
            raise RuntimeError("receiver bug")

    async def wait_for(self, wanted: str, bus: ChangeBus, republish: bool = True) -> list[str]:
        """Every kind received until `wanted` arrives; `wanted` is published again each half second
        (a message published before the listener subscribed again is lost, by design)."""
        seen: list[str] = []
        async with asyncio.timeout(BOUND_S):
            while wanted not in seen:
                if republish:
                    await bus.publish(wanted)
                with contextlib.suppress(TimeoutError):
                    seen.append(await asyncio.wait_for(self.kinds.get(), 0.5))
        return seen


@contextlib.asynccontextmanager
async def listening(bus: ChangeBus, received: Received) -> AsyncIterator[ChangeBus]:
    bus.listen(received)
    try:
        yield bus
    finally:
        await bus.close()


async def terminate_listen_backends(url: str) -> int:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        rows = await conn.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
        )
        return len(rows)
    finally:
        await conn.close()


async def kill_subscribers(url: str) -> int:
    """Kill this test's subscriber only: pub/sub channels are server-wide, db indexes are not."""
    client = Redis.from_url(url)
    try:
        killed = 0
        for entry in await client.client_list():
            if int(entry.get("sub", 0)) > 0 and int(entry.get("db", -1)) == REDIS_DB:
                killed += await client.client_kill_filter(_id=entry["id"])
        return killed
    finally:
        await client.aclose()


async def test_postgres_listener_reconnects_after_its_backend_is_terminated(pg_url: str) -> None:
    database = Database(pg_url)
    received = Received()
    try:
        async with listening(ChangeBus(database), received) as bus:
            await received.wait_for("before", bus)
            assert await terminate_listen_backends(pg_url) == 1
            seen = await received.wait_for("after", bus)
            assert RESYNC in seen, "the receiver is told to reload what it missed"
    finally:
        await database.close()


async def test_redis_subscriber_reconnects_after_it_is_killed(redis_url: str, tmp_path: object) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/db.sqlite")
    redis = Redis.from_url(redis_url)
    received = Received()
    try:
        async with listening(ChangeBus(database, redis), received) as bus:
            await received.wait_for("before", bus)
            assert await kill_subscribers(redis_url) == 1
            seen = await received.wait_for("after", bus)
            assert RESYNC in seen
    finally:
        await redis.aclose()
        await database.close()


async def test_a_failing_receiver_does_not_stop_the_listener(pg_url: str) -> None:
    database = Database(pg_url)
    received = Received(fail_on="poison")
    try:
        async with listening(ChangeBus(database), received) as bus:
            await received.wait_for("poison", bus)
            await received.wait_for("after", bus)
    finally:
        await database.close()


def test_reconnect_delays_double_up_to_a_cap_with_jitter() -> None:
    assert 0.25 <= reconnect_delay(0) <= 0.5
    assert 2.0 <= reconnect_delay(3) <= 4.0
    assert all(15.0 <= reconnect_delay(n) <= 30.0 for n in (7, 20, 10_000))
