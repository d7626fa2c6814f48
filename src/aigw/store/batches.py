"""What every background writer of the store shares: a flush loop, and the one write path of
batched statements, which never stalls the event loop and waits out a busy database.

`FlushLoop` calls a writer's `flush` every `interval` seconds, at once when woken (a full batch),
and without waiting while a backlog remains; `stop()` lets the flush in progress finish, so a
write is never cancelled half-way. A flush that raises is logged and the loop goes on: a writer
whose task died would silently stop writing for the rest of the process's life.

`BatchStatements` runs executemany statements; the spend ledger, the trace writer and retention
all write through it. On PostgreSQL through the async engine, in one transaction. On SQLite from
the event loop's own thread (`Database.write_engine`, one connection per process): a worker thread
(aiosqlite's) starves for the GIL while the loop is busy, holds SQLite's write lock the whole time
and the writer falls behind; in-process SQLite writes are fast. On SQLite a transaction never
spans a yield to the loop: rows are written in slices of a few milliseconds, each its own
`BEGIN IMMEDIATE` ... COMMIT, and the loop runs between slices. A transaction left open across a
yield would hold the file's only write lock while the other writers of the process, running in
that yield, wait for it in the loop's own thread, which cannot release it: they failed with
"database is locked" and dropped or spooled their batches (docs/benchmarks.md at 5e5f479).
`atomic=True` writes all steps in one transaction without yielding, for small batches that must
be all or nothing.

A transaction that finds the lock taken (`write_errors.is_contention`) was rolled back whole; it is
retried after a `Backoff` pause until the caller's `deadline` (default: `patience`, `BUSY_PATIENCE_S`),
then `DatabaseBusy` says how many rows were committed before it, so that the writer keeps exactly
the rest. Any other error is raised as it is: the database is unavailable.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import CursorResult, Executable

from aigw.store.database import Database
from aigw.store.write_errors import Backoff, DatabaseBusy, is_contention

__all__ = ["BUSY_PATIENCE_S", "BatchStatements", "FlushLoop", "Step"]

log = logging.getLogger("aigw.store")
SQLITE_SLICE = 200  # rows written in one transaction, without yielding to the event loop (~2 ms)
BUSY_PATIENCE_S = 10.0  # how long a busy database is waited for when the caller sets no deadline
Step = tuple[Executable, Sequence[Mapping[str, Any]] | None]  # a statement and its rows (None: run once)
_Rows = list[Mapping[str, Any]] | None
_T = TypeVar("_T")


class FlushLoop:
    """Runs `flush` in a background task: every `interval` seconds, when woken, or at once while
    `backlog()` says more is waiting."""

    def __init__(self, flush: Callable[[], Awaitable[None]], interval: float, backlog: Callable[[], bool]) -> None:
        self._flush = flush
        self._interval = interval
        self._backlog = backlog
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run())

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        """End the loop after the flush it may be in (never cancelled mid-write)."""
        if self._task is not None:
            self._stopping = True
            self._wake.set()
            await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stopping:
            if not self._backlog():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            if not self._stopping:
                try:
                    await self._flush()
                except Exception:  # a bug in one flush must not end every later one
                    log.exception("background writer: a flush failed")


class BatchStatements:
    """Executes steps (statement, rows) in order; see the module docstring."""

    def __init__(
        self, database: Database, slice_rows: int = SQLITE_SLICE, *, patience: float = BUSY_PATIENCE_S
    ) -> None:
        self.database = database
        self.slice_rows = slice_rows
        self.patience = patience  # seconds a busy database is waited for when `execute` gets no deadline
        self.busy_retries = 0  # transactions that found the lock taken and were tried again

    async def execute(self, steps: Sequence[Step], *, atomic: bool = False, deadline: float | None = None) -> list[int]:
        """Run the steps in order and return each one's row count. PostgreSQL: one transaction,
        cut at `deadline` (loop time) with TimeoutError. SQLite: one transaction per slice of rows,
        or one for everything when `atomic`. Raises DatabaseBusy when the lock stays taken until
        `deadline`."""
        loop = asyncio.get_running_loop()
        give_up = deadline if deadline is not None else loop.time() + self.patience
        if self.database.dialect == "sqlite":
            if atomic:
                return await self._sqlite_atomic(steps, give_up)
            return await self._sqlite_sliced(steps, give_up)
        async with asyncio.timeout_at(deadline):
            return await self._retrying(lambda: self._postgres(steps), give_up, committed=0)

    async def _postgres(self, steps: Sequence[Step]) -> list[int]:
        counts = []
        async with self.database.sessions.begin() as session:
            for statement, rows in steps:
                if rows is not None and not rows:
                    counts.append(0)
                    continue
                result = await session.execute(statement, list(rows) if rows is not None else None)
                counts.append(_rowcount(result))
        return counts

    async def _sqlite_sliced(self, steps: Sequence[Step], give_up: float) -> list[int]:
        engine = self.database.write_engine()
        counts = []
        committed = 0  # rows of earlier transactions, for DatabaseBusy

        async def transaction(statement: Executable, params: _Rows) -> int:
            with engine.begin() as connection:
                return _rowcount(connection.execute(statement, params))

        for statement, rows in steps:
            count = 0
            for params in _slices(rows, self.slice_rows):
                count += await self._retrying(functools.partial(transaction, statement, params), give_up, committed)
                committed += len(params or ())
                await asyncio.sleep(0)
            counts.append(count)
        return counts

    async def _sqlite_atomic(self, steps: Sequence[Step], give_up: float) -> list[int]:
        engine = self.database.write_engine()

        async def transaction() -> list[int]:
            with engine.begin() as connection:
                return [
                    sum(_rowcount(connection.execute(statement, part)) for part in _slices(rows, len(rows or ()) or 1))
                    for statement, rows in steps
                ]

        counts = await self._retrying(transaction, give_up, committed=0)
        await asyncio.sleep(0)
        return counts

    async def _retrying(self, attempt: Callable[[], Awaitable[_T]], give_up: float, committed: int) -> _T:
        """`attempt()` (one whole transaction), again after a pause while another writer holds the lock."""
        loop = asyncio.get_running_loop()
        backoff = Backoff()
        while True:
            try:
                return await attempt()
            except Exception as exc:
                if not is_contention(exc):
                    raise
                delay = backoff.next_delay()
                if loop.time() + delay > give_up:
                    raise DatabaseBusy(committed) from exc
                self.busy_retries += 1
            await asyncio.sleep(delay)


def _slices(rows: Sequence[Mapping[str, Any]] | None, size: int) -> list[_Rows]:
    """The parameter lists to execute: one None for a statement without rows, none for no rows."""
    if rows is None:
        return [None]
    return [list(rows[start : start + size]) for start in range(0, len(rows), size)]


def _rowcount(result: Any) -> int:
    count = result.rowcount if isinstance(result, CursorResult) else -1
    return max(int(count), 0)
