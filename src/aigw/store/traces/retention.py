"""Retention of persisted traces and rollups: rows older than `retention_days` deleted in small
batches, by primary key, in the background.

One DELETE of a whole day would hold locks (SQLite's single write lock, PostgreSQL row locks and
a long transaction) for as long as it runs, and the trace writer and spend ledger would wait or
fail meanwhile. Each DELETE here removes at most `retention_batch` rows chosen by the time index
(`WHERE id IN (SELECT id ... WHERE started_at < :cutoff LIMIT :n)`), commits, and yields
`_PAUSE` seconds before the next, so other writers get the lock between batches. On SQLite the
deletes run like every other background write (`BatchStatements`, from the loop's thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Delete, Table, delete, select

from aigw.store.batches import BatchStatements
from aigw.store.database import Database
from aigw.store.traces.settings import TraceSettings
from aigw.store.traces.tables import refusals, rollups, traces

__all__ = ["RetentionJob", "delete_expired"]

log = logging.getLogger("aigw.traces")
_PAUSE = 0.05  # seconds between two DELETE batches
_MAX_BATCHES_PER_RUN = 100_000  # a run ends even if rows keep arriving older than the cutoff


async def delete_expired(
    database: Database,
    cutoff: dt.datetime,
    *,
    batch: int = 500,
    pause: float = _PAUSE,
    statements: BatchStatements | None = None,
) -> dict[str, int]:
    """Delete traces and rollups older than `cutoff`, `batch` rows per DELETE; returns how many
    rows of each table went."""
    runner = statements or BatchStatements(database)
    cutoff = cutoff.astimezone(dt.UTC)
    minute = int(cutoff.timestamp() // 60)
    expired: dict[str, tuple[Table, ColumnElement[bool]]] = {
        "traces": (traces, traces.c.started_at < cutoff),
        "rollups": (rollups, rollups.c.minute < minute),
        "refusals": (refusals, refusals.c.minute < minute),
    }
    deleted = {}
    for name, (table, older) in expired.items():
        deleted[name] = await _delete_in_batches(runner, _batch_delete(table, older, batch), batch, pause)
    return deleted


def _batch_delete(table: Table, older: ColumnElement[bool], batch: int) -> Delete:
    return delete(table).where(table.c.id.in_(select(table.c.id).where(older).limit(batch).scalar_subquery()))


async def _delete_in_batches(runner: BatchStatements, statement: Delete, batch: int, pause: float) -> int:
    total = 0
    for _ in range(_MAX_BATCHES_PER_RUN):
        (count,) = await runner.execute([(statement, None)], atomic=True)
        total += count
        if count < batch:
            break
        await asyncio.sleep(pause)
    return total


class RetentionJob:
    """Runs `delete_expired` every `retention_interval` seconds (with jitter, so replicas spread
    out) for rows older than `retention_days`. Every replica may run it: deletes are idempotent."""

    def __init__(
        self,
        database: Database,
        settings: TraceSettings | None = None,
        *,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.database = database
        self.settings = settings or TraceSettings()
        self._clock = clock
        self._statements = BatchStatements(database)
        self._task: asyncio.Task[None] | None = None
        self.deleted = 0
        self.failures = 0

    async def run_once(self) -> dict[str, int]:
        cutoff = self._clock() - dt.timedelta(days=self.settings.retention_days)
        counts = await delete_expired(
            self.database, cutoff, batch=self.settings.retention_batch, statements=self._statements
        )
        self.deleted += sum(counts.values())
        return counts

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        interval = self.settings.retention_interval
        while True:
            await asyncio.sleep(interval * random.uniform(0.5, 1.0))  # jitter, not security
            try:
                counts: dict[str, Any] = await self.run_once()
            except Exception as exc:  # the database is away: try again next time
                self.failures += 1
                log.warning("traces: retention run failed", extra={"error": type(exc).__name__})
                continue
            if any(counts.values()):
                log.info("traces: expired rows deleted", extra=counts)
