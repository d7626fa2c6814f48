"""Admission: a request's rate limits and its budget hold, decided together.

`admit(limits, scopes, amount_usd, settles)` either admits the request, recording it in every
rate limit and holding `amount_usd` in every budget scope, or refuses it and records nothing:
a request refused by a rate limit holds no money, one refused by a budget uses up no rate limit.

- `RedisAdmission`: one Lua script, so one round trip and atomic across every replica. It also
  carries the budget settles queued since the last call (`settles`), so under steady traffic
  settling costs no round trip of its own.
- `LocalAdmission`: any limiter and ledger (in-process ones in a single process): the budget is
  held first, then the limits checked; a rate-limit refusal releases the hold at once.

A store that cannot answer raises `AdmissionUnavailable`; the policy engine decides what then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from aigw.policy.budget import BudgetExceeded, BudgetLedger, BudgetScope, Reservation, ThresholdCrossed
from aigw.policy.budget_redis import BUDGET_LUA, RedisBudgetLedger
from aigw.policy.ratelimit import (
    NO_LIMITS,
    RATE_LIMIT_LUA,
    RateLimit,
    RateLimitDecision,
    RateLimiter,
    RateLimiterUnavailable,
    RedisRateLimiter,
)

Arg = str | int | bytes  # a script's key or argument
MAX_CARRIED_SETTLES = 64  # settles one admission carries at most, so one script stays short


class AdmissionUnavailable(Exception):
    """The store of rate limits and budgets could not answer (the cause is chained)."""


@dataclass(frozen=True, slots=True)
class Admitted:
    """The rate-limit decision; when allowed, the budget reservation (None without scopes)."""

    decision: RateLimitDecision
    reservation: Reservation | None = None
    crossed: tuple[ThresholdCrossed, ...] = ()  # alert thresholds the carried settles reached


class AdmissionStore(Protocol):
    carries_settles: bool  # whether `admit` settles the `settles` given (else they go to the ledger as usual)

    async def admit(
        self,
        limits: Sequence[RateLimit],
        scopes: Sequence[BudgetScope],
        amount_usd: Decimal,
        settles: Sequence[tuple[Reservation, int]] = (),
    ) -> Admitted:
        """Admit against every limit and scope or against none; raises BudgetExceeded or AdmissionUnavailable."""
        ...


class LocalAdmission:
    carries_settles = False

    def __init__(self, limiter: RateLimiter, ledger: BudgetLedger) -> None:
        self.limiter = limiter
        self.ledger = ledger

    async def admit(
        self,
        limits: Sequence[RateLimit],
        scopes: Sequence[BudgetScope],
        amount_usd: Decimal,
        settles: Sequence[tuple[Reservation, int]] = (),
    ) -> Admitted:
        reservation = None
        if scopes:
            try:
                reservation = await self.ledger.reserve(scopes, amount_usd)
            except BudgetExceeded:
                raise
            except Exception as exc:
                raise AdmissionUnavailable(f"budget store unavailable: {exc!r}") from exc
        try:
            decision = await self.limiter.check(limits)
        except RateLimiterUnavailable as exc:
            if reservation is not None:
                await self.ledger.release(reservation)
            raise AdmissionUnavailable(str(exc)) from exc.__cause__
        if not decision.allowed and reservation is not None:
            await self.ledger.release(reservation)
            reservation = None
        return Admitted(decision, reservation)


# ARGV: tag, limit count, scope count, settle count, then the limits' arguments (3 each), the reservation's
# (when scopes), the settles' (see budget_settle_batch). KEYS in the same order. Settles go first (they free
# money for this hold); the hold and the limits are recorded only if both have room.
# Returns: the length of the rate-limit reply then it, the length of the budget reply ({} when not checked,
# {1} held, else the refusal) then it, then budget_settle_batch's reply.
_ADMIT_LUA = (
    "if redis.replicate_commands then redis.replicate_commands() end\n"
    + RATE_LIMIT_LUA
    + BUDGET_LUA
    + """
local tag, nl, ns, nt = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local bk0, ba0 = 2 * nl, 4 + 3 * nl
local sk0, sa0 = bk0, ba0
if ns > 0 then sk0, sa0 = bk0 + 2 * ns + 1, ba0 + 6 + 2 * ns end
local settled = budget_settle_batch(sk0, sa0, nt)
local now = rl_now()
local st = rate_limits_check(0, 4, nl, now)
local admit, budget = st.allowed == 1, {}
if admit and ns > 0 then
  local refused = budget_check(bk0, ba0, ns)
  if refused then
    admit, budget = false, refused
  else
    budget_hold(bk0, ba0, ns)
    budget = {1}
  end
end
local limits = rate_limits_reply(0, 4, nl, now, tag, st, admit)
local reply = {#limits}
for _, value in ipairs(limits) do reply[#reply + 1] = value end
reply[#reply + 1] = #budget
for _, value in ipairs(budget) do reply[#reply + 1] = value end
for _, value in ipairs(settled) do reply[#reply + 1] = value end
return reply
"""
)


class RedisAdmission:
    """Rate limits and budget hold in one atomic script call; the limiter and ledger must share a Redis client."""

    carries_settles = True

    def __init__(self, limiter: RedisRateLimiter, ledger: RedisBudgetLedger) -> None:
        if limiter.client is not ledger.client:
            raise ValueError("the rate limiter and the budget ledger must use the same Redis client")
        from redis.exceptions import RedisError  # imported with the Redis client, not by every process

        from aigw.store.redis_scripts import script_runner

        self.limiter = limiter
        self.ledger = ledger
        self._run = script_runner(limiter.client, _ADMIT_LUA)  # the gateway's client: pipelined (ScriptPipe)
        self._unavailable = (RedisError, OSError)

    async def admit(
        self,
        limits: Sequence[RateLimit],
        scopes: Sequence[BudgetScope],
        amount_usd: Decimal,
        settles: Sequence[tuple[Reservation, int]] = (),
    ) -> Admitted:
        limit_keys, limit_args, tag = self.limiter.script_input(limits)
        hold = self.ledger.reserve_input(scopes, amount_usd) if scopes else None
        settles = [(r, actual) for r, actual in settles if r.scopes]
        settle_keys, settle_args = self.ledger.settle_batch_input(settles)
        keys: list[str] = [*limit_keys, *(hold.keys if hold else ()), *settle_keys]
        args: list[Arg] = [tag, len(limits), len(scopes) if hold else 0, len(settles), *limit_args]
        if hold is not None:
            args += hold.args
        args += settle_args
        try:
            reply: list[Any] = await self._run(keys, args)
        except self._unavailable as exc:
            raise AdmissionUnavailable(f"rate limit and budget store unavailable: {exc!r}") from exc
        limits_end = 1 + int(reply[0])
        budget_end = limits_end + 1 + int(reply[limits_end])
        crossed = self.ledger.batch_crossings(settles, reply[budget_end:])
        decision = self.limiter.decision(limits, reply[1:limits_end]) if limits else NO_LIMITS
        if hold is None or not decision.allowed:
            return Admitted(decision, None, crossed)
        try:
            reservation = self.ledger.reserved(hold, reply[limits_end + 1 : budget_end])
        except BudgetExceeded as exc:
            exc.crossed += crossed
            raise
        return Admitted(decision, reservation, crossed)
