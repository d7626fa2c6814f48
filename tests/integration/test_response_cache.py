"""The response cache over real HTTP: temperature-0 chat, embeddings and task answers are answered
once by the provider and then from the cache (in process, or Redis shared by two replicas), with
no cost and an `x-aigw-cache` header; callers opt out per request or per key."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import GatewayFactory, openai_env
from tests.support.helpers import ADMIN, wait_until
from tests.support.processes import MockUpstream

pytestmark = pytest.mark.integration


def chat(url: str, content: str, headers: dict[str, str] = ADMIN, **extra: object) -> httpx.Response:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}], "temperature": 0, **extra}
    return httpx.post(f"{url}/v1/chat/completions", json=body, headers=headers, timeout=10)


def provider_calls(url: str) -> float:
    """Calls that reached the provider, as the gateway's own metrics count them."""
    lines = httpx.get(f"{url}/metrics", headers=ADMIN).text.splitlines()
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith("aigw_upstream_attempts_total{"))


def test_deterministic_calls_are_served_once_by_the_provider(
    upstream: MockUpstream, gateway_factory: GatewayFactory
) -> None:
    url = gateway_factory(openai_env(upstream)).url
    first = chat(url, "What is the capital of France?")
    second = chat(url, "What is the capital of France?")
    assert first.headers["x-aigw-cache"] == "miss" and second.headers["x-aigw-cache"] == "hit"
    assert second.json()["choices"] == first.json()["choices"]
    assert second.headers["x-aigw-cost-usd"] == "0" and float(first.headers["x-aigw-cost-usd"]) > 0
    assert "age" in second.headers and second.headers["x-aigw-provider"] == first.headers["x-aigw-provider"]
    assert provider_calls(url) == 1
    warm = chat(url, "What is the capital of France?", temperature=0.7)  # not deterministic: never cached
    assert "x-aigw-cache" not in warm.headers
    fresh = chat(url, "What is the capital of France?", headers={**ADMIN, "cache-control": "no-cache"})
    assert fresh.headers["x-aigw-cache"] == "miss"
    nothing = chat(url, "What is the capital of France?", headers={**ADMIN, "cache-control": "no-store"})
    assert nothing.headers["x-aigw-cache"] == "bypass"
    assert provider_calls(url) == 4
    embedded = [
        httpx.post(f"{url}/v1/embeddings", json={"model": "text-embedding-3-small", "input": ["a", "b"]}, headers=ADMIN)
        for _ in range(2)
    ]
    assert [e.headers["x-aigw-cache"] for e in embedded] == ["miss", "hit"]
    assert embedded[1].json()["data"] == embedded[0].json()["data"]
    metrics = httpx.get(f"{url}/metrics", headers=ADMIN).text
    assert 'aigw_cache_requests_total{kind="chat",result="hit"} 1.0' in metrics
    assert 'aigw_cache_requests_total{kind="embeddings",result="miss"} 1.0' in metrics


def test_a_key_can_opt_out_and_keys_do_not_share_entries(
    upstream: MockUpstream, gateway_factory: GatewayFactory
) -> None:
    url = gateway_factory(openai_env(upstream)).url
    keys = {}
    for name, settings in (("plain", {}), ("other", {}), ("nocache", {"cache": False})):
        created = httpx.post(f"{url}/admin/api/keys", json={"name": name, "settings": settings}, headers=ADMIN)
        assert created.status_code == 201, created.text
        keys[name] = {"authorization": f"Bearer {created.json()['key']}"}
    assert chat(url, "hello", keys["plain"]).headers["x-aigw-cache"] == "miss"
    assert chat(url, "hello", keys["plain"]).headers["x-aigw-cache"] == "hit"
    assert chat(url, "hello", keys["other"]).headers["x-aigw-cache"] == "miss"  # per key by default
    assert [chat(url, "hello", keys["nocache"]).headers["x-aigw-cache"] for _ in range(2)] == ["bypass", "bypass"]


def test_replicas_share_the_cache_in_redis_and_task_answers_follow_the_collection(
    upstream: MockUpstream, gateway_factory: GatewayFactory, shared_stores: dict[str, str]
) -> None:
    env = openai_env(upstream, AI_GATEWAY_ENABLED="false", AI_CACHE_SCOPE="global", **shared_stores)
    one = gateway_factory(env)
    assert httpx.put(f"{one.url}/v1/collections/shop", json={}, headers=ADMIN).status_code == 201
    items = [{"id": "s1", "text": "Leather sofa"}, {"id": "k1", "text": "Steel kettle"}]
    assert httpx.post(f"{one.url}/v1/collections/shop/items", json={"items": items}, headers=ADMIN).status_code == 200

    def search(url: str, headers: dict[str, str] = ADMIN) -> httpx.Response:
        body = {"collection": "shop", "query": "sofa", "k": 2}
        return httpx.post(f"{url}/v1/tasks/semantic_search", json=body, headers=headers, timeout=10)

    # the kill switch is on, so the provider path is skipped: a degraded answer is never cached
    assert [search(one.url).headers["x-aigw-cache"] for _ in range(2)] == ["miss", "miss"]
    env_on = openai_env(upstream, AI_CACHE_SCOPE="global", AI_FALLBACK_ORDER="local", **shared_stores)
    three, four = gateway_factory(env_on), gateway_factory(env_on)
    for replica in (three, four):  # until its local embeddings are ready, an answer is a fallback's
        wait_until(lambda r=replica: not search(r.url, {**ADMIN, "cache-control": "no-store"}).json()["fallbacks"], 60)
    first = search(three.url)
    assert first.json()["fallbacks"] == [] and first.headers["x-aigw-cache"] == "miss"
    again = search(four.url)  # another replica: the answer comes from Redis
    assert again.headers["x-aigw-cache"] == "hit" and again.json()["results"] == first.json()["results"]
    more = [{"id": "s2", "text": "Velvet sofa bed"}]
    assert httpx.post(f"{three.url}/v1/collections/shop/items", json={"items": more}, headers=ADMIN).status_code == 200
    changed = search(three.url)  # a new version of the collection: not the old answer
    assert changed.headers["x-aigw-cache"] == "miss" and "s2" in [r["id"] for r in changed.json()["results"]]
