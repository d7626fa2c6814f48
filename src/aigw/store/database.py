"""The database: an async SQLAlchemy engine for SQLite (embedded default) or PostgreSQL, and on
SQLite the one connection through which this process's background writers write.

SQLite files are in WAL mode, so that readers (the admin API, the CLI, other workers) never wait
for a writer and a writer waits only for another writer. The async engine runs in aiosqlite's
thread and may wait 5 s for the write lock (`BUSY_TIMEOUT_MS`): its writes are rare (keys,
settings, catalogs) and a wait there blocks no request.

The background writers (spend ledger, traces, retention) write from the event loop's own thread
(`write_engine`, used through `batches.BatchStatements`), so a wait for the lock there stalls
every request of the process: SQLite itself waits at most `LOOP_BUSY_TIMEOUT_MS`, then the writer
retries after an asynchronous pause (`write_errors.Backoff`). Each transaction starts with
`BEGIN IMMEDIATE`: the write lock is taken, or found busy, before any statement, never half-way
through a transaction that already read (where SQLite would fail at once, without waiting).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import SingletonThreadPool

__all__ = ["BUSY_TIMEOUT_MS", "LOOP_BUSY_TIMEOUT_MS", "Database", "async_url"]

_DRIVERS = {"postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}
BUSY_TIMEOUT_MS = 5000  # aiosqlite's thread: waiting blocks no request
LOOP_BUSY_TIMEOUT_MS = 5  # the event loop's thread: longer waits are asynchronous pauses between retries


def async_url(url: str) -> str:
    """`postgresql://…` and `sqlite:///…` with the async drivers aigw uses."""
    parsed = make_url(url)
    driver = _DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver).render_as_string(hide_password=False) if driver else url


class Database:
    """One engine and session factory per process (see the module docstring)."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = async_url(url)
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        options: dict[str, Any] = {"echo": echo}
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        else:
            options.update(pool_pre_ping=True, pool_size=5, max_overflow=5, pool_recycle=1800)
        self.engine: AsyncEngine = create_async_engine(self.url, **options)
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, class_=AsyncSession)
        self._write_engine: Engine | None = None

    def write_engine(self) -> Engine:
        """SQLite only: the synchronous engine of the background writers, one connection per thread
        (in practice the event loop's), every transaction `BEGIN IMMEDIATE`."""
        if self.dialect != "sqlite":
            raise ValueError(f"write_engine is for SQLite, not {self.dialect}")
        if self._write_engine is None:
            url = make_url(self.url).set(drivername="sqlite")
            engine = create_engine(url, poolclass=SingletonThreadPool)
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "connect", _loop_connection)
            event.listen(engine, "begin", _begin_immediate)
            self._write_engine = engine
        return self._write_engine

    async def close(self) -> None:
        if self._write_engine is not None:
            self._write_engine.dispose()
            self._write_engine = None
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # first: turning WAL on waits for the other processes
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _loop_connection(dbapi_connection: Any, _: Any) -> None:
    """The driver leaves transactions to us (`_begin_immediate`), and SQLite waits briefly."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={LOOP_BUSY_TIMEOUT_MS}")
    cursor.close()


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
