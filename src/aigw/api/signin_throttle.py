"""Failed authentications per client address: after `limit` in a window, 429 until it ends.

Key guessing is what this stops, so the check runs before any key is looked up or compared.
Decisions:
- A fixed window per address, opened by its first failure: one timestamp and one count each.
- Memory is bounded: at most `capacity` addresses, the least recently failing forgotten first.
- IPv6 addresses count per /64, the block one subscriber gets: otherwise each of its 2^64
  addresses would get its own allowance.
- Per process: each worker and replica counts on its own, which bounds guessing all the same.
- A client that is throttled is refused even with a good key until the window ends, so clients
  behind one address (a NAT, or a proxy missing from `AI_TRUSTED_PROXIES`) share the allowance.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable

from aigw.errors import RateLimitError

DEFAULT_CAPACITY = 10_000


class SignInThrottle:
    def __init__(
        self,
        limit: int,
        window_s: float,
        capacity: int = DEFAULT_CAPACITY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.capacity = capacity
        self._clock = clock
        self._failures: OrderedDict[str, tuple[float, int]] = OrderedDict()  # address -> (window start, count)

    def check(self, address: str | None) -> None:
        """Raise a 429 when `address` has failed `limit` times in its current window."""
        if not self._failures:  # the usual case: nobody failed lately, nothing to compute
            return
        key = _bucket(address)
        entry = self._failures.get(key)
        if entry is None:
            return
        started, count = entry
        elapsed = self._clock() - started
        if elapsed >= self.window_s:
            del self._failures[key]
            return
        if count >= self.limit:
            raise RateLimitError(
                "Too many failed authentications from this address; try again later",
                retry_after=self.window_s - elapsed,
                code="too_many_failed_authentications",
            )

    def failed(self, address: str | None) -> None:
        """Count one failed authentication of `address`."""
        key = _bucket(address)
        now = self._clock()
        entry = self._failures.pop(key, None)
        if entry is not None and now - entry[0] < self.window_s:
            self._failures[key] = (entry[0], entry[1] + 1)
        else:
            self._failures[key] = (now, 1)
        while len(self._failures) > self.capacity:
            self._failures.popitem(last=False)

    def __len__(self) -> int:
        return len(self._failures)


def _bucket(address: str | None) -> str:
    if address is None:
        return "unknown"
    if ":" not in address:
        return address
    try:
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    except ValueError:
        return address
