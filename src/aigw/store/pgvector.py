"""A vector index shared by every replica: pgvector in PostgreSQL, when the database has the extension.

`pgvector_available(database)` says whether it can be used (PostgreSQL, and the `vector` extension exists or
`CREATE EXTENSION` succeeds); otherwise search keeps the in-process `aigw.fallbacks.vector_index.VectorIndex`.

Storage: one table, `ai_item_vectors (collection, model, item_id, embedding vector, metadata jsonb)`, primary
key (collection, model, item_id). It is created here with `CREATE TABLE IF NOT EXISTS` (under an advisory lock,
so replicas starting together do not race), not by an Alembic migration, because the `vector` type only exists
where the extension does. `embedding` is an untyped `vector` so that models of any dimension share the table;
vectors are validated (finite, non-zero, the index's dimension) and stored unit-length as float32, as
`VectorIndex` keeps them. Rows survive restarts: nothing is recomputed.

Index: one HNSW index (`vector_cosine_ops`) per (collection, model, dimensions), named
`ai_item_vectors_hnsw_<hash>`, on the expression `(embedding::vector(N))` (HNSW needs a fixed dimension) and
partial: `WHERE collection = '<c>' AND model = '<m>' AND vector_dims(embedding) = N`. Partial rather than one
expression index per dimension because pgvector (0.6, as bundled here) filters *after* the HNSW scan: an index
shared by several collections would return the nearest rows of any collection and leave too few of this one.
The `vector_dims` term keeps rows of another dimension (a model whose output size changed) out of the index, so
writing them cannot fail on the cast. The literals are quoted by the server (`format('%L')`). No index is made
where pgvector cannot build one, before 0.5.0 (no HNSW) or above 2,000 dimensions (its HNSW limit for
`vector`): search is then an exact scan.

Planning: queries repeat the predicate with bind parameters and set `plan_cache_mode = force_custom_plan` for
their transaction, so the planner sees the values and can prove that the partial index applies (a generic plan
could not). Approximate searches order by the distance alone (a second sort key would rule the index out; ties
are ordered by id in Python) and set `enable_seqscan` and `enable_sort` off for their transaction: that index
scan is always the plan they want, and the planner's row estimates (stale statistics after a bulk load, a
guessed selectivity for `vector_dims`) otherwise often pick a sort of the whole collection.

Search: cosine distance `<=>`, scores mapped as `VectorIndex` does, (cos + 1) / 2 clipped to [0, 1]; equal
distances are ordered by id. An HNSW scan yields at most `hnsw.ef_search` rows, so that is set to the number
of rows wanted, at least `ef_search` (100 by default; pgvector's 40 lost ~10% recall@10 on the filtered tests)
and at most 1,000. Filters use `aigw.catalog.filters.matches` on the stored metadata, exactly as the in-process
index does (translating its case-insensitive, list-aware equality to SQL would be a second implementation to
keep in step): candidates come in distance order from the HNSW index, the window growing fourfold (k*4, k*16,
... up to 1,000) while fewer than k match and the window came back full; if that does not find k, one exact
scan streams the collection's rows in distance order through a server-side cursor and stops at the k-th match
(so a narrow filter costs a pass over the collection, like the in-process index). An unfiltered search that
gets fewer than k rows from the index is redone exactly. `exact=True` always scans exactly.

All I/O goes through the `Database`'s async SQLAlchemy engine (asyncpg); vectors travel in pgvector's text form
`'[x,y,...]'` cast to `vector`, so no driver-level codec or extra package is needed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa
from numpy.typing import ArrayLike, NDArray
from sqlalchemy.ext.asyncio import AsyncConnection

from aigw.catalog.filters import matches
from aigw.catalog.item import Hit
from aigw.catalog.vectors import check_batch, unit_rows, unit_score
from aigw.store.database import Database

log = logging.getLogger(__name__)

TABLE = "ai_item_vectors"
HNSW_MAX_DIMENSIONS = 2000  # pgvector's limit for indexing the `vector` type
_HNSW_MIN_VERSION = (0, 5, 0)
EF_SEARCH = 100  # candidates an HNSW scan keeps at least (pgvector's default, 40, loses ~10% recall@10 here)
_EF_SEARCH_MAX = 1000  # pgvector's maximum
_WIDEN = 4  # as in VectorIndex: candidates per result wanted, and the factor the window grows by
_BATCH = 500  # rows per INSERT statement
_STREAM_CHUNK = 500  # rows per fetch from the server-side cursor of an exact scan
_LOCK_KEY = 0x61696777  # advisory lock ("aigw") serialising the DDL between replicas


async def pgvector_available(database: Database) -> bool:
    """True on PostgreSQL when the `vector` extension is installed in the database or can be created there.

    Never raises: SQLite, a server without the extension, missing privileges or a connection error are all False.
    """
    if database.dialect != "postgresql":
        return False
    try:
        async with database.engine.begin() as conn:
            if await conn.scalar(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'vector'")):
                return True
            if not await conn.scalar(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")):
                return False
            await conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
            return True
    except Exception as exc:
        log.info("pgvector is not available: %s", exc)
        return False


async def stored_dimensions(database: Database, collection: str, model: str) -> int | None:
    """The dimension of the vectors stored for (collection, model), or None when there are none (or no table)."""
    async with database.engine.connect() as conn:
        if not await conn.scalar(sa.text("SELECT to_regclass(:table) IS NOT NULL"), {"table": TABLE}):
            return None
        value = await conn.scalar(
            sa.text(
                f"SELECT vector_dims(embedding) FROM {TABLE} WHERE collection = :collection AND model = :model LIMIT 1"
            ),
            {"collection": collection, "model": model},
        )
    return int(value) if value is not None else None


class PgVectorIndex:
    """The shared, persistent index of one collection's embeddings from one model, in PostgreSQL with pgvector.

    Same contract as `VectorIndex` (cosine, scores in [0, 1], metadata filters) but async and stored in the
    database, so every replica sees every write. The table and the HNSW index are created on first use
    (`ensure_schema`), idempotently; the extension must be available (see `pgvector_available`).
    """

    def __init__(
        self, database: Database, collection: str, model: str, dimensions: int, *, ef_search: int = EF_SEARCH
    ) -> None:
        if database.dialect != "postgresql":
            raise ValueError(f"pgvector needs PostgreSQL, not {database.dialect}")
        if dimensions < 1:
            raise ValueError(f"dimensions must be at least 1, not {dimensions}")
        if not 1 <= ef_search <= _EF_SEARCH_MAX:
            raise ValueError(f"ef_search must be between 1 and {_EF_SEARCH_MAX}, not {ef_search}")
        self.ef_search = ef_search
        self.database = database
        self.collection = collection
        self.model = model
        self.dimensions = dimensions
        digest = hashlib.sha256(f"{collection}\0{model}\0{dimensions}".encode()).hexdigest()[:20]
        self.index_name = f"{TABLE}_hnsw_{digest}"
        self.indexed = False  # whether an HNSW index serves searches (known after ensure_schema)
        self._ready = False
        self._schema_lock = asyncio.Lock()
        self._vector_type = f"vector({dimensions})"  # an int: safe to put in SQL text
        self._key = {"collection": collection, "model": model}

    # -- schema ---------------------------------------------------------------------------------------------

    async def ensure_schema(self) -> None:
        """Create the extension, the table and this index's HNSW index where missing (safe to call repeatedly
        and from several replicas at once)."""
        if self._ready:
            return
        async with self._schema_lock:
            if self._ready:
                return
            async with self.database.engine.begin() as conn:
                await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
                await conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
                await conn.execute(
                    sa.text(
                        f"CREATE TABLE IF NOT EXISTS {TABLE} ("
                        " collection text NOT NULL,"
                        " model text NOT NULL,"
                        " item_id text NOT NULL,"
                        " embedding vector NOT NULL,"
                        " metadata jsonb NOT NULL DEFAULT '{}'::jsonb,"
                        " content_hash text NOT NULL DEFAULT '',"
                        " PRIMARY KEY (collection, model, item_id))"
                    )
                )
                await conn.execute(
                    sa.text(f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS content_hash text NOT NULL DEFAULT ''")
                )
                version = await conn.scalar(sa.text("SELECT extversion FROM pg_extension WHERE extname = 'vector'"))
                if _version(str(version)) >= _HNSW_MIN_VERSION and self.dimensions <= HNSW_MAX_DIMENSIONS:
                    ddl = await conn.scalar(
                        sa.text(
                            "SELECT format('CREATE INDEX IF NOT EXISTS %I ON " + TABLE + " USING hnsw "
                            f"((embedding::{self._vector_type}) vector_cosine_ops) "
                            "WHERE collection = %L AND model = %L "
                            f"AND vector_dims(embedding) = {self.dimensions}', "
                            "CAST(:name AS text), CAST(:collection AS text), CAST(:model AS text))"
                        ),
                        {"name": self.index_name, **self._key},
                    )
                    await conn.execute(sa.text(str(ddl)))
                    self.indexed = True
                else:
                    log.info(
                        "pgvector %s cannot index %d dimensions with HNSW; %s/%s searches scan exactly",
                        version,
                        self.dimensions,
                        self.collection,
                        self.model,
                    )
            self._ready = True

    # -- writes ---------------------------------------------------------------------------------------------

    async def upsert(
        self,
        ids: Sequence[str],
        vectors: ArrayLike,
        metadatas: Sequence[Mapping[str, Any] | None] | None = None,
        hashes: Sequence[str] | None = None,
    ) -> None:
        """Add items, or replace their vector and metadata when their id is present; `hashes` are the
        hashes of the texts embedded, so a later sync knows which rows are current (`fingerprints`)."""
        check_batch(ids, metadatas)
        rows = self._normalise(vectors, rows=len(ids))
        if not ids:
            return
        await self.ensure_schema()
        params = [
            {
                **self._key,
                "item_id": item_id,
                "embedding": _vector_text(rows[i]),
                "metadata": json.dumps(dict(metadatas[i] or {}) if metadatas is not None else {}),
                "content_hash": hashes[i] if hashes is not None else "",
            }
            for i, item_id in enumerate(ids)
        ]
        statement = sa.text(
            f"INSERT INTO {TABLE} (collection, model, item_id, embedding, metadata, content_hash) "
            "VALUES (:collection, :model, :item_id, CAST(CAST(:embedding AS text) AS vector), "
            "CAST(CAST(:metadata AS text) AS jsonb), :content_hash) "
            "ON CONFLICT (collection, model, item_id) DO UPDATE SET embedding = EXCLUDED.embedding, "
            "metadata = EXCLUDED.metadata, content_hash = EXCLUDED.content_hash"
        )
        async with self.database.engine.begin() as conn:
            for start in range(0, len(params), _BATCH):
                await conn.execute(statement, params[start : start + _BATCH])

    async def delete(self, ids: Iterable[str]) -> int:
        """Remove items; returns how many were present."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return 0
        await self.ensure_schema()
        removed = 0
        async with self.database.engine.begin() as conn:
            for start in range(0, len(wanted), _BATCH):
                result = await conn.execute(
                    sa.text(
                        f"DELETE FROM {TABLE} WHERE collection = :collection AND model = :model "
                        "AND item_id = ANY(CAST(:ids AS text[]))"
                    ),
                    {**self._key, "ids": wanted[start : start + _BATCH]},
                )
                removed += result.rowcount
        return removed

    async def clear(self) -> int:
        """Remove every item of this collection and model; returns how many there were."""
        await self.ensure_schema()
        async with self.database.engine.begin() as conn:
            result = await conn.execute(
                sa.text(f"DELETE FROM {TABLE} WHERE collection = :collection AND model = :model"), self._key
            )
            return result.rowcount

    # -- reads ----------------------------------------------------------------------------------------------

    async def fingerprints(self) -> dict[str, tuple[str, Mapping[str, Any]]]:
        """item id -> (content hash, metadata) of every stored row: what a sync compares with the catalog."""
        await self.ensure_schema()
        async with self.database.engine.connect() as conn:
            result = await conn.execute(
                sa.text(
                    f"SELECT item_id, content_hash, metadata FROM {TABLE} "
                    "WHERE collection = :collection AND model = :model"
                ),
                self._key,
            )
            return {str(r.item_id): (str(r.content_hash), _metadata(r.metadata)) for r in result.all()}

    async def vectors(self, ids: Sequence[str]) -> dict[str, NDArray[np.float32]]:
        """The stored (unit-length) vectors of those of `ids` that are present."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        await self.ensure_schema()
        async with self.database.engine.connect() as conn:
            result = await conn.execute(
                sa.text(
                    f"SELECT item_id, CAST(embedding AS text) AS embedding FROM {TABLE} "
                    "WHERE collection = :collection AND model = :model AND item_id = ANY(CAST(:ids AS text[]))"
                ),
                {**self._key, "ids": wanted},
            )
            found = {str(r.item_id): np.asarray(json.loads(r.embedding), dtype=np.float32) for r in result.all()}
        return {item_id: vector for item_id, vector in found.items() if vector.shape == (self.dimensions,)}

    async def count(self) -> int:
        await self.ensure_schema()
        async with self.database.engine.connect() as conn:
            value = await conn.scalar(
                sa.text(f"SELECT count(*) FROM {TABLE} WHERE collection = :collection AND model = :model"),
                self._key,
            )
        return int(value or 0)

    async def search(
        self,
        vector: ArrayLike,
        k: int = 10,
        filters: Mapping[str, Any] | None = None,
        *,
        exact: bool = False,
    ) -> list[Hit]:
        """The k items most similar to `vector` whose metadata matches `filters`, best first.

        Approximate (HNSW) unless `exact` or no index could be made; see the module docstring."""
        if k < 0:
            raise ValueError(f"k must not be negative, not {k}")
        query = _vector_text(self._normalise(vector, rows=None)[0])
        if k == 0:
            return []
        await self.ensure_schema()
        async with self.database.engine.begin() as conn:  # a transaction: SET LOCAL-style settings, the cursor
            await _set_local(conn, "plan_cache_mode", "force_custom_plan")
            if self.indexed and not exact:
                hits = await self._approximate(conn, query, k, filters)
                if hits is not None:
                    return hits
            return await self._exact(conn, query, k, filters)

    async def _approximate(
        self, conn: AsyncConnection, query: str, k: int, filters: Mapping[str, Any] | None
    ) -> list[Hit] | None:
        """Through the HNSW index, or None when that could not be trusted to find k (the caller scans exactly)."""
        # The partial index holds exactly this collection's rows in distance order, so it is always the plan
        # wanted here; the planner's row estimates (stale statistics, `vector_dims` guessed) must not overrule it.
        await _set_local(conn, "enable_seqscan", "off")
        await _set_local(conn, "enable_sort", "off")
        window = k if not filters else k * _WIDEN
        while True:
            limit = min(window, _EF_SEARCH_MAX)
            await _set_local(conn, "hnsw.ef_search", str(max(self.ef_search, limit)))
            result = await conn.execute(
                self._ranked(metadata=bool(filters), limit=True, ties_by_id=False),
                {**self._key, "query": query, "limit": limit},
            )
            rows = sorted(result.all(), key=lambda row: (float(row.distance), str(row.item_id)))
            if not filters:
                return [_hit(row) for row in rows] if len(rows) >= k else None
            found = [_hit(row) for row in rows if matches(_metadata(row.metadata), filters)]
            if len(found) >= k:
                return found[:k]
            if len(rows) < limit or limit == _EF_SEARCH_MAX:
                return None  # the window came back short (index exhausted or approximate): scan exactly
            window *= _WIDEN

    async def _exact(self, conn: AsyncConnection, query: str, k: int, filters: Mapping[str, Any] | None) -> list[Hit]:
        """Every row in distance order (no index); with filters, streamed until k match."""
        await _set_local(conn, "enable_indexscan", "off")
        await _set_local(conn, "enable_bitmapscan", "off")
        params = {**self._key, "query": query}
        if not filters:
            result = await conn.execute(
                self._ranked(metadata=False, limit=True, ties_by_id=True), {**params, "limit": k}
            )
            return [_hit(row) for row in result.all()]
        found: list[Hit] = []
        stream = await conn.stream(
            self._ranked(metadata=True, limit=False, ties_by_id=True).execution_options(yield_per=_STREAM_CHUNK), params
        )
        try:
            async for row in stream:
                if matches(_metadata(row.metadata), filters):
                    found.append(_hit(row))
                    if len(found) == k:
                        break
        finally:
            await stream.close()
        return found

    def _ranked(self, *, metadata: bool, limit: bool, ties_by_id: bool) -> sa.TextClause:
        """This collection's rows nearest the :query first. The ORDER BY expression is the index's expression and
        the WHERE clause implies the partial index's predicate, so the planner can use the index; a second sort
        key (ties by id) would rule it out, so approximate searches order ties themselves."""
        distance = f"CAST(embedding AS {self._vector_type}) <=> CAST(CAST(:query AS text) AS {self._vector_type})"
        return sa.text(
            f"SELECT item_id, {distance} AS distance{', metadata' if metadata else ''} FROM {TABLE} "
            "WHERE collection = :collection AND model = :model "
            f"AND vector_dims(embedding) = {self.dimensions} "
            f"ORDER BY {distance}{', item_id' if ties_by_id else ''}{' LIMIT :limit' if limit else ''}"
        )

    # -- helpers --------------------------------------------------------------------------------------------

    def _normalise(self, vectors: ArrayLike, rows: int | None) -> NDArray[np.float32]:
        return unit_rows(vectors, self.dimensions, rows)


async def _set_local(conn: AsyncConnection, name: str, value: str) -> None:
    """A setting for the current transaction only (`SET LOCAL`, with bind parameters)."""
    await conn.execute(sa.text("SELECT set_config(:name, :value, true)"), {"name": name, "value": value})


def _vector_text(row: NDArray[np.float32]) -> str:
    """pgvector's text form; `repr` of each float32 (as a Python float) reads back to the same float32."""
    return "[" + ",".join(map(repr, row.tolist())) + "]"


def _hit(row: Any) -> Hit:
    return Hit(id=str(row.item_id), score=unit_score(1.0 - float(row.distance)))


def _metadata(value: Any) -> Mapping[str, Any]:
    """jsonb arrives as text through the asyncpg dialect unless a JSON type is declared."""
    if isinstance(value, str):
        decoded = json.loads(value)
        return decoded if isinstance(decoded, dict) else {}
    return value if isinstance(value, Mapping) else {}


def _version(text: str) -> tuple[int, ...]:
    parts: list[int] = []
    for part in text.split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)
