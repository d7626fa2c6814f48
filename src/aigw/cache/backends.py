"""Where cached answers live: this process (`MemoryCache`, LRU with expiry) or Redis (`RedisCache`,
shared by every replica). A backend that fails answers "not cached" and never fails a request."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # redis is imported with the first Redis client (AI_REDIS_URL), never by a process without one
    from redis.asyncio import Redis

log = logging.getLogger("aigw.cache")


class CacheBackend(Protocol):
    name: str

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_s: float) -> None: ...


class MemoryCache:
    """At most `max_entries` answers and `max_bytes` in all; the least recently used go first."""

    name = "memory"

    def __init__(self, max_entries: int = 10_000, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= time.monotonic():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        if len(value) > self.max_bytes:
            return
        if key in self._entries:
            self._drop(key)
        self._entries[key] = (time.monotonic() + ttl_s, value)
        self._bytes += len(value)
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        _, value = self._entries.pop(key)
        self._bytes -= len(value)


class RedisCache:
    """Answers in Redis under their key, expiring by themselves (`SET ... PX`)."""

    name = "redis"

    def __init__(self, redis: Redis) -> None:
        from redis.exceptions import RedisError

        self.redis = redis
        self._warned = False
        self._unavailable = (RedisError, OSError)

    async def get(self, key: str) -> bytes | None:
        try:
            value = await self.redis.get(key)
        except self._unavailable as exc:
            self._warn(exc)
            return None
        self._warned = False
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        try:
            await self.redis.set(key, value, px=max(1, int(ttl_s * 1000)))
        except self._unavailable as exc:
            self._warn(exc)

    def _warn(self, exc: Exception) -> None:
        if not self._warned:  # once per outage, not once per request
            self._warned = True
            log.warning("response cache unreachable; answering without it", extra={"error": type(exc).__name__})
