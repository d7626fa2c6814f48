"""Change notifications between replicas: Redis pub/sub and PostgreSQL LISTEN/NOTIFY.

A notification only says "something of this kind changed": receivers reload from the database.
Polling remains the safety net, so a lost message delays a change by one poll interval at most.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.engine import make_url

from aigw.store.database import Database

REDIS_CHANNEL = "aigw:changes"
PG_CHANNEL = "aigw_changes"
log = logging.getLogger("aigw.store.changes")
Handler = Callable[[str], Awaitable[None]]


class ChangeBus:
    def __init__(self, database: Database, redis: Redis | None = None) -> None:
        self.database = database
        self.redis = redis
        self._tasks: list[asyncio.Task[None]] = []

    async def publish(self, kind: str) -> None:
        """Tell every replica that `kind` (keys, flags, config) changed. Best effort."""
        if self.redis is not None:
            with contextlib.suppress(RedisError, OSError):
                await self.redis.publish(REDIS_CHANNEL, kind)
        if self.database.dialect == "postgresql":
            with contextlib.suppress(Exception):
                async with self.database.engine.begin() as conn:
                    await conn.execute(text("SELECT pg_notify(:channel, :kind)"), {"channel": PG_CHANNEL, "kind": kind})

    def listen(self, handler: Handler) -> None:
        """Call `handler(kind)` for every notification, in background tasks that reconnect."""
        if self.redis is not None:
            self._tasks.append(asyncio.create_task(self._listen_redis(self.redis, handler)))
        if self.database.dialect == "postgresql":
            self._tasks.append(asyncio.create_task(self._listen_postgres(handler)))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    async def _listen_redis(self, redis: Redis, handler: Handler) -> None:
        while True:
            try:
                async with redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(REDIS_CHANNEL)
                    async for message in pubsub.listen():
                        data = message.get("data")
                        await handler(data.decode() if isinstance(data, bytes) else str(data))
            except (RedisError, OSError) as exc:
                log.warning("change listener lost Redis; retrying", extra={"error": type(exc).__name__})
                await asyncio.sleep(1.0)

    async def _listen_postgres(self, handler: Handler) -> None:
        url = make_url(self.database.url).set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        while True:
            try:
                conn = await asyncpg.connect(dsn, timeout=5)
                try:
                    queue: asyncio.Queue[str] = asyncio.Queue()

                    def received(*args: object, queue: asyncio.Queue[str] = queue) -> None:
                        queue.put_nowait(str(args[3]))  # (connection, pid, channel, payload)

                    await conn.add_listener(PG_CHANNEL, received)
                    while not conn.is_closed():
                        try:
                            kind = await asyncio.wait_for(queue.get(), timeout=30)
                        except TimeoutError:
                            await conn.execute("SELECT 1")  # keep-alive, notices a dead connection
                            continue
                        await handler(kind)
                finally:
                    with contextlib.suppress(Exception):
                        await conn.close()
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                log.warning("change listener lost PostgreSQL; retrying", extra={"error": type(exc).__name__})
                await asyncio.sleep(1.0)
