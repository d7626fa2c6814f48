"""Tasks the LLM improves but never holds hostage: `intelligent_search` and explained recommendations.

    intelligent_search   query -> intent (LLM: search text, filters, synonyms; else the query as is)
                         -> search (the semantic_search chain, with the intent's filters and synonyms;
                            inferred filters that match nothing are relaxed)
                         -> rerank (optional, LLM; else the search's order)
    recommendations      the recommendations chain -> explanations (optional, LLM; else none)

Every LLM step runs within what is left of the task's deadline (`AI_TASK_LLM_DEADLINE`) and keeps a
share of it for the steps after it, so the answer always comes in time: a step that fails or runs
out of time is skipped, and the answer says which and why (`intent.reason`, `rerank.reason`,
`explanations.reason`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from aigw.catalog.fields import FieldSpec, field_specs
from aigw.observability.tracing import Trace
from aigw.policy.caller import Caller
from aigw.tasks.catalog_index import LoadedCollection
from aigw.tasks.intent import INTENT_SCHEMA, INTENT_TEMPLATE, Intent, intent_from_answer, intent_variables
from aigw.tasks.llm_ranking import EXPLAIN, RERANK, explanations, reranked, shown
from aigw.tasks.llm_step import JsonStep, StepFailed, ask_json
from aigw.tasks.requests import IntelligentRequest, RecommendRequest, SearchRequest
from aigw.tasks.search import CatalogTasks, SearchOutcome

INTENT = JsonStep(INTENT_TEMPLATE, INTENT_SCHEMA, max_tokens=400)
INTENT_SHARE = 0.5  # of the deadline the intent step may take (the search and a rerank need the rest)
RERANK_RESERVE_S = 0.05  # kept after a rerank to build the answer


class AssistedTasks:
    def __init__(
        self,
        tasks: CatalogTasks,
        *,
        chat_model: Callable[[], str],
        deadline_s: float = 8.0,
    ) -> None:
        self.tasks = tasks
        self._chat_model = chat_model
        self.deadline_s = deadline_s
        self._specs: dict[str, tuple[int, dict[str, FieldSpec]]] = {}

    async def intelligent_search(self, request: IntelligentRequest, caller: Caller, trace: Trace) -> SearchOutcome:
        started = time.monotonic()
        collection = await self.tasks.indexes.get(request.collection)
        specs = await self._field_specs(collection)
        search_budget = min(self.tasks.deadline_s, self.deadline_s / 2)
        with trace.span("intelligent_search.intent") as span:
            intent = await self._intent(request, specs, caller, trace, self.deadline_s * INTENT_SHARE)
            span.set(source=intent.source)
            if intent.reason:
                span.fail(intent.reason)
        filters = {**intent.filters, **request.filters}  # the caller's own filters win
        search = SearchRequest(request.collection, intent.search_text, request.k, filters, tuple(intent.synonyms))
        if request.rerank:
            search = SearchRequest(search.collection, search.query, max(request.k, 20), filters, search.alternatives)
        remaining = self.deadline_s - (time.monotonic() - started)
        outcome = await self.tasks.search_loaded(
            collection, search, caller, trace, deadline_s=min(search_budget, remaining)
        )
        if not outcome.hits and intent.filters:  # what the model inferred matches nothing: search without it
            relaxed = SearchRequest(
                search.collection, search.query, search.k, dict(request.filters), search.alternatives
            )
            remaining = self.deadline_s - (time.monotonic() - started)
            outcome = await self.tasks.search_loaded(
                collection, relaxed, caller, trace, deadline_s=min(search_budget, max(remaining, 0.01))
            )
            intent.filters, intent.reason = {}, "filters_relaxed"
        outcome.details["intent"] = intent.to_json()
        if request.rerank:
            await self._rerank(outcome, request, caller, trace, self.deadline_s - (time.monotonic() - started))
        outcome.hits = outcome.hits[: request.k]
        return outcome

    async def explained_recommendations(self, request: RecommendRequest, caller: Caller, trace: Trace) -> SearchOutcome:
        started = time.monotonic()
        outcome = await self.tasks.recommend(request, caller, trace)
        items = outcome.collection.items
        liked = [{"id": i, "text": items[i].text[:400]} for i in request.item_ids if i in items]
        timeout = self.deadline_s - (time.monotonic() - started) - RERANK_RESERVE_S
        with trace.span("recommendations.explain") as span:
            try:
                answer = await ask_json(
                    self.tasks.orchestrator,
                    EXPLAIN,
                    {"liked": liked[:10], "items": shown(outcome.hits, items), "locale": request.locale},
                    model=self._chat_model(),
                    caller=caller,
                    trace=trace,
                    timeout_s=timeout,
                )
                outcome.reasons = explanations(outcome.hits, answer) if outcome.hits else {}
                outcome.details["explanations"] = {"applied": True}
            except StepFailed as failed:
                span.fail(failed.reason)
                outcome.details["explanations"] = {"applied": False, "reason": failed.reason}
        return outcome

    async def _intent(
        self, request: IntelligentRequest, specs: Mapping[str, FieldSpec], caller: Caller, trace: Trace, timeout: float
    ) -> Intent:
        try:
            answer = await ask_json(
                self.tasks.orchestrator,
                INTENT,
                intent_variables(request.query, specs, request.locale),
                model=self._chat_model(),
                caller=caller,
                trace=trace,
                timeout_s=timeout,
            )
        except StepFailed as failed:
            return Intent(request.query, reason=failed.reason)
        return intent_from_answer(answer, request.query, specs)

    async def _rerank(
        self, outcome: SearchOutcome, request: IntelligentRequest, caller: Caller, trace: Trace, left_s: float
    ) -> None:
        if not outcome.hits:
            outcome.details["rerank"] = {"applied": False, "reason": "no_results"}
            return
        items = outcome.collection.items
        candidates = shown(outcome.hits, items)
        with trace.span("intelligent_search.rerank", candidates=len(candidates)) as span:
            try:
                answer = await ask_json(
                    self.tasks.orchestrator,
                    RERANK,
                    {"query": request.query, "items": candidates, "top_k": len(candidates), "locale": request.locale},
                    model=self._chat_model(),
                    caller=caller,
                    trace=trace,
                    timeout_s=left_s - RERANK_RESERVE_S,
                )
                outcome.hits, outcome.reasons = reranked(outcome.hits, answer, request.k)
                outcome.details["rerank"] = {"applied": True}
            except StepFailed as failed:
                span.fail(failed.reason)
                outcome.details["rerank"] = {"applied": False, "reason": failed.reason}

    async def _field_specs(self, collection: LoadedCollection) -> dict[str, FieldSpec]:
        """The collection's filterable fields, worked out once per version of it (off the event loop)."""
        cached = self._specs.get(collection.name)
        if cached is not None and cached[0] == collection.version:
            return cached[1]
        declared = collection.settings.get("filters")
        items = list(collection.items.values())
        declared_specs = declared if isinstance(declared, Mapping) else None
        specs = await self.tasks.workers.run(lambda _: field_specs(items, declared_specs))
        self._specs[collection.name] = (collection.version, specs)
        return specs
