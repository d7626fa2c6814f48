"""Task calls over real HTTP are rate-limited like any call: once per task call, before any work (a
cached answer too), whether or not a provider is called; the task's own LLM steps are not counted
against the caller's request limits again."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import MASTER_KEY, UPSTREAM_KEY, GatewayFactory
from tests.support.helpers import ADMIN, wait_until
from tests.support.scripted_upstream import Answer, ScriptedUpstream

pytestmark = pytest.mark.integration

ITEMS = [
    {"id": "p1", "text": "Leather sofa with three seats", "metadata": {"category": "furniture"}},
    {"id": "p2", "text": "Corner couch in grey fabric", "metadata": {"category": "furniture"}},
    {"id": "p3", "text": "Stainless steel kettle", "metadata": {"category": "kitchen"}},
]


@pytest.fixture
def scripted() -> Iterator[ScriptedUpstream]:
    upstream = ScriptedUpstream().start()
    yield upstream
    upstream.stop()


def start(scripted: ScriptedUpstream, factory: GatewayFactory) -> str:
    env = {
        "AI_MASTER_KEY": MASTER_KEY,
        "AI_OPENAI_API_KEY": UPSTREAM_KEY,
        "AI_OPENAI_BASE_URL": scripted.url,
        "AI_OPENAI_MAX_RETRIES": "0",
        "AI_FALLBACK_ORDER": "local",  # the local paths answer semantic search: no provider call
    }
    url = factory(env).url
    assert httpx.put(f"{url}/v1/collections/shop", json={}, headers=ADMIN).status_code == 201
    assert httpx.post(f"{url}/v1/collections/shop/items", json={"items": ITEMS}, headers=ADMIN).status_code == 200
    return url


def key(url: str, rpm: int) -> dict[str, str]:
    created = httpx.post(f"{url}/admin/api/keys", json={"rpm": rpm}, headers=ADMIN)
    assert created.status_code == 201, created.text
    return {"authorization": f"Bearer {created.json()['key']}"}


def task(url: str, name: str, body: dict[str, object], headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{url}/v1/tasks/{name}", json={"collection": "shop", **body}, headers=headers, timeout=15)


def test_local_task_calls_count_against_the_request_limit_cached_or_not(
    scripted: ScriptedUpstream, gateway_factory: GatewayFactory
) -> None:
    url = start(scripted, gateway_factory)
    fresh = {**ADMIN, "cache-control": "no-store"}  # the master key has no limits
    wait_until(lambda: not task(url, "semantic_search", {"query": "sofa"}, fresh).json()["fallbacks"], 60)
    limited = key(url, rpm=3)  # until its local embeddings are ready, an answer is a fallback's (not cached)
    first = task(url, "semantic_search", {"query": "sofa"}, limited)
    assert first.status_code == 200, first.text
    assert first.headers["x-ratelimit-limit-requests"] == "3"
    assert first.headers["x-ratelimit-remaining-requests"] == "2"
    assert task(url, "recommendations", {"item_ids": ["p1"]}, limited).status_code == 200
    again = task(url, "semantic_search", {"query": "sofa"}, limited)  # the same request: a cached answer
    assert again.status_code == 200 and again.headers["x-aigw-cache"] == "hit"
    refused = task(url, "semantic_search", {"query": "kettle"}, limited)
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["type"] == "rate_limit_error"
    assert int(refused.headers["retry-after"]) >= 1
    assert task(url, "semantic_search", {"query": "kettle"}, key(url, rpm=3)).status_code == 200  # per key
    assert scripted.bodies == []  # none of them called the provider


def test_a_tasks_llm_steps_do_not_use_up_the_callers_request_limit(
    scripted: ScriptedUpstream, gateway_factory: GatewayFactory
) -> None:
    url = start(scripted, gateway_factory)
    once = key(url, rpm=1)
    intent = {"search_text": "sofa", "filters": {}, "synonyms": ["couch"]}
    rerank = {"results": [{"id": "p2", "score": 0.9, "reason": "a couch"}, {"id": "p1", "score": 0.8}]}
    scripted.then(Answer(content=json.dumps(intent)), Answer(content=json.dumps(rerank)))
    answer = task(url, "intelligent_search", {"query": "a couch", "rerank": True}, once)
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["intent"]["source"] == "llm", found  # the intent step was not refused by rpm=1
    assert found["rerank"] == {"applied": True}, found
    assert len(scripted.bodies) == 2  # the intent and the rerank, both through the orchestrator
    assert task(url, "intelligent_search", {"query": "a couch"}, once).status_code == 429
