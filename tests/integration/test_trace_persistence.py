"""Persisted traces on SQLite and PostgreSQL: replicas share traces and rollups, a dead database
costs nothing but dropped traces, retention deletes in small batches, paging is exact."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, func, select

from aigw.observability.tracing import Trace
from aigw.store.batches import BatchStatements
from aigw.store.database import Database
from aigw.store.migrate import downgrade, upgrade
from aigw.store.traces import InvalidWindow, TraceQuery, TraceSettings, TraceWriter, get, search, summary
from aigw.store.traces.histogram import BUCKETS, bucket_of, percentile
from aigw.store.traces.retention import delete_expired
from aigw.store.traces.tables import refusals, rollups, traces

pytestmark = pytest.mark.integration
FAST = TraceSettings(sample_rate=1.0, flush_interval=0.05, write_timeout=5.0)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    await upgrade(db)
    yield db
    await db.close()


def make(request_id: str, *, started_at: float | None = None, **attrs: object) -> Trace:
    trace = Trace(request_id, endpoint="chat", method="POST")
    if started_at is not None:
        trace.started_at = started_at
    trace.attrs.update({"http_status": 200, "provider": "openai", "model": "gpt-x", **attrs})
    with trace.span("auth"):
        pass
    return trace


async def count(database: Database, table: object) -> int:
    async with database.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


async def test_the_migration_creates_exactly_the_tables_of_the_code(database: Database) -> None:
    mine = MetaData()
    for table in (traces, rollups, refusals):
        table.to_metadata(mine)

    def differences(connection: object) -> list[object]:
        def ours(name: str | None, kind: str, parent: object) -> bool:
            return kind != "table" or name in mine.tables

        options = {"compare_type": True, "include_name": ours}
        context = MigrationContext.configure(connection, opts=options)  # type: ignore[arg-type]
        return list(compare_metadata(context, mine))

    async with database.engine.connect() as connection:
        assert await connection.run_sync(differences) == []
    assert await downgrade(database, "0003") == "0003"
    assert await upgrade(database, "0004") == "0004"


async def test_two_replicas_find_each_others_traces_and_merge_their_rollups(
    database_url: str, database: Database
) -> None:
    other = Database(database_url)
    writers = [TraceWriter(database, FAST), TraceWriter(other, FAST)]
    latencies: list[list[float]] = [[2.0 + i for i in range(100)], [500.0 + 10 * i for i in range(60)]]
    try:
        for replica, (writer, values) in enumerate(zip(writers, latencies, strict=True)):
            for index, latency in enumerate(values):
                writer.submit(make(f"r{replica}-{index}", latency_ms=latency, upstream_ms=None, prompt_tokens=2))
            # timed as 0 ms: without latency_ms a trace's own duration counts, and on a loaded machine the
            # wait in the writer's queue can move it out of the first bucket the percentiles below assume
            writer.submit(make("shared-id", http_status=429, error_code="rate_limit_exceeded", latency_ms=0.0))
        await asyncio.gather(*(writer.flush() for writer in writers))
        assert (await get(other, "r0-5"))[0]["request_id"] == "r0-5"
        assert (await get(database, "r1-7"))[0]["spans"][0]["name"] == "auth"
        assert len(await get(database, "shared-id")) == 2  # two requests, one id: both kept

        answer = await summary(database, "1h", "1m")
        points = [p for series in answer["series"] if series["model"] == "gpt-x" for p in series["points"]]
        assert sum(p["requests"] for p in points) == 162
        assert sum(p["prompt_tokens"] for p in points) == 320
        assert sum(p["refusals_by_reason"].get("rate_limit_exceeded", 0) for p in points) == 2
        if len(points) == 1:  # both replicas wrote within one minute (else each minute has its own)
            merged = [0] * BUCKETS
            for value in [*latencies[0], *latencies[1]]:
                merged[bucket_of(value)] += 1
            merged[bucket_of(0.0)] += 0
            added = points[0]["added_latency_ms"]
            assert added["p95"] == pytest.approx(percentile(_with_refusals(merged, 2), 0.95), abs=1e-3)
            assert added["p50"] == pytest.approx(percentile(_with_refusals(merged, 2), 0.5), abs=1e-3)
            assert added["p95"] > 500  # only the second replica's values are that slow
    finally:
        for writer in writers:
            await writer.close()
        await other.close()


def _with_refusals(counts: list[int], refused: int) -> list[int]:
    """The refused requests are timed as 0 ms: the first bucket."""
    counts = list(counts)
    counts[0] += refused
    return counts


async def test_sampling_keeps_every_failure_and_counts_every_request(database: Database) -> None:
    writer = TraceWriter(database, TraceSettings(sample_rate=0.0))
    for index in range(50):
        writer.submit(make(f"ok-{index}"))
    writer.submit(make("failed", http_status=502, error_code="upstream_error"))
    writer.submit(make("fell-back", fallback_from="openai"))
    await writer.close()
    kept = await search(database, TraceQuery())
    assert sorted(item["request_id"] for item in kept.items) == ["failed", "fell-back"]
    answer = await summary(database, "1h", "5m")
    assert sum(p["requests"] for s in answer["series"] for p in s["points"]) == 52
    assert writer.sampled_out == 50


async def test_rollups_survive_a_database_outage(database_url: str) -> None:
    database = Database(database_url)  # not migrated yet: every write fails, as when it is away
    writer = TraceWriter(database, FAST)
    try:
        for index in range(20):
            writer.submit(make(f"during-{index}"))
        await writer.flush()
        assert writer.failing and writer.dropped_unavailable == 20
        await upgrade(database)  # the database is back
        writer.submit(make("after"))
        await writer.flush()
        assert not writer.failing
        answer = await summary(database, "1h", "1m")
        assert sum(p["requests"] for s in answer["series"] for p in s["points"]) == 21
        assert [item["request_id"] for item in (await search(database, TraceQuery())).items] == ["after"]
    finally:
        await writer.close()
        await database.close()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections and never answers: a database hanging, not refusing."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        yield server.getsockname()[1]


@pytest.mark.parametrize("kind", ["hanging", "refusing"])
async def test_a_dead_database_drops_with_a_counter_and_never_blocks(kind: str, silent_server: int) -> None:
    if kind == "refusing":
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]  # closed again: connections are refused
    else:
        port = silent_server
    database = Database(f"postgresql://postgres@127.0.0.1:{port}/test")
    writer = TraceWriter(
        database, TraceSettings(sample_rate=1.0, flush_interval=0.05, write_timeout=0.5, queue_size=5000)
    )
    writer.start()
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.perf_counter()
        for _ in range(150):
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    started = time.perf_counter()
    for index in range(6000):
        writer.submit(make(f"x{index}"))
        if index % 500 == 0:
            await asyncio.sleep(0)
    submit_seconds = time.perf_counter() - started
    await ticking
    closing = time.perf_counter()
    await writer.close()
    await database.close()
    assert submit_seconds < 1.0  # 6,000 submits, each an append
    assert max(gaps) < 0.25  # the event loop never stalled while the writer failed
    assert time.perf_counter() - closing < 3.0  # each flush bounded by write_timeout
    assert writer.failing
    assert writer.dropped_full + writer.dropped_unavailable == 6000 and writer.written == 0


async def test_retention_deletes_old_rows_in_small_batches(database: Database) -> None:
    now = time.time()
    writer = TraceWriter(database, FAST)
    for index in range(45):
        writer.submit(make(f"old-{index}", started_at=now - 10 * 86_400 - index))
    for index in range(5):
        writer.submit(make(f"new-{index}", started_at=now - index))
    await writer.close()
    assert await count(database, rollups) >= 2
    runner = BatchStatements(database)
    sizes: list[int] = []
    execute = runner.execute

    async def recording(*args: object, **kwargs: object) -> list[int]:
        counts = await execute(*args, **kwargs)  # type: ignore[arg-type]
        sizes.extend(counts)
        return counts

    runner.execute = recording  # type: ignore[method-assign]
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
    deleted = await delete_expired(database, cutoff, batch=10, pause=0, statements=runner)
    assert deleted["traces"] == 45 and deleted["rollups"] >= 1
    assert max(sizes) <= 10 and sizes.count(10) >= 4  # 45 rows: 10, 10, 10, 10, 5
    assert sorted(item["request_id"] for item in (await search(database, TraceQuery())).items) == [
        f"new-{index}" for index in range(5)
    ]
    assert await count(database, traces) == 5


async def test_paging_returns_every_row_exactly_once_while_replicas_insert(database: Database) -> None:
    base = time.time() - 3600
    writer = TraceWriter(database, TraceSettings(sample_rate=1.0, batch_size=1000))
    for index in range(240):
        writer.submit(make(f"p{index}", started_at=base + index // 3))  # three rows per instant: ties
    await writer.flush()
    async with database.sessions() as session:
        existing = set((await session.execute(select(traces.c.id))).scalars())
    assert len(existing) == 240

    async def insert_meanwhile() -> None:
        for round_number in range(10):
            for index in range(20):  # newer rows and rows inside the range already paged
                writer.submit(make(f"late{round_number}-{index}", started_at=base + (index * 7) % 80))
            await writer.flush()
            await asyncio.sleep(0)

    seen: list[int] = []
    inserting = asyncio.create_task(insert_meanwhile())
    query = TraceQuery(limit=17, since=dt.datetime.fromtimestamp(base - 1, dt.UTC))
    while True:
        page = await search(database, query)
        seen.extend(item["id"] for item in page.items)
        await asyncio.sleep(0)
        if page.next_cursor is None:
            break
        query = query.model_copy(update={"cursor": page.next_cursor})
    await inserting
    await writer.close()
    assert len(seen) == len(set(seen))  # no row twice
    assert existing <= set(seen)  # every row that was there


async def test_search_filters_and_literal_text(database: Database) -> None:
    writer = TraceWriter(database, FAST)
    writer.submit(make("a", key_id="k1", user="alice", served_by="fuzzy"), "50% off shoes", "sure")
    writer.submit(make("b", key_id="k2", user="bob", model="other", http_status=500), "5000 off", None)
    writer.submit(make("c", key_id="k1", provider="azure"), "nothing", "write to bob@example.com")
    await writer.close()

    async def ids(**filters: object) -> list[str]:
        return [item["request_id"] for item in (await search(database, TraceQuery.model_validate(filters))).items]

    assert await ids(text="50%") == ["a"]  # % is a literal, not "5, anything, 0"
    assert await ids(text="OFF") == ["b", "a"]
    assert await ids(text="bob@example.com") == []  # the preview was scrubbed
    assert await ids(key_id="k1") == ["c", "a"]
    assert await ids(user="bob", status="error") == ["b"]
    assert await ids(provider="azure") == ["c"]
    assert await ids(served_by="fuzzy", model="gpt-x") == ["a"]
    assert await ids(request_id="b") == ["b"]
    assert await ids(until=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)) == []


async def test_summary_windows_and_steps(database: Database) -> None:
    now = time.time()
    writer = TraceWriter(database, FAST)
    for hours_ago in (0, 2, 30):
        writer.submit(make(f"h{hours_ago}", started_at=now - hours_ago * 3600, cost_usd=0.5))
    await writer.close()

    async def requests(window: str, step: str) -> int:
        answer = await summary(database, window, step)
        return sum(p["requests"] for s in answer["series"] for p in s["points"])

    assert await requests("1h", "1m") == 1
    assert await requests("24h", "5m") == 2
    assert await requests("7d", "1h") == 3
    week = await summary(database, "7d", "1h")
    assert all(p["t"].endswith(":00:00+00:00") for s in week["series"] for p in s["points"])
    for window, step in (("7d", "1m"), ("1y", "1h"), ("1h", "1s")):
        with pytest.raises(InvalidWindow):
            await summary(database, window, step)
