"""Small helpers shared by the integration tests."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.conftest import MASTER_KEY

ADMIN = {"authorization": f"Bearer {MASTER_KEY}"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def wait_until(predicate: Callable[[], object], bound: float) -> float:
    """Seconds until `predicate()` holds; fails past `bound`."""
    started = time.monotonic()
    while time.monotonic() - started < bound:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"condition not met within {bound}s")
