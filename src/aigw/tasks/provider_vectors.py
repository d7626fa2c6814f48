"""Item embeddings made by a provider's embedding model, for the provider path of semantic search.

A collection's items are embedded once per (collection version, model), in the background, in
batches through the orchestrator (so keys, budgets, PII masking and the circuit breaker apply as to
any call), and stored: a restart or another replica reuses them. Until every item has one, the
provider path is not ready and search falls back, saying `index_building`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

import numpy as np

from aigw.store import catalog as rows
from aigw.store.database import Database
from aigw.tasks.catalog_index import LoadedCollection
from aigw.tasks.vector_store import VectorBuild, VectorSearch

log = logging.getLogger("aigw.tasks")
BATCH = 128
RETRY_AFTER_S = 30.0
Embed = Callable[[Sequence[str]], Awaitable[np.ndarray]]  # texts -> (n, d) float32, through the orchestrator


class ProviderVectors:
    def __init__(self, database: Database, shared: Callable[[], bool] = lambda: False) -> None:
        self.database = database
        self._shared = shared  # vectors in pgvector, shared by the replicas (see tasks.vector_store)
        self._ready: dict[tuple[str, str], tuple[int, VectorSearch]] = {}
        self._building: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._retry_at: dict[tuple[str, str], float] = {}  # after a failed build, not before this (monotonic)

    def index(self, collection: LoadedCollection, model: str, embed: Embed) -> VectorSearch | None:
        """The index of `model`'s embeddings for this version of the collection, or None while it is
        being built (a build is started if none runs)."""
        key = (collection.name, model)
        ready = self._ready.get(key)
        if ready is not None and ready[0] == collection.version:
            return ready[1]
        running = self._building.get(key)
        if (running is None or running.done()) and time.monotonic() >= self._retry_at.get(key, 0.0):
            task = asyncio.create_task(self._build(collection, model, embed))
            self._building[key] = task
        return None

    async def close(self) -> None:
        for task in self._building.values():
            task.cancel()
        await asyncio.gather(*self._building.values(), return_exceptions=True)

    async def _build(self, collection: LoadedCollection, model: str, embed: Embed) -> None:
        stored_as = f"provider:{model}"
        try:
            items = await rows.load_items(self.database, collection.name)
            build = VectorBuild(self.database, collection.name, stored_as, shared=self._shared())
            needed = await build.needed(items)
            saved = await rows.load_embeddings(self.database, collection.name, stored_as) if needed else {}
            reusable = [s for s in needed if saved.get(s.item.id, ("",))[0] == s.content_hash]
            missing = [s for s in needed if saved.get(s.item.id, ("",))[0] != s.content_hash]
            if reusable:
                vectors = np.stack([np.frombuffer(saved[s.item.id][1], dtype=np.float32) for s in reusable])
                await build.add(reusable, vectors)
            for start in range(0, len(missing), BATCH):
                batch = missing[start : start + BATCH]
                vectors = (await embed([s.item.text for s in batch])).astype(np.float32)
                await build.add(batch, vectors)
                made = [(s.item.id, s.content_hash, v.tobytes()) for s, v in zip(batch, vectors, strict=True)]
                await rows.store_embeddings(self.database, collection.name, stored_as, made)
            index = build.result()
            if index is not None:
                self._ready[(collection.name, model)] = (collection.version, index)
        except Exception as exc:  # a provider or database failure: another build after RETRY_AFTER_S
            self._retry_at[(collection.name, model)] = time.monotonic() + RETRY_AFTER_S
            log.warning(
                "provider embeddings of a collection could not be built",
                extra={"collection": collection.name, "error": type(exc).__name__},
            )
