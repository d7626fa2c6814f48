"""The gateway inside a Python program: `aigw.Gateway` (async) and `aigw.SyncGateway` load a catalog
and search it with the same answers as the HTTP endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

import aigw
from aigw.embedded import started

pytestmark = pytest.mark.integration

ITEMS = [
    aigw.Item("p1", "Leather sofa with three seats", {"category": "furniture"}),
    aigw.Item("p2", "Stainless steel kettle", {"category": "kitchen"}),
    aigw.Item("p3", "Trail running shoes", {"category": "shoes"}),
]


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [k for k in __import__("os").environ if k.startswith("AI_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AI_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("AI_GATEWAY_ENABLED", "false")  # no provider: the local paths answer


async def test_async_gateway_loads_and_searches() -> None:
    gateway = await started(aigw.Gateway.from_environment(), migrate=True)
    try:
        assert await gateway.load_collection("shop", ITEMS) == 3
        answer = await gateway.semantic_search("shop", "sofa", k=2)
        assert answer["object"] == "task.result" and answer["results"][0]["id"] == "p1"
        assert answer["served_by"] in ("local_embeddings", "fuzzy")
        assert answer["fallbacks"][0] == {"path": "provider", "reason": "flag_off"}
        filtered = await gateway.semantic_search("shop", "steel kettle", filters={"category": "kitchen"})
        assert [r["id"] for r in filtered["results"]][:1] == ["p2"]
        excluded = await gateway.semantic_search("shop", "steel kettle", filters={"category": "shoes"})
        assert "p2" not in [r["id"] for r in excluded["results"]]
    finally:
        await gateway.close()


def test_sync_gateway_answers_like_the_async_one() -> None:
    with aigw.SyncGateway(migrate=True) as gateway:
        gateway.load_collection("shop", ITEMS)
        answer = gateway.semantic_search("shop", "runing shoes", k=1)  # a typo
        assert [r["id"] for r in answer["results"]] == ["p3"]
        similar = gateway.recommendations("shop", ["p3"], k=2)
        assert similar["task"] == "recommendations" and "p3" not in [r["id"] for r in similar["results"]]


def test_intelligent_search_and_explanations_answer_without_a_provider() -> None:
    with aigw.SyncGateway(migrate=True) as gateway:
        gateway.load_collection("shop", ITEMS)
        answer = gateway.intelligent_search("shop", "leather sofa", k=1, rerank=True)
        assert answer["task"] == "intelligent_search" and [r["id"] for r in answer["results"]] == ["p1"]
        assert answer["intent"]["source"] == "query" and answer["intent"]["reason"] == "flag_off"
        assert answer["rerank"] == {"applied": False, "reason": "flag_off"}
        similar = gateway.recommendations("shop", ["p3"], k=2, explain=True)
        assert similar["explanations"] == {"applied": False, "reason": "flag_off"}


def test_the_stub_provider_is_never_searched_with(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI_GATEWAY_ENABLED", "true")  # no AI_OPENAI_API_KEY: the stub serves every model
    with aigw.SyncGateway(migrate=True) as gateway:
        gateway.load_collection("shop", ITEMS)
        answer = gateway.semantic_search("shop", "kettle", k=1)
        assert answer["fallbacks"][0] == {"path": "provider", "reason": "no_provider"}
        assert [r["id"] for r in answer["results"]] == ["p2"]
        smart = gateway.intelligent_search("shop", "kettle", k=1)
        assert smart["intent"]["reason"] == "no_provider"
