"""Task entrypoints over HTTP (any valid key).

    POST /v1/tasks/semantic_search   {"collection", "query", "k": 10, "filters": {...}}
    POST /v1/tasks/recommendations   {"collection", "item_ids": [...], "k": 10, "filters": {...}, "diversity": 0.3}
                                     items like the given ones (an item, or a user's history), never those

The answer says which path served it and why the paths before it did not:
    {"object": "task.result", "task": "semantic_search", "collection", "results": [{"id", "score",
     "text", "metadata"}], "served_by": "provider" | "local_embeddings" | "fuzzy",
     "fallbacks": [{"path", "reason"}], "took_ms"}
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from aigw.api.deps import CallerDep, GatewayDep
from aigw.api.middleware import request_state
from aigw.catalog.filters import check_filters
from aigw.errors import NotFoundError
from aigw.tasks.catalog_index import CollectionNotFound
from aigw.tasks.recommend import RecommendRequest
from aigw.tasks.search import ItemsNotFound, SearchRequest, task_answer

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])
MAX_K = 100


class SearchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    collection: str = Field(min_length=1, max_length=100)
    query: str = Field(min_length=1, max_length=4000)
    k: int = Field(10, ge=1, le=MAX_K)
    filters: dict[str, Any] | None = None


@router.post("/semantic_search")
async def semantic_search(
    body: SearchBody,
    request: Request,
    response: Response,
    gateway: GatewayDep,
    caller: CallerDep,
) -> dict[str, Any]:
    started = time.perf_counter()
    search = SearchRequest(body.collection, body.query, body.k, check_filters(body.filters))
    state = request_state(request.scope)
    try:
        outcome = await gateway.tasks.semantic_search(search, caller, state.trace)
    except CollectionNotFound:
        raise NotFoundError(f"No collection named {body.collection!r}", code="collection_not_found") from None
    state.trace.attrs["served_by"] = outcome.served_by
    response.headers["x-aigw-served-by"] = outcome.served_by
    return task_answer("semantic_search", outcome, started)


class RecommendBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    collection: str = Field(min_length=1, max_length=100)
    item_ids: list[str] = Field(min_length=1, max_length=100)
    k: int = Field(10, ge=1, le=MAX_K)
    filters: dict[str, Any] | None = None
    diversity: float = Field(0.3, ge=0, le=1)


@router.post("/recommendations")
async def recommendations(
    body: RecommendBody, request: Request, response: Response, gateway: GatewayDep, caller: CallerDep
) -> dict[str, Any]:
    started = time.perf_counter()
    wanted = RecommendRequest(
        body.collection, tuple(body.item_ids), body.k, check_filters(body.filters), body.diversity
    )
    state = request_state(request.scope)
    try:
        outcome = await gateway.tasks.recommend(wanted, caller, state.trace)
    except CollectionNotFound:
        raise NotFoundError(f"No collection named {body.collection!r}", code="collection_not_found") from None
    except ItemsNotFound:
        raise NotFoundError(
            f"None of the given items is in collection {body.collection!r}", code="item_not_found", param="item_ids"
        ) from None
    state.trace.attrs["served_by"] = outcome.served_by
    response.headers["x-aigw-served-by"] = outcome.served_by
    return task_answer("recommendations", outcome, started)
