"""Change notifications between replicas: Redis pub/sub and PostgreSQL LISTEN/NOTIFY.

A notification only says "something of this kind changed": receivers reload from the database.
Polling remains the safety net, so a lost message delays a change by one poll interval at most.

Each listener is a long-lived connection that will be cut some day (a database restart, a
failover, an idle-connection reaper, `pg_terminate_backend`). A listener therefore never ends on
an error: it reconnects with exponential backoff (0.5 s doubling to 30 s, with jitter so that
replicas do not reconnect in step), and once subscribed again it hands `RESYNC` to its handler,
because whatever was notified while it was away is lost and the receiver must reload now rather
than at its next poll. A PostgreSQL connection that dies is noticed at once (asyncpg's
termination callback), and a silent one by a keep-alive query. A handler that raises is logged
and the listener goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import make_url

from aigw.store.database import Database

if TYPE_CHECKING:  # redis is imported with the first Redis client (AI_REDIS_URL)
    from redis.asyncio import Redis

REDIS_CHANNEL = "aigw:changes"
PG_CHANNEL = "aigw_changes"
RESYNC = "resync"  # handed to the handler after a reconnection: reload everything
log = logging.getLogger("aigw.store.changes")
Handler = Callable[[str], Awaitable[None]]
Subscribed = Callable[[], Awaitable[None]]
_FIRST_RETRY_S = 0.5
_LONGEST_RETRY_S = 30.0
_KEEPALIVE_S = 30.0  # a PostgreSQL listener this long without a message checks its connection


def reconnect_delay(attempt: int) -> float:
    """Seconds before reconnection attempt `attempt` (0 = first): doubling, capped, with jitter."""
    return min(_LONGEST_RETRY_S, _FIRST_RETRY_S * 2.0 ** min(attempt, 16)) * random.uniform(0.5, 1.0)


class ChangeBus:
    def __init__(self, database: Database, redis: Redis | None = None) -> None:
        self.database = database
        self.redis = redis
        self._tasks: list[asyncio.Task[None]] = []

    async def publish(self, kind: str) -> None:
        """Tell every replica that `kind` (keys, flags, config) changed. Best effort."""
        if self.redis is not None:
            from redis.exceptions import RedisError  # loaded with the client: a process without Redis never imports it

            with contextlib.suppress(RedisError, OSError):
                await self.redis.publish(REDIS_CHANNEL, kind)
        if self.database.dialect == "postgresql":
            with contextlib.suppress(Exception):
                async with self.database.engine.begin() as conn:
                    await conn.execute(text("SELECT pg_notify(:channel, :kind)"), {"channel": PG_CHANNEL, "kind": kind})

    def listen(self, handler: Handler) -> None:
        """Call `handler(kind)` for every notification, in background tasks that reconnect."""
        if self.redis is not None:
            redis = self.redis
            self._tasks.append(asyncio.create_task(self._keep_listening("Redis", self._redis_once(redis), handler)))
        if self.database.dialect == "postgresql":
            self._tasks.append(asyncio.create_task(self._keep_listening("PostgreSQL", self._postgres_once, handler)))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    async def _keep_listening(
        self, source: str, listen_once: Callable[[Handler, Subscribed], Awaitable[None]], handler: Handler
    ) -> None:
        """Run `listen_once` again and again: it returns or raises when its connection is lost."""
        attempt = 0
        subscribed_before = False

        async def deliver(kind: str) -> None:
            try:
                await handler(kind)
            except Exception as exc:  # a receiver's bug must not stop notifications
                log.exception("change handler failed", extra={"kind": kind, "error": type(exc).__name__})

        async def subscribed() -> None:
            nonlocal attempt, subscribed_before
            attempt = 0
            if subscribed_before:
                log.info("change listener reconnected", extra={"source": source})
                await deliver(RESYNC)
            subscribed_before = True

        while True:
            try:
                await listen_once(deliver, subscribed)
                error = "ConnectionClosed"
            except Exception as exc:  # whatever broke, the listener reconnects
                error = type(exc).__name__
            delay = reconnect_delay(attempt)
            attempt += 1
            log.warning(
                "change listener lost its connection; reconnecting",
                extra={"source": source, "error": error, "retry_in_s": round(delay, 2)},
            )
            await asyncio.sleep(delay)

    @staticmethod
    def _redis_once(redis: Redis) -> Callable[[Handler, Subscribed], Awaitable[None]]:
        async def listen_once(deliver: Handler, subscribed: Subscribed) -> None:
            async with redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                await pubsub.subscribe(REDIS_CHANNEL)
                await subscribed()
                async for message in pubsub.listen():
                    data = message.get("data")
                    await deliver(data.decode() if isinstance(data, bytes) else str(data))

        return listen_once

    async def _postgres_once(self, deliver: Handler, subscribed: Subscribed) -> None:
        import asyncpg  # only a PostgreSQL deployment listens: SQLite processes never load the driver

        url = make_url(self.database.url).set(drivername="postgresql")
        conn = await asyncpg.connect(url.render_as_string(hide_password=False), timeout=5)
        try:
            queue: asyncio.Queue[str | None] = asyncio.Queue()

            def received(*args: object) -> None:
                queue.put_nowait(str(args[3]))  # (connection, pid, channel, payload)

            conn.add_termination_listener(lambda _conn: queue.put_nowait(None))
            await conn.add_listener(PG_CHANNEL, received)
            await subscribed()
            while not conn.is_closed():
                try:
                    kind = await asyncio.wait_for(queue.get(), timeout=_KEEPALIVE_S)
                except TimeoutError:
                    await conn.execute("SELECT 1", timeout=5)  # notices a connection that died silently
                    continue
                if kind is None:
                    return  # the connection was closed under us
                await deliver(kind)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), timeout=5)
