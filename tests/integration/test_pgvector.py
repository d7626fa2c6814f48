"""The shared pgvector index against a real PostgreSQL 16 with pgvector (the server bundled in `pgserver`)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa

from aigw.catalog.filters import matches
from aigw.fallbacks.vector_index import VectorIndex
from aigw.store.database import Database
from aigw.store.pgvector import PgVectorIndex, pgvector_available
from tests.support.databases import PG_ADMIN_DSN
from tests.support.pgvector_server import pgvector_server

pytestmark = pytest.mark.integration

DIMS = 96
COUNT = 2000
QUERIES = 20


@pytest.fixture(scope="module")
def pgvector_url() -> Iterator[str]:
    with pgvector_server() as url:
        yield url


@pytest.fixture(scope="module")
def dataset() -> tuple[list[str], np.ndarray[Any, np.dtype[np.float32]], list[dict[str, Any]]]:
    rng = np.random.default_rng(20240611)
    vectors = rng.standard_normal((COUNT, DIMS)).astype(np.float32)
    ids = [f"item-{i:04d}" for i in range(COUNT)]
    metadata: list[dict[str, Any]] = [
        {"group": i % 5, "tag": "Even" if i % 2 == 0 else "odd", "price": float(i % 100), "labels": [f"l{i % 7}"]}
        for i in range(COUNT)
    ]
    return ids, vectors, metadata


def _queries(seed: int) -> np.ndarray[Any, np.dtype[np.float32]]:
    return np.random.default_rng(seed).standard_normal((QUERIES, DIMS)).astype(np.float32)


def _collection() -> str:
    return f"c-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def loaded(pgvector_url: str, dataset: Any) -> str:
    """A collection holding the dataset, written once (2,000 HNSW inserts take ~2 s); yields its name."""
    collection = _collection()

    async def load() -> None:
        database = Database(pgvector_url)
        try:
            await PgVectorIndex(database, collection, "test-model", DIMS).upsert(*dataset)
        finally:
            await database.close()

    asyncio.run(load())
    return collection


def _open(url: str, collection: str, dataset: Any) -> tuple[Database, PgVectorIndex, VectorIndex]:
    """The stored collection through a new engine, and the same items in an in-process index."""
    database = Database(url)
    local = VectorIndex(DIMS)
    local.upsert(*dataset)
    return database, PgVectorIndex(database, collection, "test-model", DIMS), local


async def test_availability(pgvector_url: str, tmp_path: Path) -> None:
    database = Database(pgvector_url)
    try:
        assert await pgvector_available(database)
        assert await pgvector_available(database)  # and again, once the extension exists
    finally:
        await database.close()

    plain = Database(PG_ADMIN_DSN)  # the machine's PostgreSQL 15: no pgvector installed
    try:
        assert not await pgvector_available(plain)
    finally:
        await plain.close()

    sqlite = Database(f"sqlite:///{tmp_path / 'aigw.db'}")
    try:
        assert not await pgvector_available(sqlite)
    finally:
        await sqlite.close()

    unreachable = Database("postgresql://postgres@127.0.0.1:1/nothing")
    try:
        assert not await pgvector_available(unreachable)
    finally:
        await unreachable.close()


async def test_search_matches_the_in_process_index(pgvector_url: str, dataset: Any, loaded: str) -> None:
    database, shared, local = _open(pgvector_url, loaded, dataset)
    try:
        assert await shared.count() == COUNT
        await shared.ensure_schema()
        assert shared.indexed
        recalls = []
        started = time.perf_counter()
        for query in _queries(1):
            expected = local.search(query, 10)
            exact = await shared.search(query, 10, exact=True)
            assert [hit.id for hit in exact] == [hit.id for hit in expected]
            assert [hit.score for hit in exact] == pytest.approx([hit.score for hit in expected], abs=1e-5)
            approximate = await shared.search(query, 10)
            assert len(approximate) == 10
            assert all(0.0 <= hit.score <= 1.0 for hit in approximate)
            assert [hit.score for hit in approximate] == sorted((hit.score for hit in approximate), reverse=True)
            recalls.append(len({hit.id for hit in approximate} & {hit.id for hit in expected}) / 10)
        elapsed = time.perf_counter() - started
        assert float(np.mean(recalls)) >= 0.9, recalls
        print(f"recall@10 {np.mean(recalls):.3f}; {2 * QUERIES} searches in {elapsed * 1000:.0f} ms")

        # The approximate search goes through this collection's HNSW index (not a sequential scan).
        async with database.engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), "
                    "set_config('enable_seqscan', 'off', true), set_config('enable_sort', 'off', true)"
                )
            )
            plan = "\n".join(
                str(row[0])
                for row in await conn.execute(
                    sa.text("EXPLAIN " + str(shared._ranked(metadata=False, limit=True, ties_by_id=False))),
                    {
                        "collection": shared.collection,
                        "model": shared.model,
                        "query": "[" + ",".join(["1"] * DIMS) + "]",
                        "limit": 10,
                    },
                )
            )
        assert shared.index_name in plan, plan

        assert await shared.search(_queries(2)[0], 0) == []
        assert len(await shared.search(_queries(2)[0], COUNT + 5)) == COUNT
    finally:
        await database.close()


@pytest.mark.parametrize(
    "filters",
    [
        {"group": 3},
        {"tag": "EVEN"},  # equality ignores case, as in the in-process index
        {"labels": "l4"},  # a list-valued field contains it
        {"price": {"gte": 50, "lt": 60}, "group": [1, 2]},
        {"price": {"lt": 1}, "group": 0},  # narrow: 20 items, beyond the approximate window
        {"group": 7},  # nothing matches
    ],
)
async def test_filters(pgvector_url: str, dataset: Any, loaded: str, filters: dict[str, Any]) -> None:
    database, shared, local = _open(pgvector_url, loaded, dataset)
    _, _, metadata = dataset
    by_id = dict(zip(dataset[0], metadata, strict=True))
    try:
        recalls = []
        for query in _queries(3)[:5]:
            expected = [hit.id for hit in local.search(query, 10, filters)]
            exact = await shared.search(query, 10, filters, exact=True)
            assert [hit.id for hit in exact] == expected
            approximate = await shared.search(query, 10, filters)
            assert all(matches(by_id[hit.id], filters) for hit in approximate)
            assert len(approximate) == len(expected)
            if expected:
                recalls.append(len({hit.id for hit in approximate} & set(expected)) / len(expected))
        assert not recalls or float(np.mean(recalls)) >= 0.9, recalls
    finally:
        await database.close()


async def test_replicas_share_one_index(pgvector_url: str, dataset: Any) -> None:
    ids, vectors, metadata = dataset
    collection = _collection()
    one, two = Database(pgvector_url), Database(pgvector_url)
    first = PgVectorIndex(one, collection, "test-model", DIMS)
    second = PgVectorIndex(two, collection, "test-model", DIMS)
    try:
        await first.upsert(ids[:100], vectors[:100], metadata[:100])
        assert await second.count() == 100
        hits = await second.search(vectors[42], 1)
        assert hits[0].id == ids[42] and hits[0].score == pytest.approx(1.0, abs=1e-6)

        # A replacement written by the second replica is what the first one finds.
        await second.upsert([ids[42]], -vectors[42:43], [{"group": 99}])
        assert (await first.search(vectors[42], 100))[-1].id == ids[42]
        assert [hit.id for hit in await first.search(vectors[0], 5, {"group": 99})] == [ids[42]]

        assert await second.delete([ids[42], ids[43], "missing"]) == 2
        assert await first.count() == 98
        assert ids[42] not in {hit.id for hit in await first.search(-vectors[42], 100)}

        # Another model of the same collection, with another dimension, is a separate index in the same table.
        other = PgVectorIndex(two, collection, "other-model", 8)
        await other.upsert(["x"], [np.ones(8, dtype=np.float32)])
        assert await other.count() == 1 and await first.count() == 98
        assert await other.clear() == 1 and await first.count() == 98
    finally:
        await one.close()
        await two.close()


async def test_vectors_are_stored_across_restarts(pgvector_url: str, dataset: Any) -> None:
    ids, vectors, metadata = dataset
    collection = _collection()
    query = _queries(4)[0]
    database = Database(pgvector_url)
    try:
        index = PgVectorIndex(database, collection, "test-model", DIMS)
        await index.upsert(ids[:500], vectors[:500], metadata[:500])
        before = await index.search(query, 10, {"group": 2})
    finally:
        await database.close()

    restarted = Database(pgvector_url)  # a new engine, new connections: nothing is re-upserted
    try:
        index = PgVectorIndex(restarted, collection, "test-model", DIMS)
        assert await index.count() == 500
        assert await index.search(query, 10, {"group": 2}) == before
    finally:
        await restarted.close()


async def test_dimensions_beyond_hnsw_are_searched_exactly(pgvector_url: str) -> None:
    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((50, 2001)).astype(np.float32)
    database = Database(pgvector_url)
    try:
        index = PgVectorIndex(database, _collection(), "big-model", 2001)
        await index.upsert([str(i) for i in range(50)], vectors)
        assert not index.indexed
        local = VectorIndex(2001)
        local.upsert([str(i) for i in range(50)], vectors)
        assert [hit.id for hit in await index.search(vectors[7], 5)] == [hit.id for hit in local.search(vectors[7], 5)]
    finally:
        await database.close()


async def test_bad_vectors_are_refused(pgvector_url: str) -> None:
    database = Database(pgvector_url)
    try:
        index = PgVectorIndex(database, _collection(), "test-model", 4)
        with pytest.raises(ValueError, match="non-zero"):
            await index.upsert(["a"], [[0.0, 0.0, 0.0, 0.0]])
        with pytest.raises(ValueError, match="shape"):
            await index.upsert(["a"], [[1.0, 2.0, 3.0]])
        with pytest.raises(ValueError, match="finite"):
            await index.search([1.0, float("nan"), 0.0, 0.0])
        await index.upsert([], np.zeros((0, 4), dtype=np.float32))
        assert await index.count() == 0
        assert await index.search([1.0, 0.0, 0.0, 0.0]) == []
    finally:
        await database.close()
    with pytest.raises(ValueError, match="PostgreSQL"):
        PgVectorIndex(Database("sqlite:///:memory:"), "c", "m", 4)
