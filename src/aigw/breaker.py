"""Circuit breaker: stop calling a provider that keeps failing, probe it again after a cool-down.

closed     calls flow; outcomes are counted in a rolling time window (fixed-size buckets, O(1)).
           When at least `min_calls` calls in the window failed at `failure_rate` or more: open.
open       calls are refused at once until `cooldown` seconds have passed: then half-open.
half_open  one probe call at a time is let through; success closes, failure re-opens.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_BUCKETS = 10


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(slots=True)
class _Bucket:
    start: float = 0.0
    calls: int = 0
    failures: int = 0


class CircuitBreaker:
    def __init__(
        self,
        *,
        failure_rate: float = 0.5,
        min_calls: int = 10,
        window: float = 30.0,
        cooldown: float = 15.0,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[BreakerState], None] | None = None,
    ) -> None:
        self.failure_rate = failure_rate
        self.min_calls = min_calls
        self.cooldown = cooldown
        self.enabled = enabled
        self._clock = clock
        self._on_change = on_change
        self._bucket_width = window / _BUCKETS
        self._buckets = [_Bucket() for _ in range(_BUCKETS)]
        self._state = BreakerState.CLOSED
        self._opened_at = 0.0
        self._probe_in_flight = False
        self.times_opened = 0

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self.cooldown:
            self._transition(BreakerState.HALF_OPEN)
        return self._state

    def retry_after(self) -> float:
        """Seconds until an open circuit lets a probe through (0 when it already would)."""
        if self._state is not BreakerState.OPEN:
            return 0.0
        return max(0.0, self.cooldown - (self._clock() - self._opened_at))

    def allow(self) -> bool:
        """May a call go out now? In half-open state this claims the single probe slot."""
        if not self.enabled:
            return True
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._probe_in_flight:
            self._probe_in_flight = True
            return True
        return False

    def record_success(self) -> None:
        if self._state is BreakerState.HALF_OPEN:
            self._probe_in_flight = False
            self._reset_window()
            self._transition(BreakerState.CLOSED)
            return
        self._current_bucket().calls += 1

    def record_failure(self) -> None:
        if self._state is BreakerState.HALF_OPEN:
            self._probe_in_flight = False
            self._open()
            return
        bucket = self._current_bucket()
        bucket.calls += 1
        bucket.failures += 1
        if self._state is BreakerState.CLOSED and self.enabled:
            calls, failures = self._totals()
            if calls >= self.min_calls and failures >= self.failure_rate * calls:
                self._open()

    def release_probe(self) -> None:
        """A probe that ended without a verdict (e.g. the caller went away) frees its slot."""
        self._probe_in_flight = False

    def snapshot(self) -> dict[str, Any]:
        calls, failures = self._totals()
        return {
            "state": self.state.value,
            "enabled": self.enabled,
            "window_calls": calls,
            "window_failures": failures,
            "times_opened": self.times_opened,
            "retry_after_s": round(self.retry_after(), 3),
        }

    def _open(self) -> None:
        self._opened_at = self._clock()
        self.times_opened += 1
        self._transition(BreakerState.OPEN)

    def _transition(self, state: BreakerState) -> None:
        if state is not self._state:
            self._state = state
            if self._on_change is not None:
                self._on_change(state)

    def _current_bucket(self) -> _Bucket:
        now = self._clock()
        start = now - now % self._bucket_width
        bucket = self._buckets[int(now / self._bucket_width) % _BUCKETS]
        if bucket.start != start:
            bucket.start, bucket.calls, bucket.failures = start, 0, 0
        return bucket

    def _totals(self) -> tuple[int, int]:
        oldest = self._clock() - self._bucket_width * _BUCKETS
        calls = failures = 0
        for bucket in self._buckets:
            if bucket.start > oldest:
                calls += bucket.calls
                failures += bucket.failures
        return calls, failures

    def _reset_window(self) -> None:
        for bucket in self._buckets:
            bucket.start, bucket.calls, bucket.failures = 0.0, 0, 0
