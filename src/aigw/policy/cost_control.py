"""Cost control for one call: reserve its worst case before, settle its real cost after.

    reserve: worst case = prompt tokens (upper bound) x input price + output cap x output price,
             held in every budget that applies (global, key, user; daily and monthly) at once;
             refused with 429 `budget_exceeded` if any would pass its cap, or 400
             `request_cost_too_high` if it alone passes the per-request cap.
    settle:  the real cost from the answer's usage, recorded in the budgets and queued for the
             spend ledger in the database. Without usage (a stream cut before its usage chunk, a
             provider that sends none) the cost is estimated: the prompt bound plus the bytes the
             answer wrote (`context.bounds`), and never less than the worst case held, so a
             budget still counts what it held. The spend row says `estimated`.

The prompt bound counts UTF-8 bytes: a byte-level BPE token covers at least one byte, so a
prompt never has more tokens than bytes. When a budget applies and the request sets no output
cap, the gateway sets one (`reserve_output_tokens`) so the answer cannot cost more than what
was held: with caps set, spend never passes them, however many replicas and concurrent calls.

Ledger settles go through a queue and a background flusher (`policy.settles`): the reservation
already protects the cap, and the answer need not wait for a Redis round trip. They are retried
until they land; `close()` waits for them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aigw.context.bounds import OUTPUT_CAP_PARAMS, answer_output_bound, choice_count, output_cap, prompt_token_bound
from aigw.errors import InvalidRequestError, RateLimitError
from aigw.observability.metrics import GatewayMetrics
from aigw.observability.tracing import Trace
from aigw.policy.alerts import BudgetAlerts
from aigw.policy.budget import BudgetExceeded, BudgetLedger, BudgetScope, Reservation, period_end, usd_to_micros
from aigw.policy.budget_state import add_scope, live_usage, seed_budgets
from aigw.policy.caller import Caller
from aigw.policy.config import PolicyConfig
from aigw.policy.keys import KeyRecord
from aigw.policy.pricing import ModelPrice, PriceTable, micros_to_usd
from aigw.policy.settles import Settle, SettleQueue
from aigw.store.database import Database
from aigw.store.spend import Spend, SpendWriter
from aigw.types import AIRequest, ChatRequest, Usage

__all__ = ["BudgetPlan", "CostControl", "Hold", "cap_output", "output_cap", "prompt_token_bound"]

log = logging.getLogger("aigw.budget")
_WARN_EVERY_S = 30.0
_REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")  # models that take max_completion_tokens, not max_tokens


@dataclass(frozen=True, slots=True)
class BudgetPlan:
    """The budgets a call must hold money in, and how much: its worst case in micro-dollars."""

    scopes: tuple[BudgetScope, ...]
    worst_micros: int

    @property
    def worst_usd(self) -> Decimal:
        return micros_to_usd(self.worst_micros)


@dataclass(slots=True)
class Hold:
    """What one call holds in the budgets until it is settled, and what it needs for an estimate
    when no usage comes back: the request, and the bytes its answer wrote (`observe`)."""

    reservation: Reservation | None
    worst_micros: int
    request: AIRequest | None = field(default=None, compare=False)
    written_bytes: int = field(default=0, compare=False)
    settled: bool = False

    def observe(self, answer: dict[str, Any]) -> None:
        """Count what an answer or a stream chunk wrote (a few dictionary reads per chunk)."""
        self.written_bytes += answer_output_bound(answer)

    def estimated_usage(self) -> Usage | None:
        """Upper bounds on the tokens used, from the request and what was seen of the answer."""
        if self.request is None:
            return None
        prompt = prompt_token_bound(self.request)
        cap = output_cap(self.request)
        completion = self.written_bytes if cap is None else min(cap, self.written_bytes)
        return Usage(prompt, completion, prompt + completion)


def cap_output(request: ChatRequest, tokens: int) -> None:
    """Give the request an output cap it did not set, under the name its model family takes. Any
    other value under either name (one the bounds cannot read) goes: the provider sees this cap only."""
    name = "max_completion_tokens" if request.model.lower().startswith(_REASONING_PREFIXES) else "max_tokens"
    for other in OUTPUT_CAP_PARAMS:
        request.params.pop(other, None)
    request.params[name] = max(1, tokens // choice_count(request))


class CostControl:
    def __init__(
        self,
        ledger: BudgetLedger,
        policy: Callable[[], PolicyConfig],
        metrics: GatewayMetrics,
        alerts: BudgetAlerts,
        spend: SpendWriter | None = None,
    ) -> None:
        self.ledger = ledger
        self._policy = policy
        self.metrics = metrics
        self.alerts = alerts
        self.spend = spend
        self.settles = SettleQueue(ledger, alerts, self._settle_failed)
        self._prices_for: dict[str, dict[str, float]] | None = None
        self._prices = PriceTable.load()
        self._last_warning = 0.0

    # Prices ---------------------------------------------------------------------------------------

    @property
    def prices(self) -> PriceTable:
        """The shipped table with the policy's `prices` on top, rebuilt only when those change."""
        overrides = self._policy().prices
        if overrides != self._prices_for:
            table = {name: ModelPrice.from_dict(raw) for name, raw in overrides.items()}
            self._prices = PriceTable.load(table)
            self._prices_for = overrides
        return self._prices

    # Budgets that apply ---------------------------------------------------------------------------

    def scopes(self, caller: Caller) -> list[BudgetScope]:
        policy = self._policy()
        found: list[BudgetScope] = []
        add_scope(found, "global", "daily", policy.budget_daily)
        add_scope(found, "global", "monthly", policy.budget_monthly)
        key = caller.key
        if key is not None:
            add_scope(found, f"key:{key.id}", "daily", key.budget_daily)
            add_scope(found, f"key:{key.id}", "monthly", key.budget_monthly)
            if key.user:
                add_scope(found, f"user:{key.user}", "daily", policy.budget_user_daily)
                add_scope(found, f"user:{key.user}", "monthly", policy.budget_user_monthly)
        return found

    # Reserve / settle -----------------------------------------------------------------------------

    def plan(self, caller: Caller, request: AIRequest, models: Iterable[str]) -> BudgetPlan:
        """The budgets that apply and the worst case to hold in them: that of the most expensive of
        `models` (the routes that may serve). Sets an output cap on a request that has none, and
        refuses (400 `request_cost_too_high`) one that alone passes the per-request cap."""
        policy = self._policy()
        scopes = self.scopes(caller)
        cap = policy.max_request_cost
        if not scopes and cap is None:
            return BudgetPlan((), 0)
        output = output_cap(request)
        if output is None:
            assert isinstance(request, ChatRequest)
            cap_output(request, policy.reserve_output_tokens)
            output = output_cap(request) or policy.reserve_output_tokens
        prompt = prompt_token_bound(request)
        prices = self.prices
        worst = max((prices.worst_case_micros(m, prompt, output) for m in models), default=0)
        if cap is not None and worst > usd_to_micros(cap, round_up=False):
            raise InvalidRequestError(
                f"This request may cost up to ${micros_to_usd(worst)}, more than the per-request cap of ${cap:g}; "
                "send a shorter prompt or a lower max_tokens",
                code="request_cost_too_high",
            )
        return BudgetPlan(tuple(scopes), worst)

    async def reserve(self, caller: Caller, request: AIRequest, models: Iterable[str], trace: Trace) -> Hold:
        """Hold the worst case of the most expensive of `models` in every budget that applies (see `plan`)."""
        plan = self.plan(caller, request, models)
        if not plan.scopes:
            return Hold(None, plan.worst_micros, request)
        with trace.span("budget", scopes=len(plan.scopes), worst_usd=float(plan.worst_usd)) as span:
            try:
                reservation = await self.ledger.reserve(plan.scopes, plan.worst_usd)
            except BudgetExceeded as exc:
                span.fail("budget_exceeded")
                raise self.refusal(exc) from None
            except Exception as exc:  # the ledger's store is away
                span.fail("ledger_unavailable")
                return self.unheld(exc, plan, request)
        return Hold(reservation, plan.worst_micros, request)

    def refusal(self, exc: BudgetExceeded) -> RateLimitError:
        """The answer to a call a budget refused; alerts and metrics told."""
        self.alerts.notify(exc.crossed)
        self.metrics.observe_budget_refusal(exc.scope.name.split(":", 1)[0] + ":" + exc.scope.period)
        return _refusal(exc)

    def unheld(self, exc: Exception, plan: BudgetPlan, request: AIRequest) -> Hold:
        """The budget store is away: admit without a hold, or refuse when the policy fails closed."""
        self.metrics.observe_policy_store_error("budget")
        self._warn("budget store unavailable", exc)
        if plan.scopes and self._policy().budget_fail_closed:
            raise RateLimitError(
                "Budgets cannot be checked right now and this gateway refuses unchecked calls; retry shortly",
                code="budget_unavailable",
                headers={"retry-after": "1"},
            )
        return Hold(None, plan.worst_micros, request)

    def carried_settles(self, most: int) -> contextlib.AbstractContextManager[list[Settle]]:
        """Up to `most` queued settles for an admission that sends them itself (see `SettleQueue.carried`)."""
        return self.settles.carried(most)

    def settle(
        self,
        hold: Hold,
        caller: Caller,
        request_id: str,
        provider: str,
        model: str,
        usage: Usage | None,
        billable: bool = True,
    ) -> Decimal:
        """Price the call, record it, and settle its hold in the background. Returns the cost in USD.
        A provider that is not billable (the local stub) costs nothing whatever the model is called.
        Without usage the cost is estimated (see the module's docstring)."""
        if hold.settled:
            return Decimal(0)
        hold.settled = True
        estimated = False
        if not billable:
            micros = 0
        elif usage is not None:
            micros = self.prices.cost_micros(model, usage)
        else:
            usage, estimated = hold.estimated_usage(), True
            guess = self.prices.cost_micros(model, usage) if usage is not None else 0
            micros = max(guess, hold.worst_micros)
        cost = micros_to_usd(micros)
        self.metrics.observe_cost(provider, model, float(cost))
        if self.spend is not None and (micros or usage is not None):
            self.spend.record(
                Spend(
                    ts=dt.datetime.now(dt.UTC),
                    request_id=request_id,
                    key_id=caller.key.id if caller.key is not None else None,
                    user=caller.user,
                    provider=provider,
                    model=model,
                    prompt_tokens=usage.prompt_tokens if usage else 0,
                    completion_tokens=usage.completion_tokens if usage else 0,
                    cost_usd=cost,
                    estimated=estimated,
                )
            )
        if hold.reservation is not None:
            self.settles.put(hold.reservation, micros)
        return cost

    def release(self, hold: Hold) -> None:
        """The call failed before the provider answered: nothing is spent."""
        if hold.settled:
            return
        hold.settled = True
        if hold.reservation is not None:
            self.settles.put(hold.reservation, 0)

    async def live_usage(self) -> list[dict[str, Any]]:
        """The global budgets as the ledger counts them now: spent, plus what calls in flight hold."""
        return await live_usage(self.ledger, self._policy())

    async def seed(self, database: Database, keys: Iterable[KeyRecord]) -> int:
        """Start the budgets from the spend already in the database (see `budget_state.seed_budgets`)."""
        return await seed_budgets(self.ledger, self._policy(), database, keys)

    async def close(self) -> None:
        await self.settles.close()
        await self.alerts.close()

    def _settle_failed(self, exc: BaseException) -> None:
        self.metrics.observe_policy_store_error("budget")
        self._warn("budget settles failed; retrying", exc)

    def _warn(self, message: str, exc: BaseException | None) -> None:
        now = time.monotonic()
        if now - self._last_warning > _WARN_EVERY_S:
            self._last_warning = now
            log.warning(message, extra={"error": type(exc).__name__})


def _refusal(exc: BudgetExceeded) -> RateLimitError:
    retry_after = max(1, int(period_end(exc.period_key) - time.time()))
    return RateLimitError(
        f"Budget {exc.scope.name} ({exc.scope.period}, cap ${exc.cap_usd:g}) would be exceeded: "
        f"${exc.committed_usd:.6f} spent or reserved, this call may cost up to ${exc.requested_usd:.6f}",
        code="budget_exceeded",
        headers={"retry-after": str(retry_after), "x-should-retry": "false"},  # OpenAI SDKs: do not retry
    )
