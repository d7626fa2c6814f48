"""The response cache stage of a call: its key (taken after templates and PII masking, so it holds
no masked value), and a hit turned into the caller's answer. A hit costs no budget (cost 0) but
was counted against the caller's rate limits like any call: finding it took the prompt's masking,
and the limits bound the work the gateway does for a caller."""

from __future__ import annotations

from decimal import Decimal

from aigw.cache.response_cache import CACHE_HEADER, CachedAnswer, ResponseCache
from aigw.context.pii import Masker
from aigw.context.pii.restore import restore_answer
from aigw.normalize.metadata import normalize_body
from aigw.observability.tracing import Trace
from aigw.orchestration.accounting import COST_HEADER
from aigw.policy.caller import Caller
from aigw.types import AIRequest, AIResponse, CallInfo, Usage


class CachedAnswers:
    def __init__(self, cache: ResponseCache | None) -> None:
        self.cache = cache

    def key(self, request: AIRequest, caller: Caller, info: CallInfo) -> str | None:
        """The request's response-cache key, or None when it is not cached (see `cache.response_cache`)."""
        if self.cache is None:
            return None
        key = self.cache.request_key(request, caller.key_id)
        if key is None:
            return None
        settings = caller.key.settings if caller.key is not None else {}
        if settings.get("cache") is False or not (info.cache_read or info.cache_write):
            self.cache.bypassed(request.kind.value)
            info.headers[CACHE_HEADER] = "bypass"
            return None
        return key

    async def lookup(
        self, key: str, request: AIRequest, masker: Masker | None, trace: Trace, info: CallInfo
    ) -> AIResponse | None:
        """The cached answer, restored for this caller, or None (not cached, or the caller reads none)."""
        if self.cache is None or not info.cache_read:
            return None
        hit = await self.cache.lookup(key, request.kind.value)
        return None if hit is None else _answer(hit, request, masker, trace, info)

    def store(self, key: str, body: dict[str, object], info: CallInfo) -> None:
        """Keep a fresh answer (masked, as the provider saw it: restored per caller on a hit)."""
        info.headers[CACHE_HEADER] = "miss"
        if info.cache_write and self.cache is not None:
            self.cache.store(key, body, {"provider": info.provider, "deployment": info.deployment})


def _answer(hit: CachedAnswer, request: AIRequest, masker: Masker | None, trace: Trace, info: CallInfo) -> AIResponse:
    """A cached answer: no provider call, no budget spent (cost 0), `age` says how old it is."""
    info.provider = hit.meta.get("provider")
    info.deployment = hit.meta.get("deployment")
    info.model = str(hit.body.get("model") or request.model)
    info.request_id = trace.request_id
    info.cost_usd = Decimal(0)
    info.headers.update({COST_HEADER: "0", CACHE_HEADER: "hit", "age": str(int(hit.age_s))})
    trace.attrs["cache"] = "hit"
    body = normalize_body(hit.body, request, info)
    if masker is not None:
        body = restore_answer(body, masker)
    return AIResponse(body=body, usage=Usage.from_openai(body.get("usage")), model=info.model)
