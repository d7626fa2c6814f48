"""Rate limits: an exact sliding window, kept in one process or shared by every gateway process through Redis.

A `RateLimit` means "no more than `limit` units in any `window` seconds". A request consumes `cost` units: 1 for a
request limit, its tokens for a tokens-per-minute limit. Each limit keeps a log of what it admitted (time, cost) plus
the running total of those costs, so a check is exact (no fixed buckets, no estimate) and never sums the log: entries
that have left the window are dropped and their cost subtracted from the total.

An entry admitted at time t counts while `now - t < window` and has left at `now = t + window` exactly.

`check(limits)` is all-or-nothing: when every limit has room for its cost the request is recorded in all of them;
when any refuses nothing is recorded anywhere, so refused requests never use up a limit.

The decision names one limit:
- refused: the first limit that refused; `retry_after` is the longest wait among the limits that refused (the
  earliest time the whole request could fit), `reset_after` is that first limit's;
- allowed: the tightest limit, the one with the smallest share of its limit left after this request (the first on
  a tie); `retry_after` is 0.0;
- no limits at all: allowed, with `limit=UNLIMITED` and `remaining=-1` (and `rate_limit_headers` returns none).

A cost larger than its limit can never fit: it is refused with `retry_after = window` and nothing is recorded.
A cost of 0 is a query: it is checked (refused only when a lowered limit is already exceeded) but never recorded.
"""

from __future__ import annotations

import functools
import itertools
import math
import secrets
import time
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # redis is imported with the first Redis client (AI_REDIS_URL)
    from redis.asyncio import Redis


DEFAULT_PREFIX = "aigw:rl:"
_COMPACT_AT = 64  # drop the expired head of a log once it is this long and at least half the log


@dataclass(frozen=True, slots=True)
class RateLimit:
    """One limit to enforce: at most `limit` units per `window` seconds; this request consumes `cost` units."""

    name: str  # e.g. "key:abc:rpm", "ip:1.2.3.4:rpm", "key:abc:tpm": the storage key; ":tpm" means tokens
    limit: int
    window: float = 60.0
    cost: int = 1

    def __post_init__(self) -> None:
        if self.limit < 0 or self.cost < 0:
            raise ValueError(f"rate limit {self.name!r}: limit and cost must be >= 0")
        if not self.window > 0:
            raise ValueError(f"rate limit {self.name!r}: window must be > 0 seconds")


@dataclass(frozen=True, slots=True)
class RateLimitDecision:
    """The answer to one `check`; see the module docstring for which limit it names."""

    allowed: bool
    limit: RateLimit
    remaining: int  # units left in the window after this request; 0 when refused, -1 when no limit applied
    reset_after: float  # seconds until a full `limit` is available again
    retry_after: float  # seconds until this request's cost would fit; 0.0 when allowed
    each: tuple[tuple[RateLimit, int, float], ...] = ()  # every limit checked: (limit, remaining, reset_after)


UNLIMITED = RateLimit(name="", limit=0, cost=0)
NO_LIMITS = RateLimitDecision(allowed=True, limit=UNLIMITED, remaining=-1, reset_after=0.0, retry_after=0.0)


class RateLimiterUnavailable(Exception):
    """The limiter's store could not answer (the cause is chained); the caller decides to fail open or closed."""


class RateLimiter(Protocol):
    async def check(self, limits: Sequence[RateLimit]) -> RateLimitDecision:
        """Admit the request against every limit or against none (see the module docstring)."""
        ...

    async def close(self) -> None: ...


def _require_distinct(limits: Sequence[RateLimit]) -> None:
    if len(limits) > 1 and len({limit.name for limit in limits}) != len(limits):
        raise ValueError("rate limits checked together must have distinct names")


def _decide(
    limits: Sequence[RateLimit],
    fits: Sequence[bool],
    totals: Sequence[int],
    retries: Sequence[float],
    resets: Sequence[float],
) -> RateLimitDecision:
    """The decision from each limit's outcome: whether it fits, its total before this request, its retry and reset."""
    refused = [i for i, fit in enumerate(fits) if not fit]
    if refused:
        first = refused[0]
        retry = max(retries[i] for i in refused)
        each = tuple((lim, max(0, lim.limit - totals[i]) if fits[i] else 0, resets[i]) for i, lim in enumerate(limits))
        return RateLimitDecision(False, limits[first], 0, resets[first], retry, each)
    tightest, tightest_share = 0, math.inf
    for i, limit in enumerate(limits):
        share = (limit.limit - totals[i] - limit.cost) / limit.limit if limit.limit else 0.0
        if share < tightest_share:
            tightest, tightest_share = i, share
    limit = limits[tightest]
    each = tuple((lim, lim.limit - totals[i] - lim.cost, resets[i]) for i, lim in enumerate(limits))
    return RateLimitDecision(True, limit, limit.limit - totals[tightest] - limit.cost, resets[tightest], 0.0, each)


class _Log:
    """What one limit admitted in its window: entry times (ascending) and cumulative costs, from `head` on."""

    __slots__ = ("base", "head", "sums", "times", "touched", "window")

    def __init__(self, window: float, now: float) -> None:
        self.window = window
        self.times: list[float] = []
        self.sums: list[int] = []  # sums[i]: total cost of entries 0..i (counted since the log was last empty)
        self.head = 0  # entries before `head` have left the window
        self.base = 0  # sums[head - 1]: the cost of the entries that have left
        self.touched = now

    def total(self) -> int:
        return (self.sums[-1] if self.sums else 0) - self.base

    def expire(self, now: float) -> None:
        """Forget the entries that have left the window. Each entry is passed once: O(1) amortised."""
        times, head, cutoff = self.times, self.head, now - self.window
        end = len(times)
        while head < end and times[head] <= cutoff:
            head += 1
        if head == self.head:
            return
        if head == end:
            times.clear()
            self.sums.clear()
            self.head = self.base = 0
            return
        self.base = self.sums[head - 1]
        if head >= _COMPACT_AT and 2 * head >= end:
            del times[:head]
            del self.sums[:head]
            head = 0
        self.head = head

    def add(self, now: float, cost: int) -> None:
        self.times.append(now)
        self.sums.append((self.sums[-1] if self.sums else 0) + cost)

    def time_to_free(self, units: int, now: float) -> float:
        """Seconds until the oldest entries holding at least `units` (<= the total) have left the window."""
        i = bisect_left(self.sums, self.base + units, self.head)
        return self.times[i] + self.window - now

    def reset_after(self, now: float) -> float:
        return self.times[-1] + self.window - now if self.head < len(self.times) else 0.0


class InProcessRateLimiter:
    """Exact sliding windows for one process (one event loop: each `check` runs without yielding).

    A check costs O(1) amortised per limit (a refusal finds its retry time by binary search). Memory is bounded by
    the traffic of the last window: a limit's state is dropped as soon as it has been idle for its window. Limits
    are grouped by window length, each group in order of last use, so the idle ones are always at the front.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last_now = -math.inf
        self._logs: dict[str, _Log] = {}
        self._by_window: dict[float, OrderedDict[str, _Log]] = {}

    def __len__(self) -> int:
        """How many limits have state held."""
        return len(self._logs)

    async def check(self, limits: Sequence[RateLimit]) -> RateLimitDecision:
        if not limits:
            return NO_LIMITS
        _require_distinct(limits)
        now = self._now()
        self._drop_idle(now)
        logs = [self._log(limit, now) for limit in limits]
        totals = [log.total() for log in logs]
        fits = [limit.cost <= limit.limit - total for limit, total in zip(limits, totals, strict=True)]
        allowed = all(fits)
        retries = [0.0] * len(limits)
        for i, (limit, log) in enumerate(zip(limits, logs, strict=True)):
            if fits[i]:
                continue
            if limit.cost > limit.limit:
                retries[i] = limit.window
            else:
                retries[i] = log.time_to_free(totals[i] + limit.cost - limit.limit, now)
        if allowed:
            for limit, log in zip(limits, logs, strict=True):
                if limit.cost:
                    log.add(now, limit.cost)
        resets = [log.reset_after(now) for log in logs]
        return _decide(limits, fits, totals, retries, resets)

    async def close(self) -> None:
        self._logs.clear()
        self._by_window.clear()

    def _now(self) -> float:
        """The clock, never going backwards (the logs must stay in time order)."""
        now = self._clock()
        if now < self._last_now:
            return self._last_now
        self._last_now = now
        return now

    def _log(self, limit: RateLimit, now: float) -> _Log:
        """The limit's log, expired up to `now` and moved to the back of its group (most recently used)."""
        log = self._logs.get(limit.name)
        if log is None:
            log = self._logs[limit.name] = _Log(limit.window, now)
            self._by_window.setdefault(limit.window, OrderedDict())[limit.name] = log
            return log
        if log.window != limit.window:  # the limit was reconfigured: keep its entries, judge them by the new window
            self._by_window[log.window].pop(limit.name)
            log.window = limit.window
            self._by_window.setdefault(limit.window, OrderedDict())[limit.name] = log
        else:
            self._by_window[log.window].move_to_end(limit.name)
        log.touched = now
        log.expire(now)
        return log

    def _drop_idle(self, now: float) -> None:
        """Drop every log unused for its window: all its entries have left it, so it holds nothing."""
        for window, group in list(self._by_window.items()):
            while group:
                name = next(iter(group))
                if group[name].touched + window > now:
                    break
                del group[name]
                del self._logs[name]
            if not group:
                del self._by_window[window]


# The sliding-window check as Lua functions, so that other scripts (one-round-trip admission) can run it.
# `n` limits; limit i has its keys at KEYS[k0 + 2i - 1] (log: a sorted set, score = admission time in µs, member
# "<time>:<tag>:<cost>") and KEYS[k0 + 2i] (its total, a string), its arguments at ARGV[a0 + 3i - 2 .. a0 + 3i]:
# limit, window in µs, cost. `rate_limits_check` reads and prunes; `rate_limits_reply` records the request when
# `commit` is true and returns: allowed (1/0), then for each limit: fits (1/0), its total before this request,
# retry and reset in µs.
RATE_LIMIT_LUA = """
local function rl_cost_of(member)
  return tonumber(string.match(member, ':(%d+)$')) or 0
end

local function rl_sum_of(log)
  local sum = 0
  for _, member in ipairs(redis.call('ZRANGE', log, 0, -1)) do sum = sum + rl_cost_of(member) end
  return sum
end

-- µs until the oldest entries holding `need` units have left the window; nil if the log holds fewer units.
local function rl_time_to_free(log, need, window, now)
  local oldest = redis.call('ZRANGE', log, 0, need - 1, 'WITHSCORES')
  local freed = 0
  for j = 1, #oldest, 2 do
    freed = freed + rl_cost_of(oldest[j])
    if freed >= need then return tonumber(oldest[j + 1]) + window - now end
  end
  return nil
end

local function rl_now()
  local clock = redis.call('TIME')
  return tonumber(clock[1]) * 1000000 + tonumber(clock[2])
end

local function rate_limits_check(k0, a0, n, now)
  local st = {allowed = 1, fits = {}, totals = {}, retries = {}}
  for i = 1, n do
    local log, sum = KEYS[k0 + 2 * i - 1], KEYS[k0 + 2 * i]
    local at = a0 + 3 * i
    local limit, window, cost = tonumber(ARGV[at - 2]), tonumber(ARGV[at - 1]), tonumber(ARGV[at])
    local cutoff = string.format('%.0f', now - window)
    local total = tonumber(redis.call('GET', sum) or '-1')
    if total >= 0 then
      local expired = redis.call('ZRANGEBYSCORE', log, '-inf', cutoff)
      if #expired > 0 then
        local freed = 0
        for _, member in ipairs(expired) do freed = freed + rl_cost_of(member) end
        redis.call('ZREMRANGEBYSCORE', log, '-inf', cutoff)
        total = total - freed
        redis.call('DECRBY', sum, freed)
      end
    end
    if total < 0 then  -- no total (first use, or it was evicted) or a broken one: count the log
      redis.call('ZREMRANGEBYSCORE', log, '-inf', cutoff)
      total = rl_sum_of(log)
    end
    local retry = 0
    if cost > limit then
      retry = window
    elseif total + cost > limit then
      retry = rl_time_to_free(log, total + cost - limit, window, now)
      if not retry then  -- the total counts more than the log holds: trust the log
        total = rl_sum_of(log)
        redis.call('DEL', sum)
        retry = 0
        if total + cost > limit then retry = rl_time_to_free(log, total + cost - limit, window, now) or window end
      end
    end
    st.totals[i], st.retries[i] = total, retry
    if cost <= limit and total + cost <= limit then st.fits[i] = 1 else st.fits[i] = 0; st.allowed = 0 end
  end
  return st
end

local function rate_limits_reply(k0, a0, n, now, tag, st, commit)
  local stamp = string.format('%.0f', now)
  local reply = {st.allowed}
  for i = 1, n do
    local log, sum = KEYS[k0 + 2 * i - 1], KEYS[k0 + 2 * i]
    local window, cost = tonumber(ARGV[a0 + 3 * i - 1]), tonumber(ARGV[a0 + 3 * i])
    local reset = 0
    if commit and cost > 0 then
      local ttl = string.format('%.0f', math.ceil(window / 1000))
      redis.call('ZADD', log, stamp, stamp .. ':' .. tag .. ':' .. ARGV[a0 + 3 * i])
      redis.call('PEXPIRE', log, ttl)
      redis.call('SET', sum, string.format('%.0f', st.totals[i] + cost), 'PX', ttl)
      reset = window
    else
      local newest = redis.call('ZRANGE', log, -1, -1, 'WITHSCORES')
      if newest[2] then reset = tonumber(newest[2]) + window - now end
    end
    reply[#reply + 1] = st.fits[i]
    reply[#reply + 1] = st.totals[i]
    reply[#reply + 1] = st.retries[i]
    reply[#reply + 1] = reset
  end
  return reply
end
"""

# KEYS: per limit its log and its total. ARGV: a tag unique to this call, then per limit: limit, window µs, cost.
_CHECK_SCRIPT = (
    "if redis.replicate_commands then redis.replicate_commands() end\n"
    + RATE_LIMIT_LUA
    + """
local now, n = rl_now(), #KEYS / 2
local st = rate_limits_check(0, 1, n, now)
return rate_limits_reply(0, 1, n, now, ARGV[1], st, st.allowed == 1)
"""
)


class RedisRateLimiter:
    """Exact sliding windows shared by every gateway process through one Redis.

    Each `check` is one round trip: a Lua script (EVALSHA) that is atomic, so any number of processes agree, and
    reads the time from Redis itself (`TIME`), so replicas with skewed clocks agree too. The first call on a Redis
    that does not know the script yet loads it (redis-py answers NOSCRIPT with SCRIPT LOAD and EVALSHA again).

    Each limit is two keys: `<prefix><name>:log`, a sorted set of its admissions (score = time in µs, member =
    "<time>:<tag>:<cost>") and `<prefix><name>:sum`, their total. Both expire one window after the last admission,
    so idle limits vanish. A missing total is rebuilt from the log; a total larger than its log is corrected.

    All keys of one check go to one script, so on Redis Cluster put a hash tag in the prefix ("aigw:rl:{rl}:").
    `close()` closes the client only when `owns_client` is true.
    """

    def __init__(self, client: Redis, *, prefix: str = DEFAULT_PREFIX, owns_client: bool = False) -> None:
        from redis.exceptions import RedisError  # imported with the Redis client, not by every process

        self._unavailable = (RedisError, OSError)
        self._client = client
        self._prefix = prefix
        self._owns_client = owns_client
        from aigw.store.redis_scripts import script_runner

        self._script = script_runner(client, _CHECK_SCRIPT)
        self._tag = secrets.token_hex(8)
        self._counter = itertools.count()

    def keys(self, name: str) -> tuple[str, str]:
        """The Redis keys of the limit `name`: its log (sorted set) and its total."""
        return f"{self._prefix}{name}:log", f"{self._prefix}{name}:sum"

    @property
    def client(self) -> Redis:
        return self._client

    def script_input(self, limits: Sequence[RateLimit]) -> tuple[list[str], list[str | int], str]:
        """What `RATE_LIMIT_LUA` takes for `limits`: keys, arguments (3 per limit) and a tag unique to this call."""
        _require_distinct(limits)
        keys: list[str] = []
        args: list[str | int] = []
        for limit in limits:
            keys.extend(self.keys(limit.name))
            args.extend((limit.limit, max(1, round(limit.window * 1_000_000)), limit.cost))
        return keys, args, f"{self._tag}{next(self._counter):x}"

    @staticmethod
    def decision(limits: Sequence[RateLimit], reply: Sequence[Any]) -> RateLimitDecision:
        """The decision from what `rate_limits_reply` returned."""
        outcomes = [int(value) for value in reply[1:]]
        return _decide(
            limits,
            fits=[fit == 1 for fit in outcomes[0::4]],
            totals=outcomes[1::4],
            retries=[us / 1_000_000 for us in outcomes[2::4]],
            resets=[us / 1_000_000 for us in outcomes[3::4]],
        )

    async def check(self, limits: Sequence[RateLimit]) -> RateLimitDecision:
        if not limits:
            return NO_LIMITS
        keys, args, tag = self.script_input(limits)
        try:
            reply: Any = await self._script(keys, [tag, *args])
        except self._unavailable as exc:
            raise RateLimiterUnavailable(f"rate limiter store unavailable: {exc}") from exc
        return self.decision(limits, reply)

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()


@functools.lru_cache(maxsize=1024)  # an allowed call's reset is its window: the same few values every call
def format_duration(seconds: float) -> str:
    """A duration the way OpenAI's rate-limit headers write it (Go style): "0s", "250ms", "1.5s", "6m0s", "1h2m3s".

    Rounded up to the millisecond, so a client that waits for it is never early.
    """
    ms = max(0, -(-round(seconds * 1_000_000) // 1000))
    if ms < 1000:
        return f"{ms}ms" if ms else "0s"
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    text = f"{secs}.{ms:03d}".rstrip("0") if ms else str(secs)
    if hours:
        return f"{hours}h{minutes}m{text}s"
    if minutes:
        return f"{minutes}m{text}s"
    return f"{text}s"


def retry_after_seconds(seconds: float) -> int:
    """A `Retry-After` value: whole seconds, rounded up, at least 1."""
    return max(1, -(-round(seconds * 1_000_000) // 1_000_000))


_TOKEN_HEADERS = ("x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens")
_REQUEST_HEADERS = ("x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests")


def rate_limit_headers(decision: RateLimitDecision) -> dict[str, str]:
    """OpenAI-style headers for the decision's limit: "-tokens" for a name ending in ":tpm", else "-requests".

    A refusal adds "retry-after". A decision with no limit (`remaining == -1`) has no headers.
    """
    if decision.remaining < 0:
        return {}
    headers: dict[str, str] = {}
    # The tightest limit of each unit, as OpenAI sends both the requests and the tokens set; the
    # decision's own limit (the one that refused, or the tightest) always wins its unit.
    states = sorted(decision.each, key=lambda s: s[1] / s[0].limit if s[0].limit else 0.0, reverse=True)
    for limit, remaining, reset in [*states, (decision.limit, decision.remaining, decision.reset_after)]:
        names = _TOKEN_HEADERS if limit.name.endswith(":tpm") else _REQUEST_HEADERS
        headers[names[0]] = str(limit.limit)
        headers[names[1]] = str(remaining)
        headers[names[2]] = format_duration(reset)
    if not decision.allowed:
        headers["retry-after"] = str(retry_after_seconds(decision.retry_after))
    return headers
