"""Budgets shared by every replica through Redis (see `aigw.policy.budget` for the model).

Per scope and period: a hash  {prefix}{name}:{period_key}        spent, reserved, alert:<threshold>
                      a zset  {prefix}{name}:{period_key}:holds  "<id>:<micros>" scored by expiry (ms)
Per open reservation: a key   {prefix}reservation:<id>           deleted by the first settle/release
Every key expires `retention_grace` after its period ends. The scripts return integers only, so
they work whether or not the client decodes responses.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Unpack

from aigw.policy.budget import (
    BudgetExceeded,
    BudgetScope,
    LedgerBase,
    LedgerOptions,
    Reservation,
    ScopeUsage,
    ThresholdCrossed,
    cap_micros,
    usd_to_micros,
)

if TYPE_CHECKING:  # redis is imported with the first Redis client (AI_REDIS_URL)
    from redis.asyncio import Redis

DEFAULT_REDIS_PREFIX = "aigw:budget:"


@dataclass(frozen=True, slots=True)
class ScriptCall:
    """One reservation's part of a script call: its keys and arguments."""

    reservation: Reservation
    keys: list[str]
    args: list[str | int]


# Reserve and settle as Lua functions, so that other scripts (one-round-trip admission) can run them.
# A reservation over `n` scopes has its keys at KEYS[k0 + 1 .. k0 + 2n + 1]: hash_1, holds_1, ..., hash_n, holds_n,
# marker; its arguments start after ARGV[a0] (see `_reserve_args` and `_settle_args` for their order).
BUDGET_LUA = """
local function budget_prune(hash, holds, now, ttl)
  local expired = redis.call('ZRANGEBYSCORE', holds, '-inf', now)
  if #expired == 0 then return end
  local total = 0
  for _, member in ipairs(expired) do
    total = total + tonumber(string.match(member, ':(%d+)$'))
  end
  redis.call('ZREMRANGEBYSCORE', holds, '-inf', now)
  redis.call('HINCRBY', hash, 'reserved', string.format('%d', -total))
  redis.call('PEXPIRE', hash, ttl)
end

local function budget_field(hash, name)
  return tonumber(redis.call('HGET', hash, name) or '0')
end

-- ARGV after a0: now_ms, amount, member, hold_until_ms, marker_ttl_ms, refusal_label ('' for none),
-- then per scope: cap, key_ttl_ms. Returns nil when every scope has room, else
-- {0, then per refusing scope: index, spent, reserved, alerted (0/1)}. Changes nothing but pruning and alerts.
local function budget_check(k0, a0, n)
  local now, amount, label = ARGV[a0 + 1], tonumber(ARGV[a0 + 2]), ARGV[a0 + 6]
  local refused = {0}
  for i = 1, n do
    local hash, holds, ttl = KEYS[k0 + 2 * i - 1], KEYS[k0 + 2 * i], ARGV[a0 + 6 + 2 * i]
    budget_prune(hash, holds, now, ttl)
    local spent, reserved = budget_field(hash, 'spent'), budget_field(hash, 'reserved')
    if spent + reserved + amount > tonumber(ARGV[a0 + 5 + 2 * i]) then
      local alerted = 0
      if label ~= '' and redis.call('HSETNX', hash, 'alert:' .. label, '1') == 1 then
        alerted = 1
        redis.call('PEXPIRE', hash, ttl)
      end
      for _, value in ipairs({i, spent, reserved, alerted}) do table.insert(refused, value) end
    end
  end
  if #refused > 1 then return refused end
  return nil
end

local function budget_hold(k0, a0, n)
  for i = 1, n do
    local hash, holds, ttl = KEYS[k0 + 2 * i - 1], KEYS[k0 + 2 * i], ARGV[a0 + 6 + 2 * i]
    redis.call('HINCRBY', hash, 'reserved', ARGV[a0 + 2])
    redis.call('ZADD', holds, ARGV[a0 + 4], ARGV[a0 + 3])
    redis.call('PEXPIRE', hash, ttl)
    redis.call('PEXPIRE', holds, ttl)
  end
  redis.call('SET', KEYS[k0 + 2 * n + 1], '1', 'PX', ARGV[a0 + 5])
end

-- ARGV after a0: actual, member, -amount, k, label_1..label_k, then per scope: key_ttl_ms, level_1..level_k.
-- Returns {0} when already settled, else {1, then per first crossing: scope index, threshold index, spent}.
local function budget_settle(k0, a0, n)
  if redis.call('DEL', KEYS[k0 + 2 * n + 1]) == 0 then return {0} end
  local actual, member, k = tonumber(ARGV[a0 + 1]), ARGV[a0 + 2], tonumber(ARGV[a0 + 4])
  local out = {1}
  for i = 1, n do
    local hash, holds = KEYS[k0 + 2 * i - 1], KEYS[k0 + 2 * i]
    local at = a0 + 4 + k + (i - 1) * (k + 1)
    local ttl = ARGV[at + 1]
    if redis.call('ZREM', holds, member) == 1 then
      redis.call('HINCRBY', hash, 'reserved', ARGV[a0 + 3])
    end
    if actual > 0 then
      local spent = redis.call('HINCRBY', hash, 'spent', ARGV[a0 + 1])
      for j = 1, k do
        local label = 'alert:' .. ARGV[a0 + 4 + j]
        if spent >= tonumber(ARGV[at + 1 + j]) and redis.call('HSETNX', hash, label, '1') == 1 then
          for _, value in ipairs({i, j, spent}) do table.insert(out, value) end
        end
      end
    end
    redis.call('PEXPIRE', hash, ttl)
    redis.call('PEXPIRE', holds, ttl)
  end
  return out
end

-- `count` settles: from ARGV[a0 + 1] on, per settle: its scope count n, its argument count m, its m arguments;
-- from KEYS[k0 + 1] on, per settle its 2n + 1 keys. Returns, per settle, the length of its result then the result.
local function budget_settle_batch(k0, a0, count)
  local out = {}
  for _ = 1, count do
    local n, m = tonumber(ARGV[a0 + 1]), tonumber(ARGV[a0 + 2])
    local result = budget_settle(k0, a0 + 2, n)
    out[#out + 1] = #result
    for _, value in ipairs(result) do out[#out + 1] = value end
    k0, a0 = k0 + 2 * n + 1, a0 + 2 + m
  end
  return out
end
"""

# KEYS: one reservation's keys. ARGV: its reserve arguments. Returns {1} when reserved, else budget_check's refusal.
_RESERVE_LUA = (
    BUDGET_LUA
    + """
local n = (#KEYS - 1) / 2
local refused = budget_check(0, 0, n)
if refused then return refused end
budget_hold(0, 0, n)
return {1}
"""
)

# KEYS: one reservation's keys. ARGV: its settle arguments.
_SETTLE_LUA = BUDGET_LUA + "\nreturn budget_settle(0, 0, (#KEYS - 1) / 2)\n"

# KEYS and ARGV: `settle_batch_input`'s. Returns what budget_settle_batch does.
_SETTLE_BATCH_LUA = BUDGET_LUA + "\nreturn budget_settle_batch(0, 1, tonumber(ARGV[1]))\n"

# KEYS: hash, holds. ARGV: now_ms, key_ttl_ms. Returns {spent, reserved}.
_USAGE_LUA = (
    BUDGET_LUA
    + """
budget_prune(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
return {budget_field(KEYS[1], 'spent'), budget_field(KEYS[1], 'reserved')}
"""
)


class RedisBudgetLedger(LedgerBase):
    """Budgets shared by every replica through Redis: one script call per reserve, settle and usage.

    Expiry uses the replicas' clocks (passed to the scripts), so they should agree to within
    seconds (NTP); the period a call counts in is decided by the replica's UTC date.
    All the keys of one reservation must live on one Redis node (no Redis Cluster across slots).
    """

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = DEFAULT_REDIS_PREFIX,
        close_client: bool = False,
        **options: Unpack[LedgerOptions],
    ) -> None:
        super().__init__(**options)
        self.prefix = prefix
        self._client = client
        self._close_client = close_client
        self._reserve_script = client.register_script(_RESERVE_LUA)
        self._settle_script = client.register_script(_SETTLE_LUA)
        self._settle_batch_script = client.register_script(_SETTLE_BATCH_LUA)
        self._usage_script = client.register_script(_USAGE_LUA)

    @property
    def client(self) -> Redis:
        return self._client

    def reserve_input(self, scopes: Sequence[BudgetScope], amount_usd: float | Decimal) -> ScriptCall:
        """What `budget_check` and `budget_hold` take to hold `amount_usd` in `scopes`."""
        ordered, amount, now = self._prepare(scopes, amount_usd)
        keys = [s.period_key(now) for s in ordered]
        reservation = self._reservation(ordered, keys, amount, now)
        if not ordered:
            return ScriptCall(reservation, [], [])
        ttls = [self._ttl_ms(key, now) for key in keys]
        args: list[str | int] = [
            _ms(now),
            amount,
            _member(reservation),
            _ms(reservation.expires_at),
            max(*ttls, _ms(self.reservation_ttl)),
            _label(self._refusal_threshold) if self._refusal_threshold is not None else "",
        ]
        for scope, ttl in zip(ordered, ttls, strict=True):
            args += [cap_micros(scope.cap_usd), ttl]
        return ScriptCall(reservation, self._keys(reservation), args)

    def reserved(self, call: ScriptCall, reply: Sequence[Any]) -> Reservation:
        """The reservation when the reply says it was held; else raises BudgetExceeded."""
        values = [int(v) for v in reply]
        if values[0] == 1:
            return call.reservation
        reservation = call.reservation
        raise self._refused(reservation.scopes, reservation.period_keys, reservation.amount_micros, values[1:])

    def settle_input(self, reservation: Reservation, actual: int) -> ScriptCall:
        """What `budget_settle` takes to settle `reservation` at `actual` micro-dollars."""
        return ScriptCall(reservation, self._keys(reservation), self._settle_args(reservation, actual))

    async def reserve(self, scopes: Sequence[BudgetScope], amount_usd: float | Decimal) -> Reservation:
        call = self.reserve_input(scopes, amount_usd)
        if not call.keys:
            return call.reservation
        return self.reserved(call, await self._reserve_script(keys=call.keys, args=call.args))

    async def settle(self, reservation: Reservation, actual_usd: float | Decimal) -> tuple[ThresholdCrossed, ...]:
        return await self._finish(reservation, usd_to_micros(actual_usd))

    async def release(self, reservation: Reservation) -> None:
        await self._finish(reservation, 0)

    async def usage(self, scope: BudgetScope, period_key: str | None = None) -> ScopeUsage:
        now = self._clock()
        key = period_key or scope.period_key(now)
        hash_key = self._hash_key(scope.name, key)
        result = await self._usage_script(keys=[hash_key, hash_key + ":holds"], args=[_ms(now), self._ttl_ms(key, now)])
        spent, reserved = (int(v) for v in result)
        return ScopeUsage(spent / 1_000_000, reserved / 1_000_000, scope.cap_usd, key)

    async def seed(self, scope: BudgetScope, spent_usd: float | Decimal) -> bool:
        spent = usd_to_micros(spent_usd)
        now = self._clock()
        key = scope.period_key(now)
        hash_key = self._hash_key(scope.name, key)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.hsetnx(hash_key, "spent", spent)
            pipe.pexpire(hash_key, self._ttl_ms(key, now))
            was_set, _ = await pipe.execute()
        return bool(was_set)

    async def close(self) -> None:
        if self._close_client:
            await self._client.aclose()

    def _hash_key(self, name: str, key: str) -> str:
        return f"{self.prefix}{name}:{key}"

    def _keys(self, reservation: Reservation) -> list[str]:
        keys: list[str] = []
        for scope, key in zip(reservation.scopes, reservation.period_keys, strict=True):
            hash_key = self._hash_key(scope.name, key)
            keys += [hash_key, hash_key + ":holds"]
        return [*keys, f"{self.prefix}reservation:{reservation.id}"]

    def _ttl_ms(self, key: str, now: float) -> int:
        """Relative TTL (the clock may be a test's): until `retention_grace` after the period ends."""
        return max(1000, _ms(self._forget_at(key) - now))

    async def _finish(self, reservation: Reservation, actual: int) -> tuple[ThresholdCrossed, ...]:
        if not reservation.scopes:
            return ()
        call = self.settle_input(reservation, actual)
        return self.crossings(reservation, await self._settle_script(keys=call.keys, args=call.args))

    async def settle_many(self, settles: Sequence[tuple[Reservation, int]]) -> tuple[ThresholdCrossed, ...]:
        todo = [(r, actual) for r, actual in settles if r.scopes]
        if not todo:
            return ()
        if len(todo) == 1:
            return await self._finish(*todo[0])
        keys, args = self.settle_batch_input(todo)
        return self.batch_crossings(todo, await self._settle_batch_script(keys=keys, args=[len(todo), *args]))

    def settle_batch_input(self, settles: Sequence[tuple[Reservation, int]]) -> tuple[list[str], list[str | int]]:
        """Keys and arguments of `budget_settle_batch` for `settles` (each with scopes), without the count."""
        keys: list[str] = []
        args: list[str | int] = []
        for reservation, actual in settles:
            call = self.settle_input(reservation, actual)
            keys += call.keys
            args += [len(reservation.scopes), len(call.args), *call.args]
        return keys, args

    def batch_crossings(
        self, settles: Sequence[tuple[Reservation, int]], reply: Sequence[Any]
    ) -> tuple[ThresholdCrossed, ...]:
        """The thresholds crossed, from what `budget_settle_batch` returned for `settles`."""
        values = [int(v) for v in reply]
        crossed: list[ThresholdCrossed] = []
        at = 0
        for reservation, _ in settles:
            length = values[at]
            crossed += self.crossings(reservation, values[at + 1 : at + 1 + length])
            at += 1 + length
        return tuple(crossed)

    def _settle_args(self, reservation: Reservation, actual: int) -> list[str | int]:
        now = self._clock()
        labels = [_label(t) for t in self.thresholds]
        args: list[str | int] = [actual, _member(reservation), -reservation.amount_micros, len(labels), *labels]
        for scope, key in zip(reservation.scopes, reservation.period_keys, strict=True):
            args += [self._ttl_ms(key, now), *self._levels(scope)]
        return args

    def crossings(self, reservation: Reservation, result: Any) -> tuple[ThresholdCrossed, ...]:
        values = [int(v) for v in result]
        crossed: list[ThresholdCrossed] = []
        for at in range(1, len(values), 3):
            scope = reservation.scopes[values[at] - 1]
            threshold = self.thresholds[values[at + 1] - 1]
            crossed.append(ThresholdCrossed(scope, threshold, values[at + 2] / 1_000_000, scope.cap_usd))
        return tuple(crossed)

    def _refused(
        self, scopes: tuple[BudgetScope, ...], keys: Sequence[str], amount: int, values: list[int]
    ) -> BudgetExceeded:
        threshold = self._refusal_threshold
        crossed = [
            ThresholdCrossed(
                scopes[values[at] - 1], threshold, values[at + 1] / 1_000_000, scopes[values[at] - 1].cap_usd
            )
            for at in range(0, len(values), 4)
            if threshold is not None and values[at + 3] == 1
        ]
        index, spent, reserved = values[0] - 1, values[1], values[2]
        return BudgetExceeded(
            scopes[index],
            period_key=keys[index],
            spent_usd=spent / 1_000_000,
            reserved_usd=reserved / 1_000_000,
            requested_usd=amount / 1_000_000,
            crossed=tuple(crossed),
        )


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def _member(reservation: Reservation) -> str:
    return f"{reservation.id}:{reservation.amount_micros}"


@functools.lru_cache(maxsize=64)
def _label(threshold: float) -> str:
    return f"{threshold:g}"
