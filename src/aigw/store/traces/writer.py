"""Persisted traces: finished traces written to the database in batches, off the request path.

`TraceWriter.submit()` is all the request path pays: one bounds check and one append to a
bounded queue (previews are cut to `preview_chars` first). It never waits and never fails: when
the queue is full, the trace is dropped and counted in `dropped_full`.

The background flush (every `flush_interval` seconds, at once when `batch_size` traces wait)
does the rest, in slices that yield to the event loop:
1. every trace is counted into the rollups (`rollups.py`), sampled or not;
2. the traces to keep are chosen: errors, refusals and fallbacks always, successful calls by
   `sampled()` at `sample_rate`; their rows are built (`record.row_of`);
3. the rollups are upserted (one small transaction), then the rows inserted.
A flush gets `write_timeout` seconds of database time. Another writer holding the lock (SQLite's
single write lock, taken in turn by the spend ledger and the traces of every worker) is not an
outage: the write is retried after short pauses (`batches.BatchStatements`), and rows still
unwritten at the deadline are kept for the next flush, which takes that many fewer new traces;
what waits in memory (queue and kept rows) stays within `queue_size`, past which `submit` drops
and counts in `dropped_full`. When the database is away or too slow, the rows are dropped and
counted in `dropped_unavailable` (no spool: a trace is a diagnosis, not a ledger) and the
rollups are kept in memory for the next flush, so the dashboard's counts survive an outage. A
PostgreSQL flush whose commit was cut by the timeout may have been committed: its rollups may
then be counted twice, the price of never waiting. Rows still kept when the writer closes on a
busy database are dropped and counted in `dropped_busy`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from sqlalchemy import insert

from aigw.observability.redact import LogRedactor
from aigw.observability.tracing import Trace
from aigw.store.batches import BatchStatements, FlushLoop
from aigw.store.database import Database
from aigw.store.traces.record import facts_of, must_keep, row_of, sampled
from aigw.store.traces.rollups import Rollups, upsert_statements
from aigw.store.traces.settings import TraceSettings
from aigw.store.traces.tables import traces
from aigw.store.write_errors import DatabaseBusy

__all__ = ["TraceWriter"]

log = logging.getLogger("aigw.traces")
_PREPARE_SLICE = 64  # traces turned into rows between two yields to the event loop (~2 ms)
_ROWS_PER_SQLITE_SLICE = 100
_Item = tuple[Trace, str | None, str | None]


class TraceWriter:
    """Writes finished traces and their rollups to the database (see the module docstring)."""

    def __init__(
        self, database: Database, settings: TraceSettings | None = None, *, scrub: Callable[[str], str] | None = None
    ) -> None:
        self.database = database
        self.settings = settings or TraceSettings()
        self._scrub = scrub or LogRedactor()
        self._capacity = self.settings.queue_size
        self._batch_size = self.settings.batch_size
        self._preview_chars = self.settings.preview_chars if self.settings.payloads == "masked" else 0
        self._queue: deque[_Item] = deque()
        self._kept: list[dict[str, Any]] = []  # rows a busy database did not take yet
        self._rollups = Rollups()
        self._statements = BatchStatements(database, _ROWS_PER_SQLITE_SLICE)
        self._upserts = upsert_statements(database.dialect)
        self._insert = insert(traces)
        self._lock = asyncio.Lock()
        self._loop = FlushLoop(self.flush, self.settings.flush_interval, self._has_backlog)
        self.submitted = 0
        self.written = 0  # rows stored
        self.sampled_out = 0  # successful calls counted in the rollups but not stored
        self.dropped_full = 0  # the queue was full
        self.dropped_unavailable = 0  # the database was away or too slow
        self.dropped_busy = 0  # kept rows the database was still too busy to take at close
        self.failing = False
        self.busy = False
        self._rollups_dropped = 0

    def submit(self, trace: Trace, prompt: str | None = None, answer: str | None = None) -> bool:
        """Queue a finished trace with the masked previews of its prompt and answer (no I/O, never
        waits). False when the queue is full and the trace was dropped."""
        queue = self._queue
        if len(queue) + len(self._kept) >= self._capacity:
            self.dropped_full += 1
            return False
        limit = self._preview_chars
        if limit and (prompt or answer):
            queue.append((trace, prompt[:limit] if prompt else None, answer[:limit] if answer else None))
        else:
            queue.append((trace, None, None))
        self.submitted += 1
        if len(queue) == self._batch_size:
            self._loop.wake()
        return True

    @property
    def pending(self) -> int:
        """Traces waiting: queued, or kept after a busy write."""
        return len(self._queue) + len(self._kept)

    @property
    def rollups_dropped(self) -> int:
        """Requests left out of the rollups because too many counts were waiting for the database."""
        return self._rollups_dropped + self._rollups.dropped

    def stats(self) -> dict[str, Any]:
        return {
            "submitted": self.submitted,
            "written": self.written,
            "sampled_out": self.sampled_out,
            "dropped_full": self.dropped_full,
            "dropped_unavailable": self.dropped_unavailable,
            "dropped_busy": self.dropped_busy,
            "rollups_dropped": self.rollups_dropped,
            "pending": self.pending,
            "failing": self.failing,
            "busy": self.busy,
        }

    def start(self) -> None:
        self._loop.start()

    async def close(self) -> None:
        """Stop the loop and write what waits (each flush still bounded by `write_timeout`)."""
        await self._loop.stop()
        while self._queue or self._kept:
            await self.flush()
            if self.failing or self.busy:  # the flush had its write_timeout: drop what is left
                lost = len(self._queue) + len(self._kept)
                if self.busy:
                    self.dropped_busy += lost
                else:
                    self.dropped_unavailable += lost
                self._queue.clear()
                self._kept = []
        if len(self._rollups) and not self.failing and not self.busy:
            await self.flush()

    async def flush(self) -> None:
        """Count, sample and write at most `batch_size` queued traces (see the module docstring)."""
        async with self._lock:
            rows, self._kept = self._kept, []
            rows += await self._prepare(self._take(self._batch_size - len(rows)))
            if not rows and not len(self._rollups):
                return
            try:
                await self._write(rows, asyncio.get_running_loop().time() + self.settings.write_timeout)
            except DatabaseBusy as busy:  # another writer held the lock all along: keep the rest
                self.written += busy.committed
                self._kept = rows[busy.committed :]
                self._busy(len(self._kept))
            except Exception as exc:  # the database is away, or refused the batch
                self.dropped_unavailable += len(rows)
                self._failed(exc)
            else:
                self.written += len(rows)
                self._recovered()

    def _has_backlog(self) -> bool:
        return len(self._queue) >= self._batch_size

    def _take(self, most: int) -> list[_Item]:
        queue = self._queue
        return [queue.popleft() for _ in range(min(len(queue), most))]

    async def _prepare(self, batch: list[_Item]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        rate = self.settings.sample_rate
        for index, (trace, prompt, answer) in enumerate(batch):
            if index and not index % _PREPARE_SLICE:
                await asyncio.sleep(0)
            facts = facts_of(trace)
            self._rollups.add(facts)
            if must_keep(facts) or sampled(trace.request_id, rate):
                rows.append(row_of(trace, facts, (prompt, answer), self._scrub))
            else:
                self.sampled_out += 1
        return rows

    async def _write(self, rows: list[dict[str, Any]], deadline: float) -> None:
        """Rollups, then rows; DatabaseBusy's `committed` counts rows (the rollups are all or none)."""
        if len(self._rollups):
            cells, reasons = self._rollups.rows()
            upsert_cells, upsert_reasons = self._upserts
            steps = [(upsert_cells, cells), (upsert_reasons, reasons)]
            await self._statements.execute(steps, atomic=True, deadline=deadline)
            self._rollups_dropped += self._rollups.dropped
            self._rollups = Rollups()  # written: counted once (what failed stays for the next flush)
        if rows:
            await self._statements.execute([(self._insert, rows)], deadline=deadline)

    def _failed(self, exc: Exception) -> None:
        if not self.failing:
            log.warning(
                "traces: database unavailable, dropping traces (rollups kept in memory)",
                extra={"error": type(exc).__name__},
            )
        self.failing = True
        self.busy = False

    def _busy(self, kept: int) -> None:
        if not self.busy:
            log.warning("traces: database busy (lock held by other writers), traces kept", extra={"kept": kept})
        self.busy = True

    def _recovered(self) -> None:
        if self.failing:
            log.info("traces: database back", extra={"dropped": self.dropped_unavailable})
        if self.busy:
            log.info("traces: database no longer busy")
        self.failing = self.busy = False
