"""In-memory search indexes of the catalog, one per collection, rebuilt when the collection changes.

The control-plane sync keeps every collection's version (`ControlState.catalog_versions`); a search
compares it with the version its index was built from, so a change made on any replica reaches
this one within a poll interval (at once with Redis or PostgreSQL notifications). Building reads
the collection once and runs in a worker thread: the event loop keeps serving meanwhile, and
concurrent searches of a stale collection wait for one rebuild, not one each. The build belongs to
the collection, not to the search that started it: a search that gives up (its deadline, its
client gone) leaves it running for the next one, so giving up never starts a build again. A build
that a newer version supersedes, or that `close` ends, stops between items (`fallbacks.cancellation`).

The fuzzy index is ready when `get` returns. Local embeddings follow in the background: stored ones
are reused when their text has not changed, missing ones are computed in batches in a worker thread
and written back, so a restart does not compute them again; until then the local path says
`index_building`. A newer version of the collection stops the older one's embedding between batches.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aigw.catalog.item import Item
from aigw.fallbacks import local_embeddings
from aigw.fallbacks.cancellation import Cancellation
from aigw.fallbacks.fuzzy import FuzzyIndex
from aigw.fallbacks.vector_index import VectorIndex
from aigw.store import catalog as rows
from aigw.store.database import Database
from aigw.tasks.vector_store import InProcessVectors, VectorBuild, VectorSearch

log = logging.getLogger("aigw.tasks")
_EMBED_BATCH = 256


@dataclass(slots=True)
class LoadedCollection:
    name: str
    version: int
    items: dict[str, Item]
    fuzzy: FuzzyIndex
    local: VectorSearch | None = None  # local embeddings of every item, when the model is installed
    settings: dict[str, object] = field(default_factory=dict)


class CollectionNotFound(LookupError):
    pass


@dataclass(slots=True)
class _Work:
    """Background work for one version of a collection, and how to stop its thread."""

    version: int
    task: asyncio.Task[Any]
    cancellation: Cancellation

    def stop(self) -> None:
        self.cancellation.cancel()
        self.task.cancel()


class CatalogIndexes:
    def __init__(
        self, database: Database, versions: Callable[[], dict[str, int]], shared: Callable[[], bool] = lambda: False
    ) -> None:
        self.database = database
        self._shared = shared  # vectors in pgvector, shared by the replicas (see tasks.vector_store)
        self._versions = versions
        self._loaded: dict[str, LoadedCollection] = {}
        self._builds: dict[str, _Work] = {}  # the index build under way, per collection
        self._fills: dict[str, _Work] = {}  # the local embeddings under way, per collection

    async def get(self, name: str) -> LoadedCollection:
        """The collection's index, rebuilt first if the collection changed; CollectionNotFound if there is none."""
        wanted = self._versions().get(name)
        if wanted is None:
            self._loaded.pop(name, None)
            raise CollectionNotFound(name)
        current = self._loaded.get(name)
        if current is not None and current.version == wanted:
            return current
        build = self._builds.get(name)
        if build is None or build.version != wanted:
            if build is not None:
                build.stop()  # an older version: nobody wants it any more
            cancellation = Cancellation()
            build = _Work(wanted, asyncio.create_task(self._build(name, wanted, cancellation)), cancellation)
            build.task.add_done_callback(_retrieved)  # a failure all its waiters gave up on is not logged as lost
            self._builds[name] = build
        return await asyncio.shield(build.task)  # a waiter that gives up leaves the build to the next

    async def _build(self, name: str, version: int, cancellation: Cancellation) -> LoadedCollection:
        try:
            found = await rows.get_collection(self.database, name)
            stored = await rows.load_items(self.database, name)
            settings = dict(found["settings"]) if found else {}
            weights = settings.get("field_weights")
            synonyms = settings.get("synonyms")
            fuzzy = await asyncio.to_thread(
                FuzzyIndex,
                [s.item for s in stored],
                synonyms=synonyms if isinstance(synonyms, dict) else None,
                field_weights=weights if isinstance(weights, dict) else None,
                cancel=cancellation,
            )
        finally:
            if self._builds.get(name) is not None and self._builds[name].cancellation is cancellation:
                del self._builds[name]
        log.info("catalog index built", extra={"collection": name, "items": len(stored), "version": version})
        loaded = LoadedCollection(name, version, {s.item.id: s.item for s in stored}, fuzzy, None, settings)
        self._loaded[name] = loaded
        if local_embeddings.available():
            self._fill(loaded, stored)
        return loaded

    def _fill(self, loaded: LoadedCollection, stored: list[rows.StoredItem]) -> None:
        earlier = self._fills.pop(loaded.name, None)
        if earlier is not None:
            earlier.stop()  # the embeddings of an older version would only be thrown away
        cancellation = Cancellation()
        task = asyncio.create_task(self._fill_local(loaded, stored, cancellation))
        self._fills[loaded.name] = _Work(loaded.version, task, cancellation)

    async def close(self) -> None:
        works = [*self._builds.values(), *self._fills.values()]
        for work in works:
            work.stop()
        await asyncio.gather(*(work.task for work in works), return_exceptions=True)

    async def _fill_local(
        self, loaded: LoadedCollection, stored: list[rows.StoredItem], cancellation: Cancellation
    ) -> None:
        """Local embeddings of every item, in the background: the local path is `index_building` meanwhile."""
        try:
            embedder = await asyncio.to_thread(local_embeddings.get_embedder)
            if embedder is not None:
                loaded.local = await self._local_vectors(loaded.name, stored, embedder, cancellation)
        except Exception as exc:  # the model failed or the database is away: the fuzzy path still serves
            log.warning(
                "local embeddings of a collection failed",
                extra={"collection": loaded.name, "error": type(exc).__name__},
            )

    async def _local_vectors(
        self,
        name: str,
        stored: list[rows.StoredItem],
        embedder: local_embeddings.LocalEmbedder,
        cancellation: Cancellation,
    ) -> VectorSearch | None:
        model = embedder.name
        build = VectorBuild(self.database, name, model, shared=self._shared(), dimensions=embedder.dimensions)
        needed = await build.needed(stored)
        saved = await rows.load_embeddings(self.database, name, model) if needed else {}
        reusable = [s for s in needed if saved.get(s.item.id, ("",))[0] == s.content_hash]
        for start in range(0, len(reusable), _EMBED_BATCH * 8):
            batch = reusable[start : start + _EMBED_BATCH * 8]
            await build.add(batch, np.stack([np.frombuffer(saved[s.item.id][1], dtype=np.float32) for s in batch]))
        missing = [s for s in needed if saved.get(s.item.id, ("",))[0] != s.content_hash]
        for start in range(0, len(missing), _EMBED_BATCH):
            batch = missing[start : start + _EMBED_BATCH]
            texts = [s.item.text for s in batch]
            vectors = (await asyncio.to_thread(embedder.embed, texts, cancel=cancellation)).astype(np.float32)
            await build.add(batch, vectors)
            made = [(s.item.id, s.content_hash, v.tobytes()) for s, v in zip(batch, vectors, strict=True)]
            await rows.store_embeddings(self.database, name, model, made)
        return build.result() or (InProcessVectors(VectorIndex(embedder.dimensions)) if not build.shared else None)


def _retrieved(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()
