"""semantic_search over real HTTP: the provider path once the collection's provider embeddings are
built, local paths when the provider is switched off or down, within the task's deadline, and the
answer always says which path served and why the others did not."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.conftest import MASTER_KEY, GatewayFactory, openai_env
from tests.support.helpers import ADMIN, wait_until
from tests.support.processes import MockUpstream

pytestmark = pytest.mark.integration

PRODUCTS = [
    ("p1", "Waterproof trail running shoes for men", {"category": "shoes", "price": 120}),
    ("p2", "Leather sofa with three seats", {"category": "furniture", "price": 900}),
    ("p3", "Stainless steel refrigerator, 300 litres", {"category": "kitchen", "price": 650}),
    ("p4", "Lightweight laptop with 16 GB memory", {"category": "computers", "price": 1100}),
    ("p5", "Cotton t-shirt, organic, white", {"category": "clothing", "price": 25}),
]


def load_catalog(url: str) -> None:
    assert httpx.put(f"{url}/v1/collections/shop", json={}, headers=ADMIN).status_code == 201
    items = [{"id": i, "text": t, "metadata": m} for i, t, m in PRODUCTS]
    assert httpx.post(f"{url}/v1/collections/shop/items", json={"items": items}, headers=ADMIN).status_code == 200


def search(url: str, query: str, **extra: object) -> httpx.Response:
    body = {"collection": "shop", "query": query, "k": 3, **extra}
    return httpx.post(f"{url}/v1/tasks/semantic_search", json=body, headers=ADMIN, timeout=10)


def test_local_paths_answer_while_the_provider_index_builds_then_the_provider_serves(
    upstream: MockUpstream, gateway_factory: GatewayFactory
) -> None:
    gateway = gateway_factory(openai_env(upstream))
    load_catalog(gateway.url)
    first = search(gateway.url, "sofa")
    assert first.status_code == 200, first.text
    answer = first.json()
    assert answer["served_by"] in ("local_embeddings", "fuzzy")
    assert {"path": "provider", "reason": "index_building"} in answer["fallbacks"]
    assert answer["results"][0]["id"] == "p2" and answer["results"][0]["text"].startswith("Leather sofa")
    wait_until(lambda: search(gateway.url, "sofa").json()["served_by"] == "provider", 10.0)
    served = search(gateway.url, "sofa", filters={"category": "furniture"}).json()
    assert served["served_by"] == "provider" and served["fallbacks"] == []
    assert [r["id"] for r in served["results"]] == ["p2"]  # the filter holds on every path


def test_with_the_kill_switch_on_local_search_answers_and_says_why(
    upstream: MockUpstream, gateway_factory: GatewayFactory
) -> None:
    gateway = gateway_factory(openai_env(upstream, AI_GATEWAY_ENABLED="false"))
    load_catalog(gateway.url)
    answer = search(gateway.url, "refrigerator").json()
    assert answer["served_by"] in ("local_embeddings", "fuzzy")
    assert answer["fallbacks"][0] == {"path": "provider", "reason": "flag_off"}
    assert answer["results"][0]["id"] == "p3"


def test_a_provider_that_hangs_costs_no_more_than_the_deadline(
    upstream: MockUpstream, gateway_factory: GatewayFactory
) -> None:
    gateway = gateway_factory(openai_env(upstream, AI_TASK_DEADLINE="1.0", AI_OPENAI_TIMEOUT="30"))
    load_catalog(gateway.url)
    upstream.configure(hang_rate=1.0)
    started = time.monotonic()
    answer = search(gateway.url, "laptop")
    took = time.monotonic() - started
    assert answer.status_code == 200
    assert answer.json()["served_by"] in ("local_embeddings", "fuzzy")
    assert answer.json()["fallbacks"][0]["reason"] in ("timeout", "index_building")
    assert took < 1.5, f"answered after {took:.2f}s, deadline 1.0s"


def test_unknown_collection_and_bad_filters(upstream: MockUpstream, gateway_factory: GatewayFactory) -> None:
    gateway = gateway_factory(openai_env(upstream))
    missing = search(gateway.url, "x")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "collection_not_found"
    load_catalog(gateway.url)
    bad = search(gateway.url, "x", filters={"price": {"between": [1, 2]}})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "filters"
    assert httpx.post(f"{gateway.url}/v1/tasks/semantic_search", json={"collection": "shop"}).status_code == 401
    assert MASTER_KEY


def test_recommendations_never_return_the_given_items_and_say_which_path_served(
    upstream: MockUpstream, gateway_factory: GatewayFactory
) -> None:
    gateway = gateway_factory(openai_env(upstream, AI_GATEWAY_ENABLED="false"))
    load_catalog(gateway.url)
    url = f"{gateway.url}/v1/tasks/recommendations"
    answer = httpx.post(url, json={"collection": "shop", "item_ids": ["p1"], "k": 3}, headers=ADMIN, timeout=10)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["task"] == "recommendations" and body["served_by"] in ("local_embeddings", "fuzzy")
    assert body["fallbacks"][0] == {"path": "provider", "reason": "flag_off"}
    assert "p1" not in [r["id"] for r in body["results"]]
    missing = httpx.post(url, json={"collection": "shop", "item_ids": ["nope"]}, headers=ADMIN)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "item_not_found"
    bad = httpx.post(url, json={"collection": "shop", "item_ids": ["p1"], "diversity": 2}, headers=ADMIN)
    assert bad.status_code == 400
