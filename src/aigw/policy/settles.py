"""Budget settles on their way to the ledger: batched, retried until they land, never dropped.

A settle turns a call's hold into spend. One that never reaches the ledger leaves spend uncounted
(the hold just expires), so a budget would let through more than its cap. Both ledgers settle a
reservation once (a second settle of it changes nothing), which makes delivery safe to repeat: a
batch whose outcome is unknown (the store errored, the call was cancelled) is put back and sent
again, at least once in all.

- `put` queues a settle. One background flusher sends what gathered in a short window (one round
  trip for many calls), then whatever queued meanwhile, at most `MAX_BATCH` per round trip.
- A batch that fails goes back to the front of the queue and is retried with exponential backoff
  (`RETRY_FIRST_S` doubling up to `RETRY_MOST_S`) for as long as the process runs. The queue
  cannot grow without bound meanwhile: with the store away, calls are admitted without a hold
  (or refused), so only the holds made before the outage wait here.
- `carried(most)` lends settles to an admission that sends them in its own script call
  (`policy.admission`); they come back to the queue unless the store answered.
- `close(timeout)` makes a last attempt within `timeout`; what is left then is logged and counted
  in `abandoned` (those holds expire after the ledger's reservation TTL; the spend ledger in the
  database still has every call, and `CostControl.seed` restores budgets from it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Iterator, Sequence

from aigw.policy.alerts import BudgetAlerts
from aigw.policy.budget import BudgetExceeded, BudgetLedger, Reservation

log = logging.getLogger("aigw.budget")

Settle = tuple[Reservation, int]  # a reservation and what the call cost, in micro-dollars (0 releases it)

SETTLE_WINDOW_S = 0.01  # settles wait this long to share a round trip; the hold keeps the cap safe meanwhile
MAX_BATCH = 256  # settles per round trip, so that one script call stays short
RETRY_FIRST_S = 0.05
RETRY_MOST_S = 5.0
CLOSE_TIMEOUT_S = 5.0


class SettleQueue:
    """Settles waiting for the ledger, and the one task that sends them."""

    def __init__(self, ledger: BudgetLedger, alerts: BudgetAlerts, on_failure: Callable[[BaseException], None]) -> None:
        self.ledger = ledger
        self.alerts = alerts
        self._on_failure = on_failure  # told of every failed batch (metrics, a rate-limited warning)
        self._queue: deque[Settle] = deque()
        self._flusher: asyncio.Task[None] | None = None
        self.failed_batches = 0
        self.abandoned = 0

    def __len__(self) -> int:
        return len(self._queue)

    def put(self, reservation: Reservation, micros: int) -> None:
        self._queue.append((reservation, micros))
        self._start_flusher()

    def take(self, most: int) -> list[Settle]:
        """Up to `most` queued settles, oldest first, for a caller that sends them itself."""
        return [self._queue.popleft() for _ in range(min(most, len(self._queue)))]

    def put_back(self, settles: Sequence[Settle]) -> None:
        """Settles whose delivery is unknown go back to the front of the queue, in their order."""
        if settles:
            self._queue.extendleft(reversed(settles))
            self._start_flusher()

    @contextlib.contextmanager
    def carried(self, most: int) -> Iterator[list[Settle]]:
        """Settles for an admission's script call. The store answered if the block ends normally or
        with `BudgetExceeded` (the script settled them before checking the hold); on any other
        exception, cancellation included, they are put back."""
        settles = self.take(most)
        try:
            yield settles
        except BudgetExceeded:
            raise
        except BaseException:
            self.put_back(settles)
            raise

    async def close(self, timeout: float = CLOSE_TIMEOUT_S) -> None:
        """Send what is queued, for at most `timeout` seconds; count and log what could not be sent."""
        self._start_flusher()
        flusher = self._flusher
        if flusher is not None:
            done, _ = await asyncio.wait({flusher}, timeout=timeout)
            if not done:
                flusher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await flusher
        if self._queue:
            self.abandoned += len(self._queue)
            log.warning(
                "budget settles could not be sent before shutdown; their holds expire after the reservation TTL",
                extra={"settles": len(self._queue)},
            )
            self._queue.clear()

    def _start_flusher(self) -> None:
        if self._flusher is None and self._queue:
            self._flusher = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        delay = RETRY_FIRST_S
        try:
            await asyncio.sleep(SETTLE_WINDOW_S)
            while self._queue:
                batch = self.take(MAX_BATCH)
                try:
                    crossed = await self.ledger.settle_many(batch)
                except BaseException as exc:
                    self.put_back(batch)  # applied or not, sending it again is safe
                    if not isinstance(exc, Exception):
                        raise
                    self.failed_batches += 1
                    self._on_failure(exc)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RETRY_MOST_S)
                    continue
                delay = RETRY_FIRST_S
                self.alerts.notify(crossed)
        finally:
            self._flusher = None
