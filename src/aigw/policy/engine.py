"""The policy engine: one decision per request before any provider call.

    key may use the model (`check_model`, before routing)
    -> rate limits (per key, per user, per IP; requests and tokens) and the budget hold, together (`admit`)

The orchestrator admits in two stages, so that a caller over its rate limit costs nothing more: the
rate limits alone first, before any work on the body (`admit_limits`), then the budget hold once the
request is prepared (`admit(..., limits=())`). Each limit is counted once, in one of the stages.

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

import orjson

from aigw.context.bounds import output_cap
from aigw.errors import PermissionDeniedError, RateLimitError
from aigw.observability.tracing import Trace
from aigw.policy.admission import MAX_CARRIED_SETTLES, AdmissionStore, AdmissionUnavailable
from aigw.policy.budget import BudgetExceeded
from aigw.policy.caller import Caller
from aigw.policy.config import PolicyConfig
from aigw.policy.cost_control import BudgetPlan, CostControl, Hold
from aigw.policy.ratelimit import RateLimit, rate_limit_headers
from aigw.types import AIRequest, ChatRequest

log = logging.getLogger("aigw.policy")
_WARN_EVERY_S = 30.0
_NO_BUDGET = BudgetPlan((), 0)


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
        if request.variables:  # a template's values: counted before it is rendered (rate limits come first)
            chars += len(orjson.dumps(request.variables, default=str, option=orjson.OPT_NON_STR_KEYS))
        return chars // 4 + 4 * len(request.messages) + (output_cap(request) or 0)  # every choice's output
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

    async def admit(
        self,
        caller: Caller,
        request: AIRequest,
        models: Sequence[str],
        trace: Trace,
        *,
        limits: Sequence[RateLimit] | None = None,
    ) -> Admission:
        """Rate limits and the budget hold for a call that `models` (its routes) may serve, together;
        `limits` replaces the caller's (`limits_for`): `()` when `admit_limits` counted them already."""
        if limits is None:
            limits = self.limits_for(caller, request)  # before `plan`, which may give the request an output cap
        return await self._admit(limits, self.costs.plan(caller, request, models), request, trace)

    async def admit_limits(self, limits: Sequence[RateLimit], trace: Trace) -> dict[str, str]:
        """Rate limits alone (no budget hold): the answer's x-ratelimit-* headers, or RateLimitError."""
        return (await self._admit(limits, _NO_BUDGET, None, trace)).headers

    async def _admit(
        self, limits: Sequence[RateLimit], plan: BudgetPlan, request: AIRequest | None, trace: Trace
    ) -> Admission:
        if not limits and not plan.scopes:
            return Admission(Hold(None, plan.worst_micros, request))
        carried = MAX_CARRIED_SETTLES if self.store.carries_settles else 0
        with trace.span("admission", limits=len(limits), scopes=len(plan.scopes)) as span:
            try:
                with self.costs.carried_settles(carried) as settles:  # put back unless the store answered
                    admitted = await self.store.admit(limits, plan.scopes, plan.worst_usd, settles)
            except BudgetExceeded as exc:
                span.fail("budget_exceeded")
                raise self.costs.refusal(exc) from None
            except AdmissionUnavailable as exc:
                span.fail("store_unavailable")
                if plan.scopes:
                    assert request is not None  # budgets are planned for a request
                    return Admission(self.costs.unheld(exc, plan, request))  # counts it; refuses if fail closed
                self.costs.metrics.observe_policy_store_error("ratelimit")
                self._warn(exc)
                return Admission(Hold(None, plan.worst_micros, request))
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
        return Admission(Hold(admitted.reservation, plan.worst_micros, request), headers)

    def limits_for(self, caller: Caller, request: AIRequest) -> list[RateLimit]:
        return [*self.request_limits(caller), *self.token_limits(caller, request)]

    def request_limits(self, caller: Caller) -> list[RateLimit]:
        """The limits on how many requests (per key, per user, per IP): known before the body is read."""
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
        return limits

    def token_limits(self, caller: Caller, request: AIRequest) -> list[RateLimit]:
        """The key's tokens-per-minute limit, at the request's estimate (`estimate_tokens`)."""
        key = caller.key
        if key is None or not key.tpm:
            return []
        return [RateLimit(f"key:{key.id}:tpm", key.tpm, cost=min(estimate_tokens(request), key.tpm))]

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last_warning > _WARN_EVERY_S:
            self._last_warning = now
            cause = type(exc.__cause__).__name__
            log.warning("rate limit and budget store unavailable; admitting without limits", extra={"error": cause})
