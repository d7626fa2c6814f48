"""A record the database refuses for its data (too long, out of range, a NUL character) is set aside
and counted, and the ledger goes on: the rest of its batch and every later batch are written, not
spooled. Real SQLite and PostgreSQL, schema from the project's migrations."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select

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


def spend(request_id: str, **fields: Any) -> Spend:
    values: dict[str, Any] = {
        "ts": dt.datetime.now(dt.UTC),
        "request_id": request_id,
        "key_id": "k1",
        "user": "alice",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "cost_usd": Decimal("0.000123"),
        **fields,
    }
    return Spend(**values)


def poisons(dialect: str) -> list[dict[str, Any]]:
    """Values each database refuses. SQLite enforces no string length; both refuse integers past 63 bits
    (2**64 - 1 still has a JSON form, 2**70 has none)."""
    refused: list[dict[str, Any]] = [{"prompt_tokens": 2**64 - 1}, {"completion_tokens": 2**70}]
    if dialect == "postgresql":
        refused += [{"model": "m" * 300}, {"user": "a\x00b"}, {"cost_usd": Decimal("1e20")}]
    return refused


async def stored_ids(database: Database) -> list[str]:
    async with database.sessions() as session:
        rows = (await session.execute(select(SpendRecord.request_id).order_by(SpendRecord.id))).scalars().all()
    return list(rows)


async def test_a_refused_record_is_set_aside_and_the_ledger_goes_on(database: Database, tmp_path: Path) -> None:
    spool = tmp_path / "state" / "spend-spool.jsonl"
    writer = SpendWriter(database, spool)
    bad = [spend(f"bad-{i}", **fields) for i, fields in enumerate(poisons(database.dialect))]
    first = [spend("good-0"), bad[0], spend("good-1"), *bad[1:], spend("good-2")]
    for record in first:
        writer.record(record)
    await writer.flush()

    good = [r.request_id for r in first if r.request_id.startswith("good")]
    assert await stored_ids(database) == good, "the rest of the batch is written, in order"
    assert (writer.rejected, writer.spooled, writer.failing) == (len(bad), 0, False)
    aside = [orjson.loads(line) for line in writer.spool.rejected_path.read_bytes().splitlines()]
    assert [a["record"]["request_id"] for a in aside] == [r.request_id for r in bad]
    assert all(a["error"] for a in aside), "each says why it was refused"

    later = [spend(f"later-{i}") for i in range(3)]
    for record in later:
        writer.record(record)
    await writer.close()
    assert await stored_ids(database) == good + [r.request_id for r in later], "later batches are not stuck"
    assert not spool.exists(), "nothing went to the spool: the database was there all along"


async def test_a_refused_record_in_a_spool_does_not_block_its_replay(database: Database, tmp_path: Path) -> None:
    spool = tmp_path / "state" / "spend-spool.jsonl"
    spool.parent.mkdir(parents=True)
    records = [spend("spooled-0"), spend("spooled-bad", prompt_tokens=2**64 - 1), spend("spooled-1")]
    spool.write_bytes(b"".join(r.to_json() + b"\n" for r in records))
    writer = SpendWriter(database, spool)
    writer.record(spend("fresh"))
    await writer.close()

    assert await stored_ids(database) == ["spooled-0", "spooled-1", "fresh"]
    assert writer.rejected == 1
    assert sorted(p.name for p in spool.parent.iterdir()) == ["spend-rejected.jsonl"], "the replay is done"


async def test_a_record_without_a_json_form_does_not_stop_the_spool(tmp_path: Path) -> None:
    """With the database away, the batch goes to the spool; a record the spool cannot encode is set
    aside instead of failing the flush (and with it the writer's background task)."""
    directory = tmp_path / "not-a-database"
    directory.mkdir()
    down = Database(f"sqlite:///{directory}")
    spool = tmp_path / "state" / "spend-spool.jsonl"
    try:
        writer = SpendWriter(down, spool, interval=0.05)
        writer.start()
        for record in [spend("offline-0"), spend("offline-bad", prompt_tokens=2**70), spend("offline-1")]:
            writer.record(record)
        await writer.close()
    finally:
        await down.close()
    assert [Spend.from_json(line).request_id for line in spool.read_bytes().splitlines()] == ["offline-0", "offline-1"]
    assert (writer.spooled, writer.rejected) == (2, 1)
    aside = orjson.loads(writer.spool.rejected_path.read_bytes().splitlines()[0])
    assert aside["record"]["request_id"] == "offline-bad"
