"""Cost control for one call: reserve its worst case before, settle its real cost after.

    reserve: worst case = prompt tokens (upper bound) x input price + output cap x output price,
             held in every budget that applies (global, key, user; daily and monthly) at once;
             refused with 429 `budget_exceeded` if any would pass its cap, or 400
             `request_cost_too_high` if it alone passes the per-request cap.
    settle:  the real cost from the answer's usage (the worst case when no usage came back),
             recorded in the budgets and queued for the spend ledger in the database.

The prompt bound counts UTF-8 bytes: a byte-level BPE token covers at least one byte, so a
prompt never has more tokens than bytes. When a budget applies and the request sets no output
cap, the gateway sets one (`reserve_output_tokens`) so the answer cannot cost more than what
was held: with caps set, spend never passes them, however many replicas and concurrent calls.

Ledger settles run in background tasks (the reservation already protects the cap, and the
answer need not wait for a Redis round trip); `close()` waits for them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aigw.context.bounds import output_cap, prompt_token_bound
from aigw.errors import InvalidRequestError, RateLimitError
from aigw.observability.metrics import GatewayMetrics
from aigw.observability.tracing import Trace
from aigw.policy.alerts import BudgetAlerts
from aigw.policy.budget import (
    BudgetExceeded,
    BudgetLedger,
    BudgetScope,
    Period,
    Reservation,
    period_end,
    usd_to_micros,
)
from aigw.policy.caller import Caller
from aigw.policy.config import PolicyConfig
from aigw.policy.keys import KeyRecord
from aigw.policy.pricing import ModelPrice, PriceTable, micros_to_usd
from aigw.store.database import Database
from aigw.store.spend import Spend, SpendWriter, period_starts, spend_by_key, spend_by_user
from aigw.types import AIRequest, ChatRequest, Usage

log = logging.getLogger("aigw.budget")
_WARN_EVERY_S = 30.0
SETTLE_WINDOW_S = 0.01  # settles wait this long to share a round trip; the hold keeps the cap safe meanwhile
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
    """What one call holds in the budgets until it is settled."""

    reservation: Reservation | None
    worst_micros: int
    settled: bool = False


def cap_output(request: ChatRequest, tokens: int) -> None:
    """Give the request an output cap it did not set, under the name its model family takes."""
    name = "max_completion_tokens" if request.model.lower().startswith(_REASONING_PREFIXES) else "max_tokens"
    choices = request.params.get("n")
    per_choice = tokens // choices if isinstance(choices, int) and choices > 1 else tokens
    request.params[name] = max(1, per_choice)


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
        self._tasks: set[asyncio.Task[None]] = set()
        self._settles: list[tuple[Reservation, int]] = []  # waiting for the next batch to the ledger
        self._flushing = False
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
        _add(found, "global", "daily", policy.budget_daily)
        _add(found, "global", "monthly", policy.budget_monthly)
        key = caller.key
        if key is not None:
            _add(found, f"key:{key.id}", "daily", key.budget_daily)
            _add(found, f"key:{key.id}", "monthly", key.budget_monthly)
            if key.user:
                _add(found, f"user:{key.user}", "daily", policy.budget_user_daily)
                _add(found, f"user:{key.user}", "monthly", policy.budget_user_monthly)
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
            return Hold(None, plan.worst_micros)
        with trace.span("budget", scopes=len(plan.scopes), worst_usd=float(plan.worst_usd)) as span:
            try:
                reservation = await self.ledger.reserve(plan.scopes, plan.worst_usd)
            except BudgetExceeded as exc:
                span.fail("budget_exceeded")
                raise self.refusal(exc) from None
            except Exception as exc:  # the ledger's store is away
                span.fail("ledger_unavailable")
                return self.unheld(exc, plan)
        return Hold(reservation, plan.worst_micros)

    def refusal(self, exc: BudgetExceeded) -> RateLimitError:
        """The answer to a call a budget refused; alerts and metrics told."""
        self.alerts.notify(exc.crossed)
        self.metrics.observe_budget_refusal(exc.scope.name.split(":", 1)[0] + ":" + exc.scope.period)
        return _refusal(exc)

    def unheld(self, exc: Exception, plan: BudgetPlan) -> Hold:
        """The budget store is away: admit without a hold, or refuse when the policy fails closed."""
        self.metrics.observe_policy_store_error("budget")
        self._warn("budget store unavailable", exc)
        if plan.scopes and self._policy().budget_fail_closed:
            raise RateLimitError(
                "Budgets cannot be checked right now and this gateway refuses unchecked calls; retry shortly",
                code="budget_unavailable",
                headers={"retry-after": "1"},
            )
        return Hold(None, plan.worst_micros)

    def take_settles(self, most: int) -> list[tuple[Reservation, int]]:
        """Up to `most` queued settles, for a caller that sends them to the ledger's store itself."""
        taken, self._settles = self._settles[:most], self._settles[most:]
        return taken

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
        A provider that is not billable (the local stub) costs nothing whatever the model is called."""
        if hold.settled:
            return Decimal(0)
        hold.settled = True
        if not billable:
            micros = 0
        else:
            micros = self.prices.cost_micros(model, usage) if usage is not None else hold.worst_micros
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
                )
            )
        if hold.reservation is not None:
            self._queue_settle(hold.reservation, micros)
        return cost

    def release(self, hold: Hold) -> None:
        """The call failed before the provider answered: nothing is spent."""
        if hold.settled:
            return
        hold.settled = True
        if hold.reservation is not None:
            self._queue_settle(hold.reservation, 0)

    async def live_usage(self) -> list[dict[str, Any]]:
        """The global budgets as the ledger counts them now: spent, plus what calls in flight hold."""
        shown: list[dict[str, Any]] = []
        for scope in self._capped_scopes([], "daily") + self._capped_scopes([], "monthly"):
            try:
                now = await self.ledger.usage(scope)
            except Exception as exc:  # the ledger's store is away: say so instead of failing the report
                shown.append({"scope": scope.name, "period": scope.period, "error": type(exc).__name__})
                continue
            shown.append(
                {
                    "scope": scope.name,
                    "period": now.period_key,
                    "spent_usd": now.spent_usd,
                    "reserved_usd": now.reserved_usd,
                    "cap_usd": now.cap_usd,
                    "remaining_usd": now.remaining_usd,
                }
            )
        return shown

    async def seed(self, database: Database, keys: Iterable[KeyRecord]) -> int:
        """Start the budgets from the spend already in the database (after a restart, a Redis flush,
        or a cap set mid-period). A scope that already counts spend is left alone. Returns how many
        scopes were seeded."""
        keys = list(keys)
        day, month = period_starts()
        seeded = 0
        periods: tuple[tuple[Period, dt.datetime], ...] = (("daily", day), ("monthly", month))
        for period, since in periods:
            scopes = self._capped_scopes(keys, period)
            if not scopes:
                continue
            by_key = {t.key_id: t.cost_usd for t in await spend_by_key(database, since)}
            by_user = await spend_by_user(database, since)
            for scope in scopes:
                kind, _, name = scope.name.partition(":")
                spent = {"global": sum(by_key.values(), Decimal(0)), "key": by_key.get(name), "user": by_user.get(name)}
                amount = spent[kind]
                if amount and await self.ledger.seed(scope, amount):
                    seeded += 1
        return seeded

    def _capped_scopes(self, keys: list[KeyRecord], period: Period) -> list[BudgetScope]:
        """Every scope with a cap in `period`: global, each key, each user that has a key."""
        policy = self._policy()
        daily = period == "daily"
        found: list[BudgetScope] = []
        _add(found, "global", period, policy.budget_daily if daily else policy.budget_monthly)
        user_cap = policy.budget_user_daily if daily else policy.budget_user_monthly
        users = set()
        for key in keys:
            _add(found, f"key:{key.id}", period, key.budget_daily if daily else key.budget_monthly)
            if user_cap is not None and key.user and key.user not in users:
                users.add(key.user)
                _add(found, f"user:{key.user}", period, user_cap)
        return found

    async def close(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.alerts.close()

    def _queue_settle(self, reservation: Reservation, micros: int) -> None:
        """Settles go to the ledger in batches (one Redis round trip each): whatever queued while
        the previous batch was on its way. The reservation keeps the cap safe meanwhile."""
        self._settles.append((reservation, micros))
        if not self._flushing:
            self._flushing = True
            task = asyncio.create_task(self._flush_settles())
            self._tasks.add(task)
            task.add_done_callback(self._done)

    async def _flush_settles(self) -> None:
        """One flusher at a time, after a short gather window so that one Redis round trip carries
        the settles of many calls. A batch that fails is not retried: its holds expire after the
        ledger's reservation TTL, and the spend ledger in the database still has every call."""
        try:
            await asyncio.sleep(SETTLE_WINDOW_S)
            while self._settles:
                batch, self._settles = self._settles, []
                self.alerts.notify(await self.ledger.settle_many(batch))
        finally:
            self._flushing = False

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._warn("budget settle failed", task.exception())

    def _warn(self, message: str, exc: BaseException | None) -> None:
        now = time.monotonic()
        if now - self._last_warning > _WARN_EVERY_S:
            self._last_warning = now
            log.warning(message, extra={"error": type(exc).__name__})


def _add(found: list[BudgetScope], name: str, period: Period, cap: float | Decimal | None) -> None:
    if cap is not None:
        found.append(BudgetScope(name, period, float(cap)))


def _refusal(exc: BudgetExceeded) -> RateLimitError:
    retry_after = max(1, int(period_end(exc.period_key) - time.time()))
    return RateLimitError(
        f"Budget {exc.scope.name} ({exc.scope.period}, cap ${exc.cap_usd:g}) would be exceeded: "
        f"${exc.committed_usd:.6f} spent or reserved, this call may cost up to ${exc.requested_usd:.6f}",
        code="budget_exceeded",
        headers={"retry-after": str(retry_after), "x-should-retry": "false"},  # OpenAI SDKs: do not retry
    )
