"""Two gateway replicas on a PostgreSQL with pgvector share one vector index: the local embeddings
and the provider's embeddings of a collection are written once to `ai_item_vectors`, searched there
by both replicas (same answers), and kept in step with the catalog (updates and deletes)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from aigw.store.database import Database
from tests.conftest import GatewayFactory, openai_env
from tests.support.helpers import ADMIN, wait_until
from tests.support.pgvector_server import pgvector_server
from tests.support.processes import MockUpstream

pytestmark = pytest.mark.integration

ITEMS = [
    {"id": "s1", "text": "Leather sofa with three seats", "metadata": {"category": "furniture"}},
    {"id": "s2", "text": "Corner couch in grey fabric", "metadata": {"category": "furniture"}},
    {"id": "k1", "text": "Stainless steel electric kettle", "metadata": {"category": "kitchen"}},
    {"id": "t1", "text": "Waterproof trail running shoes", "metadata": {"category": "shoes"}},
]


@pytest.fixture(scope="module")
def pgvector_url() -> Iterator[str]:
    with pgvector_server() as url:
        yield url


def rows(url: str) -> dict[str, set[str]]:
    """model -> item ids stored in the shared table."""

    async def read() -> dict[str, set[str]]:
        database = Database(url)
        try:
            async with database.engine.connect() as conn:
                result = await conn.execute(sa.text("SELECT model, item_id FROM ai_item_vectors"))
                found: dict[str, set[str]] = {}
                for model, item_id in result.all():
                    found.setdefault(model, set()).add(item_id)
                return found
        finally:
            await database.close()

    return asyncio.run(read())


def search(url: str, query: str, headers: dict[str, str] | None = None) -> dict[str, object]:
    body = {"collection": "shop", "query": query, "k": 3}
    answer = httpx.post(f"{url}/v1/tasks/semantic_search", json=body, headers={**ADMIN, **(headers or {})}, timeout=10)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_replicas_search_one_shared_index(
    upstream: MockUpstream, gateway_factory: GatewayFactory, pgvector_url: str
) -> None:
    env = openai_env(upstream, AI_DATABASE_URL=pgvector_url, AI_VECTOR_INDEX="pgvector", AI_CACHE_ENABLED="false")
    one, two = gateway_factory(env), gateway_factory(env)
    assert httpx.put(f"{one.url}/v1/collections/shop", json={}, headers=ADMIN).status_code == 201
    assert httpx.post(f"{one.url}/v1/collections/shop/items", json={"items": ITEMS}, headers=ADMIN).status_code == 200
    wait_until(lambda: search(one.url, "sofa")["served_by"] == "provider", 30)
    wait_until(lambda: search(two.url, "sofa")["served_by"] == "provider", 30)
    stored = rows(pgvector_url)
    assert stored["provider:text-embedding-3-small"] == {"s1", "s2", "k1", "t1"}
    local = [model for model in stored if not model.startswith("provider:")]
    assert local and stored[local[0]] == {"s1", "s2", "k1", "t1"}  # the local model's vectors, shared too
    first, second = search(one.url, "steel kettle"), search(two.url, "steel kettle")
    assert first["results"] == second["results"] and first["served_by"] == second["served_by"] == "provider"

    # the kill switch: the local path answers from the shared table
    assert httpx.put(f"{one.url}/admin/api/flags/ai_enabled", json={"enabled": False}, headers=ADMIN).is_success
    wait_until(lambda: search(two.url, "couch")["served_by"] == "local_embeddings", 30)
    assert search(two.url, "couch")["results"][0]["id"] in ("s1", "s2")

    # deletes and updates reach the shared table
    assert httpx.delete(f"{one.url}/v1/collections/shop/items/k1", headers=ADMIN).status_code in (200, 204)
    moved = [{"id": "t1", "text": "Waterproof trail running shoes", "metadata": {"category": "outdoor"}}]
    assert httpx.post(f"{one.url}/v1/collections/shop/items", json={"items": moved}, headers=ADMIN).is_success
    # a search loads the new version of the collection, and its build brings the shared table in step
    wait_until(lambda: search(two.url, "shoes") and "k1" not in rows(pgvector_url).get(local[0], {"k1"}), 30)
    filtered = httpx.post(
        f"{two.url}/v1/tasks/semantic_search",
        json={"collection": "shop", "query": "shoes", "k": 3, "filters": {"category": "outdoor"}},
        headers=ADMIN,
        timeout=10,
    ).json()
    assert [r["id"] for r in filtered["results"]] == ["t1"]
