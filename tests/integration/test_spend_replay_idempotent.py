"""The spool survives a crash, and replaying it cannot count a call twice: spool writes are fsynced
(in a worker thread, off the event loop), and each record has a unique `spend_id` that the INSERT
skips when stored (ON CONFLICT DO NOTHING on SQLite and PostgreSQL). Request ids are the caller's,
so two calls with one `x-request-id` are still two rows."""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from aigw.store import spend_spool
from aigw.store.database import Database
from aigw.store.migrate import upgrade
from aigw.store.models import SpendRecord
from aigw.store.spend import Spend, SpendWriter

pytestmark = pytest.mark.integration


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await upgrade(database)
    yield database
    await database.close()


def spend(request_id: str, cost: str = "0.000100") -> Spend:
    return Spend(
        ts=dt.datetime.now(dt.UTC),
        request_id=request_id,
        key_id="k1",
        user="alice",
        provider="openai",
        model="gpt-4o-mini",
        prompt_tokens=10,
        completion_tokens=5,
        cost_usd=Decimal(cost),
    )


async def totals(database: Database) -> tuple[int, Decimal]:
    async with database.sessions() as session:
        count, total = (await session.execute(select(func.count(), func.sum(SpendRecord.cost_usd)))).one()
    return int(count), Decimal(str(total or 0))


async def test_a_spool_replayed_after_its_commit_counts_once(database: Database, tmp_path: Path) -> None:
    """A crash between the database commit and the spool's removal leaves a spool whose records are
    stored already: the next writer replays it and the ledger still counts each call once."""
    spool = tmp_path / "state" / "spend-spool.jsonl"
    records = [spend(f"req-{i}") for i in range(5)]
    writer = SpendWriter(database, spool)
    for record in records:
        writer.record(record)
    await writer.close()
    assert await totals(database) == (5, Decimal("0.000500"))

    spool.parent.mkdir(parents=True, exist_ok=True)
    spool.write_bytes(b"".join(r.to_json() + b"\n" for r in records))  # what the crash left behind
    replaying = SpendWriter(database, spool)
    replaying.record(spend("after"))
    await replaying.close()
    assert await totals(database) == (6, Decimal("0.000600")), "the replay added only the new call"
    assert not spool.exists()


async def test_two_calls_with_one_request_id_are_two_rows(database: Database, tmp_path: Path) -> None:
    writer = SpendWriter(database, tmp_path / "state" / "spend-spool.jsonl")
    first, second = spend("same-id"), spend("same-id")
    assert first.spend_id != second.spend_id
    writer.record(first)
    writer.record(second)
    await writer.close()
    assert await totals(database) == (2, Decimal("0.000200"))


async def test_spool_writes_are_fsynced_off_the_event_loop(
    unreachable: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[tuple[str, bool]] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append((os.readlink(f"/proc/self/fd/{fd}"), threading.current_thread() is threading.main_thread()))
        real_fsync(fd)

    monkeypatch.setattr(spend_spool.os, "fsync", fsync)
    spool = tmp_path / "state" / "spend-spool.jsonl"
    writer = SpendWriter(unreachable, spool)
    for i in range(3):
        writer.record(spend(f"offline-{i}"))
    await writer.flush()

    assert writer.spooled == 3 and len(spool.read_bytes().splitlines()) == 3
    assert (str(spool), False) in synced, f"the spool file is fsynced, in a worker thread: {synced}"
    assert all(not on_loop for _, on_loop in synced), "no fsync on the event loop's thread"


@pytest.fixture
async def unreachable(tmp_path: Path) -> AsyncIterator[Database]:
    directory = tmp_path / "not-a-database"
    directory.mkdir()
    database = Database(f"sqlite:///{directory}")
    yield database
    await database.close()
