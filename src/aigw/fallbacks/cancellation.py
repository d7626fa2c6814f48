"""Cooperative cancellation of CPU work running in a worker thread.

Python cannot stop a thread from outside, and cancelling the coroutine that awaits
`asyncio.to_thread` leaves the thread running to the end. So long work that may outlive the
request it serves (a fuzzy search over a large catalog, a full filtered pass over a vector index,
a batch of local embeddings, an index build) takes a `Cancellation` and calls `check()` between
items, slots or batches: once the request gave up (its deadline passed, the gateway closes), the
work stops there with `WorkCancelled` and frees the CPU. A check reads one attribute (set once
from the event loop; a bool store is atomic under the GIL), cheap enough every few hundred items.
"""

from __future__ import annotations

CHECK_EVERY = 256  # items between two checks in the per-item loops


class WorkCancelled(Exception):
    """The work's requester gave up: its result would be thrown away."""


class Cancellation:
    __slots__ = ("cancelled",)

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def check(self) -> None:
        if self.cancelled:
            raise WorkCancelled


def check(cancel: Cancellation | None) -> None:
    """`cancel.check()`, for work that may run without a cancellation (None: never cancelled)."""
    if cancel is not None and cancel.cancelled:
        raise WorkCancelled
