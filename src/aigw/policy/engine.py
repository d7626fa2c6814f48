"""The policy engine: one decision per request before any provider call.

    key may use the model -> rate limits (per key, per user, per IP; requests and tokens)

Every check reads in-memory state (the key cache, the policy snapshot) plus, for shared limits,
one Redis round trip. A limiter that is down fails open, logged and counted: refusing all
traffic because the limiter's store blinked would turn a protection into an outage.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aigw.errors import PermissionDeniedError, RateLimitError
from aigw.observability.tracing import Trace
from aigw.policy.caller import Caller
from aigw.policy.config import PolicyConfig
from aigw.policy.ratelimit import RateLimit, RateLimiter, RateLimiterUnavailable, rate_limit_headers
from aigw.types import AIRequest, ChatRequest

log = logging.getLogger("aigw.policy")
_WARN_EVERY_S = 30.0


@dataclass(slots=True)
class Admission:
    """What the request was admitted with: headers for the answer (x-ratelimit-*)."""

    headers: dict[str, str] = field(default_factory=dict)


def estimate_tokens(request: AIRequest) -> int:
    """Tokens a request may use, for tokens-per-minute limits: prompt (≈ chars/4) plus its output cap."""
    if isinstance(request, ChatRequest):
        chars = 0
        for message in request.messages:
            content = message.get("content")
            if isinstance(content, str):
                chars += len(content)
            elif isinstance(content, list):
                chars += sum(len(p.get("text", "")) for p in content if isinstance(p, dict))
        cap = request.params.get("max_completion_tokens") or request.params.get("max_tokens") or 0
        return chars // 4 + 4 * len(request.messages) + (cap if isinstance(cap, int) else 0)
    items = request.input if isinstance(request.input, list) else [request.input]
    return sum(len(item) // 4 + 1 if isinstance(item, str) else len(item) for item in items)


class PolicyEngine:
    def __init__(self, limiter: RateLimiter, policy: Callable[[], PolicyConfig]) -> None:
        self.limiter = limiter
        self._policy = policy
        self._last_warning = 0.0

    async def admit(self, caller: Caller, request: AIRequest, trace: Trace) -> Admission:
        if caller.key is not None and not caller.key.allows_model(request.model):
            raise PermissionDeniedError(
                f"This key may not use the model '{request.model}'", code="model_not_allowed", param="model"
            )
        limits = self.limits_for(caller, request)
        if not limits:
            return Admission()
        with trace.span("rate_limit", limits=len(limits)) as span:
            try:
                decision = await self.limiter.check(limits)
            except RateLimiterUnavailable as exc:
                span.fail("limiter_unavailable")
                self._warn(exc)
                return Admission()
            headers = rate_limit_headers(decision)
            span.set(allowed=decision.allowed, limit=decision.limit.name.rsplit(":", 1)[-1])
        if not decision.allowed:
            raise RateLimitError(
                f"Rate limit reached ({decision.limit.limit} per {decision.limit.window:g}s); "
                f"retry after {decision.retry_after:.1f}s",
                headers=headers,
            )
        return Admission(headers=headers)

    def limits_for(self, caller: Caller, request: AIRequest) -> list[RateLimit]:
        policy = self._policy()
        limits: list[RateLimit] = []
        key = caller.key
        if key is not None and key.rpm:
            limits.append(RateLimit(f"key:{key.id}:rpm", key.rpm))
        if policy.rate_limit_per_user and not caller.is_admin:
            identity = f"user:{key.user}" if key is not None and key.user else f"key:{caller.key_id}"
            limits.append(RateLimit(f"{identity}:user-rpm", policy.rate_limit_per_user))
        if policy.rate_limit_per_ip and caller.ip:
            limits.append(RateLimit(f"ip:{caller.ip}:rpm", policy.rate_limit_per_ip))
        if key is not None and key.tpm:
            limits.append(RateLimit(f"key:{key.id}:tpm", key.tpm, cost=min(estimate_tokens(request), key.tpm)))
        return limits

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last_warning > _WARN_EVERY_S:
            self._last_warning = now
            log.warning("rate limiter unavailable; admitting without limits", extra={"error": repr(exc.__cause__)})
