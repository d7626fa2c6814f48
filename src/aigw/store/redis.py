"""The Redis client shared by rate limits, budgets and change notifications."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # redis is imported only by a process that connects to one
    from redis.asyncio import Redis

MAX_CONNECTIONS = 256
POOL_WAIT_S = 2.0


def connect_redis(url: str, max_connections: int = MAX_CONNECTIONS) -> Redis:
    """A pooled client; connections open lazily, so a Redis that is down does not stop start-up.

    The pool is blocking: past `max_connections` concurrent commands a caller waits (up to
    POOL_WAIT_S) for a free connection instead of failing at once with "Too many connections".
    It also has a connection of its own on which the admission script is pipelined
    (`redis_scripts.ScriptPool`), closed with the client.
    """
    from redis.asyncio import Redis

    from aigw.store.redis_scripts import ScriptPool

    pool = ScriptPool.from_url(
        url,
        max_connections=max_connections,
        timeout=POOL_WAIT_S,
        socket_connect_timeout=2,
        socket_timeout=2,
        health_check_interval=30,
    )
    return Redis.from_pool(pool)
