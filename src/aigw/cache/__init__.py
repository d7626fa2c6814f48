"""Exact-match response cache: deterministic chat calls (temperature 0), embeddings and task answers.

`backends` holds the bytes (in process, or Redis so replicas share it); `response_cache` decides
what may be cached, under which key, and counts hits and misses.
"""

from aigw.cache.backends import CacheBackend, MemoryCache, RedisCache
from aigw.cache.response_cache import CacheControl, CachedAnswer, ResponseCache

__all__ = ["CacheBackend", "CacheControl", "CachedAnswer", "MemoryCache", "RedisCache", "ResponseCache"]
