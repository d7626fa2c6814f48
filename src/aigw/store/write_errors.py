"""What a failed write means: the database busy (retry), the rows refused for their data (set them
aside), or else the database unavailable; and waiting out the busy one.

SQLite has one write lock per file. Every worker process writes the spend ledger, traces and their
rollups, so a writer regularly finds the lock taken for the few milliseconds of another's commit:
SQLITE_BUSY ("database is locked"), or SQLITE_LOCKED within one connection. PostgreSQL reports the
same kind of thing as a deadlock, a serialization failure or a lock that is not available. None
of these says the database is away: the transaction was rolled back whole and the same rows will
go through a moment later, so the writer keeps its batch and retries after a `Backoff` pause
(exponential, full jitter, never blocking the event loop) instead of dropping or spooling it.

A row refused for its data (`refused_for_data`: a value too long or out of range, a NUL
character, a constraint) fails the same way on every retry; the spend ledger finds and sets it aside.

Anything else (no such file or table, a disk I/O error, a connection refused or lost, a timeout)
is the database being unavailable, and the writers do what they do for an outage.
"""

from __future__ import annotations

import random
import sqlite3

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

__all__ = ["Backoff", "DatabaseBusy", "is_contention", "refused_for_data"]

_SQLITE_BUSY_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)  # primary codes; extended ones add bits above 0xFF
_SQLITE_BUSY_TEXT = ("database is locked", "database table is locked", "database schema is locked")
# deadlock_detected, serialization_failure, lock_not_available
_POSTGRES_CONTENTION = ("40P01", "40001", "55P03")
_DATA_SQLSTATE_CLASSES = ("22", "23")  # data exception, integrity constraint violation


class DatabaseBusy(Exception):
    """The database stayed busy (another writer held the lock) until the writer's deadline. Rows of
    the statements before the failing transaction may have been committed: `committed` counts them,
    in the order they were given."""

    def __init__(self, committed: int) -> None:
        super().__init__(f"database busy: gave up after committing {committed} rows")
        self.committed = committed


def is_contention(exc: BaseException) -> bool:
    """Whether `exc` (or what it wraps) is another writer holding a lock, not the database being away."""
    return any(_is_lock_error(error) for error in _chain(exc))


def refused_for_data(exc: BaseException) -> bool:
    """Whether the database (or the driver, binding a value) refused the rows' data, as opposed to
    being unreachable or busy: only then can a retry of the same rows never succeed."""
    if isinstance(exc, DataError | IntegrityError):
        return True
    for error in _chain(exc):
        if isinstance(error, OSError | ConnectionError | TimeoutError) or _is_lock_error(error):
            return False
        code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if isinstance(code, str) and code[:2] in _DATA_SQLSTATE_CLASSES:
            return True
        if isinstance(error, OverflowError | ValueError | TypeError) and not isinstance(error, DBAPIError):
            return True  # a value the driver cannot bind (asyncpg's DataError is a ValueError)
    return False


def _is_lock_error(error: BaseException) -> bool:
    if isinstance(error, DatabaseBusy):
        return True
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in _SQLITE_BUSY_CODES:
        return True
    if isinstance(error, sqlite3.OperationalError) and str(error).startswith(_SQLITE_BUSY_TEXT):
        return True  # raised without an error code
    state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return isinstance(state, str) and state in _POSTGRES_CONTENTION


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and what it wraps: SQLAlchemy's `orig` (the driver's error, or the asyncpg adapter's,
    whose cause is asyncpg's own), causes and contexts."""
    found: list[BaseException] = []
    waiting: list[BaseException | None] = [exc]
    while waiting and len(found) < 32:
        current = waiting.pop()
        if current is None or any(current is seen for seen in found):
            continue
        found.append(current)
        orig = current.orig if isinstance(current, StatementError) else None
        waiting += [current.__context__, current.__cause__, orig if isinstance(orig, BaseException) else None]
    return found


class Backoff:
    """Pauses between retries of a busy write: random in [0, base * 2**n], capped at `cap` seconds.
    The jitter spreads the processes that found the lock taken at the same moment."""

    def __init__(self, base: float = 0.002, cap: float = 0.1, rng: random.Random | None = None) -> None:
        self.base = base
        self.cap = cap
        self._random = rng or random.Random()
        self.attempts = 0

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * 2 ** min(self.attempts, 30))
        self.attempts += 1
        return self._random.uniform(0.0, ceiling)

    def reset(self) -> None:
        self.attempts = 0
