"""CircuitBreaker: rolling failure rate, open/half-open/closed transitions, driven by a fake clock."""

from __future__ import annotations

import pytest

from aigw.breaker import BreakerState, CircuitBreaker
from tests.unit.fakes import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make(clock: FakeClock, changes: list[BreakerState] | None = None, **kwargs: object) -> CircuitBreaker:
    options: dict[str, object] = {"failure_rate": 0.5, "min_calls": 4, "window": 30.0, "cooldown": 10.0}
    options.update(kwargs)
    return CircuitBreaker(clock=clock, on_change=None if changes is None else changes.append, **options)  # type: ignore[arg-type]


def trip(breaker: CircuitBreaker, failures: int = 4) -> None:
    for _ in range(failures):
        assert breaker.allow()
        breaker.record_failure()


def test_stays_closed_below_min_calls(clock: FakeClock) -> None:
    breaker = make(clock)
    for _ in range(3):  # 100 % failures, but only 3 of the 4 calls needed
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow()
    assert breaker.snapshot()["window_failures"] == 3


def test_opens_exactly_at_the_failure_rate_threshold(clock: FakeClock) -> None:
    breaker = make(clock, min_calls=4, failure_rate=0.5)
    breaker.record_success()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED  # 1 of 3 calls: below min_calls
    breaker.record_failure()  # 2 of 4 = 50 %
    assert breaker.state is BreakerState.OPEN
    assert breaker.times_opened == 1


def test_stays_closed_below_the_failure_rate(clock: FakeClock) -> None:
    breaker = make(clock, min_calls=4, failure_rate=0.5)
    for _ in range(7):
        breaker.record_success()
    for _ in range(3):  # 3 of 10 = 30 %
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.snapshot()["window_calls"] == 10


def test_open_refuses_and_retry_after_counts_down(clock: FakeClock) -> None:
    breaker = make(clock, cooldown=10.0)
    trip(breaker)
    assert breaker.allow() is False
    assert breaker.retry_after() == pytest.approx(10.0)
    clock.advance(4.0)
    assert breaker.allow() is False
    assert breaker.retry_after() == pytest.approx(6.0)
    clock.advance(5.5)
    assert breaker.retry_after() == pytest.approx(0.5)
    assert breaker.state is BreakerState.OPEN
    assert breaker.snapshot()["retry_after_s"] == pytest.approx(0.5)


def test_closed_breaker_has_no_retry_after(clock: FakeClock) -> None:
    assert make(clock).retry_after() == 0.0


def test_half_open_after_cooldown_lets_exactly_one_probe_through(clock: FakeClock) -> None:
    breaker = make(clock, cooldown=10.0)
    trip(breaker)
    clock.advance(10.0)
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.retry_after() == 0.0
    assert breaker.allow() is True  # the probe
    assert breaker.allow() is False  # a second caller while the probe is out
    assert breaker.allow() is False


def test_released_probe_frees_the_slot(clock: FakeClock) -> None:
    breaker = make(clock)
    trip(breaker)
    clock.advance(10.0)
    assert breaker.allow()
    breaker.release_probe()
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow() is True
    assert breaker.allow() is False


def test_probe_success_closes_and_resets_the_window(clock: FakeClock) -> None:
    breaker = make(clock, cooldown=10.0)
    trip(breaker)
    clock.advance(10.0)
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.snapshot()["window_calls"] == 0
    # The failures that opened the circuit are gone: three more failures stay below min_calls.
    for _ in range(3):
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow() and breaker.allow()


def test_probe_failure_reopens_with_a_fresh_cooldown(clock: FakeClock) -> None:
    breaker = make(clock, cooldown=10.0)
    trip(breaker)
    clock.advance(12.0)
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert breaker.times_opened == 2
    assert breaker.allow() is False
    assert breaker.retry_after() == pytest.approx(10.0)
    clock.advance(10.0)
    assert breaker.allow() is True  # next probe


def test_old_failures_slide_out_of_the_window(clock: FakeClock) -> None:
    breaker = make(clock, window=30.0, min_calls=4)
    for _ in range(3):
        breaker.record_failure()
    clock.advance(31.0)
    assert breaker.snapshot()["window_failures"] == 0
    breaker.record_failure()  # would be the 4th of 4 failures if the old ones still counted
    assert breaker.state is BreakerState.CLOSED
    assert breaker.snapshot()["window_calls"] == 1


def test_failures_within_the_window_add_up(clock: FakeClock) -> None:
    breaker = make(clock, window=30.0, min_calls=4)
    for _ in range(3):
        breaker.record_failure()
        clock.advance(8.0)  # the first failure is 24 s old when the 4th arrives
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN


def test_partial_slide_keeps_recent_buckets(clock: FakeClock) -> None:
    breaker = make(clock, window=30.0, min_calls=100)
    breaker.record_failure()
    clock.advance(15.0)
    breaker.record_failure()
    breaker.record_success()
    clock.advance(20.0)  # the first failure is 35 s old, the others 20 s
    snap = breaker.snapshot()
    assert (snap["window_calls"], snap["window_failures"]) == (2, 1)


def test_disabled_breaker_never_refuses(clock: FakeClock) -> None:
    changes: list[BreakerState] = []
    breaker = make(clock, changes, enabled=False, min_calls=1)
    for _ in range(50):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.times_opened == 0
    assert changes == []


def test_on_change_reports_every_transition_once(clock: FakeClock) -> None:
    changes: list[BreakerState] = []
    breaker = make(clock, changes, cooldown=10.0)
    trip(breaker)
    breaker.record_failure()  # a late failure while open: no new transition
    clock.advance(10.0)
    assert breaker.allow()
    breaker.record_failure()  # probe fails
    clock.advance(10.0)
    assert breaker.allow()
    breaker.record_success()  # probe succeeds
    assert changes == [
        BreakerState.OPEN,
        BreakerState.HALF_OPEN,
        BreakerState.OPEN,
        BreakerState.HALF_OPEN,
        BreakerState.CLOSED,
    ]


def test_snapshot_is_json_friendly(clock: FakeClock) -> None:
    breaker = make(clock)
    trip(breaker)
    snap = breaker.snapshot()
    assert snap == {
        "state": "open",
        "enabled": True,
        "window_calls": 4,
        "window_failures": 4,
        "times_opened": 1,
        "retry_after_s": 10.0,
    }
