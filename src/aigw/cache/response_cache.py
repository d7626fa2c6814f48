"""What the response cache keeps, under which key, and for how long.

Cached, exact match only:
    chat completions with `temperature: 0` (not streamed, one choice): the same prompt, model and
        parameters give the same answer; the key is taken after templates and PII masking, so the
        cache never holds the masked values and an answer restored for one caller is never served
        to another;
    embeddings: deterministic for a model and input;
    task answers (see `tasks.cached`): for one version of the collection, and only complete ones
        (served by the first path, with every LLM step applied), so an answer degraded by an
        outage is not served after it.
Chat and embeddings are cached per API key unless the policy says `cache_scope: global`.
A caller opts out per key (`settings.cache: false`) or per request (`Cache-Control: no-cache`
reads nothing and stores the fresh answer; `no-store` does neither). Hits and misses are counted
in `aigw_cache_requests_total{kind, result}`; answers say `x-aigw-cache: hit|miss|bypass`.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from aigw.cache.backends import CacheBackend
from aigw.observability.metrics import GatewayMetrics
from aigw.types import AIRequest, ChatRequest

KEY_PREFIX = "aigw:cache:v1:"
CACHE_HEADER = "x-aigw-cache"
_UNKEYED_PARAMS = frozenset({"user", "stream_options", "metadata", "store"})  # do not change the answer


@dataclass(frozen=True, slots=True)
class CacheControl:
    """What one request allows: read a cached answer, store its own."""

    read: bool = True
    write: bool = True

    @classmethod
    def from_header(cls, value: str | None) -> CacheControl:
        directives = {d.strip().lower() for d in (value or "").split(",")}
        if "no-store" in directives:
            return cls(read=False, write=False)
        if "no-cache" in directives:
            return cls(read=False, write=True)
        return cls()


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    body: dict[str, Any]
    meta: dict[str, Any]
    age_s: float


@dataclass(frozen=True, slots=True)
class CacheSettings:
    enabled: bool = True
    ttl_s: float = 3600.0
    scope: str = "key"  # "key": each API key has its own chat and embeddings entries; "global": shared


class ResponseCache:
    def __init__(
        self,
        backend: CacheBackend,
        metrics: GatewayMetrics,
        settings: Callable[[], CacheSettings] = CacheSettings,
    ) -> None:
        self.backend = backend
        self.metrics = metrics
        self._settings = settings
        self._writes: set[asyncio.Task[None]] = set()

    @property
    def enabled(self) -> bool:
        return self._settings().enabled

    def request_key(self, request: AIRequest, scope_id: str) -> str | None:
        """The key of a cacheable chat or embeddings request, or None when it may not be cached."""
        settings = self._settings()
        if not settings.enabled:
            return None
        if isinstance(request, ChatRequest) and not _deterministic(request):
            return None
        params = {k: v for k, v in request.params.items() if k not in _UNKEYED_PARAMS}
        payload: dict[str, Any] = {"kind": request.kind.value, "model": request.model, "params": params}
        if isinstance(request, ChatRequest):
            payload["messages"] = request.messages
        else:
            payload["input"] = request.input
        if settings.scope != "global":
            payload["scope"] = scope_id
        return make_key(payload)

    async def lookup(self, key: str, kind: str) -> CachedAnswer | None:
        raw = await self.backend.get(key)
        if raw is None:
            self.metrics.observe_cache(kind, "miss")
            return None
        try:
            stored = orjson.loads(raw)
            answer = CachedAnswer(stored["body"], stored.get("meta") or {}, max(0.0, time.time() - stored["at"]))
        except (orjson.JSONDecodeError, KeyError, TypeError):
            self.metrics.observe_cache(kind, "miss")
            return None
        self.metrics.observe_cache(kind, "hit")
        return answer

    def store(self, key: str, body: Mapping[str, Any], meta: Mapping[str, Any] | None = None) -> None:
        """Keep `body` for the TTL; written in the background, so the answer does not wait for it."""
        value = orjson.dumps({"body": body, "meta": meta or {}, "at": time.time()})
        task = asyncio.create_task(self.backend.set(key, value, self._settings().ttl_s))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    def bypassed(self, kind: str) -> None:
        self.metrics.observe_cache(kind, "bypass")

    async def close(self) -> None:
        await asyncio.gather(*self._writes, return_exceptions=True)


def make_key(payload: Mapping[str, Any]) -> str | None:
    """A fixed-length key for `payload` (its canonical JSON: keys sorted), or None when it cannot be
    written as JSON (nested past orjson's 254 levels): such a request is simply not cached."""
    try:
        canonical = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        return None
    return KEY_PREFIX + hashlib.blake2b(canonical, digest_size=20).hexdigest()


def _deterministic(request: ChatRequest) -> bool:
    params = request.params
    temperature = params.get("temperature")
    if request.stream or isinstance(temperature, bool) or temperature != 0:
        return False
    return params.get("n") in (None, 1)
