"""`semantic_search`: the best path that answers within the task's deadline, and why others did not.

    provider   the query embedded by the provider (through the orchestrator: keys, budgets, PII,
               circuit breaker) and searched among the items' provider embeddings
    local_embeddings   the query embedded on this machine (optional extra) and searched the same way
    fuzzy      RapidFuzz over the items' text and weighted fields, with synonyms: always there

The order follows `AI_FALLBACK_ORDER` (a provider name, or `local` for the local paths; providers
come first when it names none) and `AI_FALLBACK_ENABLED` (off: the provider path only, its failure
is the answer). A path is skipped with a reason: `flag_off`, `circuit_open`, `timeout`, `budget`,
`rate_limited`, `provider_error`, `index_building`, `not_installed`, `deadline`, `no_provider` (only
the `stub` serves the model: its vectors mean nothing). The provider path
gets the deadline less what the local paths need, so a fallback still answers in time.

The local paths' CPU work runs on the bounded `TaskWorkers` threads, and stops when the deadline
passes (`fallbacks.cancellation`): a search that ran out of time does not keep a core busy.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aigw.catalog.item import Hit
from aigw.errors import GatewayError
from aigw.fallbacks import local_embeddings
from aigw.fallbacks.cancellation import Cancellation
from aigw.observability.tracing import Trace
from aigw.orchestrator import Orchestrator
from aigw.policy.caller import Caller
from aigw.tasks.catalog_index import CatalogIndexes, LoadedCollection
from aigw.tasks.chain import PathSkipped, run_chain
from aigw.tasks.llm_step import skip_reason
from aigw.tasks.provider_vectors import ProviderVectors
from aigw.tasks.recommend import by_vectors, by_words
from aigw.tasks.requests import RecommendRequest, SearchRequest
from aigw.tasks.vector_store import VectorSearch
from aigw.tasks.workers import TaskWorkers
from aigw.types import AIResponse, CallInfo, EmbeddingRequest, TaskKind

# Embedding a whole catalog is the gateway's work, not the searching key's: it counts against the
# global budgets only, never a key's rate limits or budgets.
INDEXER = Caller("system:catalog-index", is_admin=True)
PATHS = ("provider", "local_embeddings", "fuzzy")


ALTERNATIVE_WEIGHT = 0.9  # a match on an alternative wording counts a little less than on the query


class ItemsNotFound(LookupError):
    pass


@dataclass(slots=True)
class SearchOutcome:
    hits: list[Hit]
    served_by: str
    fallbacks: list[dict[str, str]]
    collection: LoadedCollection
    reasons: dict[str, str] = field(default_factory=dict)  # item id -> why the LLM ranked or recommended it
    details: dict[str, Any] = field(default_factory=dict)  # more of the answer (an intent, a rerank's outcome)


class CatalogTasks:
    def __init__(
        self,
        indexes: CatalogIndexes,
        provider_vectors: ProviderVectors,
        orchestrator: Orchestrator,
        *,
        embedding_model: Callable[[], str],
        order: Callable[[], Sequence[str]],
        fallback_enabled: bool = True,
        deadline_s: float = 2.0,
        workers: TaskWorkers | None = None,
    ) -> None:
        self.indexes = indexes
        self.workers = workers or TaskWorkers()
        self.provider_vectors = provider_vectors
        self.orchestrator = orchestrator
        self._embedding_model = embedding_model
        self._order = order
        self.fallback_enabled = fallback_enabled
        self.deadline_s = deadline_s

    def paths(self) -> list[str]:
        """The paths in the configured order: `local` stands for local_embeddings then fuzzy."""
        names = list(self._order())
        local_at = names.index("local") if "local" in names else len(names)
        providers_first = local_at > 0 or not names
        order = (
            ["provider", "local_embeddings", "fuzzy"] if providers_first else ["local_embeddings", "fuzzy", "provider"]
        )
        return order if self.fallback_enabled else ["provider"]

    async def recommend(self, request: RecommendRequest, caller: Caller, trace: Trace) -> SearchOutcome:
        """Items like `request.item_ids` (see `tasks.recommend`); CollectionNotFound, or ItemsNotFound
        when the collection has none of the given items."""
        collection = await self.indexes.get(request.collection)
        if not any(i in collection.items for i in request.item_ids):
            raise ItemsNotFound(request.item_ids)

        async def attempt(path: str) -> list[Hit]:
            if path == "fuzzy":
                return await self.workers.run(lambda cancel: by_words(collection, request, cancel))
            if path == "local_embeddings":
                if not local_embeddings.available():
                    raise PathSkipped("not_installed")
                if collection.local is None:
                    raise PathSkipped("index_building")
                return await by_vectors(collection.local, request)
            return await by_vectors(self._provider_index(collection, trace), request)

        result = await run_chain(
            self.paths(),
            attempt,
            deadline_s=self.deadline_s,
            trace=trace,
            task="recommendations",
            fallback_enabled=self.fallback_enabled,
        )
        return SearchOutcome(result.hits, result.served_by, result.fallbacks, collection)

    def _provider_index(self, collection: LoadedCollection, trace: Trace) -> VectorSearch:
        """The collection's provider embeddings, or PathSkipped while they cannot be had."""
        if not self.orchestrator.enabled:
            raise PathSkipped("flag_off")
        model = self._embedding_model()
        if not self.orchestrator.serves_meaningfully(model, TaskKind.EMBEDDINGS):
            raise PathSkipped("no_provider")  # only the stub serves it: its vectors would mean nothing

        async def embed_items(texts: Sequence[str]) -> np.ndarray:
            return await self._embed(model, texts, INDEXER, Trace(trace.request_id + "-index"))

        index = self.provider_vectors.index(collection, model, embed_items)
        if index is None:
            raise PathSkipped("index_building")
        return index

    async def semantic_search(
        self, request: SearchRequest, caller: Caller, trace: Trace, *, deadline_s: float | None = None
    ) -> SearchOutcome:
        collection = await self.indexes.get(request.collection)
        return await self.search_loaded(collection, request, caller, trace, deadline_s=deadline_s)

    async def search_loaded(
        self,
        collection: LoadedCollection,
        request: SearchRequest,
        caller: Caller,
        trace: Trace,
        *,
        deadline_s: float | None = None,
    ) -> SearchOutcome:
        async def attempt(path: str) -> list[Hit]:
            return await self._search(path, collection, request, caller, trace)

        result = await run_chain(
            self.paths(),
            attempt,
            deadline_s=self.deadline_s if deadline_s is None else deadline_s,
            trace=trace,
            task="search",
            fallback_enabled=self.fallback_enabled,
        )
        return SearchOutcome(result.hits, result.served_by, result.fallbacks, collection)

    async def _search(
        self, path: str, collection: LoadedCollection, request: SearchRequest, caller: Caller, trace: Trace
    ) -> list[Hit]:
        if path == "fuzzy":
            return await self.workers.run(lambda cancel: _fuzzy_search(collection, request, cancel))
        if path == "local_embeddings":
            if not local_embeddings.available():
                raise PathSkipped("not_installed")
            if collection.local is None:  # before the embedder: loading it is the index build's work
                raise PathSkipped("index_building")
            embedder = local_embeddings.get_embedder()
            if embedder is None:
                raise PathSkipped("index_building")
            vector = (await self.workers.run(lambda cancel: embedder.embed([request.expanded], cancel=cancel)))[0]
            return await collection.local.search(vector, request.k, request.filters)
        return await self._provider(collection, request, caller, trace)

    async def _provider(
        self, collection: LoadedCollection, request: SearchRequest, caller: Caller, trace: Trace
    ) -> list[Hit]:
        if not self.orchestrator.enabled:
            raise PathSkipped("flag_off")  # before any work: no query embedding, no index build
        model = self._embedding_model()
        if not self.orchestrator.serves_meaningfully(model, TaskKind.EMBEDDINGS):
            raise PathSkipped("no_provider")
        try:
            vector = (await self._embed(model, [request.expanded], caller, trace))[0]
        except GatewayError as error:
            raise PathSkipped(skip_reason(error)) from None

        index = self._provider_index(collection, trace)  # the provider answered: build its index if needed
        return await index.search(vector, request.k, request.filters)

    async def _embed(self, model: str, texts: Sequence[str], caller: Caller, trace: Trace) -> np.ndarray:
        answer: AIResponse = await self.orchestrator.embeddings(
            EmbeddingRequest(model=model, input=list(texts)), caller, trace, CallInfo(), within_task=True
        )
        data = sorted(answer.body.get("data") or [], key=lambda d: d.get("index", 0))
        if len(data) != len(texts):
            raise PathSkipped("provider_error")
        return np.asarray([d["embedding"] for d in data], dtype=np.float32)


def _fuzzy_search(collection: LoadedCollection, request: SearchRequest, cancel: Cancellation) -> list[Hit]:
    """The query's hits; with alternatives, each item keeps its best score over every wording."""
    fuzzy = collection.fuzzy
    best = {hit.id: hit.score for hit in fuzzy.search(request.query, request.k, request.filters, cancel=cancel)}
    for wording in request.alternatives:
        for hit in fuzzy.search(wording, request.k, request.filters, cancel=cancel):
            best[hit.id] = max(best.get(hit.id, 0.0), hit.score * ALTERNATIVE_WEIGHT)
    ranked = sorted(best.items(), key=lambda pair: (-pair[1], pair[0]))[: request.k]
    return [Hit(item_id, score) for item_id, score in ranked]


def task_answer(task: str, outcome: SearchOutcome, started: float) -> dict[str, Any]:
    """A task's JSON answer (HTTP and Python API alike); `started` is its `time.perf_counter()` start."""
    items = outcome.collection.items
    results = []
    for hit in outcome.hits:
        item = items.get(hit.id)
        if item is None:
            continue
        result = {"id": hit.id, "score": round(hit.score, 6), "text": item.text, "metadata": item.metadata}
        if hit.id in outcome.reasons:
            result["reason"] = outcome.reasons[hit.id]
        results.append(result)
    return {
        "object": "task.result",
        "task": task,
        "collection": outcome.collection.name,
        "results": results,
        "served_by": outcome.served_by,
        "fallbacks": outcome.fallbacks,
        **outcome.details,
        "took_ms": round((time.perf_counter() - started) * 1000, 2),
    }
