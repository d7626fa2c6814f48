"""SpendWriter and the spend queries against real databases: SQLite (a file under tmp_path) and
PostgreSQL (a throw-away database), with the schema made by the project's migrations.

Records reach `ai_spend` with exact Decimal costs, in batches of any size, from the background task
within its interval; while the database is unreachable they go to the spool file, and a writer that
later finds a working database writes them exactly once, before anything newer; `close()` drains.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select

from aigw.store.database import Database
from aigw.store.migrate import upgrade
from aigw.store.models import SpendRecord
from aigw.store.spend import Spend, SpendWriter, period_starts, spend_by_key, spend_by_user

pytestmark = pytest.mark.integration

UTC = dt.UTC
NOW = dt.datetime.now(UTC).replace(microsecond=123456)
INTERVAL_S = 0.2
WRITE_BOUND_S = INTERVAL_S + 2.0  # the background task writes within its interval, plus slack for a busy machine


# Fixtures and helpers ------------------------------------------------------------------------------


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await upgrade(database)
    yield database
    await database.close()


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    return tmp_path / "state" / "spend-spool.jsonl"


@pytest.fixture
def unreachable_url(database_url: str, tmp_path: Path) -> str:
    """A database of the same kind that cannot be reached: a PostgreSQL port nobody listens on, or a
    SQLite "file" that is a directory."""
    if database_url.startswith("sqlite"):
        directory = tmp_path / "not-a-database"
        directory.mkdir()
        return f"sqlite:///{directory}"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql://postgres@127.0.0.1:{port}/aigw_nowhere"


def make_spend(
    request_id: str,
    cost: str = "0.000150",
    *,
    key_id: str | None = "k1",
    user: str | None = "alice",
    ts: dt.datetime = NOW,
    prompt_tokens: int = 1000,
    completion_tokens: int = 25,
) -> Spend:
    return Spend(
        ts=ts,
        request_id=request_id,
        key_id=key_id,
        user=user,
        provider="openai",
        model="gpt-4o-mini",
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost_usd=Decimal(cost),
    )


async def stored(database: Database) -> list[SpendRecord]:
    """Every row of ai_spend, in insertion order."""
    async with database.sessions() as session:
        return list((await session.execute(select(SpendRecord).order_by(SpendRecord.id))).scalars().all())


async def count_rows(database: Database) -> int:
    async with database.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(SpendRecord))).scalar_one())


def as_utc(value: dt.datetime) -> dt.datetime:
    """SQLite gives naive datetimes back (stored as UTC), PostgreSQL aware ones."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def assert_row_matches(row: SpendRecord, spend: Spend) -> None:
    assert row.request_id == spend.request_id
    assert (row.key_id, row.user, row.provider, row.model) == (spend.key_id, spend.user, spend.provider, spend.model)
    assert (row.prompt_tokens, row.completion_tokens) == (spend.prompt_tokens, spend.completion_tokens)
    assert isinstance(row.cost_usd, Decimal), type(row.cost_usd)
    assert row.cost_usd == spend.cost_usd, (row.request_id, row.cost_usd, spend.cost_usd)
    assert as_utc(row.ts) == spend.ts.astimezone(UTC)


def spool_files(spool: Path) -> list[Path]:
    """The spool and the replays claimed from it (`<spool>.replaying-<pid>`), oldest claim first."""
    claims = sorted(spool.parent.glob(f"{spool.name}.replaying-*")) if spool.parent.is_dir() else []
    return [*claims, *([spool] if spool.exists() else [])]


def spooled_ids(spool: Path) -> list[str]:
    """The request ids on disk: in the spool and in claimed replays whose insert failed."""
    lines = [line for path in spool_files(spool) for line in path.read_bytes().splitlines() if line.strip()]
    return [Spend.from_json(line).request_id for line in lines]


async def wait_for(condition: Callable[[], Any], bound_s: float, what: str) -> float:
    """Poll an async condition until it holds; returns the seconds it took, fails past the bound."""
    start = time.monotonic()
    while not await condition():
        elapsed = time.monotonic() - start
        assert elapsed <= bound_s, f"{what}: not within the bound of {bound_s} s"
        await asyncio.sleep(0.02)
    return time.monotonic() - start


class WriteLock:
    """Another connection holding the write lock on ai_spend, so that the writer's INSERT waits."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._sqlite: sqlite3.Connection | None = None
        self._postgres: Any = None

    async def acquire(self) -> None:
        if self.url.startswith("sqlite"):
            self._sqlite = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None)
            self._sqlite.execute("BEGIN IMMEDIATE")
        else:
            self._postgres = await asyncpg.connect(self.url, timeout=5)
            await self._postgres.execute("BEGIN")
            await self._postgres.execute("LOCK TABLE ai_spend IN ACCESS EXCLUSIVE MODE")

    async def release(self) -> None:
        if self._sqlite is not None:
            self._sqlite.execute("ROLLBACK")
            self._sqlite.close()
            self._sqlite = None
        if self._postgres is not None:
            await self._postgres.execute("ROLLBACK")
            await self._postgres.close()
            self._postgres = None


# Writing --------------------------------------------------------------------------------------------


async def test_flush_writes_rows_with_exact_decimal_costs(database: Database, spool: Path) -> None:
    costs = ["0.000150", "0.000001", "0", "12.345678", "0.10000001", "98765.432109"]
    records = [make_spend(f"req-{i}", cost, prompt_tokens=i, completion_tokens=2 * i) for i, cost in enumerate(costs)]
    records.append(make_spend("req-master", "0.000777", key_id=None, user=None))
    writer = SpendWriter(database, spool)
    for record in records:
        writer.record(record)
    assert writer.pending == len(records)
    assert await count_rows(database) == 0, "record() must not write: it only queues"

    await writer.flush()

    rows = await stored(database)
    assert len(rows) == len(records)
    for row, record in zip(rows, records, strict=True):
        assert_row_matches(row, record)
    assert sum((r.cost_usd for r in rows), Decimal(0)) == sum((r.cost_usd for r in records), Decimal(0))
    assert (writer.pending, writer.written, writer.spooled, writer.failing) == (0, len(records), 0, False)
    assert spool_files(spool) == []
    await writer.close()
    assert await count_rows(database) == len(records), "close() after a flush must not write anything twice"


async def test_a_batch_bigger_than_batch_size_is_written_whole_and_in_order(database: Database, spool: Path) -> None:
    writer = SpendWriter(database, spool, batch_size=7)
    records = [make_spend(f"req-{i:03}", f"0.{i:06}") for i in range(1, 51)]  # 50 records: 7 chunks + 1
    for record in records:
        writer.record(record)
    await writer.flush()

    rows = await stored(database)
    assert [r.request_id for r in rows] == [r.request_id for r in records]
    assert [r.cost_usd for r in rows] == [r.cost_usd for r in records]
    assert writer.written == 50
    assert writer.pending == 0


async def test_background_task_writes_within_its_interval(database: Database, spool: Path) -> None:
    writer = SpendWriter(database, spool, interval=INTERVAL_S)
    writer.start()
    try:
        await asyncio.sleep(INTERVAL_S / 2)  # the task is waiting for its interval
        for i in range(3):
            writer.record(make_spend(f"req-{i}"))

        async def written() -> bool:
            return await count_rows(database) == 3

        elapsed = await wait_for(written, WRITE_BOUND_S, "background write of 3 records")
        assert elapsed <= WRITE_BOUND_S, f"written after {elapsed:.2f} s, bound {WRITE_BOUND_S} s"
        assert writer.pending == 0
    finally:
        await writer.close()
    assert await count_rows(database) == 3


async def test_a_full_batch_is_written_before_the_interval(database: Database, spool: Path) -> None:
    interval = 60.0
    bound = 5.0  # far below the interval: the batch-size wake-up, not the timer, wrote it
    writer = SpendWriter(database, spool, interval=interval, batch_size=5)
    writer.start()
    try:
        await asyncio.sleep(0.05)
        for i in range(5):
            writer.record(make_spend(f"req-{i}"))

        async def written() -> bool:
            return await count_rows(database) == 5

        elapsed = await wait_for(written, bound, "a full batch written early")
        assert elapsed <= bound < interval, f"full batch written after {elapsed:.2f} s, bound {bound} s"
    finally:
        await writer.close()


async def test_close_drains_what_is_pending(database: Database, spool: Path) -> None:
    writer = SpendWriter(database, spool, interval=60.0)
    writer.start()
    records = [make_spend(f"req-{i}", "0.000010") for i in range(12)]
    for record in records:
        writer.record(record)
    await writer.close()

    assert writer.pending == 0
    rows = await stored(database)
    assert [r.request_id for r in rows] == [r.request_id for r in records]
    assert spool_files(spool) == []
    await writer.close()  # a second close is harmless
    assert await count_rows(database) == 12


# The database away: spool, then replay ------------------------------------------------------------


async def test_unreachable_database_spools_and_a_later_writer_replays_exactly_once(
    database: Database, unreachable_url: str, spool: Path
) -> None:
    down = Database(unreachable_url)
    offline = [make_spend(f"offline-{i}", f"0.00{i}123") for i in range(5)]
    try:
        writer = SpendWriter(down, spool)
        writer.start()
        for record in offline:
            writer.record(record)
        await writer.close()  # the database is away: close() leaves everything on disk
        assert writer.failing
        assert (writer.pending, writer.written, writer.spooled) == (0, 0, 5)
        lines = spool.read_bytes().splitlines()
        assert [Spend.from_json(line) for line in lines] == offline, "the spool keeps every record and field exactly"
    finally:
        await down.close()

    # A new writer (the next start) on the same spool, with a working database.
    writer = SpendWriter(database, spool)
    fresh = [make_spend(f"fresh-{i}", "0.000002") for i in range(2)]
    for record in fresh:
        writer.record(record)
    await writer.flush()

    rows = await stored(database)
    assert [r.request_id for r in rows] == [r.request_id for r in offline + fresh], "spooled first, each once"
    for row, record in zip(rows, offline + fresh, strict=True):
        assert_row_matches(row, record)
    assert spool_files(spool) == [], "the spool is gone once written"
    assert writer.written == 7
    assert not writer.failing

    await writer.flush()
    await writer.close()
    assert await count_rows(database) == 7, "a replayed spool is never written twice"


async def test_a_replay_that_failed_is_written_by_the_next_writer(
    database: Database, unreachable_url: str, spool: Path
) -> None:
    """A failed flush spools; a later failed flush (only the replay of the spool, nothing new) leaves
    the records in a claimed replay file: the next writer, with the database back, writes them."""
    down = Database(unreachable_url)
    records = [make_spend(f"offline-{i}") for i in range(3)]
    try:
        writer = SpendWriter(down, spool)
        for record in records:
            writer.record(record)
        await writer.flush()
        await writer.flush()  # nothing new: only the replay of the spool is tried, and fails
        assert not spool.exists() and len(spool_files(spool)) == 1, "the spool was claimed for replay"
        await writer.close()
    finally:
        await down.close()
    assert sorted(spooled_ids(spool)) == sorted(r.request_id for r in records), "nothing lost"

    writer = SpendWriter(database, spool)
    writer.record(make_spend("fresh"))
    await writer.close()
    assert [r.request_id for r in await stored(database)] == [*(r.request_id for r in records), "fresh"]
    assert spool_files(spool) == []


async def test_spools_of_stopped_processes_are_written_and_a_running_ones_left_alone(
    database: Database, tmp_path: Path
) -> None:
    """Workers share the state folder, each with `spend-spool-<pid>.jsonl`: a new writer writes the spools
    (and failed claims) of processes that have stopped, and leaves a running process's spool to it."""
    state = tmp_path / "state"
    state.mkdir()
    dead = 99_999_999  # above any pid_max: no such process
    live = os.getppid()
    left = {
        state / f"spend-spool-{dead}.jsonl": [make_spend("dead-0"), make_spend("dead-1")],
        state / f"spend-spool-{dead - 1}.jsonl.replaying-{dead - 1}": [make_spend("dead-claimed")],
        state / f"spend-spool-{live}.jsonl": [make_spend("live")],
    }
    for path, records in left.items():
        path.write_bytes(b"".join(r.to_json() + b"\n" for r in records))
    writer = SpendWriter(database, state / f"spend-spool-{os.getpid()}.jsonl", spool_glob="spend-spool-*.jsonl")
    writer.record(make_spend("fresh"))
    await writer.flush()
    await writer.close()

    rows = [r.request_id for r in await stored(database)]
    assert sorted(rows[:-1]) == ["dead-0", "dead-1", "dead-claimed"], "each stopped process's record, once"
    assert rows[-1] == "fresh", "spooled records first"
    assert sorted(p.name for p in state.iterdir()) == [f"spend-spool-{live}.jsonl"], "the running one is untouched"


async def test_a_long_outage_loses_nothing_and_replays_every_record_once_before_newer_ones(
    database: Database, unreachable_url: str, spool: Path
) -> None:
    """Three failed flushes and a close during the outage; then one flush with the database back
    writes every spooled record exactly once, before the newer record, and leaves nothing on disk."""
    offline = await _outage_with_three_failed_flushes(unreachable_url, spool)
    writer = SpendWriter(database, spool)
    fresh = make_spend("fresh")
    writer.record(fresh)
    await writer.flush()

    rows = [r.request_id for r in await stored(database)]
    assert spool_files(spool) == [], f"still on disk after a successful flush: {spooled_ids(spool)}"
    assert rows == [*(r.request_id for r in offline), "fresh"]
    await writer.close()
    assert await count_rows(database) == len(offline) + 1


async def _outage_with_three_failed_flushes(unreachable_url: str, spool: Path) -> list[Spend]:
    down = Database(unreachable_url)
    writer = SpendWriter(down, spool)
    offline: list[Spend] = []
    try:
        for batch in range(3):
            records = [make_spend(f"offline-{batch}-{i}") for i in range(2)]
            offline += records
            for record in records:
                writer.record(record)
            await writer.flush()
        await writer.close()
    finally:
        await down.close()
    assert writer.spooled == 6, "every batch was spooled"
    assert sorted(spooled_ids(spool)) == sorted(r.request_id for r in offline), "nothing lost while down"
    return offline


async def test_close_during_a_slow_write_loses_nothing(database: Database, database_url: str, spool: Path) -> None:
    lock = WriteLock(database_url)
    await lock.acquire()
    writer = SpendWriter(database, spool, interval=0.05)
    records = [make_spend(f"req-{i}") for i in range(4)]
    try:
        writer.start()
        for record in records:
            writer.record(record)

        async def taken() -> bool:
            return writer.pending == 0

        await wait_for(taken, 5.0, "the background task takes the batch")
        await asyncio.sleep(0.3)  # it is now inside its INSERT, waiting for the lock
        release = asyncio.create_task(_release_later(lock, 0.5))
        await writer.close()
        await release
    finally:
        await lock.release()
    await asyncio.sleep(0.5)

    written = [r.request_id for r in await stored(database)]
    on_disk = spooled_ids(spool)
    assert sorted(written + on_disk) == sorted(r.request_id for r in records), (
        f"every record written or spooled exactly once: written {written}, spooled {on_disk}"
    )


async def _release_later(lock: WriteLock, delay: float) -> None:
    await asyncio.sleep(delay)
    await lock.release()


async def test_a_torn_spool_line_does_not_block_the_ledger(database: Database, spool: Path) -> None:
    good = [make_spend("spooled-0"), make_spend("spooled-1")]
    spool.parent.mkdir(parents=True, exist_ok=True)
    spool.write_bytes(b"".join(s.to_json() + b"\n" for s in good) + make_spend("torn").to_json()[:40])
    writer = SpendWriter(database, spool)
    fresh = make_spend("fresh")
    writer.record(fresh)
    await writer.flush()
    await writer.close()

    assert [r.request_id for r in await stored(database)] == ["spooled-0", "spooled-1", "fresh"]


# Queries ------------------------------------------------------------------------------------------


async def test_spend_by_key_and_by_user_sum_exactly(database: Database, spool: Path) -> None:
    since = NOW - dt.timedelta(hours=1)
    records = [make_spend(f"a1-{i}", "0.1" if i % 2 else "0.2", key_id="k1", user="alice") for i in range(30)]
    records += [make_spend(f"a2-{i}", "0.000001", key_id="k2", user="alice", prompt_tokens=1) for i in range(7)]
    records += [make_spend(f"b-{i}", "1.234567", key_id="k3", user="bob", completion_tokens=3) for i in range(3)]
    records += [make_spend(f"m-{i}", "0.000333", key_id=None, user=None) for i in range(2)]
    records += [make_spend("edge", "0.000005", key_id="k2", user="alice", ts=since)]  # ts == since: counted
    old = dt.timedelta(microseconds=1)
    records += [make_spend("old", "100", key_id="k1", user="alice", ts=since - old)]  # before since: not counted
    writer = SpendWriter(database, spool)
    for record in records:
        writer.record(record)
    await writer.close()

    totals = await spend_by_key(database, since)
    by_key = {t.key_id: t for t in totals}
    assert set(by_key) == {"k1", "k2", "k3", None}
    assert by_key["k1"].cost_usd == Decimal("4.5")  # 15 x 0.1 + 15 x 0.2
    assert (by_key["k1"].requests, by_key["k1"].user) == (30, "alice")
    assert (by_key["k1"].prompt_tokens, by_key["k1"].completion_tokens) == (30_000, 750)
    assert by_key["k2"].cost_usd == Decimal("0.000012")
    assert (by_key["k2"].requests, by_key["k2"].prompt_tokens) == (8, 7 + 1000)
    assert by_key["k3"].cost_usd == Decimal("3.703701")
    assert by_key["k3"].completion_tokens == 9
    assert by_key[None].cost_usd == Decimal("0.000666")
    assert (by_key[None].user, by_key[None].requests) == (None, 2)
    assert [t.cost_usd for t in totals] == sorted((t.cost_usd for t in totals), reverse=True), "most spent first"
    assert by_key["k1"].as_dict()["cost_usd"] == 4.5

    users = await spend_by_user(database, since)
    assert users == {"alice": Decimal("4.500012"), "bob": Decimal("3.703701")}, "no entry for calls without user"
    assert sum(users.values(), Decimal(0)) + by_key[None].cost_usd == sum((t.cost_usd for t in totals), Decimal(0))

    later = await spend_by_key(database, NOW + dt.timedelta(seconds=1))
    assert later == []
    assert await spend_by_user(database, NOW + dt.timedelta(seconds=1)) == {}
    everything = await spend_by_key(database, since - dt.timedelta(days=1))
    assert {t.key_id: t.cost_usd for t in everything}["k1"] == Decimal("104.5")


def test_period_starts_are_the_utc_day_and_month() -> None:
    now = dt.datetime(2026, 11, 25, 13, 45, 10, 987654, tzinfo=UTC)
    assert period_starts(now) == (dt.datetime(2026, 11, 25, tzinfo=UTC), dt.datetime(2026, 11, 1, tzinfo=UTC))
    first = dt.datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)
    assert period_starts(first) == (first, first)
    day, month = period_starts()
    current = dt.datetime.now(UTC)
    assert day.utcoffset() == dt.timedelta(0) and month.utcoffset() == dt.timedelta(0)
    assert month <= day <= current
    assert current - day < dt.timedelta(days=1, seconds=1), "the day starts less than a day ago (bound 1 day)"
    assert (day.hour, day.minute, day.second, day.microsecond, month.day) == (0, 0, 0, 0, 1)


def test_period_starts_are_utc_whatever_the_zone_of_now() -> None:
    paris_winter = dt.timezone(dt.timedelta(hours=1))
    now = dt.datetime(2026, 12, 1, 0, 30, tzinfo=paris_winter)  # 2026-11-30 23:30 UTC
    assert period_starts(now) == (dt.datetime(2026, 11, 30, tzinfo=UTC), dt.datetime(2026, 11, 1, tzinfo=UTC))
