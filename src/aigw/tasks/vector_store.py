"""Where a collection's vectors for one model are searched: pgvector, shared by every replica, when
the database has it; otherwise an in-process `VectorIndex` in each replica.

A build (local embeddings in `catalog_index`, provider embeddings in `provider_vectors`) asks which
items need a vector (`needed`), adds their vectors in batches (`add`), then searches `result()`.
With pgvector, `needed` compares the shared table with the catalog (content hash and metadata), so
the replica that builds a version first writes the changes and every other replica finds nothing
to do and keeps no vectors in memory; rows of deleted items are removed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from aigw.catalog.item import Hit
from aigw.fallbacks.vector_index import VectorIndex
from aigw.store.catalog import StoredItem
from aigw.store.database import Database
from aigw.store.pgvector import PgVectorIndex, stored_dimensions


class VectorSearch(Protocol):
    async def search(self, vector: ArrayLike, k: int = 10, filters: Mapping[str, Any] | None = None) -> list[Hit]: ...

    async def vectors(self, ids: Sequence[str]) -> dict[str, NDArray[np.float32]]: ...


class InProcessVectors:
    """A `VectorIndex` behind the same async interface as the shared one."""

    def __init__(self, index: VectorIndex) -> None:
        self.index = index

    async def search(self, vector: ArrayLike, k: int = 10, filters: Mapping[str, Any] | None = None) -> list[Hit]:
        return self.index.search(vector, k, filters)

    async def vectors(self, ids: Sequence[str]) -> dict[str, NDArray[np.float32]]:
        found = {item_id: self.index.vector(item_id) for item_id in ids}
        return {item_id: vector for item_id, vector in found.items() if vector is not None}


class VectorBuild:
    def __init__(
        self, database: Database, collection: str, model: str, *, shared: bool, dimensions: int | None = None
    ) -> None:
        self.database = database
        self.collection = collection
        self.model = model
        self.shared = shared
        self.dimensions = dimensions
        self._local: VectorIndex | None = None
        self._pg: PgVectorIndex | None = None

    async def needed(self, stored: Sequence[StoredItem]) -> list[StoredItem]:
        """The items that need a vector added: all of them in process; with pgvector, those whose row is
        missing or out of date (rows of items no longer in the catalog are deleted here)."""
        if not self.shared:
            return list(stored)
        if self.dimensions is None:
            self.dimensions = await stored_dimensions(self.database, self.collection, self.model)
        if self.dimensions is None:
            return list(stored)  # nothing stored yet: the first vectors say the dimension
        pg = self._shared(self.dimensions)
        present = await pg.fingerprints()
        wanted = {s.item.id for s in stored}
        await pg.delete([item_id for item_id in present if item_id not in wanted])
        return [s for s in stored if present.get(s.item.id) != (s.content_hash, s.item.metadata)]

    async def add(self, items: Sequence[StoredItem], vectors: NDArray[np.float32]) -> None:
        if not items:
            return
        ids = [s.item.id for s in items]
        metadata = [s.item.metadata for s in items]
        if self.shared:
            pg = self._shared(vectors.shape[1])
            await pg.upsert(ids, vectors, metadata, [s.content_hash for s in items])
            return
        if self._local is None:
            self._local = VectorIndex(vectors.shape[1])
        self._local.upsert(ids, vectors, metadata)

    def result(self) -> VectorSearch | None:
        """What searches use once the build is done; None when no vector was ever added."""
        if self.shared:
            return self._pg
        return InProcessVectors(self._local) if self._local is not None else None

    def _shared(self, dimensions: int) -> PgVectorIndex:
        if self._pg is None or self._pg.dimensions != dimensions:
            self._pg = PgVectorIndex(self.database, self.collection, self.model, dimensions)
        return self._pg
