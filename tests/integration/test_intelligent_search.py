"""intelligent_search and explained recommendations over real HTTP, against an upstream whose chat
answers each test scripts: the LLM's intent (search text, filters, synonyms) drives the search, is
held to the collection's fields, and when the LLM fails or hangs the query itself still answers in
time, with the reason in the answer."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import MASTER_KEY, UPSTREAM_KEY, GatewayFactory
from tests.support.helpers import ADMIN
from tests.support.scripted_upstream import Answer, ScriptedUpstream

pytestmark = pytest.mark.integration

PRODUCTS = [
    ("p1", "Waterproof trail running shoes for men", {"category": "shoes", "price": 120}),
    ("p2", "Leather sofa with three seats", {"category": "furniture", "price": 900}),
    ("p3", "Stainless steel refrigerator, 300 litres", {"category": "kitchen", "price": 650}),
    ("p4", "Lightweight laptop with 16 GB memory", {"category": "computers", "price": 1100}),
    ("p5", "Corner couch in grey fabric", {"category": "furniture", "price": 1400}),
    ("p6", "Cotton t-shirt, organic, white", {"category": "clothing", "price": 25}),
]


@pytest.fixture
def scripted() -> Iterator[ScriptedUpstream]:
    upstream = ScriptedUpstream().start()
    yield upstream
    upstream.stop()


def gateway_url(scripted: ScriptedUpstream, factory: GatewayFactory, **extra: str) -> str:
    env = {
        "AI_MASTER_KEY": MASTER_KEY,
        "AI_OPENAI_API_KEY": UPSTREAM_KEY,
        "AI_OPENAI_BASE_URL": scripted.url,
        "AI_OPENAI_MAX_RETRIES": "0",
        **extra,
    }
    url = factory(env).url
    assert httpx.put(f"{url}/v1/collections/shop", json={}, headers=ADMIN).status_code == 201
    items = [{"id": i, "text": t, "metadata": m} for i, t, m in PRODUCTS]
    assert httpx.post(f"{url}/v1/collections/shop/items", json={"items": items}, headers=ADMIN).status_code == 200
    return url


def intelligent(url: str, query: str, **extra: object) -> httpx.Response:
    body = {"collection": "shop", "query": query, "k": 3, **extra}
    return httpx.post(f"{url}/v1/tasks/intelligent_search", json=body, headers=ADMIN, timeout=15)


def llm(document: object) -> Answer:
    return Answer(content=json.dumps(document))


def test_the_llm_intent_drives_the_search_within_the_collection_fields(
    scripted: ScriptedUpstream, gateway_factory: GatewayFactory
) -> None:
    url = gateway_url(scripted, gateway_factory)
    scripted.then(
        llm(
            {
                "search_text": "sofa",
                "filters": {"category": "Furniture", "price": {"lte": 1000}, "colour": "red", "size": {"gt": 3}},
                "synonyms": ["couch", "settee", "sofa"],
            }
        )
    )
    answer = intelligent(url, "a cheap red sofa under 1000 please")
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["task"] == "intelligent_search"
    intent = found["intent"]
    assert intent["source"] == "llm" and intent["search_text"] == "sofa"
    # unknown fields are dropped, a choice is spelled as stored, a synonym equal to the text is dropped
    assert intent["filters"] == {"category": "furniture", "price": {"lte": 1000}}
    assert intent["synonyms"] == ["couch", "settee"]
    assert [r["id"] for r in found["results"]] == ["p2"]  # p5 is a couch, but over the inferred price
    sent = scripted.bodies[0]
    assert sent["response_format"]["type"] == "json_schema" and sent["temperature"] == 0
    prompt = json.dumps(sent["messages"])
    assert "furniture" in prompt and "a cheap red sofa under 1000 please" in prompt  # the collection's fields


def test_the_callers_filters_win_over_inferred_ones_and_empty_inferred_filters_are_relaxed(
    scripted: ScriptedUpstream, gateway_factory: GatewayFactory
) -> None:
    url = gateway_url(scripted, gateway_factory)
    scripted.then(llm({"search_text": "couch", "filters": {"category": "kitchen"}, "synonyms": []}))
    found = intelligent(url, "couch", filters={"price": {"gte": 1000}}).json()
    assert found["intent"]["reason"] == "filters_relaxed" and found["intent"]["filters"] == {}
    assert [r["id"] for r in found["results"]] == ["p5"]  # the caller's price filter still holds


def test_an_llm_that_never_answers_in_the_schema_leaves_the_query_as_the_intent(
    scripted: ScriptedUpstream, gateway_factory: GatewayFactory
) -> None:
    url = gateway_url(scripted, gateway_factory)
    scripted.then(Answer(content="Sure! Here is your intent: sofa"), Answer(content='{"search_text": 3}'))
    found = intelligent(url, "refrigerator").json()
    assert found["intent"] == {
        "search_text": "refrigerator",
        "filters": {},
        "synonyms": [],
        "source": "query",
        "reason": "invalid_response",
    }
    assert found["results"][0]["id"] == "p3"
    assert len(scripted.bodies) == 2  # the answer, and one repair


def test_a_hanging_llm_costs_no_more_than_the_deadline(
    scripted: ScriptedUpstream, gateway_factory: GatewayFactory
) -> None:
    url = gateway_url(scripted, gateway_factory, AI_TASK_LLM_DEADLINE="1.5", AI_OPENAI_TIMEOUT="30")
    scripted.then(Answer(hang=True), Answer(hang=True))
    started = time.monotonic()
    answer = intelligent(url, "laptop", rerank=True)
    took = time.monotonic() - started
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["intent"]["reason"] == "timeout" and found["results"][0]["id"] == "p4"
    assert found["rerank"]["applied"] is False
    assert took < 2.0, f"answered after {took:.2f}s, deadline 1.5s"


def test_rerank_reorders_with_reasons_and_ignores_made_up_ids(
    scripted: ScriptedUpstream, gateway_factory: GatewayFactory
) -> None:
    url = gateway_url(scripted, gateway_factory)
    scripted.then(
        llm({"search_text": "sofa couch", "filters": {}, "synonyms": []}),
        llm(
            {
                "results": [
                    {"id": "nope", "score": 1.0, "reason": "made up"},
                    {"id": "p5", "score": 0.9, "reason": "A corner couch is a large sofa."},
                    {"id": "p2", "score": 0.7, "reason": "A three-seat leather sofa."},
                ]
            }
        ),
    )
    found = intelligent(url, "big sofa", rerank=True).json()
    assert found["rerank"] == {"applied": True}
    ids = [r["id"] for r in found["results"]]
    assert ids[:2] == ["p5", "p2"] and "nope" not in ids
    assert found["results"][0]["reason"] == "A corner couch is a large sofa."
    scores = [r["score"] for r in found["results"]]
    assert scores == sorted(scores, reverse=True)
    candidates = json.dumps(scripted.bodies[1]["messages"])
    assert "p2" in candidates and "Leather sofa" in candidates


def test_recommendations_can_be_explained_and_still_answer_without_the_llm(
    scripted: ScriptedUpstream, gateway_factory: GatewayFactory
) -> None:
    url = gateway_url(scripted, gateway_factory)
    reasons = [{"id": i, "reason": f"Goes well with a sofa ({i})."} for i, _, _ in PRODUCTS]
    scripted.then(llm({"explanations": reasons}))
    body = {"collection": "shop", "item_ids": ["p2"], "k": 3, "explain": True}
    explained = httpx.post(f"{url}/v1/tasks/recommendations", json=body, headers=ADMIN, timeout=15).json()
    assert explained["explanations"] == {"applied": True}
    assert all(r["reason"] == f"Goes well with a sofa ({r['id']})." for r in explained["results"])
    assert "p2" not in [r["id"] for r in explained["results"]]
    scripted.then(Answer(status=500))
    body["item_ids"] = ["p5"]  # another prompt: the same one would be answered from the cache
    plain = httpx.post(f"{url}/v1/tasks/recommendations", json=body, headers=ADMIN, timeout=15).json()
    assert plain["explanations"] == {"applied": False, "reason": "provider_error"}
    assert plain["results"] and all("reason" not in r for r in plain["results"])


def test_bad_requests_get_openai_style_errors(scripted: ScriptedUpstream, gateway_factory: GatewayFactory) -> None:
    url = gateway_url(scripted, gateway_factory)
    missing = intelligent(url, "sofa", collection="nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "collection_not_found"
    bad = intelligent(url, "sofa", locale="not a locale!")
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "locale"
    assert scripted.bodies == []
