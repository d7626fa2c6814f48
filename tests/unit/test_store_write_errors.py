"""A busy database is told from an unavailable one, and the shared write path waits out the busy one.

SQLite runs here on a file under tmp_path (no service): a second connection holding
`BEGIN IMMEDIATE` is another writer (another worker process) holding the file's write lock.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select, text
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from aigw.store.batches import BatchStatements
from aigw.store.database import LOOP_BUSY_TIMEOUT_MS, Database
from aigw.store.write_errors import Backoff, DatabaseBusy, is_contention, refused_for_data

_metadata = MetaData()
_items = Table("items", _metadata, Column("id", Integer, primary_key=True), Column("name", String(20)))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "aigw.db"


@pytest.fixture
async def database(path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite:///{path}")
    async with database.engine.begin() as connection:
        await connection.run_sync(_metadata.create_all)
    yield database
    await database.close()


@pytest.fixture
def other_writer(path: Path) -> Iterator[sqlite3.Connection]:
    """Another process's connection; `BEGIN IMMEDIATE` on it takes the write lock."""
    connection = sqlite3.connect(path, isolation_level=None)
    yield connection
    if connection.in_transaction:
        connection.execute("ROLLBACK")
    connection.close()


def _rows(count: int, start: int = 0) -> list[dict[str, object]]:
    return [{"id": start + index, "name": f"n{start + index}"} for index in range(count)]


async def _stored(database: Database) -> int:
    async with database.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(_items))).scalar_one())


# Classification -------------------------------------------------------------------------------------


def test_a_lock_held_by_another_sqlite_writer_is_contention(
    database: Database, other_writer: sqlite3.Connection
) -> None:
    other_writer.execute("BEGIN IMMEDIATE")
    with pytest.raises(OperationalError) as caught, database.write_engine().begin() as connection:
        connection.execute(insert(_items), _rows(1))
    assert "database is locked" in str(caught.value)
    assert is_contention(caught.value)


def test_a_missing_table_or_file_is_not_contention(database: Database, tmp_path: Path) -> None:
    with pytest.raises(OperationalError) as missing_table, database.write_engine().begin() as connection:
        connection.execute(text("INSERT INTO nowhere VALUES (1)"))
    assert not is_contention(missing_table.value)
    with pytest.raises(sqlite3.OperationalError) as no_file:
        sqlite3.connect(tmp_path / "no-such-folder" / "x.db")
    assert not is_contention(no_file.value)


@pytest.mark.parametrize(
    ("error", "busy"),
    [
        (sqlite3.OperationalError("database is locked"), True),
        (sqlite3.OperationalError("database table is locked: items"), True),
        (sqlite3.OperationalError("disk I/O error"), False),
        (asyncpg.exceptions.DeadlockDetectedError("deadlock detected"), True),
        (asyncpg.exceptions.SerializationError("could not serialize access"), True),
        (asyncpg.exceptions.LockNotAvailableError("could not obtain lock"), True),
        (asyncpg.exceptions.UniqueViolationError("duplicate key"), False),
        (ConnectionRefusedError(111, "refused"), False),
        (TimeoutError(), False),
        (DatabaseBusy(3), True),
    ],
)
def test_classification_through_sqlalchemys_wrapping(error: Exception, busy: bool) -> None:
    assert is_contention(error) is busy
    assert is_contention(OperationalError("INSERT ...", {}, error)) is busy
    adapted = RuntimeError("the driver's adapter of the error")  # as SQLAlchemy's asyncpg dialect raises it
    adapted.__cause__ = error
    assert is_contention(ProgrammingError("INSERT ...", {}, adapted)) is busy, "found through the cause as well"


@pytest.mark.parametrize(
    ("error", "refused"),
    [
        (IntegrityError("INSERT ...", {}, sqlite3.IntegrityError("NOT NULL constraint failed")), True),
        (OperationalError("INSERT ...", {}, asyncpg.exceptions.StringDataRightTruncationError("too long")), True),
        (OverflowError("Python int too large to convert to SQLite INTEGER"), True),
        (OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked")), False),
        (OperationalError("INSERT ...", {}, asyncpg.exceptions.DeadlockDetectedError("deadlock")), False),
        (OperationalError("INSERT ...", {}, ConnectionRefusedError(111, "refused")), False),
        (DatabaseBusy(0), False),
    ],
)
def test_rows_refused_for_their_data_are_told_from_a_busy_or_absent_database(error: Exception, refused: bool) -> None:
    assert refused_for_data(error) is refused
    assert not (refused and is_contention(error)), "never both: set aside or retried, not both"


def test_backoff_grows_with_full_jitter_up_to_its_cap() -> None:
    backoff = Backoff(base=0.01, cap=0.05, rng=random.Random(7))
    for attempt, ceiling in enumerate([0.01, 0.02, 0.04, 0.05, 0.05, 0.05]):
        delays = []
        for _ in range(200):
            backoff.attempts = attempt  # the same retry, drawn again
            delays.append(backoff.next_delay())
        assert all(0.0 <= delay <= ceiling for delay in delays)
        assert max(delays) > 0.8 * ceiling and min(delays) < 0.2 * ceiling  # spread over the whole range
    backoff.reset()
    assert backoff.attempts == 0 and backoff.next_delay() <= 0.01 and backoff.attempts == 1


# The write path ---------------------------------------------------------------------------------------


async def test_a_busy_write_is_retried_until_the_lock_is_free_and_the_loop_never_stalls(
    database: Database, other_writer: sqlite3.Connection
) -> None:
    other_writer.execute("BEGIN IMMEDIATE")
    statements = BatchStatements(database, slice_rows=50)
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.002)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    writing = asyncio.create_task(statements.execute([(insert(_items), _rows(120))]))
    await asyncio.sleep(0.3)
    assert not writing.done() and statements.busy_retries > 0, "waiting, not failed"
    other_writer.execute("COMMIT")
    assert await writing == [120]
    ticking.cancel()
    assert await _stored(database) == 120
    # SQLite itself waits at most LOOP_BUSY_TIMEOUT_MS in the loop's thread; the rest are async pauses.
    assert max(gaps) < 0.05, (
        f"the event loop stalled {max(gaps) * 1000:.0f} ms (SQLite's wait {LOOP_BUSY_TIMEOUT_MS} ms)"
    )


async def test_a_lock_held_past_the_deadline_says_how_many_rows_were_committed(
    database: Database, other_writer: sqlite3.Connection
) -> None:
    statements = BatchStatements(database, slice_rows=40)

    async def take_the_lock_after_the_first_slice() -> None:
        while other_writer.execute("SELECT count(*) FROM items").fetchone()[0] < 40:
            await asyncio.sleep(0)  # runs in the yield after each committed slice
        other_writer.execute("BEGIN IMMEDIATE")

    taker = asyncio.create_task(take_the_lock_after_the_first_slice())
    deadline = asyncio.get_running_loop().time() + 0.2
    with pytest.raises(DatabaseBusy) as busy:
        await statements.execute([(insert(_items), _rows(100))], deadline=deadline)
    await taker
    assert busy.value.committed == 40
    assert is_contention(busy.value)
    assert asyncio.get_running_loop().time() - deadline < 0.05, "gave up at the deadline"
    other_writer.execute("ROLLBACK")
    assert await _stored(database) == 40


async def test_an_atomic_batch_that_stays_busy_commits_nothing(
    database: Database, other_writer: sqlite3.Connection
) -> None:
    other_writer.execute("BEGIN IMMEDIATE")
    statements = BatchStatements(database, patience=0.1)
    with pytest.raises(DatabaseBusy) as busy:
        await statements.execute([(insert(_items), _rows(10)), (insert(_items), _rows(10, 10))], atomic=True)
    assert busy.value.committed == 0
    other_writer.execute("ROLLBACK")
    assert await _stored(database) == 0


async def test_an_unavailable_database_is_not_retried(database: Database) -> None:
    statements = BatchStatements(database)
    started = time.perf_counter()
    with pytest.raises(OperationalError) as caught:
        await statements.execute([(text("INSERT INTO nowhere VALUES (:id)"), [{"id": 1}])])
    assert not is_contention(caught.value)
    assert statements.busy_retries == 0 and time.perf_counter() - started < 0.5


async def test_writers_of_one_process_share_one_connection_and_never_lock_each_other(database: Database) -> None:
    first, second = BatchStatements(database, slice_rows=10), BatchStatements(database, slice_rows=7)
    assert database.write_engine() is database.write_engine()
    await asyncio.gather(
        first.execute([(insert(_items), _rows(500))]),
        second.execute([(insert(_items), _rows(500, 1000))]),
    )
    assert first.busy_retries == second.busy_retries == 0
    assert await _stored(database) == 1000
