"""Budgets shared by every replica through Redis (see `aigw.policy.budget` for the model).

Per scope and period: a hash  {prefix}{name}:{period_key}        spent, reserved, alert:<threshold>
                      a zset  {prefix}{name}:{period_key}:holds  "<id>:<micros>" scored by expiry (ms)
Per open reservation: a key   {prefix}reservation:<id>           deleted by the first settle/release
Every key expires `retention_grace` after its period ends. The scripts return integers only, so
they work whether or not the client decodes responses.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Unpack

from redis.asyncio import Redis

from aigw.policy.budget import (
    BudgetExceeded,
    BudgetScope,
    LedgerBase,
    LedgerOptions,
    Reservation,
    ScopeUsage,
    ThresholdCrossed,
    usd_to_micros,
)

DEFAULT_REDIS_PREFIX = "aigw:budget:"

_LUA_COMMON = """
local function prune(hash, holds, now, ttl)
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

local function field(hash, name)
  return tonumber(redis.call('HGET', hash, name) or '0')
end
"""

# KEYS: hash_1, holds_1, ..., hash_n, holds_n, marker
# ARGV: now_ms, amount, member, hold_until_ms, marker_ttl_ms, refusal_label ('' for none),
#       then per scope: cap, key_ttl_ms
# Returns {1} when reserved, else {0, then per refusing scope: index, spent, reserved, alerted (0/1)}.
_RESERVE_LUA = (
    _LUA_COMMON
    + """
local now, amount, member = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local n = (#KEYS - 1) / 2
local refused = {0}
for i = 1, n do
  local hash, holds, ttl = KEYS[2 * i - 1], KEYS[2 * i], ARGV[6 + 2 * i]
  prune(hash, holds, now, ttl)
  local spent, reserved = field(hash, 'spent'), field(hash, 'reserved')
  if spent + reserved + amount > tonumber(ARGV[5 + 2 * i]) then
    local alerted = 0
    if ARGV[6] ~= '' and redis.call('HSETNX', hash, 'alert:' .. ARGV[6], '1') == 1 then
      alerted = 1
      redis.call('PEXPIRE', hash, ttl)
    end
    for _, value in ipairs({i, spent, reserved, alerted}) do table.insert(refused, value) end
  end
end
if #refused > 1 then return refused end
for i = 1, n do
  local hash, holds, ttl = KEYS[2 * i - 1], KEYS[2 * i], ARGV[6 + 2 * i]
  redis.call('HINCRBY', hash, 'reserved', ARGV[2])
  redis.call('ZADD', holds, ARGV[4], member)
  redis.call('PEXPIRE', hash, ttl)
  redis.call('PEXPIRE', holds, ttl)
end
redis.call('SET', KEYS[#KEYS], '1', 'PX', ARGV[5])
return {1}
"""
)

# KEYS: hash_1, holds_1, ..., hash_n, holds_n, marker
# ARGV: actual, member, -amount, k, label_1..label_k, then per scope: key_ttl_ms, level_1..level_k
# Returns {0} when already settled, else {1, then per first crossing: scope index, threshold index, spent}.
_SETTLE_LUA = """
if redis.call('DEL', KEYS[#KEYS]) == 0 then return {0} end
local actual, member, k = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[4])
local n = (#KEYS - 1) / 2
local out = {1}
for i = 1, n do
  local hash, holds = KEYS[2 * i - 1], KEYS[2 * i]
  local at = 4 + k + (i - 1) * (k + 1)
  local ttl = ARGV[at + 1]
  if redis.call('ZREM', holds, member) == 1 then
    redis.call('HINCRBY', hash, 'reserved', ARGV[3])
  end
  if actual > 0 then
    local spent = redis.call('HINCRBY', hash, 'spent', ARGV[1])
    for j = 1, k do
      if spent >= tonumber(ARGV[at + 1 + j]) and redis.call('HSETNX', hash, 'alert:' .. ARGV[4 + j], '1') == 1 then
        for _, value in ipairs({i, j, spent}) do table.insert(out, value) end
      end
    end
  end
  redis.call('PEXPIRE', hash, ttl)
  redis.call('PEXPIRE', holds, ttl)
end
return out
"""

# KEYS: hash, holds. ARGV: now_ms, key_ttl_ms. Returns {spent, reserved}.
_USAGE_LUA = (
    _LUA_COMMON
    + """
prune(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
return {field(KEYS[1], 'spent'), field(KEYS[1], 'reserved')}
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
        self._usage_script = client.register_script(_USAGE_LUA)

    async def reserve(self, scopes: Sequence[BudgetScope], amount_usd: float | Decimal) -> Reservation:
        ordered, amount, now = self._prepare(scopes, amount_usd)
        keys = [s.period_key(now) for s in ordered]
        reservation = self._reservation(ordered, keys, amount, now)
        if not ordered:
            return reservation
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
            args += [usd_to_micros(scope.cap_usd, round_up=False), ttl]
        result = await self._reserve_script(keys=self._keys(reservation), args=args)
        values = [int(v) for v in result]
        if values[0] == 1:
            return reservation
        raise self._refused(ordered, keys, amount, values[1:])

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
        result = await self._settle_script(keys=self._keys(reservation), args=self._settle_args(reservation, actual))
        return self._crossings(reservation, result)

    async def settle_many(self, settles: Sequence[tuple[Reservation, int]]) -> tuple[ThresholdCrossed, ...]:
        todo = [(r, actual) for r, actual in settles if r.scopes]
        if not todo:
            return ()
        if len(todo) == 1:
            return await self._finish(*todo[0])
        async with self._client.pipeline(transaction=False) as pipe:
            for reservation, actual in todo:
                await self._settle_script(
                    keys=self._keys(reservation), args=self._settle_args(reservation, actual), client=pipe
                )
            results = await pipe.execute()
        return tuple(c for (r, _), result in zip(todo, results, strict=True) for c in self._crossings(r, result))

    def _settle_args(self, reservation: Reservation, actual: int) -> list[str | int]:
        now = self._clock()
        labels = [_label(t) for t in self.thresholds]
        args: list[str | int] = [actual, _member(reservation), -reservation.amount_micros, len(labels), *labels]
        for scope, key in zip(reservation.scopes, reservation.period_keys, strict=True):
            args += [self._ttl_ms(key, now), *self._levels(scope)]
        return args

    def _crossings(self, reservation: Reservation, result: Any) -> tuple[ThresholdCrossed, ...]:
        values = [int(v) for v in result]
        crossed: list[ThresholdCrossed] = []
        for at in range(1, len(values), 3):
            scope = reservation.scopes[values[at] - 1]
            threshold = self.thresholds[values[at + 1] - 1]
            crossed.append(ThresholdCrossed(scope, threshold, values[at + 2] / 1_000_000, scope.cap_usd))
        return tuple(crossed)

    def _refused(
        self, scopes: tuple[BudgetScope, ...], keys: list[str], amount: int, values: list[int]
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


def _label(threshold: float) -> str:
    return f"{threshold:g}"
