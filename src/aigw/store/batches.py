"""What every background writer of the store shares: a flush loop, and batched statements that
never stall the event loop.

`FlushLoop` calls a writer's `flush` every `interval` seconds, at once when woken (a full batch),
and without waiting while a backlog remains; `stop()` lets the flush in progress finish, so a
write is never cancelled half-way. A flush that raises is logged and the loop goes on: a writer
whose task died would silently stop writing for the rest of the process's life.

`BatchStatements` runs executemany statements. On PostgreSQL through the async engine, in one
transaction. On SQLite from the event loop's own thread: a worker thread (aiosqlite's) starves for
the GIL while the loop is busy, holds SQLite's write lock the whole time and the writer falls
behind; in-process SQLite writes are fast, and the synchronous engine waits at most 50 ms for a
lock held by another process (`sync_engine_for`). This is the mechanism `SpendWriter` uses, made
reusable, with one difference: on SQLite a transaction never spans a yield to the loop. Rows are
written in slices of a few milliseconds, each slice committed before the yield; otherwise another
writer of the same process, running during the yield, would wait for our lock in the loop's own
thread (stalling every request) and fail. `atomic=True` writes all steps in one transaction
without yielding, for small batches that must be all or nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import CursorResult, Engine, Executable

from aigw.store.database import Database, sync_engine_for

__all__ = ["BatchStatements", "FlushLoop", "Step"]

log = logging.getLogger("aigw.store")
SQLITE_SLICE = 200  # rows written without yielding to the event loop (~2 ms)
Step = tuple[Executable, Sequence[Mapping[str, Any]] | None]  # a statement and its rows (None: run once)


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
    """Executes steps (statement, rows) in one transaction; see the module docstring."""

    def __init__(self, database: Database, slice_rows: int = SQLITE_SLICE) -> None:
        self.database = database
        self.slice_rows = slice_rows
        self._sync_engine: Engine | None = None

    async def execute(self, steps: Sequence[Step], *, atomic: bool = False) -> list[int]:
        """Run the steps in order and return each one's row count. PostgreSQL: one transaction.
        SQLite: one transaction per slice of rows, or one for everything when `atomic`."""
        if self.database.dialect == "sqlite":
            return await (self._execute_sqlite_atomic(steps) if atomic else self._execute_sqlite(steps))
        counts = []
        async with self.database.sessions.begin() as session:
            for statement, rows in steps:
                if rows is not None and not rows:
                    counts.append(0)
                    continue
                result = await session.execute(statement, list(rows) if rows is not None else None)
                counts.append(_rowcount(result))
        return counts

    async def _execute_sqlite(self, steps: Sequence[Step]) -> list[int]:
        engine = self._engine()
        counts = []
        for statement, rows in steps:
            count = 0
            for params in _slices(rows, self.slice_rows):
                with engine.begin() as connection:
                    count += _rowcount(connection.execute(statement, params))
                await asyncio.sleep(0)
            counts.append(count)
        return counts

    async def _execute_sqlite_atomic(self, steps: Sequence[Step]) -> list[int]:
        with self._engine().begin() as connection:
            counts = [
                sum(_rowcount(connection.execute(statement, params)) for params in _slices(rows, len(rows or ()) or 1))
                for statement, rows in steps
            ]
        await asyncio.sleep(0)
        return counts

    def _engine(self) -> Engine:
        if self._sync_engine is None:
            self._sync_engine = sync_engine_for(self.database)
        return self._sync_engine

    def close(self) -> None:
        if self._sync_engine is not None:
            self._sync_engine.dispose()
            self._sync_engine = None


def _slices(rows: Sequence[Mapping[str, Any]] | None, size: int) -> list[list[Mapping[str, Any]] | None]:
    """The parameter lists to execute: one None for a statement without rows, none for no rows."""
    if rows is None:
        return [None]
    return [list(rows[start : start + size]) for start in range(0, len(rows), size)]


def _rowcount(result: Any) -> int:
    count = result.rowcount if isinstance(result, CursorResult) else -1
    return max(int(count), 0)
