"""Budgets: strict spending caps per scope and calendar period, shared by every replica.

A call is admitted with reserve-then-settle:

1. `reserve(scopes, worst_case)` before the call, atomically across all the scopes that apply
   (e.g. global, the key, the user): if any scope's spent + reserved + amount would pass its cap,
   `BudgetExceeded` is raised and nothing changes; otherwise the amount is added to every scope's
   `reserved`. Concurrent calls therefore can never together spend more than the cap, whatever the
   number of coroutines or replicas, as long as each call costs at most what it reserved.
2. `settle(reservation, actual)` after it: the reservation leaves `reserved`, the actual cost joins
   `spent`. Settling (or releasing) a reservation a second time has no effect.
   `release(reservation)` is the same for a call that failed: nothing is spent.

A reservation that is never settled (its replica crashed) expires after `reservation_ttl`
(10 minutes by default; it must exceed the longest call) and is dropped from `reserved` lazily, by
the next reserve or usage call of its scope. A reservation settled after it expired still records
its spend (the money was spent), so `reservation_ttl` is the one way spend can pass a cap.

Periods are UTC calendar buckets ("daily:2026-11-25", "monthly:2026-11"); a reservation settles
into the period it was made in. Amounts are integer micro-dollars (1e-6 USD) inside the ledgers,
so sums are exact: amounts round up to the next micro-dollar, caps round down.

Alert thresholds (fractions of the cap, 0.8 and 1.0 by default) are reported once per scope,
period and threshold, across replicas: `settle` returns the `ThresholdCrossed` of the thresholds
that the spend reached for the first time; the 1.0 threshold also fires, through
`BudgetExceeded.crossed`, the first time a scope refuses a call (with strict caps spend itself
rarely reaches exactly 100 %).

`InProcessBudgetLedger` serves one process; `RedisBudgetLedger` shares the budgets between
replicas with one Lua script call (one round trip) per reserve and per settle (`budget_redis`).
"""

from __future__ import annotations

import functools
import itertools
import math
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Literal, Protocol, TypedDict, Unpack, runtime_checkable

from aigw.quantities import MAX_USD

Period = Literal["daily", "monthly"]
PERIODS: tuple[Period, ...] = ("daily", "monthly")
DEFAULT_THRESHOLDS = (0.8, 1.0)
DEFAULT_RESERVATION_TTL = 600.0  # seconds
DEFAULT_RETENTION_GRACE = 3600.0  # seconds a period's counters outlive the period
_MICROS_PER_USD = Decimal(1_000_000)
_SWEEP_EVERY = 60.0  # seconds between two sweeps of forgotten periods in the in-process ledger


@dataclass(frozen=True, slots=True)
class BudgetScope:
    """One cap: `name` says on what ("global", "key:abc", "user:alice"), `period` over which calendar bucket."""

    name: str
    period: Period
    cap_usd: float

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a budget scope needs a name")
        if self.period not in PERIODS:
            raise ValueError(f"budget period must be one of {', '.join(PERIODS)}, not {self.period!r}")
        _check_usd(self.cap_usd, "cap_usd")

    def period_key(self, now: float) -> str:
        """The calendar bucket (UTC) that `now` (epoch seconds) falls in."""
        return period_key(self.period, now)


@dataclass(frozen=True, slots=True)
class ScopeUsage:
    spent_usd: float
    reserved_usd: float
    cap_usd: float
    period_key: str

    @property
    def remaining_usd(self) -> float:
        cap = cap_micros(self.cap_usd)
        return max(0, cap - self.spent_micros - self.reserved_micros) / 1_000_000

    @property
    def spent_micros(self) -> int:
        return round(self.spent_usd * 1_000_000)

    @property
    def reserved_micros(self) -> int:
        return round(self.reserved_usd * 1_000_000)


@dataclass(frozen=True, slots=True)
class ThresholdCrossed:
    """`scope` reached `threshold` (a fraction of its cap) for the first time in its period."""

    scope: BudgetScope
    threshold: float
    spent_usd: float
    cap_usd: float


@dataclass(frozen=True, slots=True)
class Reservation:
    """Money held for one call in each of `scopes`, in the period (`period_keys`) it was made in."""

    id: str
    scopes: tuple[BudgetScope, ...]
    period_keys: tuple[str, ...]
    amount_micros: int
    expires_at: float  # epoch seconds (the ledger's clock)

    @property
    def amount_usd(self) -> float:
        return self.amount_micros / 1_000_000


class BudgetExceeded(Exception):
    """A reservation would take `scope` past its cap. Nothing was reserved in any scope."""

    def __init__(
        self,
        scope: BudgetScope,
        *,
        period_key: str,
        spent_usd: float,
        reserved_usd: float,
        requested_usd: float,
        crossed: tuple[ThresholdCrossed, ...] = (),
    ) -> None:
        self.scope = scope
        self.period_key = period_key
        self.cap_usd = scope.cap_usd
        self.spent_usd = spent_usd
        self.reserved_usd = reserved_usd
        self.committed_usd = (round(spent_usd * 1_000_000) + round(reserved_usd * 1_000_000)) / 1_000_000
        self.requested_usd = requested_usd
        self.crossed = crossed  # first refusals of the period: the 1.0 threshold, once per scope
        super().__init__(
            f"budget {scope.name} ({period_key}) would pass its cap: ${self.committed_usd:.6f} spent or reserved"
            f" + ${requested_usd:.6f} requested > cap ${scope.cap_usd:.6f}"
        )


@runtime_checkable
class BudgetLedger(Protocol):
    """Where budgets are counted. Every method is atomic with respect to every other caller."""

    async def reserve(self, scopes: Sequence[BudgetScope], amount_usd: float | Decimal) -> Reservation:
        """Hold `amount_usd` in every scope, or raise BudgetExceeded and change nothing."""
        ...

    async def settle(self, reservation: Reservation, actual_usd: float | Decimal) -> tuple[ThresholdCrossed, ...]:
        """Replace the hold by the actual cost; returns the thresholds crossed for the first time."""
        ...

    async def release(self, reservation: Reservation) -> None:
        """Drop the hold of a call that failed: nothing is spent."""
        ...

    async def settle_many(self, settles: Sequence[tuple[Reservation, int]]) -> tuple[ThresholdCrossed, ...]:
        """`settle` for each (reservation, actual micro-dollars; 0 releases), in one round trip where possible."""
        ...

    async def usage(self, scope: BudgetScope, period_key: str | None = None) -> ScopeUsage:
        """Spent and reserved in `period_key` (by default the current period)."""
        ...

    async def seed(self, scope: BudgetScope, spent_usd: float | Decimal) -> bool:
        """Set the current period's spend (from the database) unless some is recorded; True if it was set."""
        ...

    async def close(self) -> None: ...


def period_key(period: Period, now: float) -> str:
    """ "daily:YYYY-MM-DD" or "monthly:YYYY-MM" in UTC for `now` (epoch seconds)."""
    return _period_key(period, math.floor(now))  # periods start on whole seconds: the key is that of the second


@functools.lru_cache(maxsize=16)
def _period_key(period: Period, second: int) -> str:
    day = datetime.fromtimestamp(second, UTC)
    return f"daily:{day:%Y-%m-%d}" if period == "daily" else f"monthly:{day:%Y-%m}"


@functools.lru_cache(maxsize=4096)
def cap_micros(cap_usd: float) -> int:
    """A cap in micro-dollars (rounded down, so it is never passed by rounding)."""
    return usd_to_micros(cap_usd, round_up=False)


@functools.lru_cache(maxsize=256)
def period_end(key: str) -> float:
    """When the period named by `key` ends (epoch seconds)."""
    kind, _, stamp = key.partition(":")
    if kind == "daily":
        start = datetime.strptime(stamp, "%Y-%m-%d").replace(tzinfo=UTC)
        return (start + timedelta(days=1)).timestamp()
    if kind == "monthly":
        start = datetime.strptime(stamp, "%Y-%m").replace(tzinfo=UTC)
        year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
        return start.replace(year=year, month=month).timestamp()
    raise ValueError(f"not a budget period key: {key!r}")


def usd_to_micros(amount: float | Decimal, *, round_up: bool = True) -> int:
    """USD as integer micro-dollars. Float noise (0.1 + 0.2) is ignored, then the rest rounds up (or down)."""
    _check_usd(amount, "amount")
    exact = amount if isinstance(amount, Decimal) else Decimal(repr(float(amount)))
    micros = (exact * _MICROS_PER_USD).quantize(Decimal("1e-6"), rounding=ROUND_HALF_EVEN)
    return int(micros.to_integral_value(rounding=ROUND_CEILING if round_up else ROUND_FLOOR))


def _check_usd(amount: object, what: str) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int | float | Decimal):
        raise TypeError(f"{what} must be a number of USD, not {amount!r}")
    if not math.isfinite(amount) or not 0 <= amount <= MAX_USD:
        raise ValueError(f"{what} must be between 0 and {MAX_USD:g} USD, not {amount!r}")


class LedgerOptions(TypedDict, total=False):
    """The options every ledger takes (see LedgerBase)."""

    reservation_ttl: float
    thresholds: Sequence[float]
    retention_grace: float
    clock: Callable[[], float]


class LedgerBase:
    """What both ledgers share: options, clock, thresholds and the arithmetic of a reservation."""

    def __init__(
        self,
        *,
        reservation_ttl: float = DEFAULT_RESERVATION_TTL,
        thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
        retention_grace: float = DEFAULT_RETENTION_GRACE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not reservation_ttl > 0:
            raise ValueError("reservation_ttl must be > 0 seconds")
        if not retention_grace >= 0:
            raise ValueError("retention_grace must be >= 0 seconds")
        if any(not 0 < t <= 1 for t in thresholds):
            raise ValueError("alert thresholds are fractions of the cap: 0 < threshold <= 1")
        self.reservation_ttl = float(reservation_ttl)
        self.retention_grace = float(retention_grace)
        self.thresholds: tuple[float, ...] = tuple(sorted(set(thresholds)))
        self._clock = clock
        self._id_prefix = secrets.token_hex(8)  # reservation ids: unique to this ledger, then a counter
        self._ids = itertools.count()

    def _prepare(
        self, scopes: Sequence[BudgetScope], amount_usd: float | Decimal
    ) -> tuple[tuple[BudgetScope, ...], int, float]:
        ordered = tuple(scopes)
        if len({(s.name, s.period) for s in ordered}) != len(ordered):
            raise ValueError("a reservation names the same scope and period twice")
        return ordered, usd_to_micros(amount_usd), self._clock()

    def _reservation(
        self, scopes: tuple[BudgetScope, ...], keys: Sequence[str], amount: int, now: float
    ) -> Reservation:
        rid = f"{self._id_prefix}{next(self._ids):x}"
        return Reservation(rid, scopes, tuple(keys), amount, now + self.reservation_ttl)

    def _forget_at(self, key: str) -> float:
        """When a period's counters may vanish: a little after the period ends."""
        return period_end(key) + self.retention_grace

    def _levels(self, scope: BudgetScope) -> tuple[int, ...]:
        """Each threshold as the spend (micro-dollars) that reaches it."""
        return _levels(scope.cap_usd, self.thresholds)

    @property
    def _refusal_threshold(self) -> float | None:
        """The threshold a refusal reports: 1.0 (the cap reached), when it is one of the thresholds."""
        return 1.0 if 1.0 in self.thresholds else None


# In process ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Bucket:
    """One scope in one period. `holds` is in order of expiry (one TTL for every reservation)."""

    forget_at: float
    spent: int = 0
    spent_recorded: bool = False
    reserved: int = 0
    holds: dict[str, tuple[int, float]] = field(default_factory=dict)  # id -> (amount, expires_at)
    alerted: set[float] = field(default_factory=set)

    def prune(self, now: float) -> None:
        """Drop the expired holds (lazily: only when the scope is used)."""
        while self.holds:
            rid = next(iter(self.holds))
            amount, expires_at = self.holds[rid]
            if expires_at > now:
                return
            del self.holds[rid]
            self.reserved -= amount


class InProcessBudgetLedger(LedgerBase):
    """Budgets of one process. Every method runs to completion without awaiting, so asyncio
    coroutines can never interleave inside one: each is atomic. Not for several threads."""

    def __init__(self, **options: Unpack[LedgerOptions]) -> None:
        super().__init__(**options)
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._open: dict[str, float] = {}  # reservation id -> when to forget it unsettled
        self._next_sweep = 0.0

    async def reserve(self, scopes: Sequence[BudgetScope], amount_usd: float | Decimal) -> Reservation:
        ordered, amount, now = self._prepare(scopes, amount_usd)
        self._sweep(now)
        keys = [s.period_key(now) for s in ordered]
        buckets = [self._bucket(s.name, key) for s, key in zip(ordered, keys, strict=True)]
        refusals: list[tuple[BudgetScope, str, _Bucket]] = []
        for scope, key, bucket in zip(ordered, keys, buckets, strict=True):
            bucket.prune(now)
            if bucket.spent + bucket.reserved + amount > cap_micros(scope.cap_usd):
                refusals.append((scope, key, bucket))
        if refusals:
            raise self._refused(refusals, amount)
        reservation = self._reservation(ordered, keys, amount, now)
        for bucket in buckets:
            bucket.reserved += amount
            bucket.holds[reservation.id] = (amount, reservation.expires_at)
        if ordered:
            self._open[reservation.id] = max(max(b.forget_at for b in buckets), reservation.expires_at)
        return reservation

    async def settle(self, reservation: Reservation, actual_usd: float | Decimal) -> tuple[ThresholdCrossed, ...]:
        return self._finish(reservation, usd_to_micros(actual_usd))

    async def release(self, reservation: Reservation) -> None:
        self._finish(reservation, 0)

    async def settle_many(self, settles: Sequence[tuple[Reservation, int]]) -> tuple[ThresholdCrossed, ...]:
        return tuple(c for reservation, actual in settles for c in self._finish(reservation, actual))

    async def usage(self, scope: BudgetScope, period_key: str | None = None) -> ScopeUsage:
        now = self._clock()
        key = period_key or scope.period_key(now)
        bucket = self._buckets.get((scope.name, key))
        if bucket is None:
            return ScopeUsage(0.0, 0.0, scope.cap_usd, key)
        bucket.prune(now)
        return ScopeUsage(bucket.spent / 1_000_000, bucket.reserved / 1_000_000, scope.cap_usd, key)

    async def seed(self, scope: BudgetScope, spent_usd: float | Decimal) -> bool:
        spent = usd_to_micros(spent_usd)
        bucket = self._bucket(scope.name, scope.period_key(self._clock()))
        if bucket.spent_recorded:
            return False
        bucket.spent, bucket.spent_recorded = spent, True
        return True

    async def close(self) -> None:
        self._buckets.clear()
        self._open.clear()

    def _bucket(self, name: str, key: str) -> _Bucket:
        bucket = self._buckets.get((name, key))
        if bucket is None:
            bucket = self._buckets[(name, key)] = _Bucket(forget_at=self._forget_at(key))
        return bucket

    def _finish(self, reservation: Reservation, actual: int) -> tuple[ThresholdCrossed, ...]:
        if self._open.pop(reservation.id, None) is None:
            return ()  # settled or released already (or forgotten with its period)
        crossed: list[ThresholdCrossed] = []
        for scope, key in zip(reservation.scopes, reservation.period_keys, strict=True):
            bucket = self._bucket(scope.name, key)
            held = bucket.holds.pop(reservation.id, None)
            if held is not None:  # None: it expired and has left `reserved` already
                bucket.reserved -= held[0]
            if actual > 0:
                bucket.spent += actual
                bucket.spent_recorded = True
                for threshold, level in zip(self.thresholds, self._levels(scope), strict=True):
                    if bucket.spent >= level and threshold not in bucket.alerted:
                        bucket.alerted.add(threshold)
                        crossed.append(ThresholdCrossed(scope, threshold, bucket.spent / 1_000_000, scope.cap_usd))
        return tuple(crossed)

    def _refused(self, refusals: list[tuple[BudgetScope, str, _Bucket]], amount: int) -> BudgetExceeded:
        crossed: list[ThresholdCrossed] = []
        threshold = self._refusal_threshold
        for scope, _, bucket in refusals:
            if threshold is not None and threshold not in bucket.alerted:
                bucket.alerted.add(threshold)
                crossed.append(ThresholdCrossed(scope, threshold, bucket.spent / 1_000_000, scope.cap_usd))
        scope, key, bucket = refusals[0]
        return BudgetExceeded(
            scope,
            period_key=key,
            spent_usd=bucket.spent / 1_000_000,
            reserved_usd=bucket.reserved / 1_000_000,
            requested_usd=amount / 1_000_000,
            crossed=tuple(crossed),
        )

    def _sweep(self, now: float) -> None:
        """Forget past periods and reservations nobody settled, at most once a minute."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + _SWEEP_EVERY
        for key in [k for k, b in self._buckets.items() if b.forget_at <= now]:
            del self._buckets[key]
        for rid in [r for r, forget_at in self._open.items() if forget_at <= now]:
            del self._open[rid]


@functools.lru_cache(maxsize=4096)
def _levels(cap_usd: float, thresholds: tuple[float, ...]) -> tuple[int, ...]:
    cap = cap_micros(cap_usd)
    return tuple(int((Decimal(repr(t)) * cap).to_integral_value(rounding=ROUND_CEILING)) for t in thresholds)
