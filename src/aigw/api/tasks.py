"""Task entrypoints over HTTP (any valid key).

    POST /v1/tasks/semantic_search   {"collection", "query", "k": 10, "filters": {...}}
    POST /v1/tasks/intelligent_search {"collection", "query", "k": 10, "filters": {...}, "rerank": false,
                                     "locale": "en"}: the LLM turns the query into an intent (search text,
                                     filters, synonyms) first, and reranks on request (see tasks.assisted)
    POST /v1/tasks/recommendations   {"collection", "item_ids": [...], "k": 10, "filters": {...}, "diversity": 0.3,
                                     "explain": false}: items like the given ones (an item, or a user's
                                     history), never those; `explain` adds the LLM's reason to each

The answer says which path served it and why the paths before it did not:
    {"object": "task.result", "task": "semantic_search", "collection", "results": [{"id", "score",
     "text", "metadata"}], "served_by": "provider" | "local_embeddings" | "fuzzy",
     "fallbacks": [{"path", "reason"}], "took_ms"}
intelligent_search adds `intent` ({"search_text", "filters", "synonyms", "source": "llm" | "query",
"reason"}) and, with rerank, `rerank` ({"applied", "reason"}); results the LLM ranked or explained
carry a `reason`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from aigw.api.deps import CallerDep, GatewayDep
from aigw.api.gateway_route import GatewayRoute
from aigw.api.middleware import request_state
from aigw.cache import CacheControl
from aigw.catalog.filters import check_filters
from aigw.gateway import Gateway
from aigw.policy.caller import Caller
from aigw.tasks.requests import IntelligentRequest, RecommendRequest, SearchRequest, TaskRequest

router = APIRouter(prefix="/v1/tasks", tags=["tasks"], route_class=GatewayRoute)
MAX_K = 100
LOCALE = r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$"  # a BCP 47 language tag


class SearchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    collection: str = Field(min_length=1, max_length=100)
    query: str = Field(min_length=1, max_length=4000)
    k: int = Field(10, ge=1, le=MAX_K)
    filters: dict[str, Any] | None = None


@router.post("/semantic_search")
async def semantic_search(
    body: SearchBody, request: Request, response: Response, gateway: GatewayDep, caller: CallerDep
) -> dict[str, Any]:
    search = SearchRequest(body.collection, body.query, body.k, check_filters(body.filters))
    return await _answer(gateway, "semantic_search", search, caller, request, response)


class IntelligentBody(SearchBody):
    rerank: bool = False
    locale: str = Field("en", min_length=2, max_length=35, pattern=LOCALE)


@router.post("/intelligent_search")
async def intelligent_search(
    body: IntelligentBody, request: Request, response: Response, gateway: GatewayDep, caller: CallerDep
) -> dict[str, Any]:
    wanted = IntelligentRequest(
        body.collection, body.query, body.k, check_filters(body.filters), body.rerank, body.locale
    )
    return await _answer(gateway, "intelligent_search", wanted, caller, request, response)


class RecommendBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    collection: str = Field(min_length=1, max_length=100)
    item_ids: list[str] = Field(min_length=1, max_length=100)
    k: int = Field(10, ge=1, le=MAX_K)
    filters: dict[str, Any] | None = None
    diversity: float = Field(0.3, ge=0, le=1)
    explain: bool = False
    locale: str = Field("en", min_length=2, max_length=35, pattern=LOCALE)


@router.post("/recommendations")
async def recommendations(
    body: RecommendBody, request: Request, response: Response, gateway: GatewayDep, caller: CallerDep
) -> dict[str, Any]:
    wanted = RecommendRequest(
        body.collection,
        tuple(body.item_ids),
        body.k,
        check_filters(body.filters),
        body.diversity,
        body.explain,
        body.locale,
    )
    return await _answer(gateway, "recommendations", wanted, caller, request, response)


async def _answer(
    gateway: Gateway, task: str, wanted: TaskRequest, caller: Caller, request: Request, response: Response
) -> dict[str, Any]:
    """The task's JSON answer; headers say the path that served it and whether the cache did."""
    state = request_state(request.scope)
    cache = CacheControl.from_header(request.headers.get("cache-control"))
    answer = await gateway.run_task(task, wanted, caller, state.trace, cache)
    response.headers.update(answer.headers)
    return answer.body
