"""api/signin_throttle: failed authentications per client address, in bounded memory."""

from __future__ import annotations

import pytest

from aigw.api.signin_throttle import SignInThrottle
from aigw.errors import RateLimitError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_after_the_limit_a_429_with_the_time_left() -> None:
    clock = Clock()
    throttle = SignInThrottle(limit=3, window_s=60, clock=clock)
    for _ in range(3):
        throttle.check("203.0.113.1")
        throttle.failed("203.0.113.1")
    clock.now += 20
    with pytest.raises(RateLimitError) as caught:
        throttle.check("203.0.113.1")
    assert caught.value.code == "too_many_failed_authentications"
    assert caught.value.headers["retry-after"] == "40"
    throttle.check("203.0.113.2")  # another address is not affected


def test_the_window_ends() -> None:
    clock = Clock()
    throttle = SignInThrottle(limit=2, window_s=60, clock=clock)
    throttle.failed("203.0.113.1")
    throttle.failed("203.0.113.1")
    clock.now += 60
    throttle.check("203.0.113.1")
    assert len(throttle) == 0


def test_ipv6_addresses_count_per_64() -> None:
    throttle = SignInThrottle(limit=2, window_s=60)
    throttle.failed("2001:db8:1:2::1")
    throttle.failed("2001:db8:1:2:ffff::9")
    with pytest.raises(RateLimitError):
        throttle.check("2001:db8:1:2::77")
    throttle.check("2001:db8:1:3::1")


def test_memory_is_bounded_least_recent_first() -> None:
    throttle = SignInThrottle(limit=1, window_s=60, capacity=100)
    throttle.failed("198.51.100.1")
    for i in range(500):
        throttle.failed(f"10.0.{i // 256}.{i % 256}")
    assert len(throttle) == 100
    throttle.check("198.51.100.1")  # forgotten first


def test_unknown_addresses_share_one_allowance() -> None:
    throttle = SignInThrottle(limit=1, window_s=60)
    throttle.failed(None)
    with pytest.raises(RateLimitError):
        throttle.check(None)
