"""The spend ledger in the database: priced calls written in batches, off the request path.

`SpendWriter.record()` only appends to memory. A background task writes what has gathered every
`interval` seconds (or sooner when `batch_size` records wait) in one INSERT. When the database
is away, the batch goes to a spool file (JSON lines under the state directory) and is written
when the database returns, before anything newer; `close()` drains memory and spool, or leaves
the rest in the spool for the next start. Nothing priced is lost on a graceful stop or an outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import orjson
from sqlalchemy import Engine, Table, func, insert, select

from aigw.store.database import Database, sync_engine_for
from aigw.store.models import SpendRecord

log = logging.getLogger("aigw.spend")
_SQLITE_SLICE = 200  # rows written without yielding to the event loop (~2 ms)
MAX_ROWS_PER_FLUSH = 50_000  # one transaction, a handful of awaits: a flush keeps up with a busy event loop
_FIELDS = ("ts", "request_id", "key_id", "user", "provider", "model", "prompt_tokens", "completion_tokens", "cost_usd")
_SPEND_INSERT = insert(cast(Table, SpendRecord.__table__))  # Core executemany: the ORM's bulk path costs more per row


@dataclass(frozen=True, slots=True)
class Spend:
    """One priced call."""

    ts: dt.datetime
    request_id: str
    key_id: str | None
    user: str | None
    provider: str | None
    model: str | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal

    def to_json(self) -> bytes:
        row = asdict(self)
        row["ts"] = self.ts.isoformat()
        row["cost_usd"] = str(self.cost_usd)
        return orjson.dumps(row)

    @classmethod
    def from_json(cls, line: bytes) -> Spend:
        row = orjson.loads(line)
        row["ts"] = dt.datetime.fromisoformat(row["ts"])
        row["cost_usd"] = Decimal(row["cost_usd"])
        return cls(**row)


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
        self.spool_path = spool_path
        self.spool_glob = spool_glob  # other processes' spool files in the same folder, e.g. "spend-spool-*.jsonl"
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
        self.failing = False

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
            done = 0
            try:
                await self._drain_spool()
                # All of it in one transaction: each await costs a turn of a busy event loop, so the
                # number of awaits per flush must not grow with the backlog (else it never catches up).
                await self._insert(batch)
                done = len(batch)
                self.written += done
                self._recovered()
            except Exception as exc:  # the database is away or refused: keep the records on disk
                self._spool(batch[done:])
                self._failed(exc)

    async def _run(self) -> None:
        while not self._stopping:
            if len(self._pending) < self.batch_size:  # a backlog is written without waiting
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            await self.flush()

    async def _insert(self, batch: Sequence[Spend]) -> None:
        """One transaction: all of `batch` is written or none of it (a replay never duplicates)."""
        if not batch:
            return
        if self.database.dialect == "sqlite":
            await self._insert_sqlite(batch)
            return
        async with self.database.sessions.begin() as session:
            for start in range(0, len(batch), MAX_ROWS_PER_FLUSH):
                await session.execute(_SPEND_INSERT, [_row(s) for s in batch[start : start + MAX_ROWS_PER_FLUSH]])

    async def _insert_sqlite(self, batch: Sequence[Spend]) -> None:
        """SQLite is written from the event loop's own thread, in slices of a few milliseconds with a
        yield between them. A worker thread (aiosqlite's, or ours) starves for the GIL while the loop
        is busy, and the ledger then falls behind the traffic; in-process SQLite writes are fast."""
        if self._sync_engine is None:
            self._sync_engine = sync_engine_for(self.database)
        with self._sync_engine.begin() as connection:
            for start in range(0, len(batch), _SQLITE_SLICE):
                connection.execute(_SPEND_INSERT, [_row(s) for s in batch[start : start + _SQLITE_SLICE]])
                await asyncio.sleep(0)

    async def _drain_spool(self) -> None:
        for replay in self._claim_spools():
            records = self._read_spool(replay)
            await self._insert(records)
            replay.unlink()
            self.written += len(records)
            if records:
                log.info("spooled spend written to the database", extra={"records": len(records)})

    def _read_spool(self, path: Path) -> list[Spend]:
        """The records of a spool file; a torn line (a crash mid-write) is set aside, not a blocker."""
        records: list[Spend] = []
        torn: list[bytes] = []
        for line in path.read_bytes().splitlines():
            if not line.strip():
                continue
            try:
                records.append(Spend.from_json(line))
            except (ValueError, TypeError, KeyError):
                torn.append(line)
        if torn:
            with path.with_name(path.name.split(".replaying-")[0] + ".corrupt").open("ab") as aside:
                aside.write(b"".join(line + b"\n" for line in torn))
            log.warning("torn lines in a spend spool set aside", extra={"lines": len(torn)})
        return records

    def _claim_spools(self) -> list[Path]:
        """Spool files to write now: this writer's own and those left by processes that have stopped
        (workers sharing the state folder), each claimed by an atomic rename so that no two
        processes ever write the same file. A claim whose insert failed is retried next time."""
        folder = self.spool_path.parent
        if not folder.is_dir():
            return []
        mine = f".replaying-{os.getpid()}-"
        candidates = [self.spool_path, *(sorted(folder.glob(self.spool_glob)) if self.spool_glob else [])]
        candidates += sorted(p for p in folder.glob("*.replaying-*") if not _alive(_claimer(p.name)))
        claimed = sorted(folder.glob(f"*{mine}*"), key=_claim_order)  # claims whose insert failed before
        for path in dict.fromkeys(candidates):
            if (
                path != self.spool_path
                and ".replaying-" not in path.name
                and _alive(_pid_of(path.stem.rsplit("-", 1)[-1]))
            ):
                continue  # a running process's spool: it writes it itself
            # A unique name per claim, so that a claim never replaces an older one still unwritten.
            target = path.with_name(f"{path.name.split('.replaying-')[0]}{mine}{time.time_ns()}")
            try:
                os.rename(path, target)
            except FileNotFoundError:
                continue  # absent, or claimed by another process first
            claimed.append(target)
        return claimed

    def _spool(self, batch: Sequence[Spend]) -> None:
        if not batch:
            return
        self.spool_path.parent.mkdir(parents=True, exist_ok=True)
        with self.spool_path.open("ab") as spool:
            spool.write(b"".join(s.to_json() + b"\n" for s in batch))
        self.spooled += len(batch)

    def _failed(self, exc: Exception) -> None:
        if not self.failing:
            log.warning("spend ledger: database unavailable, spooling to disk", extra={"error": type(exc).__name__})
        self.failing = True

    def _recovered(self) -> None:
        if self.failing:
            log.info("spend ledger: database back")
        self.failing = False


def _row(spend: Spend) -> dict[str, Any]:
    return {name: getattr(spend, name) for name in _FIELDS}  # dataclasses.asdict deep-copies: 10x slower


def _claimer(name: str) -> int | None:
    """The process that claimed a spool file named `….replaying-<pid>-<ns>`."""
    return _pid_of(name.split(".replaying-", 1)[1].split("-", 1)[0]) if ".replaying-" in name else None


def _claim_order(path: Path) -> int:
    tail = path.name.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _pid_of(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _alive(pid: int | None) -> bool:
    """Whether process `pid` runs (ours counts as running). None: no owner, so not alive."""
    if pid is None:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
