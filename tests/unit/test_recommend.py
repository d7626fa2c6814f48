"""Recommendations: items like the given ones, never the given ones, diverse on request."""

from __future__ import annotations

import numpy as np

from aigw.catalog.item import Hit, Item
from aigw.fallbacks.fuzzy import FuzzyIndex
from aigw.fallbacks.vector_index import VectorIndex
from aigw.tasks.catalog_index import LoadedCollection
from aigw.tasks.recommend import RecommendRequest, by_vectors, by_words, mmr
from aigw.tasks.vector_store import InProcessVectors

ITEMS = [
    Item("sofa-1", "grey leather sofa three seats", {"room": "living"}),
    Item("sofa-2", "grey leather sofa two seats", {"room": "living"}),
    Item("sofa-3", "grey leather sofa corner", {"room": "living"}),
    Item("chair-1", "leather armchair grey", {"room": "living"}),
    Item("lamp-1", "floor lamp brass", {"room": "living"}),
    Item("kettle-1", "steel kettle", {"room": "kitchen"}),
]


def collection() -> LoadedCollection:
    return LoadedCollection("c", 1, {i.id: i for i in ITEMS}, FuzzyIndex(ITEMS))


def test_mmr_without_diversity_is_relevance_order() -> None:
    pool = [Hit("a", 0.9), Hit("b", 0.8), Hit("c", 0.7)]
    assert [h.id for h in mmr(pool, 2, 0.0, lambda a, b: 1.0)] == ["a", "b"]


def test_mmr_with_diversity_skips_near_duplicates() -> None:
    pool = [Hit("a", 0.9), Hit("a2", 0.89), Hit("b", 0.7)]
    twins = {frozenset({"a", "a2"})}
    picked = mmr(pool, 2, 0.5, lambda x, y: 1.0 if frozenset({x, y}) in twins else 0.0)
    assert [h.id for h in picked] == ["a", "b"]


def test_by_words_recommends_similar_items_but_never_the_given_ones() -> None:
    hits = by_words(collection(), RecommendRequest("c", ("sofa-1",), k=3, diversity=0.0))
    ids = [h.id for h in hits]
    assert "sofa-1" not in ids
    assert set(ids[:2]) == {"sofa-2", "sofa-3"}


def test_by_words_keeps_filters_and_spreads_with_diversity() -> None:
    similar = by_words(collection(), RecommendRequest("c", ("sofa-1",), k=2, diversity=0.0))
    spread = by_words(collection(), RecommendRequest("c", ("sofa-1",), k=2, diversity=0.9))
    assert [h.id for h in similar] != [h.id for h in spread]
    assert "chair-1" in [h.id for h in spread]  # a different kind of item instead of a second sofa
    kitchen = by_words(collection(), RecommendRequest("c", ("sofa-1",), k=3, filters={"room": "kitchen"}))
    assert all(h.id == "kettle-1" for h in kitchen)


async def test_by_vectors_uses_the_centroid_of_a_history() -> None:
    index = VectorIndex(3)
    vectors = {"x1": [1, 0, 0], "x2": [0.9, 0.1, 0], "y1": [0, 1, 0], "y2": [0.1, 0.9, 0], "z": [0, 0, 1]}
    index.upsert(list(vectors), np.asarray(list(vectors.values()), dtype=np.float32))
    hits = await by_vectors(InProcessVectors(index), RecommendRequest("c", ("x1", "y1"), k=2, diversity=0.0))
    assert {h.id for h in hits} == {"x2", "y2"}  # near both of the history, not z
    assert await by_vectors(InProcessVectors(index), RecommendRequest("c", ("unknown",), k=2)) == []
