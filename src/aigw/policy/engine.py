"""The policy engine: one decision per request before any provider call.

    key may use the model (`check_model`, before routing)
    -> rate limits (per key, per user, per IP; requests and tokens) and the budget hold, together (`admit`)

Every check reads in-memory state (the key cache, the policy snapshot) plus, for shared limits and
budgets, one Redis round trip (see `admission`). A store that is down fails open for rate limits,
logged and counted: refusing all traffic because the limiter's store blinked would turn a
protection into an outage. Budgets fail open too unless the policy says `budget_fail_closed`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aigw.errors import PermissionDeniedError, RateLimitError
from aigw.observability.tracing import Trace
from aigw.policy.admission import MAX_CARRIED_SETTLES, AdmissionStore, AdmissionUnavailable
from aigw.policy.budget import BudgetExceeded
from aigw.policy.caller import Caller
from aigw.policy.config import PolicyConfig
from aigw.policy.cost_control import CostControl, Hold
from aigw.policy.ratelimit import RateLimit, rate_limit_headers
from aigw.types import AIRequest, ChatRequest

log = logging.getLogger("aigw.policy")
_WARN_EVERY_S = 30.0


@dataclass(slots=True)
class Admission:
    """What the request was admitted with: headers for the answer (x-ratelimit-*) and its budget hold."""

    hold: Hold
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
    def __init__(self, store: AdmissionStore, policy: Callable[[], PolicyConfig], costs: CostControl) -> None:
        self.store = store
        self.costs = costs
        self._policy = policy
        self._last_warning = 0.0

    def config(self) -> PolicyConfig:
        """The policy as this replica sees it now."""
        return self._policy()

    def check_model(self, caller: Caller, request: AIRequest) -> None:
        if caller.key is not None and not caller.key.allows_model(request.model):
            raise PermissionDeniedError(
                f"This key may not use the model '{request.model}'", code="model_not_allowed", param="model"
            )

    async def admit(self, caller: Caller, request: AIRequest, models: Sequence[str], trace: Trace) -> Admission:
        """Rate limits and the budget hold for a call that `models` (its routes) may serve."""
        limits = self.limits_for(caller, request)  # before `plan`, which may give the request an output cap
        plan = self.costs.plan(caller, request, models)
        if not limits and not plan.scopes:
            return Admission(Hold(None, plan.worst_micros))
        settles = self.costs.take_settles(MAX_CARRIED_SETTLES) if self.store.carries_settles else []
        with trace.span("admission", limits=len(limits), scopes=len(plan.scopes)) as span:
            try:
                admitted = await self.store.admit(limits, plan.scopes, plan.worst_usd, settles)
            except BudgetExceeded as exc:
                span.fail("budget_exceeded")
                raise self.costs.refusal(exc) from None
            except AdmissionUnavailable as exc:
                span.fail("store_unavailable")
                if plan.scopes:
                    return Admission(self.costs.unheld(exc, plan))  # counts it; refuses if budgets fail closed
                self.costs.metrics.observe_policy_store_error("ratelimit")
                self._warn(exc)
                return Admission(Hold(None, plan.worst_micros))
            self.costs.alerts.notify(admitted.crossed)
            decision = admitted.decision
            headers = rate_limit_headers(decision)
            if limits:
                span.set(allowed=decision.allowed, limit=decision.limit.name.rsplit(":", 1)[-1])
        if not decision.allowed:
            raise RateLimitError(
                f"Rate limit reached ({decision.limit.limit} per {decision.limit.window:g}s); "
                f"retry after {decision.retry_after:.1f}s",
                headers=headers,
            )
        return Admission(Hold(admitted.reservation, plan.worst_micros), headers)

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
            cause = type(exc.__cause__).__name__
            log.warning("rate limit and budget store unavailable; admitting without limits", extra={"error": cause})
