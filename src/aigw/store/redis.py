"""The Redis client shared by rate limits, budgets and change notifications."""

from __future__ import annotations

from redis.asyncio import Redis


def connect_redis(url: str) -> Redis:
    """A pooled client; connections open lazily, so a Redis that is down does not stop start-up."""
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2, health_check_interval=30)
