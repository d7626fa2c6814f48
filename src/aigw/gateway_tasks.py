"""The catalog tasks of one gateway process (search, recommendations, their indexes and caches).

Built by `Gateway` on the first task call, collection change or warm-up of a stored collection, so
a process that serves only chat and embeddings never imports NumPy, RapidFuzz or the search code.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from aigw.cache import CacheControl, ResponseCache
from aigw.errors import NotFoundError
from aigw.fallbacks import local_embeddings
from aigw.observability.tracing import Trace
from aigw.orchestrator import Orchestrator
from aigw.policy.caller import Caller
from aigw.settings import Settings
from aigw.store import catalog as catalog_rows
from aigw.store.database import Database
from aigw.tasks.assisted import AssistedTasks
from aigw.tasks.cached import TaskAnswer, TaskCache
from aigw.tasks.catalog_index import CatalogIndexes, CollectionNotFound
from aigw.tasks.provider_vectors import ProviderVectors
from aigw.tasks.requests import IntelligentRequest, SearchRequest, TaskRequest
from aigw.tasks.search import CatalogTasks, ItemsNotFound, SearchOutcome

log = logging.getLogger("aigw")
_WARM_VECTORS_BOUND_S = 60.0  # reading stored vectors takes about a second; a failed read must not hold the start


class TaskServices:
    """The indexes, the search chains and the task answer cache, wired to the gateway's parts."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        orchestrator: Orchestrator,
        cache: ResponseCache,
        catalog_versions: Callable[[], dict[str, int]],
        fallback_order: Callable[[], Sequence[str]],
        pgvector: Callable[[], bool],
    ) -> None:
        self.database = database
        self.catalog = CatalogIndexes(database, catalog_versions, pgvector)
        self.provider_vectors = ProviderVectors(database, pgvector)
        self.tasks = CatalogTasks(
            self.catalog,
            self.provider_vectors,
            orchestrator,
            embedding_model=lambda: settings.embedding_model,
            order=fallback_order,
            fallback_enabled=settings.fallback_enabled,
            deadline_s=settings.task_deadline,
        )
        self.task_cache = TaskCache(cache, catalog_versions)
        self.assisted = AssistedTasks(
            self.tasks, chat_model=lambda: settings.openai_model, deadline_s=settings.task_llm_deadline
        )

    async def answer(
        self, task: str, request: TaskRequest, caller: Caller, trace: Trace, cache: CacheControl
    ) -> TaskAnswer:
        """One task call through the answer cache; 404 for a missing collection or none of the given items."""

        def work() -> Awaitable[SearchOutcome]:
            if isinstance(request, SearchRequest):
                return self.tasks.semantic_search(request, caller, trace)
            if isinstance(request, IntelligentRequest):
                return self.assisted.intelligent_search(request, caller, trace)
            if request.explain:
                return self.assisted.explained_recommendations(request, caller, trace)
            return self.tasks.recommend(request, caller, trace)

        try:
            return await self.task_cache.answer(task, request, work, read=cache.read, write=cache.write)
        except CollectionNotFound:
            raise NotFoundError(f"No collection named {request.collection!r}", code="collection_not_found") from None
        except ItemsNotFound:
            raise NotFoundError(
                f"None of the given items is in collection {request.collection!r}",
                code="item_not_found",
                param="item_ids",
            ) from None

    async def warm(self, names: list[str]) -> None:
        """Build every named collection's index before serving. Where every item's local embedding is
        stored (`aigw collections load` stores them), wait for the local vectors as well (the time it
        takes to read them), so the first search is answered by them and not by fuzzy matches; vectors
        that must still be computed are made in the background, without delaying the start."""
        model = local_embeddings.MODEL_NAME if local_embeddings.available() else None
        for name in names:
            try:
                loaded = await self.catalog.get(name)
                if model is None or await catalog_rows.items_without_embedding(self.database, name, model):
                    continue
                async with asyncio.timeout(_WARM_VECTORS_BOUND_S):
                    while loaded.local is None:
                        await asyncio.sleep(0.05)
            except Exception as exc:  # a collection that cannot be warmed is built at its first search
                log.warning(
                    "catalog not warmed before serving", extra={"collection": name, "error": type(exc).__name__}
                )

    async def close(self) -> None:
        await self.provider_vectors.close()
        await self.catalog.close()
        self.tasks.workers.close()
