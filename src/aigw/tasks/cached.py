"""Task answers through the response cache: the same task, request and version of the collection
give the cached answer. Only complete answers are kept: served by the first path tried, with every
LLM step it asked for applied; an answer degraded by an outage is never served after it."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aigw.cache.response_cache import CACHE_HEADER, ResponseCache, make_key
from aigw.tasks.search import SearchOutcome, task_answer

_LLM_STEPS = ("rerank", "explanations")


@dataclasses.dataclass(slots=True)
class TaskAnswer:
    body: dict[str, Any]
    cache: str  # "hit", "miss" or "bypass"
    served_by: str
    rate_limits: dict[str, str] = dataclasses.field(default_factory=dict)  # x-ratelimit-* of the task call

    @property
    def headers(self) -> dict[str, str]:
        return {**self.rate_limits, "x-aigw-served-by": self.served_by, CACHE_HEADER: self.cache}


class TaskCache:
    def __init__(self, cache: ResponseCache, versions: Callable[[], dict[str, int]]) -> None:
        self.cache = cache
        self._versions = versions

    async def answer(
        self,
        task: str,
        request: Any,  # the task's request dataclass (with a `collection`)
        work: Callable[[], Awaitable[SearchOutcome]],
        *,
        read: bool = True,
        write: bool = True,
    ) -> TaskAnswer:
        """The cached answer when there is one (and `read`), else `work()`'s, stored when complete (and `write`)."""
        started = time.perf_counter()
        key = self._key(task, request)
        if key is not None and not (read or write):
            self.cache.bypassed("task")
            key = None
        if key is not None and read:
            hit = await self.cache.lookup(key, "task")
            if hit is not None:
                body = {**hit.body, "took_ms": round((time.perf_counter() - started) * 1000, 2)}
                return TaskAnswer(body, "hit", str(body.get("served_by", "")))
        outcome = await work()
        body = task_answer(task, outcome, started)
        if key is not None and write and _complete(body):
            self.cache.store(key, body)
        return TaskAnswer(body, "miss" if key is not None else "bypass", outcome.served_by)

    def _key(self, task: str, request: Any) -> str | None:
        if not self.cache.enabled:
            return None
        version = self._versions().get(request.collection)
        if version is None:
            return None  # no such collection (yet): the work says so
        return make_key({"kind": "task", "task": task, "version": version, "request": dataclasses.asdict(request)})


def _complete(body: dict[str, Any]) -> bool:
    if body.get("fallbacks"):
        return False
    if body.get("intent", {}).get("reason") is not None:
        return False
    return all(body[step].get("applied") for step in _LLM_STEPS if step in body)
