"""The spend ledger in the database: priced calls written in batches, off the request path.

`SpendWriter.record()` only appends to memory. A background task writes what has gathered every
`interval` seconds (or sooner when `batch_size` records wait) in one INSERT. When the database
is away, the batch goes to the spool (`spend_spool`, fsynced) and is written when the database
returns, before anything newer; `close()` drains memory and spool, or leaves the rest in the spool
for the next start. Nothing priced is lost on a graceful stop, an outage or a crash.

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
import contextlib
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine, Insert, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

from aigw.store.database import Database, sync_engine_for
from aigw.store.models import SpendRecord
from aigw.store.spend_record import Spend
from aigw.store.spend_spool import SpendSpool

__all__ = ["Spend", "SpendTotal", "SpendWriter", "period_starts", "spend_by_key", "spend_by_user"]

log = logging.getLogger("aigw.spend")
_SQLITE_SLICE = 200  # rows written without yielding to the event loop (~2 ms)
MAX_ROWS_PER_FLUSH = 50_000  # one transaction, a handful of awaits: a flush keeps up with a busy event loop
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
_DATA_SQLSTATE_CLASSES = ("22", "23")  # data exception, integrity constraint violation


class SpendWriter:
    def __init__(
        self,
        database: Database,
        spool_path: Path,
        *,
        spool_glob: str | None = None,
        interval: float = 1.0,
        batch_size: int = 500,
    ) -> None:
        self.database = database
        self.spool = SpendSpool(spool_path, spool_glob)
        self.interval = interval
        self.batch_size = batch_size
        self._pending: list[Spend] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._stopping = False
        self._sync_engine: Engine | None = None
        self.written = 0
        self.spooled = 0
        self.rejected = 0  # records the database refused for their data, set aside
        self.failing = False

    @property
    def spool_path(self) -> Path:
        return self.spool.path

    def record(self, spend: Spend) -> None:
        """Queue one priced call (no I/O)."""
        self._pending.append(spend)
        if len(self._pending) >= self.batch_size:
            self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        """Stop the writer and write everything still pending (to the spool if the database is away)."""
        if self._task is not None:
            self._stopping = True  # the loop ends after the flush it may be in: never cancelled mid-write
            self._wake.set()
            await self._task
            self._task = None
        await self.flush()
        while self._pending:  # a backlog bigger than one flush
            await self.flush()
        if self._sync_engine is not None:
            self._sync_engine.dispose()

    async def flush(self) -> None:
        """Write the spool (oldest first), then what is pending; on a database error spool the rest."""
        async with self._lock:
            # At most MAX_ROWS_PER_FLUSH at a time keeps the memory of a flush small; a backlog is
            # written by the next flushes, which follow at once (see _run).
            batch, self._pending = self._pending[:MAX_ROWS_PER_FLUSH], self._pending[MAX_ROWS_PER_FLUSH:]
            try:
                await self._drain_spool()
                # All of it in one transaction: each await costs a turn of a busy event loop, so the
                # number of awaits per flush must not grow with the backlog (else it never catches up).
                await self._write(batch)
                self._recovered()
            except Exception as exc:  # the database is away: keep the records on disk
                # Some of the batch may be committed (a split batch): the replay skips their ids.
                if batch:
                    unwritable = await asyncio.to_thread(self.spool.append, batch)
                    self.spooled += len(batch) - len(unwritable)
                    for spend, error in unwritable:
                        await self._reject(spend, error)
                self._failed(exc)

    async def _run(self) -> None:
        while not self._stopping:
            if len(self._pending) < self.batch_size:  # a backlog is written without waiting
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            await self.flush()

    async def _write(self, batch: Sequence[Spend]) -> None:
        """Write `batch`, setting aside the records the database refuses for their data (see the
        module's docstring); raises when the database is away."""
        try:
            await self._insert(batch)
        except Exception as exc:
            if not _refused_for_data(exc):
                raise
            if len(batch) == 1:
                await self._reject(batch[0], type(exc).__name__)
                return
            half = len(batch) // 2
            await self._write(batch[:half])
            await self._write(batch[half:])
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
        """One transaction: all of `batch` is written or none of it."""
        if not batch:
            return
        if self.database.dialect == "sqlite":
            await self._insert_sqlite(batch)
            return
        insert = _INSERTS[self.database.dialect]
        async with self.database.sessions.begin() as session:
            for start in range(0, len(batch), MAX_ROWS_PER_FLUSH):
                await session.execute(insert, [_row(s) for s in batch[start : start + MAX_ROWS_PER_FLUSH]])

    async def _insert_sqlite(self, batch: Sequence[Spend]) -> None:
        """SQLite is written from the event loop's own thread, in slices of a few milliseconds with a
        yield between them. A worker thread (aiosqlite's, or ours) starves for the GIL while the loop
        is busy, and the ledger then falls behind the traffic; in-process SQLite writes are fast."""
        if self._sync_engine is None:
            self._sync_engine = sync_engine_for(self.database)
        with self._sync_engine.begin() as connection:
            for start in range(0, len(batch), _SQLITE_SLICE):
                connection.execute(_INSERTS["sqlite"], [_row(s) for s in batch[start : start + _SQLITE_SLICE]])
                await asyncio.sleep(0)

    async def _drain_spool(self) -> None:
        for replay in await asyncio.to_thread(self.spool.claim):
            records = await asyncio.to_thread(self.spool.read, replay)
            await self._write(records)
            await asyncio.to_thread(self.spool.done, replay)
            if records:
                log.info("spooled spend written to the database", extra={"records": len(records)})

    def _failed(self, exc: Exception) -> None:
        if not self.failing:
            log.warning("spend ledger: database unavailable, spooling to disk", extra={"error": type(exc).__name__})
        self.failing = True

    def _recovered(self) -> None:
        if self.failing:
            log.info("spend ledger: database back")
        self.failing = False


def _refused_for_data(exc: BaseException) -> bool:
    """Whether the database (or the driver, binding a value) refused the rows' data, as opposed to
    being unreachable: only then can a retry of the same rows never succeed."""
    if isinstance(exc, DataError | IntegrityError):
        return True
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError | ConnectionError | TimeoutError):
            return False
        code = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(code, str) and code[:2] in _DATA_SQLSTATE_CLASSES:
            return True
        if isinstance(current, OverflowError | ValueError | TypeError) and not isinstance(current, DBAPIError):
            return True  # a value the driver cannot bind (asyncpg's DataError is a ValueError)
        current = current.orig if isinstance(current, StatementError) else current.__cause__ or current.__context__
    return False


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
