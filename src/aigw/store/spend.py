"""The spend ledger in the database: priced calls written in batches, off the request path.

`SpendWriter.record()` only appends to memory. A background task writes what has gathered every
`interval` seconds (or sooner when `batch_size` records wait) with one executemany INSERT,
through the store's shared write path (`batches.BatchStatements`: on SQLite short transactions
from the event loop's thread, as the trace writer's). When the database is away, the batch goes to
the spool (`spend_spool`, fsynced) and is written when the database returns, before anything
newer; `close()` drains memory and spool, or leaves the rest in the spool for the next start.
Nothing priced is lost on a graceful stop, an outage or a crash.

A database that is only busy (another writer holds SQLite's write lock: the traces, another
worker) is not away: the write is retried after short pauses for up to `busy_patience`, and
what is still unwritten then stays in memory, first in line for the next flush. Memory is bounded:
past `max_pending` records, or when closing, a busy database gets the spool like an absent one.

Every row has a unique `spend_id` and the INSERT skips ids already stored (ON CONFLICT DO NOTHING,
SQLite and PostgreSQL alike), so writing a record twice counts it once: a replayed spool, or a
batch spooled after part of it was committed.

A row the database refuses for its data (a value too long or out of range, a NUL character)
would otherwise fail its whole batch, every later batch with it, and send the ledger to the spool
for good. An error that is about the data, not the connection, makes the writer split the batch
in halves until the refused rows are found (log2 of the batch size more INSERTs per refused row);
those are set aside in `spend-rejected.jsonl` (`SpendSpool.reject`), counted in `rejected` and
logged without their content, and the rest is written.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Insert, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite

from aigw.store.batches import BUSY_PATIENCE_S, BatchStatements, FlushLoop, Step
from aigw.store.database import Database
from aigw.store.models import SpendRecord
from aigw.store.spend_record import Spend
from aigw.store.spend_spool import SpendSpool
from aigw.store.write_errors import DatabaseBusy, is_contention, refused_for_data

__all__ = ["Spend", "SpendTotal", "SpendWriter", "period_starts", "spend_by_key", "spend_by_user"]

log = logging.getLogger("aigw.spend")
MAX_ROWS_PER_FLUSH = 50_000  # a handful of awaits per flush: it keeps up with a busy event loop
MAX_PENDING = 2 * MAX_ROWS_PER_FLUSH  # records kept in memory while the database is busy; past it, spooled
_FIELDS = (
    "spend_id",
    "ts",
    "request_id",
    "key_id",
    "user",
    "provider",
    "model",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "estimated",
)
_TABLE = cast(Table, SpendRecord.__table__)
# Core executemany (the ORM's bulk path costs more per row); an id already stored is skipped.
_INSERTS: dict[str, Insert] = {
    "sqlite": sqlite.insert(_TABLE).on_conflict_do_nothing(index_elements=["spend_id"]),
    "postgresql": postgresql.insert(_TABLE).on_conflict_do_nothing(index_elements=["spend_id"]),
}


class SpendWriter:
    def __init__(
        self,
        database: Database,
        spool_path: Path,
        *,
        spool_glob: str | None = None,
        interval: float = 1.0,
        batch_size: int = 500,
        max_pending: int = MAX_PENDING,
        busy_patience: float = BUSY_PATIENCE_S,
    ) -> None:
        self.database = database
        self.spool = SpendSpool(spool_path, spool_glob)
        self.interval = interval
        self.batch_size = batch_size
        self.max_pending = max_pending
        self._pending: list[Spend] = []
        self._lock = asyncio.Lock()
        self._statements = BatchStatements(database, patience=busy_patience)
        self._loop = FlushLoop(self.flush, interval, lambda: len(self._pending) >= self.batch_size)
        self.written = 0
        self.spooled = 0
        self.rejected = 0  # records the database refused for their data, set aside
        self.failing = False
        self.busy = False  # the last flush found the lock held by other writers past its patience

    @property
    def spool_path(self) -> Path:
        return self.spool.path

    def record(self, spend: Spend) -> None:
        """Queue one priced call (no I/O)."""
        self._pending.append(spend)
        if len(self._pending) >= self.batch_size:
            self._loop.wake()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def start(self) -> None:
        self._loop.start()

    async def close(self) -> None:
        """Stop the writer and write everything still pending (to the spool if the database is away
        or still busy)."""
        await self._loop.stop()  # ends after the flush it may be in: never cancelled mid-write
        await self.flush(final=True)
        while self._pending:  # a backlog bigger than one flush
            await self.flush(final=True)

    async def flush(self, *, final: bool = False) -> None:
        """Write the spool (oldest first), then what is pending. A busy database keeps the rest in
        memory (unless `final`, or past `max_pending`); an unavailable one sends it to the spool."""
        async with self._lock:
            # At most MAX_ROWS_PER_FLUSH at a time keeps the memory of a flush small; a backlog is
            # written by the next flushes, which follow at once (FlushLoop).
            batch, self._pending = self._pending[:MAX_ROWS_PER_FLUSH], self._pending[MAX_ROWS_PER_FLUSH:]
            try:
                await self._drain_spool()
            except Exception as exc:
                await self._keep(batch, exc, final)
                return
            try:
                await self._write(batch)
            except Exception as exc:
                # Rows before `committed` are stored; a split batch may have stored others too,
                # which a replay skips by their ids.
                await self._keep(batch[exc.committed :] if isinstance(exc, DatabaseBusy) else batch, exc, final)
                return
            self._recovered()

    async def _keep(self, batch: list[Spend], exc: Exception, final: bool) -> None:
        """Records not written: back in memory, first in line, while the database is only busy; else
        to the spool (fsynced)."""
        busy = is_contention(exc)
        if busy and not final and len(self._pending) + len(batch) <= self.max_pending:
            self._pending[:0] = batch
            self._busy(len(batch))
            return
        if batch:
            unwritable = await asyncio.to_thread(self.spool.append, batch)
            self.spooled += len(batch) - len(unwritable)
            for spend, error in unwritable:
                await self._reject(spend, error)
        self._failed(exc, busy)

    async def _write(self, batch: Sequence[Spend]) -> None:
        """Write `batch`, setting aside the records the database refuses for their data (see the
        module's docstring); raises when the database is away, DatabaseBusy when it stays busy
        (`committed`: records of `batch` done, written or set aside, from its start)."""
        try:
            await self._insert(batch)
        except DatabaseBusy as busy:
            self.written += busy.committed
            raise
        except Exception as exc:
            if not refused_for_data(exc):
                raise
            if len(batch) == 1:
                await self._reject(batch[0], type(exc).__name__)
                return
            half = len(batch) // 2
            await self._write(batch[:half])
            try:
                await self._write(batch[half:])
            except DatabaseBusy as busy:
                raise DatabaseBusy(half + busy.committed) from busy
            return
        self.written += len(batch)

    async def _reject(self, spend: Spend, error: str) -> None:
        await asyncio.to_thread(self.spool.reject, [(spend, error)])
        self.rejected += 1
        log.warning(
            "spend ledger: a record that cannot be stored is set aside",
            extra={"error": error, "file": str(self.spool.rejected_path), "rejected": self.rejected},
        )

    async def _insert(self, batch: Sequence[Spend]) -> None:
        """PostgreSQL: one transaction, all of `batch` or none. SQLite: a transaction per slice of
        rows (`BatchStatements`); a batch cut half-way by a refused row is written again, ids
        already stored skipped."""
        if not batch:
            return
        insert = _INSERTS[self.database.dialect]
        steps: list[Step] = [
            (insert, [_row(s) for s in batch[start : start + MAX_ROWS_PER_FLUSH]])
            for start in range(0, len(batch), MAX_ROWS_PER_FLUSH)
        ]
        await self._statements.execute(steps)

    async def _drain_spool(self) -> None:
        for replay in await asyncio.to_thread(self.spool.claim):
            records = await asyncio.to_thread(self.spool.read, replay)
            await self._write(records)
            await asyncio.to_thread(self.spool.done, replay)
            if records:
                log.info("spooled spend written to the database", extra={"records": len(records)})

    def _busy(self, kept: int) -> None:
        if not self.busy:
            log.warning(
                "spend ledger: database busy (lock held by other writers), records kept in memory",
                extra={"kept": kept},
            )
        self.busy = True

    def _failed(self, exc: Exception, busy: bool) -> None:
        if not self.failing:
            message = "database busy" if busy else "database unavailable"
            log.warning(f"spend ledger: {message}, spooling to disk", extra={"error": type(exc).__name__})
        self.failing = True

    def _recovered(self) -> None:
        if self.failing:
            log.info("spend ledger: database back")
        if self.busy:
            log.info("spend ledger: database no longer busy")
        self.failing = self.busy = False


def _row(spend: Spend) -> dict[str, Any]:
    return {name: getattr(spend, name) for name in _FIELDS}  # dataclasses.asdict deep-copies: 10x slower


@dataclass(frozen=True, slots=True)
class SpendTotal:
    key_id: str | None
    user: str | None
    requests: int
    cost_usd: Decimal
    prompt_tokens: int
    completion_tokens: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "user": self.user,
            "requests": self.requests,
            "cost_usd": float(self.cost_usd),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
        }


async def spend_by_key(database: Database, since: dt.datetime) -> list[SpendTotal]:
    """Spend since `since`, one row per key (key_id None: the master key or no key)."""
    query = (
        select(
            SpendRecord.key_id,
            func.max(SpendRecord.user),
            func.count(),
            func.coalesce(func.sum(SpendRecord.cost_usd), 0),
            func.coalesce(func.sum(SpendRecord.prompt_tokens), 0),
            func.coalesce(func.sum(SpendRecord.completion_tokens), 0),
        )
        .where(SpendRecord.ts >= since)
        .group_by(SpendRecord.key_id)
        .order_by(func.sum(SpendRecord.cost_usd).desc())
    )
    async with database.sessions() as session:
        rows = (await session.execute(query)).all()
    return [SpendTotal(r[0], r[1], int(r[2]), Decimal(str(r[3])), int(r[4]), int(r[5])) for r in rows]


async def spend_by_user(database: Database, since: dt.datetime) -> dict[str, Decimal]:
    query = (
        select(SpendRecord.user, func.coalesce(func.sum(SpendRecord.cost_usd), 0))
        .where(SpendRecord.ts >= since, SpendRecord.user.is_not(None))
        .group_by(SpendRecord.user)
    )
    async with database.sessions() as session:
        rows = (await session.execute(query)).all()
    return {str(r[0]): Decimal(str(r[1])) for r in rows}


def period_starts(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """Start of today and of this month, UTC (the budget periods)."""
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return day, day.replace(day=1)
